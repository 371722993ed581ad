"""The detached sandbox supervisor: spawns shard processes, restarts crashed ones, serves the control socket.

Started by :meth:`mcproof_sandbox.fleet.Sandbox.up` as ``python -m mcproof_sandbox.fleet.supervisor --state-dir D
--spec JSON --daemonize`` (double fork: the caller reaps the first child, the supervisor is re-parented).
SIGTERM/SIGINT: stop shards (SIGTERM, then SIGKILL after 5 s), remove ``control.sock`` and ``state.json``.
Control socket: one JSON request line, one JSON reply line per connection (see :mod:`.control`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet.spec import DOWN_KINDS, FAULT_KINDS, SandboxSpec, normalize_fault, server_host, server_id
from mcproof_sandbox.fleet.state import CONTROL_SOCK, STATE_FILE, STATE_FORMAT, read_rcon_password, write_json_atomic
from mcproof_sandbox.processes import process_start

__all__ = ["Supervisor", "main"]

log = logging.getLogger("mcproof_sandbox.fleet.supervisor")
_LINE_LIMIT = 16 * 1024 * 1024
_SHARD_REPLY_TIMEOUT = 10.0
_PERSISTENT = tuple(k for k in FAULT_KINDS if k not in DOWN_KINDS)  # survive a shard restart


class Shard:
    """One shard process and the pipe protocol to it."""

    def __init__(self, index: int, first: int, count: int) -> None:
        self.index = index
        self.first = first
        self.count = count
        self.proc: asyncio.subprocess.Process | None = None
        self.ready = False
        self.restarts = 0
        self.lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.returncode is None else None

    async def start(self, spec: SandboxSpec, password: str, faults: dict[str, dict[str, Any]]) -> list[str]:
        """Spawn, send the config, wait for ``ready``; return bind errors."""
        self.ready = False
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "mcproof_sandbox.fleet.shard",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            limit=_LINE_LIMIT,
        )
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        config = {
            "first": self.first,
            "count": self.count,
            "spec": spec.as_dict(),
            "password": password,
            "faults": faults,
            "parent": os.getpid(),
        }
        self.proc.stdin.write((json.dumps(config) + "\n").encode())
        await self.proc.stdin.drain()
        line = await self.proc.stdout.readline()
        if not line:
            raise SandboxError(f"shard {self.index} exited during start-up (exit code {await self.proc.wait()})")
        ready = json.loads(line)
        self.ready = True
        return list(ready.get("errors", []))

    async def request(self, message: dict[str, Any]) -> dict[str, Any]:
        proc = self.proc
        if proc is None or proc.returncode is not None or not self.ready:
            raise SandboxError(f"shard {self.index} is not running")
        assert proc.stdin is not None
        assert proc.stdout is not None
        async with self.lock:
            try:
                proc.stdin.write((json.dumps(message) + "\n").encode())
                await asyncio.wait_for(proc.stdin.drain(), _SHARD_REPLY_TIMEOUT)
                line = await asyncio.wait_for(proc.stdout.readline(), _SHARD_REPLY_TIMEOUT)
            except TimeoutError:
                log.error("shard %d did not answer in %gs; killing it (it restarts)", self.index, _SHARD_REPLY_TIMEOUT)
                proc.kill()  # a late reply would desynchronise the pipe
                raise SandboxError(f"shard {self.index} did not answer; it is being restarted") from None
        if not line:
            raise SandboxError(f"shard {self.index} closed its pipe")
        reply: dict[str, Any] = json.loads(line)
        return reply


class Supervisor:
    """Owns the shards, the fault table and ``state.json``."""

    def __init__(self, state_dir: Path, spec: SandboxSpec) -> None:
        self.state_dir = state_dir
        self.spec = spec
        self.password = read_rcon_password(state_dir)
        self.shards = [
            Shard(k, k * spec.shard_size, min(spec.shard_size, spec.servers - k * spec.shard_size))
            for k in range(spec.shard_count)
        ]
        self.faults: dict[int, dict[str, dict[str, Any]]] = {}  # persistent faults, re-applied after a crash
        self.stopping = asyncio.Event()
        self.phase = "starting"
        self.error: str | None = None
        self.started_at = dt.datetime.now(dt.UTC).isoformat()

    # --- state.json ----------------------------------------------------------------------------------

    def write_state(self) -> None:

        spec = self.spec
        servers = [
            {
                "id": server_id(i),
                "host": server_host(spec.base_address, i),
                "port": spec.slp_port,
                "query_port": spec.slp_port,
                "rcon_port": spec.rcon_port,
                "edition": "java",
            }
            for i in range(spec.servers)
        ]
        write_json_atomic(
            self.state_dir / STATE_FILE,
            {
                "format": STATE_FORMAT,
                "phase": self.phase,
                "error": self.error,
                "pid": os.getpid(),
                "pid_started": process_start(os.getpid()),
                "started_at": self.started_at,
                "state_dir": str(self.state_dir),
                "spec": spec.as_dict(),
                "servers": servers,
                "shards": [
                    {"index": s.index, "pid": s.pid, "first": s.first, "count": s.count, "restarts": s.restarts}
                    for s in self.shards
                ],
            },
        )

    # --- shards ----------------------------------------------------------------------------------------

    def _shard_faults(self, shard: Shard) -> dict[str, dict[str, Any]]:
        return {str(i): f for i, f in self.faults.items() if shard.first <= i < shard.first + shard.count}

    async def _run_shard(self, shard: Shard, first_start: asyncio.Future[list[str]]) -> None:
        """Start the shard and keep it alive (when supervised) until shutdown."""
        while not self.stopping.is_set():
            try:
                errors = await shard.start(self.spec, self.password, self._shard_faults(shard))
            except (SandboxError, OSError, ValueError) as exc:
                errors = [str(exc)]
            if not first_start.done():
                first_start.set_result(errors)
            log.info(
                "shard %d up (pid %s, servers %d..%d)",
                shard.index,
                shard.pid,
                shard.first,
                shard.first + shard.count - 1,
            )
            self.write_state()
            code = await shard.proc.wait() if shard.proc is not None else -1
            shard.ready = False
            if self.stopping.is_set():
                return
            log.warning("shard %d exited with %s", shard.index, code)
            self.write_state()
            if not self.spec.supervise:
                return
            await asyncio.sleep(max(self.spec.boot_delay_s, 0.2))  # never a hot crash loop
            shard.restarts += 1

    async def _stop_shards(self) -> None:
        procs = [s.proc for s in self.shards if s.proc is not None and s.proc.returncode is None]
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.terminate()
        try:
            await asyncio.wait_for(asyncio.gather(*(p.wait() for p in procs)), 5.0)
        except TimeoutError:
            for proc in procs:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
            await asyncio.gather(*(p.wait() for p in procs))

    # --- control requests ---------------------------------------------------------------------------

    def _indices(self, ids: list[Any]) -> list[int]:
        out = []
        for sid in ids:
            text = str(sid)
            num = text[3:] if text.startswith("mc-") else ""
            if not num.isdigit() or int(num) >= self.spec.servers or server_id(int(num)) != text:
                raise SandboxError(f"unknown server id {text!r}; ids run mc-00000..{server_id(self.spec.servers - 1)}")
            out.append(int(num))
        return out

    def _by_shard(self, indices: list[int]) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for i in indices:
            out.setdefault(i // self.spec.shard_size, []).append(i)
        return out

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "ping":
            return {"ok": True, "phase": self.phase}
        if op == "status":
            return await self._status()
        if op == "inject":
            indices = self._indices(list(request.get("servers") or []))
            kind = str(request.get("kind"))
            params = normalize_fault(kind, dict(request.get("params") or {}))
            if kind in _PERSISTENT or (kind in DOWN_KINDS and not (params["restart"] and self.spec.supervise)):
                for i in indices:
                    self.faults.setdefault(i, {})[kind] = params
            await self._fan_out({"op": "inject", "kind": kind, "params": params}, indices)
            log.info("fault %s %s on %d server(s)", kind, params, len(indices))
            return {"ok": True}
        if op == "clear":
            ids = request.get("servers")
            if ids is None:
                self.faults.clear()
                await asyncio.gather(*(s.request({"op": "clear", "indices": None}) for s in self.shards if s.pid))
            else:
                indices = self._indices(list(ids))
                for i in indices:
                    self.faults.pop(i, None)
                await self._fan_out({"op": "clear"}, indices)
            log.info("faults cleared on %s", "all servers" if ids is None else f"{len(ids)} server(s)")
            return {"ok": True}
        raise SandboxError(f"unknown control op {op!r}; use ping, status, inject or clear")

    async def _fan_out(self, message: dict[str, Any], indices: list[int]) -> None:
        jobs = []
        for k, part in self._by_shard(indices).items():
            shard = self.shards[k]
            if shard.pid is not None and shard.ready:
                jobs.append(shard.request({**message, "indices": part}))
        for reply in await asyncio.gather(*jobs):
            if not reply.get("ok"):
                raise SandboxError(str(reply.get("error")))

    async def _status(self) -> dict[str, Any]:
        down: list[int] = []
        faults: dict[int, dict[str, Any]] = {}
        for shard in self.shards:
            try:
                reply = await shard.request({"op": "status"})
            except (SandboxError, OSError, TimeoutError, ValueError):
                down.extend(range(shard.first, shard.first + shard.count))
                faults.update(self._shard_faults_int(shard))
                continue
            down.extend(int(i) for i in reply.get("down", []))
            faults.update({int(k): v for k, v in reply.get("faults", {}).items()})
        return {
            "ok": True,
            "phase": self.phase,
            "down": [server_id(i) for i in sorted(down)],
            "faults": {server_id(i): faults[i] for i in sorted(faults)},
            "shard_pids": [s.pid for s in self.shards if s.pid is not None],
        }

    def _shard_faults_int(self, shard: Shard) -> dict[int, dict[str, Any]]:
        return {i: f for i, f in self.faults.items() if shard.first <= i < shard.first + shard.count}

    async def _serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 10.0)
            try:
                reply = await self.handle(json.loads(line))
            except SandboxError as exc:
                reply = {"ok": False, "error": str(exc)}
            except (ValueError, TypeError, AttributeError) as exc:
                reply = {"ok": False, "error": f"bad control request: {exc}"}
            writer.write((json.dumps(reply) + "\n").encode())
            await asyncio.wait_for(writer.drain(), 10.0)
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            log.warning("control connection failed: %s", exc)
        finally:
            writer.close()

    # --- main --------------------------------------------------------------------------------------

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        sock_path = self.state_dir / CONTROL_SOCK
        sock_path.unlink(missing_ok=True)
        os.chdir(self.state_dir)  # bind by relative name: deep state dirs exceed sun_path's ~108 bytes
        server = await asyncio.start_unix_server(self._serve_client, path=CONTROL_SOCK, limit=_LINE_LIMIT)
        os.chmod(sock_path, 0o600)
        self.write_state()
        log.info("supervisor %d starting %d server(s) in %d shard(s)", os.getpid(), self.spec.servers, len(self.shards))
        starts: list[asyncio.Future[list[str]]] = [loop.create_future() for _ in self.shards]
        tasks = [asyncio.ensure_future(self._run_shard(s, f)) for s, f in zip(self.shards, starts, strict=True)]
        done_first: asyncio.Future[Any] = asyncio.ensure_future(asyncio.gather(*starts))
        stop_wait: asyncio.Future[Any] = asyncio.ensure_future(self.stopping.wait())
        await asyncio.wait([done_first, stop_wait], return_when=asyncio.FIRST_COMPLETED)
        stop_wait.cancel()
        code = 0
        if done_first.done():
            errors = [e for errs in done_first.result() for e in errs]
            if errors:
                self.phase, self.error = "failed", f"{len(errors)} listener(s) failed, first: {errors[0]}"
                log.error("start-up failed: %s", self.error)
                code = 1
                self.stopping.set()
            else:
                self.phase = "ready"
                log.info("all %d server(s) listening", self.spec.servers)
            self.write_state()
        await self.stopping.wait()
        if self.phase != "failed":
            self.phase = "stopping"
            self.write_state()
        log.info("stopping")
        server.close()
        await self._stop_shards()
        for task in tasks:
            task.cancel()
        done_first.cancel()
        sock_path.unlink(missing_ok=True)
        if code == 0:
            (self.state_dir / STATE_FILE).unlink(missing_ok=True)
        log.info("stopped")
        return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mcproof_sandbox.fleet.supervisor")
    parser.add_argument("--state-dir", required=True, type=Path)
    parser.add_argument("--spec", required=True, help="SandboxSpec.as_dict() as JSON (no password)")
    parser.add_argument("--daemonize", action="store_true")
    args = parser.parse_args(argv)
    if args.daemonize and os.fork() > 0:
        os._exit(0)  # the caller reaps this first child; the supervisor is re-parented
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s supervisor[%(process)d] %(levelname)s %(message)s"
    )
    spec = SandboxSpec.from_dict(json.loads(args.spec))
    try:
        return asyncio.run(Supervisor(args.state_dir.resolve(), spec).run())
    except Exception:
        log.exception("supervisor crashed")
        return 1


if __name__ == "__main__":
    sys.exit(main())
