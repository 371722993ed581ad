"""Simulated Java servers of one shard: listeners, player sessions, world clock, faults (the connection
handlers are in :mod:`mcproof_sandbox.fleet.handlers`, the login/play state machine in :mod:`.play`).

Players are real: the status ping, Query and RCON ``list`` report the sessions in play, nothing else.
How a server goes down decides what its players see: ``stop`` (RCON ``stop``, the ``stop`` fault, a shard
asked to terminate) kicks each with Disconnect "Server closed" first; ``kill`` (and ``refuse``) drop the
connections without a packet, as a dead process does.

Why our own: no Python library serves Server List Ping, Query or RCON (mcstatus is a client).
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable, Coroutine, Iterable
from typing import Any

from mcproof_sandbox.fleet import play_protocol as pp
from mcproof_sandbox.fleet import protocol as p
from mcproof_sandbox.fleet.handlers import QueryProtocol, RconProtocol, SlpProtocol, tcp_factory
from mcproof_sandbox.fleet.play import SERVER_CLOSED, TIME_UPDATE_TICKS, TIMED_OUT, PlaySession, Ticker
from mcproof_sandbox.fleet.spec import DOWN_KINDS, SandboxSpec, normalize_fault, server_host

__all__ = ["Fleet", "SimServer"]

log = logging.getLogger("mcproof_sandbox.fleet.server")

_SAMPLE_CAP = 12  # vanilla sends at most 12 names in the status sample
_LISTEN_BACKLOG = 128
_KICK_FLUSH_S = 5.0  # a kicked client that does not read its Disconnect is cut after this


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
        self.ticker = Ticker(self)
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

    async def shutdown(self, grace_s: float = 2.0) -> None:
        """Stop every server cleanly (players kicked "Server closed"); wait up to ``grace_s`` for the kicks
        to reach the clients."""
        for s in self.servers:
            s.shutdown()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_s
        while self.kicking and loop.time() < deadline:
            await asyncio.sleep(0.02)

    @property
    def kicking(self) -> int:
        return sum(len(s.closing) for s in self.servers)


class SimServer:
    """One simulated server: listeners, player sessions, world clock and active faults."""

    __slots__ = (
        "_reopen",
        "age_base",
        "age_t0",
        "closing",
        "conns",
        "entity_ids",
        "faults",
        "fleet",
        "host",
        "index",
        "listeners",
        "next_ka",
        "next_time",
        "players",
        "release",
        "sessions",
        "tps",
        "udp",
    )

    def __init__(self, fleet: Fleet, index: int) -> None:
        self.fleet = fleet
        self.index = index
        self.host = server_host(fleet.spec.base_address, index)
        self.sessions: dict[PlaySession, None] = {}  # admitted (past Login Start): counts against max_players
        self.players: dict[PlaySession, None] = {}  # in play: what the status ping reports, in join order
        self.closing: set[asyncio.BaseTransport] = set()  # kicked connections still flushing their Disconnect
        self.entity_ids = 0
        self.tps = fleet.spec.tick_rate
        self.age_base = 0  # world age (ticks) at loop time age_t0; the clock starts with the first player
        self.age_t0: float | None = None
        self.next_time = 0.0
        self.next_ka = 0.0
        self.faults: dict[str, dict[str, Any]] = {}
        self.listeners: list[asyncio.Server] = []
        self.udp: asyncio.DatagramTransport | None = None
        self.conns: set[asyncio.BaseTransport] | None = None
        self._reopen: asyncio.TimerHandle | None = None
        self.release: tuple[str, int] | None = None  # this server's own (version name, protocol), else the spec's

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
        """Close listeners and drop active connections without a word (what a dead process looks like)."""
        for server in self.listeners:
            server.close()
        self.listeners = []
        if self.udp is not None:
            self.udp.close()
            self.udp = None
        for session in list(self.sessions):
            session.lost()
        for transport in list(self.conns or ()) + list(self.closing):
            transport.abort()  # type: ignore[attr-defined]
        self.conns = None
        self.closing = set()

    def shutdown(self) -> None:
        """A clean stop: every session gets its Disconnect ("Server closed"), then the server closes."""
        kicked: list[asyncio.BaseTransport] = []
        for session in list(self.sessions):
            transport = session.conn.transport
            session.kick(SERVER_CLOSED)
            if transport is not None and self.conns is not None:
                self.conns.discard(transport)  # not aborted by close(): it flushes the Disconnect, then closes
                kicked.append(transport)
        self.close()
        self.closing.update(kicked)
        if kicked:
            asyncio.get_running_loop().call_later(_KICK_FLUSH_S, self._cut, kicked)

    def _cut(self, transports: list[asyncio.BaseTransport]) -> None:
        for transport in transports:
            self.closing.discard(transport)
            transport.abort()  # type: ignore[attr-defined]  # a no-op when it already closed

    def connection_gone(self, transport: asyncio.BaseTransport) -> None:
        """A connection this server counted is closed."""
        if self.conns is not None:
            self.conns.discard(transport)
        self.closing.discard(transport)

    def _reopen_later(self, delay: float) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
        self._reopen = asyncio.get_running_loop().call_later(delay, self._revive)

    def _revive(self) -> None:
        self._reopen = None
        for kind in DOWN_KINDS:
            self.faults.pop(kind, None)
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
        if kind == "stop":
            self.shutdown()
        elif kind in ("kill", "refuse"):
            self.close()
        if kind in DOWN_KINDS and params.get("restart", True) and self.fleet.spec.supervise:
            self._reopen_later(self.fleet.spec.boot_delay_s)
        if kind == "lag":
            self.set_tps(float(params["tps"]))

    def stop_via_rcon(self) -> None:
        """RCON ``stop``: kick the players, go down; come back after the boot delay when supervised."""
        self.apply_fault("stop", {"restart": True})

    def clear(self) -> None:
        if self._reopen is not None:
            self._reopen.cancel()
            self._reopen = None
        self.faults = {}
        self.set_tps(self.fleet.spec.tick_rate)
        if not self.listeners:
            self.fleet.spawn(self._open_with_retry())

    # --- players ---------------------------------------------------------------------------------------

    def session_count(self) -> int:
        return len(self.sessions)

    def session_named(self, name: str) -> PlaySession | None:
        return next((s for s in self.sessions if s.name == name), None)

    def admit(self, session: PlaySession) -> None:
        self.sessions[session] = None
        self.entity_ids += 1
        session.entity_id = self.entity_ids

    def enter_play(self, session: PlaySession) -> None:
        """The session finished configuration: it is a player now (status, Query, ``list`` show it)."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self.age_t0 is None:
            self.age_t0 = now
            self._schedule_time(now)
        if not self.players:
            self.next_ka = now + self.fleet.spec.keepalive_s
        self.players[session] = None
        session.conn.play_started()
        session.join(self.world_age(now))
        self.fleet.ticker.add(self)

    def forget(self, session: PlaySession) -> None:
        self.sessions.pop(session, None)
        if self.players.pop(session, 0) is None and not self.players:
            self.fleet.ticker.discard(self)

    # --- world clock ------------------------------------------------------------------------------------

    def world_age(self, now: float) -> int:
        if self.age_t0 is None:
            return self.age_base
        return self.age_base + int((now - self.age_t0) * self.tps)

    def set_tps(self, tps: float) -> None:
        """Change the tick rate from now on (world age keeps counting from where it is)."""
        if tps == self.tps:
            return
        if self.age_t0 is not None:
            now = asyncio.get_running_loop().time()
            self.age_base, self.age_t0 = self.world_age(now), now
            self.tps = tps
            self._schedule_time(now)
        else:
            self.tps = tps

    def _schedule_time(self, now: float) -> None:
        assert self.age_t0 is not None
        target = (self.world_age(now) // TIME_UPDATE_TICKS + 1) * TIME_UPDATE_TICKS
        self.next_time = self.age_t0 + (target - self.age_base) / self.tps

    def tick(self, now: float) -> None:
        """Called by the shard's ticker: Update Time every 20 ticks, keep-alives every ``keepalive_s``."""
        if "hang" in self.faults:
            return  # a hung server sends nothing; its clients time out on their own
        if now >= self.next_time:
            age = self.world_age(now) // TIME_UPDATE_TICKS * TIME_UPDATE_TICKS  # the tick it was due at, as vanilla
            packet = pp.update_time(age, age % 24000)
            for session in list(self.players):
                session.send(packet)
            self._schedule_time(now)
        if now >= self.next_ka:
            self.next_ka = now + self.fleet.spec.keepalive_s
            challenge = int(now * 1000)
            packet = pp.keep_alive(pp.PlayOut.KEEP_ALIVE, challenge)
            for session in list(self.players):
                if session.ka_pending:
                    session.kick(TIMED_OUT)
                else:
                    session.ka_pending = True
                    session.ka_challenge = challenge
                    session.send(packet)

    # --- state served to clients -------------------------------------------------------------------

    def current_online(self) -> int:
        """Players in play right now."""
        return len(self.players)

    def player_names(self) -> list[str]:
        return [s.name for s in self.players]

    def version(self) -> tuple[str, int]:
        wrong = self.faults.get("wrong_version")
        if wrong:
            return str(wrong["version_name"]), int(wrong["protocol"])
        if self.release is not None:
            return self.release
        return self.fleet.spec.version_name, self.fleet.spec.protocol

    def status_bytes(self) -> bytes:
        malformed = self.faults.get("malformed")
        if malformed:
            if malformed["mode"] == "packet":
                return b"\x7f\x00\x20{broken"  # frame claims 127 bytes, then the connection closes
            return p.encode_status_response('{"version": {"name": "1.21.4", "protocol": 7')
        name, proto = self.version()
        doc = p.status_document(
            version_name=name,
            protocol=proto,
            motd=self.fleet.spec.motd,
            online=self.current_online(),
            max_players=self.fleet.spec.max_players,
            sample=[(s.name, s.uuid_str) for s, _ in zip(self.players, range(_SAMPLE_CAP), strict=False)],
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
