"""The sandbox state directory and its records; readable without importing the supervisor.

Files in ``<state_dir>``:

- ``state.json``   written atomically by the supervisor, removed on clean shutdown.
- ``control.sock`` Unix socket, JSON lines (one request, one reply per connection).
- ``rcon.password`` the RCON password, mode 0600 (generated at ``up`` when the spec gives none).
- ``supervisor.log`` the supervisor's log (never contains the password).

``state.json`` (format version 1)::

    {
      "format": 1,
      "phase": "starting" | "ready" | "failed" | "stopping",
      "error": null | "one-line reason (phase failed)",
      "pid": 12345,                       # supervisor pid
      "pid_started": 123456,              # start in clock ticks since boot (processes.process_start): guards against pid reuse
      "started_at": "2026-11-25T18:21:10.123456+00:00",   # UTC, ISO-8601
      "state_dir": "/abs/path",
      "spec": {... SandboxSpec.as_dict(): no password, "rcon_password_set": bool ...},
      "servers": [{"id": "mc-00000", "host": "127.1.0.1", "port": 25565, "query_port": 25565,
                   "rcon_port": 25575, "edition": "java"}, ...],
      "shards": [{"index": 0, "pid": 12346, "first": 0, "count": 2500, "restarts": 0}, ...]
    }                                     # shard "pid" is null while that shard is down

Live facts (servers up/down, faults) are not in the file: ask the control socket (``Sandbox.status()``).

Any reader may use :func:`read_state` (stdlib only) or plain ``json.load``.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcproof.errors import SandboxError

__all__ = [
    "STATE_FORMAT",
    "SandboxServer",
    "SandboxStatus",
    "read_rcon_password",
    "read_state",
    "write_json_atomic",
    "write_rcon_password",
]

STATE_FORMAT = 1
STATE_FILE = "state.json"
CONTROL_SOCK = "control.sock"
PASSWORD_FILE = "rcon.password"  # noqa: S105 - a file name, not a secret
LOG_FILE = "supervisor.log"


@dataclass(frozen=True)
class SandboxServer:
    """Address record of one simulated Java server."""

    id: str
    host: str
    port: int
    query_port: int
    rcon_port: int
    edition: str = "java"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "host": self.host,
            "port": self.port,
            "query_port": self.query_port,
            "rcon_port": self.rcon_port,
            "edition": self.edition,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SandboxServer:
        return cls(
            id=str(data["id"]),
            host=str(data["host"]),
            port=int(data["port"]),
            query_port=int(data["query_port"]),
            rcon_port=int(data["rcon_port"]),
            edition=str(data.get("edition", "java")),
        )


@dataclass(frozen=True)
class SandboxStatus:
    """A live view of a running sandbox (``Sandbox.status()``)."""

    running: bool
    pid: int
    started_at: str
    state_dir: str
    phase: str
    spec: dict[str, Any]
    servers: list[SandboxServer]
    up_count: int
    down_count: int
    down: list[str] = field(default_factory=list)
    faults: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    shard_pids: list[int] = field(default_factory=list)
    rss_bytes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "running": self.running,
            "pid": self.pid,
            "started_at": self.started_at,
            "state_dir": self.state_dir,
            "phase": self.phase,
            "spec": dict(self.spec),
            "servers": [s.as_dict() for s in self.servers],
            "up_count": self.up_count,
            "down_count": self.down_count,
            "down": list(self.down),
            "faults": {k: dict(v) for k, v in self.faults.items()},
            "shard_pids": list(self.shard_pids),
            "rss_bytes": self.rss_bytes,
        }


def read_state(state_dir: Path) -> dict[str, Any] | None:
    """Parsed ``state.json`` or None when absent; SandboxError when unreadable."""
    path = Path(state_dir) / STATE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SandboxError(f"{path} is not valid JSON ({exc}); remove it or run `mcproof sandbox down`") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise SandboxError(f"{path} has an unknown format; remove it or run `mcproof sandbox down`")
    return data


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON via a temp file and rename, so readers never see half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def write_rcon_password(state_dir: Path, password: str | None) -> str:
    """Store ``password`` (or a generated one) in ``rcon.password`` with mode 0600; return it."""
    value = password if password is not None else secrets.token_urlsafe(18)
    path = Path(state_dir) / PASSWORD_FILE
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value


def read_rcon_password(state_dir: Path) -> str:
    """The sandbox RCON password from ``<state_dir>/rcon.password``."""
    path = Path(state_dir) / PASSWORD_FILE
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise SandboxError(f"no RCON password at {path}; start the sandbox with `mcproof sandbox up`") from None
