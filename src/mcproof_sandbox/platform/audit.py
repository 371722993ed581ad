"""Append-only audit log of mutating API calls: one JSON line each, fsynced, never rewritten.

The only exception is age rotation, off by default (``max_age_days`` 0): when set, entries older than
that are dropped once at start (``GET /v1/audit/policy`` reports it; the compliance suite holds it to
the catalog's ``retention.logs_days``)."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from mcproof.clock import utc_now

__all__ = ["AuditLog"]


class AuditLog:
    """``<dir>/audit.jsonl``: time, actor, tenant, action, target, result, correlation_id."""

    def __init__(self, path: Path, *, max_age_days: int = 0) -> None:
        self.path = path
        self._lock = threading.Lock()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.close(fd)
        if max_age_days > 0:
            self._rotate(time.time() - max_age_days * 86400.0)

    def _rotate(self, cutoff: float) -> None:
        """Drop entries older than ``cutoff`` (unix time); undated lines are kept."""
        import datetime as dt

        kept = []
        for line in self.path.read_text(encoding="utf-8").splitlines(keepends=True):
            try:
                when = dt.datetime.fromisoformat(str(json.loads(line)["time"]).replace("Z", "+00:00")).timestamp()
            except (ValueError, KeyError, TypeError):
                when = cutoff
            if when >= cutoff:
                kept.append(line)
        tmp = self.path.with_suffix(".rotate.tmp")
        tmp.write_text("".join(kept), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def record(
        self,
        *,
        actor: str,
        tenant: str | None,
        action: str,
        target: str,
        result: str,
        correlation_id: str,
        status: int,
        **extra: Any,
    ) -> None:
        entry = {
            "time": utc_now(),
            "actor": actor,
            "tenant": tenant,
            "action": action,
            "target": target,
            "result": result,
            "status": status,
            "correlation_id": correlation_id,
            **extra,
        }
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

    def record_request(
        self, *, actor: str, tenant: str | None, method: str, route: str, path: str, correlation_id: str, status: int
    ) -> None:
        """One API request that changes something (POST/PUT/DELETE), its result sorted by the status code."""
        result = "ok" if status < 400 else "denied" if status in (401, 403, 404) else "error"
        self.record(
            actor=actor,
            tenant=tenant,
            action=f"{method} {route}",
            target=path,
            result=result,
            correlation_id=correlation_id,
            status=status,
        )

    def entries(self) -> list[dict[str, Any]]:
        with open(self.path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
