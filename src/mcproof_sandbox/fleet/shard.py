"""A shard process: up to ``shard_size`` simulated servers in one asyncio loop.

Started by the supervisor as ``python -m mcproof_sandbox.fleet.shard``. Protocol on its pipes (JSON lines):

- stdin, first line: ``{"first": 0, "count": 2500, "spec": {...}, "password": "...", "faults": {...},
  "parent": <supervisor pid>}`` (the password travels only through this pipe).
- stdout: ``{"event": "ready", "errors": [...]}`` once every listener is bound, then one reply per request.
- stdin, then: ``{"op": "status" | "inject" | "clear", ...}``; EOF on stdin means the supervisor is gone.

Dies with its supervisor: PR_SET_PDEATHSIG plus a parent-pid check every second. SIGTERM (the supervisor
stopping) is a clean stop: every server kicks its players with Disconnect "Server closed", then the shard exits.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import sys
from typing import Any

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet import eventloop
from mcproof_sandbox.fleet.server import Fleet
from mcproof_sandbox.fleet.spec import SandboxSpec

__all__ = ["main"]

log = logging.getLogger("mcproof_sandbox.fleet.shard")
_PR_SET_PDEATHSIG = 1
_LINE_LIMIT = 16 * 1024 * 1024


def _die_with_parent(parent: int) -> None:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the ppid watch below still applies
        pass
    if os.getppid() != parent:
        os._exit(3)


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def handle(fleet: Fleet, request: dict[str, Any]) -> dict[str, Any]:
    """Apply one control request to the fleet; return the reply."""
    op = request.get("op")
    try:
        if op == "status":
            return {"ok": True, **fleet.status()}
        if op == "inject":
            fleet.inject([int(i) for i in request["indices"]], str(request["kind"]), dict(request["params"]))
            return {"ok": True}
        if op == "clear":
            indices = request.get("indices")
            fleet.clear(None if indices is None else [int(i) for i in indices])
            return {"ok": True}
    except (SandboxError, KeyError, ValueError, TypeError) as exc:
        return {"ok": False, "error": str(exc)}
    return {"ok": False, "error": f"unknown op {op!r}"}


async def _watch_parent(parent: int) -> None:
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != parent:
            os._exit(3)


async def run(config: dict[str, Any], reader: asyncio.StreamReader) -> None:
    spec = SandboxSpec.from_dict(config["spec"], rcon_password=None)
    fleet = Fleet(spec, str(config["password"]), int(config["first"]), int(config["count"]))
    for key, kinds in dict(config.get("faults", {})).items():
        for kind, params in kinds.items():
            fleet.inject([int(key)], kind, params)
    errors = await fleet.open_all()
    _emit({"event": "ready", "errors": errors[:20], "error_count": len(errors)})
    watcher = asyncio.ensure_future(_watch_parent(int(config["parent"])))
    terminate = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate.set)
    serving = asyncio.ensure_future(_serve_pipe(fleet, reader))
    stop = asyncio.ensure_future(terminate.wait())
    try:
        await asyncio.wait([serving, stop], return_when=asyncio.FIRST_COMPLETED)
        if terminate.is_set():
            log.info("SIGTERM: stopping %d server(s) cleanly", len(fleet.servers))
            await fleet.shutdown(grace_s=2.0)
    finally:
        watcher.cancel()
        serving.cancel()
        stop.cancel()


async def _serve_pipe(fleet: Fleet, reader: asyncio.StreamReader) -> None:
    while True:
        line = await reader.readline()
        if not line:
            return  # supervisor closed our stdin: it is gone or wants us gone
        try:
            request = json.loads(line)
        except ValueError:
            _emit({"ok": False, "error": "request is not JSON"})
            continue
        _emit(handle(fleet, request))


async def _main_async() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_LINE_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    first = await reader.readline()
    config = json.loads(first)
    _die_with_parent(int(config["parent"]))
    await run(config, reader)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s shard[%(process)d] %(levelname)s %(message)s"
    )
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    eventloop.run(_main_async())


if __name__ == "__main__":
    main()
