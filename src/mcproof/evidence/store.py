"""Run store: `reports/<run-id>/` with evidence.jsonl, the environment snapshot and outputs.

Every line written is passed through redaction of the environment's resolved secrets first, so a
secret value can never reach evidence even if a probe put it in a message.
"""

from __future__ import annotations

import json
import os
import secrets as _random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mcproof.errors import EvidenceError
from mcproof.evidence.records import Record, load_record
from mcproof.secrets import Secret, redact_text

EVIDENCE_FILE = "evidence.jsonl"


def new_run_id(environment: str) -> str:
    """Sortable, unique run id: UTC time, environment, random suffix."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{environment}-{_random.token_hex(3)}"


class RunStore:
    """Append-only evidence for one run."""

    def __init__(self, run_dir: Path, secrets: list[Secret] | None = None) -> None:
        self.run_dir = run_dir
        self._secrets = list(secrets or [])
        self._lock = threading.Lock()

    @classmethod
    def create(cls, reports_dir: Path, run_id: str, secrets: list[Secret] | None = None) -> RunStore:
        run_dir = reports_dir / run_id
        try:
            run_dir.mkdir(parents=True, exist_ok=False)
        except OSError as err:
            raise EvidenceError(
                f"cannot create run directory {run_dir} ({err.strerror}); check --reports-dir"
            ) from None
        return cls(run_dir, secrets)

    @property
    def evidence_path(self) -> Path:
        return self.run_dir / EVIDENCE_FILE

    def add_secret(self, secret: Secret) -> None:
        """Redact ``secret`` from now on too (in place: every holder of this store sees it)."""
        with self._lock:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        return redact_text(text, self._secrets)

    def append(self, record: Record) -> None:
        line = self.redact(json.dumps(record.as_dict(), sort_keys=True, default=str))
        with self._lock, self.evidence_path.open("a", encoding="utf-8") as handle:
            handle.write(line + "\n")
            handle.flush()

    def write_json(self, name: str, data: Any) -> Path:
        path = self.run_dir / name
        path.write_text(self.redact(json.dumps(data, indent=2, sort_keys=True, default=str)) + "\n", encoding="utf-8")
        return path

    def link_latest(self) -> None:
        """Point `<reports>/latest` at this run (a relative symlink, replaced atomically)."""
        latest = self.run_dir.parent / "latest"
        tmp = self.run_dir.parent / f".latest-{os.getpid()}"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(self.run_dir.name)
        tmp.replace(latest)


def read_records(run_dir: Path) -> Iterator[Record]:
    """Records of a run, in the order written; EvidenceError on a damaged file."""
    path = run_dir / EVIDENCE_FILE
    if not path.is_file():
        raise EvidenceError(f"{path} not found; pass a run directory written by mcproof (reports/<run-id>)")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield load_record(json.loads(line))
            except (ValueError, TypeError) as err:
                raise EvidenceError(
                    f"{path}:{number}: damaged evidence line ({err}); the run cannot be reported"
                ) from None
