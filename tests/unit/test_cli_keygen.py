"""`mcproof keygen`: a signing key a bundle can use, never an overwrite."""

from __future__ import annotations

import stat
from pathlib import Path

from click.testing import CliRunner

from mcproof.bundle.keys import fingerprint, load_private_key, load_public_key
from mcproof.cli import main


def test_keygen_writes_a_private_key_0600_and_its_public_key(tmp_path: Path) -> None:
    key = tmp_path / "signing-key.pem"
    result = CliRunner().invoke(main, ["keygen", str(key)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    public = load_public_key(key.with_name("signing-key.pem.pub"))
    assert fingerprint(load_private_key(key).public_key()) == fingerprint(public)
    assert fingerprint(public) in result.output
    assert "BEGIN PRIVATE KEY" not in result.output


def test_keygen_refuses_to_overwrite_a_key(tmp_path: Path) -> None:
    key = tmp_path / "signing-key.pem"
    key.write_text("an old key\n")
    result = CliRunner().invoke(main, ["keygen", str(key)])
    assert result.exit_code == 2
    assert "never overwrites" in result.output
    assert key.read_text() == "an old key\n"


def test_keygen_into_a_missing_directory_is_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["keygen", str(tmp_path / "nope" / "k.pem")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert "Traceback" not in result.output
