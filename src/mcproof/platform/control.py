"""Start and stop the sandbox platform services daemon next to a running sandbox fleet."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mcproof.errors import SandboxError
from mcproof.platform.engine import EngineConfig
from mcproof.platform.service import INFO_FILE

__all__ = ["PlatformInfo", "PlatformServices", "read_platform_info"]


@dataclass(frozen=True)
class PlatformInfo:
    """What ``platform.json`` says about a running platform API."""

    url: str
    ca_file: Path
    tokens: dict[str, Path]
    pid: int
    platform_dir: Path
    audit_log: Path
    environment: str
    api_keys: dict[str, Path] = field(default_factory=dict)  # the Pterodactyl face's ``ptlc_`` keys per tenant

    def token_file(self, tenant: str) -> Path:
        if tenant not in self.tokens:
            raise SandboxError(f"no tenant {tenant!r} in the sandbox platform; tenants: {', '.join(self.tokens)}")
        return self.tokens[tenant]

    def api_key_file(self, tenant: str) -> Path:
        """The Pterodactyl client-API key file of ``tenant`` (the sandbox serves that face too)."""
        if tenant not in self.api_keys:
            raise SandboxError(f"no Pterodactyl API key for tenant {tenant!r} in the sandbox platform; "
                               f"tenants: {', '.join(self.api_keys) or 'none (restart the platform API)'}")  # fmt: skip
        return self.api_keys[tenant]


def read_platform_info(state_dir: Path) -> PlatformInfo | None:
    """The running platform's info, or None when ``<state_dir>/platform/platform.json`` is absent."""
    try:
        data: dict[str, Any] = json.loads((state_dir / "platform" / INFO_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return PlatformInfo(
        url=str(data["url"]), ca_file=Path(data["ca_file"]),
        tokens={k: Path(v) for k, v in dict(data["tokens"]).items()}, pid=int(data["pid"]),
        platform_dir=Path(data["platform_dir"]), audit_log=Path(data["audit_log"]),
        environment=str(data["environment"]),
        api_keys={k: Path(v) for k, v in dict((data.get("pterodactyl") or {}).get("api_keys") or {}).items()},
    )  # fmt: skip


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    with contextlib.suppress(OSError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


class PlatformServices:
    """Handle on the platform daemon of the sandbox whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir).resolve()
        self._proc: subprocess.Popen[bytes] | None = None

    def info(self) -> PlatformInfo | None:
        info = read_platform_info(self.state_dir)
        return info if info is not None and _alive(info.pid) else None

    def up(self, config: EngineConfig | None = None, timeout: float = 30.0, *, port: int = 0) -> PlatformInfo:
        """Start the daemon (the sandbox fleet must already run) and wait until it listens (``port`` 0: any
        free port; the chaos restart passes the old one)."""
        running = self.info()
        if running is not None:
            return running
        (self.state_dir / "platform").mkdir(parents=True, exist_ok=True)
        (self.state_dir / "platform" / INFO_FILE).unlink(missing_ok=True)
        cfg = asdict(config or EngineConfig())
        log_path = self.state_dir / "platform" / "platform.log"
        with open(log_path, "ab") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "mcproof.platform.service", "--state-dir", str(self.state_dir),
                 "--config", json.dumps(cfg), *(["--port", str(port)] if port else [])],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = self.info()
            if info is not None:
                return info
            if self._proc.poll() is not None:
                tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
                raise SandboxError(f"platform services exited at start-up ({' '.join(tail)}); see {log_path}")
            time.sleep(0.05)
        self.down()
        raise SandboxError(f"platform services not ready after {timeout:g}s; see {log_path}")

    def down(self, timeout: float = 15.0) -> None:
        """SIGTERM the daemon, SIGKILL after ``timeout``; idempotent."""
        info = read_platform_info(self.state_dir)
        pid = info.pid if info else (self._proc.pid if self._proc else 0)
        if pid and _alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                if self._proc is not None:
                    self._proc.poll()
                time.sleep(0.05)
            if _alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5.0)
        (self.state_dir / "platform" / INFO_FILE).unlink(missing_ok=True)
