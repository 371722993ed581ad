"""`mcproof bundle` / `mcproof verify` on a REAL smoke run: round trip, one flipped byte, planted secret."""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from suite_runs import run_cli, run_suite, write_environment

from mcproof.bundle import generate_key
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

SECRET_VAR = "MCPROOF_IT_BUNDLE_RCON"
SECRET = "it-rcon-secret-8c1f"


def _flip_member_byte(bundle: Path, member_name: str, out: Path) -> None:
    with tarfile.open(bundle, "r:gz") as src, tarfile.open(out, "w:gz") as dst:
        for member in src:
            handle = src.extractfile(member)
            assert handle is not None
            data = bytearray(handle.read())
            if member.name == member_name:
                data[len(data) // 2] ^= 0x01
            dst.addfile(member, io.BytesIO(bytes(data)))


def test_bundle_verify_tamper_and_secret(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_VAR, SECRET)
    sandbox = sandbox_factory(servers=20)
    env_file = write_environment(
        tmp_path / "env.yaml",
        sandbox.state_dir,
        minecraft__rcon={"enabled": False, "password": {"env": SECRET_VAR}},
    )
    run = run_suite(env_file, tmp_path / "reports")
    assert run.code == 0, run.output
    assert run.run_dir is not None
    key = tmp_path / "signing.pem"
    generate_key(key)
    monkeypatch.setenv("MCPROOF_SIGNING_KEY_FILE", str(key))
    bundle = tmp_path / "run.tar.gz"

    made = run_cli("bundle", str(run.run_dir), "-o", str(bundle))
    assert made.returncode == 0, made.stderr
    assert "1 environment secrets checked absent" in made.stdout
    assert key.read_text().splitlines()[1] not in made.stdout + made.stderr
    ok = run_cli("verify", str(bundle), "--public-key", str(key))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith(f"bundle {bundle}: OK")

    tampered = tmp_path / "tampered.tar.gz"
    _flip_member_byte(bundle, "run/evidence.jsonl", tampered)
    bad = run_cli("verify", str(tampered), "--public-key", str(key))
    assert bad.returncode == 1
    assert "tampered: evidence.jsonl" in bad.stdout

    (run.run_dir / "allure-results" / "planted-attachment.txt").write_text(f"rcon login {SECRET}\n")
    refused = run_cli("bundle", str(run.run_dir), "-o", str(tmp_path / "refused.tar.gz"))
    assert refused.returncode == 2
    assert refused.stderr.startswith("mcproof: error: refusing to bundle")
    assert "allure-results/planted-attachment.txt" in refused.stderr
    assert SECRET not in refused.stderr + refused.stdout
    assert not (tmp_path / "refused.tar.gz").exists()
