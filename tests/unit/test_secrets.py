"""Secret references resolve from env vars and files, and never show their values."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.errors import SecretError
from mcproof.secrets import SecretRef, redact_text


def test_env_secret_resolves_and_hides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPROOF_T_TOKEN", "tok-123")
    secret = SecretRef(env="MCPROOF_T_TOKEN").resolve()
    assert secret.reveal() == "tok-123"
    assert "tok-123" not in repr(secret)
    assert "tok-123" not in f"{secret}"


def test_missing_env_secret_names_variable_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCPROOF_T_ABSENT", raising=False)
    with pytest.raises(SecretError, match="MCPROOF_T_ABSENT is not set"):
        SecretRef(env="MCPROOF_T_ABSENT").resolve()


def test_file_secret_relative_to_base(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("hunter2\n")
    assert SecretRef(file=Path("pw")).resolve(tmp_path).reveal() == "hunter2"


def test_unreadable_and_empty_file_secrets(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="cannot be read"):
        SecretRef(file=tmp_path / "none").resolve()
    (tmp_path / "empty").write_text("")
    with pytest.raises(SecretError, match="empty"):
        SecretRef(file=tmp_path / "empty").resolve()


def test_redact_text_replaces_every_occurrence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPROOF_T_TOKEN", "abc")
    secret = SecretRef(env="MCPROOF_T_TOKEN").resolve()
    assert redact_text("abc and abc", [secret]) == "*** and ***"
