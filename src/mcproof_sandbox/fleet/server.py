"""Simulated Java servers of one shard: listeners, player random walk, faults (the connection handlers
are in :mod:`mcproof_sandbox.fleet.handlers`).

Why our own: no Python library serves Server List Ping, Query or RCON (mcstatus is a client).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from mcproof_sandbox.fleet import protocol as p
from mcproof_sandbox.fleet.handlers import QueryProtocol, RconProtocol, SlpProtocol, tcp_factory
from mcproof_sandbox.fleet.spec import SandboxSpec, normalize_fault, server_host

__all__ = ["Fleet", "SimServer"]

log = logging.getLogger("mcproof_sandbox.fleet.server")

_SAMPLE_CAP = 12  # vanilla sends at most 12 names in the status sample
_LISTEN_BACKLOG = 128


class Fleet:
    """The servers of one shard plus what they share (spec, password, rng, connection budget)."""

    def __init__(self, spec: SandboxSpec, password: str, first: int, count: int, max_conns: int = 4000) -> None:
        self.spec = spec
        self.password = password.encode("utf-8")
        self.secret = random.randbytes(16)
        self.rng = random.Random()
        self.max_conns = max_conns
        self.conn_count = 0
        self.tasks: set[asyncio.Future[None]] = set()
        self.servers = [SimServer(self, i) for i in range(first, first + count)]
        self._by_index = {s.index: s for s in self.servers}

    def get(self, index: int) -> SimServer:
        return self._by_index[index]

    async def open_all(self) -> list[str]:
        """Open every listener; return error strings for the ones that failed."""
        results = await asyncio.gather(*(s.open() for s in self.servers))
        return [r for r in results if r]

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run ``coro`` in the background, keeping a reference until it ends."""
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def status(self) -> dict[str, Any]:
        return {
            "down": [s.index for s in self.servers if not s.listening],
            "faults": {str(s.index): s.faults for s in self.servers if s.faults},
        }

    def inject(self, indices: Iterable[int], kind: str, params: dict[str, Any]) -> None:
        fault = normalize_fault(kind, params)
        for i in indices:
            self.get(i).apply_fault(kind, fault)

    def clear(self, indices: Iterable[int] | None) -> None:
        for s in self.servers if indices is None else [self.get(i) for i in indices]:
            s.clear()


class SimServer:
    """One simulated server: listeners, player random walk and active faults."""

    __slots__ = ("_reopen", "conns", "faults", "fleet", "host", "index", "last_step", "listeners", "online", "udp")

    def __init__(self, fleet: Fleet, index: int) -> None:
        self.fleet = fleet
        self.index = index
        self.host = server_host(fleet.spec.base_address, index)
        self.online = fleet.rng.randint(0, fleet.spec.max_players // 2)
        self.last_step = time.monotonic()
        self.faults: dict[str, dict[str, Any]] = {}
        self.listeners: list[asyncio.Server] = []
        self.udp: asyncio.DatagramTransport | None = None
        self.conns: set[asyncio.BaseTransport] | None = None
        self._reopen: asyncio.TimerHandle | None = None

    @property
    def listening(self) -> bool:
        return bool(self.listeners)

    # --- lifecycle -------------------------------------------------------------------------------------

    async def open(self) -> str:
        """Bind SLP, RCON and Query sockets; return '' or an error string."""
        if self.listeners:
            return ""
        loop = asyncio.get_running_loop()
        spec = self.fleet.spec
        try:
            for port, factory in ((spec.slp_port, SlpProtocol), (spec.rcon_port, RconProtocol)):
                sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                sock.bind((self.host, port))
                sock.listen(_LISTEN_BACKLOG)
                sock.setblocking(False)
                self.listeners.append(await loop.create_server(tcp_factory(factory, self), sock=sock))
            if spec.query_enabled:
                udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                udp.bind((self.host, spec.slp_port))
                udp.setblocking(False)
                transport, _ = await loop.create_datagram_endpoint(lambda: QueryProtocol(self), sock=udp)
                self.udp = transport
        except OSError as exc:
            self.close()
            return f"{self.host}: {exc.strerror or exc}"
        return ""

    def close(self) -> None:
        """Close listeners and drop active connections (what a dead process looks like)."""
        for server in self.listeners:
            server.close()
        self.listeners = []
        if self.udp is not None:
            self.udp.close()
            self.udp = None
        for transport in list(self.conns or ()):
            transport.abort()  # type: ignore[attr-defined]
        self.conns = None

    def _reopen_later(self, delay: float) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = asyncio.get_running_loop().call_later(delay, self._revive)

    def _revive(self) -> None:
        self._reopen = None
        self.faults.pop("kill", None)
        if "refuse" not in self.faults:
            self.fleet.spawn(self._open_with_retry())

    async def _open_with_retry(self, attempts: int = 30) -> None:
        for _ in range(attempts):
            error = await self.open()
            if not error:
                return
            log.warning("reopen %s failed: %s; retrying", self.host, error)
            await asyncio.sleep(1.0)

    def apply_fault(self, kind: str, params: dict[str, Any]) -> None:
        self.faults[kind] = params
        if kind in ("kill", "refuse"):
            self.close()
            if kind == "kill" and params.get("restart", True) and self.fleet.spec.supervise:
                self._reopen_later(self.fleet.spec.boot_delay_s)

    def stop_via_rcon(self) -> None:
        """RCON ``stop``: go down; come back after the boot delay when supervised."""
        self.apply_fault("kill", {"restart": True})

    def clear(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        self.faults = {}
        if not self.listeners:
            self.fleet.spawn(self._open_with_retry())

    # --- state served to clients -------------------------------------------------------------------

    def current_online(self) -> int:
        spec = self.fleet.spec
        now = time.monotonic()
        steps = int((now - self.last_step) / spec.player_step_s)
        if steps > 0:
            self.last_step += steps * spec.player_step_s
            rng = self.fleet.rng
            for _ in range(min(steps, 64)):
                self.online = max(0, min(spec.max_players, self.online + rng.choice((-1, 0, 1))))
        return self.online

    def player_names(self, online: int) -> list[str]:
        return [f"P{self.index:05d}_{k:03d}" for k in range(online)]

    def player_uuid(self, k: int) -> str:
        return f"{self.index:08x}-{k:04x}-4000-8000-00000000{self.index % 65536:04x}"

    def version(self) -> tuple[str, int]:
        wrong = self.faults.get("wrong_version")
        if wrong:
            return str(wrong["version_name"]), int(wrong["protocol"])
        return self.fleet.spec.version_name, self.fleet.spec.protocol

    def status_bytes(self) -> bytes:
        malformed = self.faults.get("malformed")
        if malformed:
            if malformed["mode"] == "packet":
                return b"\x7f\x00\x20{broken"  # frame claims 127 bytes, then the connection closes
            return p.encode_status_response('{"version": {"name": "1.21.4", "protocol": 7')
        online = self.current_online()
        name, proto = self.version()
        names = self.player_names(min(online, _SAMPLE_CAP))
        doc = p.status_document(
            version_name=name,
            protocol=proto,
            motd=self.fleet.spec.motd,
            online=online,
            max_players=self.fleet.spec.max_players,
            sample=[(n, self.player_uuid(k)) for k, n in enumerate(names)],
        )
        return p.encode_status_response(doc)

    def oversized_status_bytes(self) -> bytes:
        """The `oversized` fault's status reply: a well-framed packet whose JSON string is size_bytes long."""
        size = int(self.faults["oversized"]["size_bytes"])
        body = b"\x00" + p.encode_varint(size) + b"x" * size
        return p.encode_varint(len(body)) + body

    def send(self, write: Callable[[], None]) -> None:
        """Run ``write`` now or after the ``slow`` fault's delay."""
        slow = self.faults.get("slow")
        if slow:
            asyncio.get_running_loop().call_later(float(slow["delay_s"]), write)
        else:
            write()
