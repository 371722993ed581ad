"""Start and stop the sandbox platform services daemon next to a running sandbox fleet."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcproof.errors import SandboxError
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.service import INFO_FILE
from mcproof_sandbox.processes import alive
from mcproof_sandbox.state import PlatformInfo, read_platform_info

__all__ = ["PlatformInfo", "PlatformServices", "read_platform_info"]


RESTART_FILE = "chaos-restart.json"  # the port and engine settings of a daemon stopped to be restarted


class PlatformServices:
    """Handle on the platform daemon of the sandbox whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir).resolve()
        self._proc: subprocess.Popen[bytes] | None = None

    def info(self) -> PlatformInfo | None:
        info = read_platform_info(self.state_dir)
        return info if info is not None and alive(info.pid) else None

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
                [
                    sys.executable,
                    "-m",
                    "mcproof_sandbox.platform.service",
                    "--state-dir",
                    str(self.state_dir),
                    "--config",
                    json.dumps(cfg),
                    *(["--port", str(port)] if port else []),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
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
        if pid and alive(pid):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while alive(pid) and time.monotonic() < deadline:
                if self._proc is not None:
                    self._proc.poll()
                time.sleep(0.05)
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        if self._proc is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._proc.wait(5.0)
        (self.state_dir / "platform" / INFO_FILE).unlink(missing_ok=True)

    # --- an outage and its end: stopped, then started again where clients find it ----------------------

    def stop_for_restart(self) -> dict[str, Any]:
        """Stop the daemon, remembering its port and engine settings for :meth:`restart`; JSON-safe summary."""
        info = self.info()
        if info is None:
            return {"stopped": False, "reason": "the sandbox platform API was not running"}
        spec = {"port": urlsplit(info.url).port or 0, "config": info.config}
        (info.platform_dir / RESTART_FILE).write_text(json.dumps(spec), encoding="utf-8")
        self.down()
        return {"stopped": True, "url": info.url, "pid": info.pid}

    def restart(self, timeout_s: float = 30.0) -> dict[str, Any]:
        """Start the daemon again on its old port with its old settings (no-op when it runs)."""
        running = self.info()
        if running is not None:
            return {"started": False, "url": running.url, "reason": "already running"}
        spec_file = self.state_dir / "platform" / RESTART_FILE
        try:
            spec: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            spec = {"port": 0, "config": {}}
        raw = dict(spec.get("config") or {})
        if "tenants" in raw:
            raw["tenants"] = tuple(raw["tenants"])
        config = EngineConfig(**raw)
        started = time.monotonic()
        try:
            info = self.up(config, timeout=timeout_s, port=int(spec.get("port") or 0))
        except SandboxError:  # the old port is taken meanwhile: any free port (clients re-read platform.json)
            info = self.up(config, timeout=timeout_s)
        spec_file.unlink(missing_ok=True)
        return {"started": True, "url": info.url, "took_s": round(time.monotonic() - started, 3)}
