"""Client side of the sandbox: start/stop the detached supervisor and talk to its control socket.

Control socket protocol (``<state_dir>/control.sock``): the client sends one JSON line, e.g.
``{"op": "inject", "servers": ["mc-00003"], "kind": "slow", "params": {"delay_s": 2}}``, and reads one
JSON line back: ``{"ok": true, ...}`` or ``{"ok": false, "error": "..."}``. Ops: ping, status, inject, clear.
A clean stop of a server is ``inject`` kind ``stop`` (players kicked "Server closed"); ``kill`` drops them.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet.spec import FAULT_KINDS, SandboxSpec, normalize_fault
from mcproof_sandbox.fleet.state import (
    CONTROL_SOCK,
    LOG_FILE,
    PASSWORD_FILE,
    STATE_FILE,
    SandboxServer,
    SandboxStatus,
    read_rcon_password,
    read_state,
    write_rcon_password,
)
from mcproof_sandbox.processes import alive

__all__ = ["Sandbox", "default_state_dir"]

_CALL_TIMEOUT = 15.0


def default_state_dir() -> Path:
    """``$MCPROOF_STATE_DIR`` or ``<cwd>/.mcproof/sandbox``."""
    env = os.environ.get("MCPROOF_STATE_DIR")
    return Path(env) if env else Path.cwd() / ".mcproof" / "sandbox"


class Sandbox:
    """Handle on the sandbox fleet whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = Path(state_dir if state_dir is not None else default_state_dir()).resolve()

    # --- control channel ---------------------------------------------------------------------------

    def _call(self, request: dict[str, Any], timeout: float = _CALL_TIMEOUT) -> dict[str, Any]:
        path = self.state_dir / CONTROL_SOCK
        dir_fd: int | None = None
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                if len(str(path)) < 100:
                    sock.connect(str(path))
                else:  # sun_path holds ~108 bytes: reach a deep state dir through a directory fd
                    dir_fd = os.open(self.state_dir, os.O_RDONLY | os.O_DIRECTORY)
                    sock.connect(f"/proc/self/fd/{dir_fd}/{CONTROL_SOCK}")
                sock.sendall((json.dumps(request) + "\n").encode())
                data = bytearray()
                deadline = time.monotonic() + timeout
                while not data.endswith(b"\n"):
                    if time.monotonic() > deadline:
                        raise TimeoutError
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
        except (OSError, TimeoutError) as exc:
            raise SandboxError(
                f"sandbox control socket {path} did not answer {request.get('op')!r} within {timeout:g}s ({exc}); "
                f"check {self.state_dir / LOG_FILE} or run `mcproof sandbox down`"
            ) from None
        finally:
            if dir_fd is not None:
                os.close(dir_fd)
        try:
            reply: dict[str, Any] = json.loads(data)
        except ValueError:
            raise SandboxError(f"sandbox supervisor sent an invalid reply; see {self.state_dir / LOG_FILE}") from None
        if not reply.get("ok"):
            raise SandboxError(str(reply.get("error", "sandbox supervisor refused the request")))
        return reply

    # --- lifecycle ---------------------------------------------------------------------------------

    def _live_state(self) -> dict[str, Any] | None:
        """state.json when its supervisor is alive; stale state is cleaned up and gives None."""
        state = read_state(self.state_dir)
        if state is None:
            return None
        if alive(state.get("pid"), state.get("pid_started")):
            return state
        self._cleanup(state)
        return None

    def _cleanup(self, state: dict[str, Any] | None) -> None:
        """Kill leftover shards of a dead supervisor and remove its files."""
        for shard in (state or {}).get("shards", []):
            pid = shard.get("pid")
            if alive(pid) and _is_ours(pid, "mcproof_sandbox.fleet.shard"):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        for name in (STATE_FILE, CONTROL_SOCK):
            (self.state_dir / name).unlink(missing_ok=True)

    def up(self, spec: SandboxSpec, timeout: float = 120.0) -> SandboxStatus:
        """Start the fleet (or reuse a running one with the same spec); wait until every server listens."""
        state = self._live_state()
        if state is not None:
            self._check_same_spec(state, spec)
            return self._wait_ready(spec, timeout)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        write_rcon_password(self.state_dir, spec.rcon_password)
        with open(self.state_dir / LOG_FILE, "ab") as log:
            first = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "mcproof_sandbox.fleet.supervisor",
                    "--state-dir",
                    str(self.state_dir),
                    "--spec",
                    json.dumps(spec.as_dict()),
                    "--daemonize",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
            )
        first.wait(timeout=30)
        try:
            return self._wait_ready(spec, timeout)
        except SandboxError:
            self.down(timeout=10.0)
            raise

    def _check_same_spec(self, state: dict[str, Any], spec: SandboxSpec) -> None:
        running = dict(state.get("spec", {}))
        wanted = spec.as_dict()
        keys = (set(running) | set(wanted)) - {"rcon_password_set"}
        diff = sorted(k for k in keys if running.get(k) != wanted.get(k))
        if spec.rcon_password is not None and spec.rcon_password != read_rcon_password(self.state_dir):
            diff.append("rcon_password")
        if diff:
            shown = ", ".join(
                f"{k}={running.get(k)!r} (wanted {wanted.get(k)!r})" for k in diff if k != "rcon_password"
            )
            raise SandboxError(
                f"a sandbox with a different spec is already running in {self.state_dir} (pid {state.get('pid')}): "
                f"{shown or 'rcon_password differs'}; stop it with `mcproof sandbox down --state-dir {self.state_dir}`"
            )

    def _wait_ready(self, spec: SandboxSpec, timeout: float) -> SandboxStatus:
        deadline = time.monotonic() + timeout
        last = "no state.json yet"
        while time.monotonic() < deadline:
            state = read_state(self.state_dir)
            if state is not None:
                if state.get("phase") == "failed":
                    log = self.state_dir / LOG_FILE
                    raise SandboxError(f"sandbox failed to start: {state.get('error')}; see {log}")
                if state.get("phase") == "ready":
                    status = self.status()
                    if status is not None and status.up_count == spec.servers:
                        return status
                    last = f"{status.up_count if status else 0}/{spec.servers} servers listening"
                else:
                    last = f"phase {state.get('phase')}"
                    if not alive(state.get("pid")):
                        log = self.state_dir / LOG_FILE
                        raise SandboxError(f"sandbox supervisor exited during start-up; see {log}")
            time.sleep(0.1)
        raise SandboxError(f"sandbox not ready after {timeout:g}s ({last}); see {self.state_dir / LOG_FILE}")

    def status(self) -> SandboxStatus | None:
        """Live status, or None when no sandbox runs in this state dir."""
        state = self._live_state()
        if state is None:
            return None
        servers = [SandboxServer.from_dict(s) for s in state.get("servers", [])]
        try:
            reply = self._call({"op": "status"}, timeout=10.0)
        except SandboxError:
            reply = {"down": [s.id for s in servers], "faults": {}, "shard_pids": []}
        pids = [int(state["pid"]), *(int(p) for p in reply.get("shard_pids", []))]
        down = list(reply.get("down", []))
        return SandboxStatus(
            running=True,
            pid=int(state["pid"]),
            started_at=str(state.get("started_at", "")),
            state_dir=str(self.state_dir),
            phase=str(reply.get("phase", state.get("phase", ""))),
            spec=dict(state.get("spec", {})),
            servers=servers,
            up_count=len(servers) - len(down),
            down_count=len(down),
            down=down,
            faults=dict(reply.get("faults", {})),
            shard_pids=pids[1:],
            rss_bytes=_rss(pids),
        )

    def down(self, timeout: float = 30.0) -> None:
        """Stop the fleet: SIGTERM, SIGKILL after ``timeout``; idempotent; leaves no processes."""
        import psutil

        state = read_state(self.state_dir)
        if state is None:
            (self.state_dir / CONTROL_SOCK).unlink(missing_ok=True)
            return
        pid = int(state.get("pid") or 0)
        shard_pids = [int(s["pid"]) for s in state.get("shards", []) if s.get("pid")]
        if pid and alive(pid, state.get("pid_started")):
            with contextlib.suppress(psutil.Error):
                shard_pids += [c.pid for c in psutil.Process(pid).children(recursive=True)]
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)
            if not _wait_gone([pid], timeout):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                _wait_gone([pid], 5.0)
        for spid in set(shard_pids):
            if alive(spid) and _is_ours(spid, "mcproof_sandbox.fleet.shard"):
                with contextlib.suppress(OSError):
                    os.kill(spid, signal.SIGKILL)
        _wait_gone(list(set(shard_pids)), 5.0)
        self._cleanup(state)
        (self.state_dir / PASSWORD_FILE).unlink(missing_ok=True)

    # --- faults and records ------------------------------------------------------------------------

    def inject(self, server_ids: list[str], kind: str, **params: Any) -> None:
        """Inject fault ``kind`` (one of FAULT_KINDS) into the given servers."""
        if kind not in FAULT_KINDS:
            raise SandboxError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
        normalize_fault(kind, params)
        self._require_ids(server_ids)
        self._call({"op": "inject", "servers": list(server_ids), "kind": kind, "params": params})

    def clear(self, server_ids: list[str] | None = None) -> None:
        """Remove faults (all servers when None); killed or refused servers come back."""
        if server_ids is not None:
            self._require_ids(server_ids)
        self._call({"op": "clear", "servers": None if server_ids is None else list(server_ids)})

    def servers(self) -> list[SandboxServer]:
        """Server address records from state.json (empty when not running)."""
        state = read_state(self.state_dir)
        return [SandboxServer.from_dict(s) for s in (state or {}).get("servers", [])]

    def _require_ids(self, server_ids: list[str]) -> None:
        state = self._live_state()
        if state is None:
            raise SandboxError(f"no sandbox running in {self.state_dir}; start it with `mcproof sandbox up`")
        known = {s["id"] for s in state.get("servers", [])}
        unknown = [s for s in server_ids if s not in known]
        if unknown:
            raise SandboxError(
                f"unknown server id(s) {unknown[:5]}; this sandbox has {len(known)} servers (mc-00000 and up)"
            )


def _is_ours(pid: int, module: str) -> bool:
    import psutil

    try:
        return module in " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False


def _wait_gone(pids: list[int], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return not any(alive(p) for p in pids)


def _rss(pids: list[int]) -> int:
    import psutil

    total = 0
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            total += psutil.Process(pid).memory_info().rss
    return total
