"""Secret references: values come from an env var or a file, never from the environment file itself.

A resolved secret is a `Secret`, whose repr and str never show the value; call `reveal()` at the
last moment (e.g. when writing the RCON login packet).
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, model_validator

from mcproof.errors import SecretError

REDACTED = "***"


class Secret:
    """A secret value that does not print itself."""

    __slots__ = ("_source", "_value")

    def __init__(self, value: str, source: str) -> None:
        self._value = value
        self._source = source

    def reveal(self) -> str:
        """The plain value; use only where it is sent, never where it is logged."""
        return self._value

    @property
    def source(self) -> str:
        return self._source

    def __repr__(self) -> str:
        return f"Secret({self._source}={REDACTED})"

    __str__ = __repr__


class SecretRef(BaseModel):
    """Where a secret lives: `{env: NAME}` or `{file: path}` (exactly one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    env: str | None = None
    file: Path | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of 'env' or 'file'")
        return self

    def describe(self) -> str:
        return f"env var {self.env}" if self.env else f"file {self.file}"

    def resolve(self, base_dir: Path | None = None) -> Secret:
        """Read the value; raises SecretError naming the reference (never the value)."""
        if self.env is not None:
            value = os.environ.get(self.env)
            if not value:
                raise SecretError(f"secret env var {self.env} is not set; export it before running mcproof")
            return Secret(value, f"env:{self.env}")
        assert self.file is not None
        path = self.file if self.file.is_absolute() or base_dir is None else base_dir / self.file
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as err:
            raise SecretError(
                f"secret file {path} cannot be read ({err.strerror}); create it or fix the path"
            ) from None
        if not value:
            raise SecretError(f"secret file {path} is empty; write the secret into it")
        return Secret(value, f"file:{path}")


def redact_text(text: str, secrets: list[Secret]) -> str:
    """Replace every secret value in text with ***.

    >>> redact_text("pw=hunter2", [Secret("hunter2", "env:X")])
    'pw=***'
    """
    for secret in secrets:
        value = secret.reveal()
        if value:
            text = text.replace(value, REDACTED)
    return text
