"""Per-connection asyncio protocols of a simulated server: SLP + legacy ping, RCON (TCP) and Query (UDP).

Why our own: no Python library serves these protocols (mcstatus is a client). Wire formats live in
:mod:`mcproof_sandbox.fleet.protocol`; the server state and faults in :mod:`mcproof_sandbox.fleet.server`. Plain
``asyncio.Protocol`` objects (no streams, no per-connection tasks) keep thousands of servers per process cheap.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import struct
import time
from abc import ABCMeta, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

from mcproof_sandbox.fleet import play_protocol as pp
from mcproof_sandbox.fleet import protocol as p
from mcproof_sandbox.fleet.play import PlaySession
from mcproof_sandbox.fleet.spec import TRICKLE_MAX_S

if TYPE_CHECKING:
    from mcproof_sandbox.fleet.server import SimServer

__all__ = ["QueryProtocol", "RconProtocol", "SlpProtocol", "tcp_factory"]

log = logging.getLogger("mcproof_sandbox.fleet.handlers")

_QUERY_BUCKET_S = 30.0  # vanilla expires challenge tokens after 30 s
_QUERY_OVERSIZED = 65_000  # bytes: the `oversized` fault's Query reply (near the UDP maximum)
_QUERY_TRICKLE_DATAGRAMS = 60  # empty datagrams the `trickle` fault sends before each Query reply


def tcp_factory(cls: type[_TcpBase], server: SimServer) -> Callable[[], asyncio.Protocol]:
    return lambda: cls(server)


class _TcpBase(asyncio.Protocol, metaclass=ABCMeta):
    """Connection bookkeeping shared by SLP and RCON: budget, deadline, buffer cap, safe close."""

    max_buffer = 4096
    reset_deadline_on_data = False

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.deadline: asyncio.TimerHandle | None = None
        self.closed = False
        self.counted = False
        self.trickle_out = bytearray()  # the `trickle` fault's bytes still to send, one per interval
        self.trickle_close = False
        self.trickle_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport = cast(asyncio.Transport, transport)  # uvloop's TCPTransport is not an asyncio.Transport subclass
        self.transport = transport
        fleet = self.server.fleet
        if fleet.conn_count >= fleet.max_conns:
            transport.abort()
            self.closed = True
            return
        fleet.conn_count += 1
        self.counted = True
        if self.server.conns is None:
            self.server.conns = set()
        self.server.conns.add(transport)
        self._arm_deadline()

    def _arm_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = asyncio.get_running_loop().call_later(self.server.fleet.spec.read_timeout_s, self.abort)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        if self.trickle_timer is not None:
            self.trickle_timer.cancel()
            self.trickle_timer = None
        if self.counted:
            self.counted = False
            self.server.fleet.conn_count -= 1
            if self.transport is not None:
                self.server.connection_gone(self.transport)
        self.closed = True
        self.buf = bytearray()

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def write(self, data: bytes, close: bool = False) -> None:
        trickle = self.server.faults.get("trickle")
        if trickle:
            self._trickle(data, close, float(trickle["interval_s"]))
            return

        def _do() -> None:
            if self.transport is None or self.transport.is_closing():
                return
            self.transport.write(data)
            if close:
                self.transport.close()

        self.server.send(_do)

    def _trickle(self, data: bytes, close: bool, interval: float) -> None:
        """Queue ``data`` to go out one byte per ``interval`` (first byte now); bounded by TRICKLE_MAX_S."""
        self.trickle_out += data
        self.trickle_close = self.trickle_close or close
        if self.trickle_timer is None:
            if self.deadline is not None:  # the read deadline would cut the trickle; cap it instead
                self.deadline.cancel()
            self.deadline = asyncio.get_running_loop().call_later(TRICKLE_MAX_S, self.abort)
            self._trickle_tick(interval)

    def _trickle_tick(self, interval: float) -> None:
        self.trickle_timer = None
        if self.transport is None or self.transport.is_closing():
            return
        if self.trickle_out:
            self.transport.write(bytes(self.trickle_out[:1]))
            del self.trickle_out[:1]
        if self.trickle_out:
            self.trickle_timer = asyncio.get_running_loop().call_later(interval, self._trickle_tick, interval)
        elif self.trickle_close:
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self.closed or "hang" in self.server.faults:
            return
        if self.reset_deadline_on_data:
            self._arm_deadline()
        self.buf += data
        if len(self.buf) > self.max_buffer:
            self.abort()
            return
        try:
            self.process()
        except p.ProtocolError as exc:
            log.debug("closing %s connection on %s: %s", type(self).__name__, self.server.host, exc)
            self.abort()
        except Exception:  # a bug must cost one connection, never the shard
            log.exception("handler error on %s", self.server.host)
            self.abort()

    @abstractmethod
    def process(self) -> None:
        """Consume complete packets from ``self.buf`` (each subclass speaks its protocol)."""


class SlpProtocol(_TcpBase):
    """Handshake -> status request -> status JSON -> ping -> pong; or the legacy 0xFE ping; or, with
    next_state 2 (login) or 3 (transfer), a player's session (:class:`mcproof_sandbox.fleet.play.PlaySession`)."""

    def __init__(self, server: SimServer) -> None:
        super().__init__(server)
        self.state = 0  # 0 handshake, 1 status, 2 answered status, 3 login/play (self.play)
        self.legacy_done = False
        self.play: PlaySession | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        if self.play is not None:
            self.play.lost()
        super().connection_lost(exc)

    def play_started(self) -> None:
        """The session reached play: keep-alives bound it from now on, not the login deadline."""
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None

    def process(self) -> None:
        while self.buf and not self.closed:
            if self.play is not None:
                self.play.feed(self.buf)
                return
            if self.state == 0 and self.buf[0] == 0xFE:
                self._legacy()
                return
            try:
                payload, used = p.read_frame(self.buf)
            except p.Incomplete:
                return
            del self.buf[:used]
            self._packet(payload)

    def _legacy(self) -> None:
        if self.legacy_done:
            return
        self.legacy_done = True
        srv = self.server
        name, proto = srv.version()
        data = p.encode_legacy_kick(
            protocol=proto,
            version_name=name,
            motd=srv.fleet.spec.motd,
            online=srv.current_online(),
            max_players=srv.fleet.spec.max_players,
        )
        self.write(data, close=True)

    def _packet(self, payload: bytes) -> None:
        if self.state == 0:
            hs = p.parse_handshake(payload)
            if hs.next_state in (2, 3):  # login, transfer (a transfer lands in login too)
                self.state = 3
                self.max_buffer = pp.MAX_FRAME + 8
                self.play = PlaySession(self, self.server, hs)
                return
            if hs.next_state != 1:
                raise p.ProtocolError(f"next_state {hs.next_state} is not status (1), login (2) or transfer (3)")
            self.state = 1
        elif payload == b"\x00" and self.state == 1 and "oversized" in self.server.faults:
            self.state = 2
            self.write(self.server.oversized_status_bytes(), close=True)
        elif payload == b"\x00" and self.state == 1:
            self.state = 2
            malformed = "malformed" in self.server.faults
            self.write(self.server.status_bytes(), close=malformed)
        elif len(payload) == 9 and payload[0] == 1:
            self.write(p.encode_pong(payload[1:]), close=True)
            self.closed = True
        else:
            raise p.ProtocolError(f"unexpected packet {payload[:1].hex()} ({len(payload)} bytes) in state {self.state}")


class RconProtocol(_TcpBase):
    """Source RCON: login (type 3), commands (type 2), responses (type 0)."""

    max_buffer = 2 * (p.RCON_MAX_INCOMING + 4)
    reset_deadline_on_data = True

    def __init__(self, server: SimServer) -> None:
        super().__init__(server)
        self.authed = False

    def process(self) -> None:
        while not self.closed:
            try:
                packet, used = p.decode_rcon(self.buf)
            except p.Incomplete:
                return
            del self.buf[:used]
            self._packet(packet)

    def _packet(self, packet: p.RconPacket) -> None:
        oversized = self.server.faults.get("oversized")
        if oversized:  # a frame that claims (and carries) size_bytes: far over any RCON client's limit
            size = int(oversized["size_bytes"])
            self.write(struct.pack("<iii", size, packet.request_id, p.RCON_RESPONSE) + bytes(size - 8), close=True)
            self.closed = True
            return
        if packet.type == p.RCON_AUTH:
            ok = hmac.compare_digest(packet.payload.encode("utf-8"), self.server.fleet.password)
            self.authed = ok
            self.write(p.encode_rcon(packet.request_id if ok else -1, p.RCON_AUTH_RESPONSE, ""))
        elif packet.type == p.RCON_COMMAND and not self.authed:
            self.write(p.encode_rcon(-1, p.RCON_AUTH_RESPONSE, ""))
        elif packet.type == p.RCON_COMMAND:
            reply, stop = self._command(packet.payload)
            chunks = [reply[i : i + p.RCON_MAX_PAYLOAD_OUT] for i in range(0, len(reply), 4096)] or [""]
            data = b"".join(p.encode_rcon(packet.request_id, p.RCON_RESPONSE, c) for c in chunks)
            self.write(data, close=stop)
            if stop:
                self.closed = True
                self.server.send(self.server.stop_via_rcon)
        else:
            self.write(p.encode_rcon(packet.request_id, p.RCON_RESPONSE, f"Unknown request {packet.type:x}"))

    def _command(self, line: str) -> tuple[str, bool]:
        words = line.strip().lstrip("/").split()
        name = words[0].lower() if words else ""
        srv = self.server
        if name == "list":
            online = srv.current_online()
            names = ", ".join(srv.player_names())
            return f"There are {online} of a max of {srv.fleet.spec.max_players} players online: {names}", False
        if name == "save-all":
            return "Saved the game", False
        if name == "stop":
            return "Stopping the server", True
        return "Unknown command", False


class QueryProtocol(asyncio.DatagramProtocol):
    """GameSpy4 Query: challenge handshake, then basic or full stat with a valid token."""

    def __init__(self, server: SimServer) -> None:
        self.server = server
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)  # 3.11's selector transport lacks the ABC

    def error_received(self, exc: Exception) -> None:
        log.debug("query socket error on %s: %s", self.server.host, exc)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        srv = self.server
        if "hang" in srv.faults or len(data) > 64:
            return
        try:
            req = p.parse_query_request(data)
        except p.ProtocolError:
            return  # vanilla silently drops junk
        host, port = str(addr[0]), int(addr[1])
        bucket = int(time.time() // _QUERY_BUCKET_S)
        if req.type == 9:
            token = p.challenge_token(srv.fleet.secret, host, port, bucket)
            self._reply(p.encode_challenge(req.session_id, token), addr)
            return
        valid = {p.challenge_token(srv.fleet.secret, host, port, b) for b in (bucket, bucket - 1)}
        if req.token not in valid:
            return
        spec = srv.fleet.spec
        online = srv.current_online()
        name, _ = srv.version()
        if not req.full:
            reply = p.encode_basic_stat(
                req.session_id,
                motd=spec.motd,
                map_name="world",
                online=online,
                max_players=spec.max_players,
                port=spec.slp_port,
                host=srv.host,
            )
        else:
            reply = p.encode_full_stat(
                req.session_id,
                motd=spec.motd,
                version_name=name,
                map_name="world",
                online=online,
                max_players=spec.max_players,
                port=spec.slp_port,
                host=srv.host,
                players=srv.player_names(),
                plugins="",
            )
            if "malformed" in srv.faults:
                reply = reply[:16]
        self._reply(reply, addr)

    def _reply(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if "oversized" in self.server.faults:
            data = data[:5] + b"x" * (_QUERY_OVERSIZED - 5)  # one near-maximal datagram, no terminator

        def _do() -> None:
            if self.transport is not None and not self.transport.is_closing():
                self.transport.sendto(data, addr)

        trickle = self.server.faults.get("trickle")
        if trickle:  # UDP has no byte stream: empty datagrams, one per interval, then the reply
            interval = float(trickle["interval_s"])
            self._empty_then(addr, int(min(_QUERY_TRICKLE_DATAGRAMS, TRICKLE_MAX_S / interval)), interval, _do)
            return
        self.server.send(_do)

    def _empty_then(self, addr: tuple[str | Any, int], left: int, interval: float, then: Callable[[], None]) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        if left <= 0:
            then()
            return
        self.transport.sendto(b"", addr)
        asyncio.get_running_loop().call_later(interval, self._empty_then, addr, left - 1, interval, then)
