"""restic backups of sandbox worlds: one repository per environment, password from a file.

Thin typed wrapper over the ``restic`` CLI (Debian package; no Python binding exists). Every call has a
timeout, runs with ``--no-cache`` and a private environment (only the repository, the password file and
PATH), and raises :class:`BackupError` with restic's last stderr line.

restic 0.14 cannot restore a sub-path of a snapshot (``snap:/path`` arrived later), so :meth:`Restic.restore`
restores into a scratch directory and moves the world into place.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import BackupError

__all__ = ["BackupError", "Restic", "RestoreResult", "Snapshot"]


@dataclass(frozen=True)
class Snapshot:
    id: str
    short_id: str
    time: str
    paths: list[str]
    tags: list[str]

    def tag(self, key: str) -> str | None:
        prefix = key + "="
        return next((t[len(prefix) :] for t in self.tags if t.startswith(prefix)), None)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "short_id": self.short_id, "time": self.time, "paths": self.paths, "tags": self.tags}


@dataclass(frozen=True)
class RestoreResult:
    snapshot: str
    bytes: int
    files: int
    duration_s: float

    @property
    def throughput_mib_s(self) -> float:
        return self.bytes / (1 << 20) / self.duration_s if self.duration_s > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot,
            "bytes": self.bytes,
            "files": self.files,
            "duration_s": self.duration_s,
            "throughput_mib_s": self.throughput_mib_s,
        }


class Restic:
    """One restic repository (``repo``) whose password is in ``password_file``."""

    def __init__(self, repo: Path, password_file: Path, *, host: str = "sandbox", timeout: float = 120.0) -> None:
        self.repo = repo
        self.password_file = password_file
        self.host = host
        self.timeout = timeout

    def _run(self, *args: str, timeout: float | None = None) -> str:
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.repo.parent),
            "RESTIC_REPOSITORY": str(self.repo),
            "RESTIC_PASSWORD_FILE": str(self.password_file),
        }
        try:
            done = subprocess.run(
                ["restic", "--no-cache", "--quiet", *args],
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
                check=False,
            )
        except FileNotFoundError:
            raise BackupError("restic is not installed; run tools/bootstrap.sh (Debian package 'restic')") from None
        except subprocess.TimeoutExpired:
            raise BackupError(f"restic {args[0]} did not finish within {timeout or self.timeout:g}s") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no output"])[-1]
            raise BackupError(f"restic {args[0]} failed (exit {done.returncode}): {last}")
        return done.stdout

    def init(self) -> None:
        """Create the repository (and a random password file) unless it exists."""
        self.repo.parent.mkdir(parents=True, exist_ok=True)
        if not self.password_file.exists():
            fd = os.open(self.password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
        if not (self.repo / "config").exists():
            self._run("init")

    def backup(self, path: Path, tags: dict[str, str]) -> str:
        """Snapshot ``path``; return the snapshot id."""
        tag_args = [a for k, v in sorted(tags.items()) for a in ("--tag", f"{k}={v}")]
        out = self._run("backup", "--json", "--host", self.host, *tag_args, str(path))
        for line in reversed(out.splitlines()):
            try:
                msg = json.loads(line)
            except ValueError:
                continue
            if msg.get("message_type") == "summary":
                return str(msg["snapshot_id"])
        raise BackupError("restic backup printed no summary; see restic's output")

    def snapshots(self, tags: dict[str, str] | None = None) -> list[Snapshot]:
        """Snapshots (oldest first), filtered by tags."""
        args = ["snapshots", "--json", "--host", self.host]
        args += [a for k, v in sorted((tags or {}).items()) for a in ("--tag", f"{k}={v}")]
        data = json.loads(self._run(*args) or "[]")
        snaps = [
            Snapshot(
                str(s["id"]), str(s["short_id"]), str(s["time"]), list(s.get("paths", [])), list(s.get("tags") or [])
            )
            for s in data or []
        ]
        return sorted(snaps, key=lambda s: s.time)

    def forget(self, tags: dict[str, str], *, keep_last: int = 10, keep_hourly: int = 24, keep_daily: int = 7) -> int:
        """Apply the retention policy to snapshots with ``tags`` and prune; return how many remain."""
        tag = ",".join(f"{k}={v}" for k, v in sorted(tags.items()))
        self._run(
            "forget",
            "--host",
            self.host,
            "--tag",
            tag,
            "--keep-last",
            str(keep_last),
            "--keep-hourly",
            str(keep_hourly),
            "--keep-daily",
            str(keep_daily),
            "--prune",
        )
        return len(self.snapshots(tags))

    def check(self, read_data: bool = True) -> tuple[bool, str]:
        """``restic check`` (with ``--read-data`` by default): (ok, last line of output)."""
        try:
            out = self._run("check", *(["--read-data"] if read_data else []))
        except BackupError as err:
            return False, str(err)
        return True, (out.strip().splitlines() or ["no errors were found"])[-1]

    def restore(self, snapshot_id: str, world: Path) -> RestoreResult:
        """Replace directory ``world`` with its copy in ``snapshot_id`` (restic verifies the content)."""
        started = time.monotonic()
        scratch = world.with_name(world.name + ".restore")
        shutil.rmtree(scratch, ignore_errors=True)
        try:
            self._run("restore", snapshot_id, "--target", str(scratch), "--include", str(world), "--verify")
            restored = scratch / str(world).lstrip("/")
            if not restored.is_dir():
                raise BackupError(f"snapshot {snapshot_id[:8]} holds no {world}; pick a snapshot of this server")
            files = [p for p in restored.rglob("*") if p.is_file()]
            size = sum(p.stat().st_size for p in files)
            old = world.with_name(world.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            if world.exists():
                world.rename(old)
            restored.rename(world)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return RestoreResult(snapshot_id, size, len(files), time.monotonic() - started)
