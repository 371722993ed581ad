"""A player's session on a simulated server: offline-mode login -> configuration -> play, then ticks.

The connection starts as an :class:`mcproof_sandbox.fleet.handlers.SlpProtocol`; a handshake with next_state 2
(login) or 3 (transfer) hands the rest of the byte stream to a :class:`PlaySession` (the connection keeps its
bookkeeping: budget, faults on writes, read deadline). Wire formats are :mod:`.play_protocol` (protocol 769).

Vanilla behaviour copied: a client whose protocol differs gets a login Disconnect "Outdated client! Please
use <version>" (or "Outdated server! I'm still on <version>" when it is newer); a login beyond ``max_players``
gets "The server is full!"; a second login with the same name kicks the first ("You logged in from another
location"); Set Compression at ``compression_threshold``; in play a keep-alive every ``keepalive_s`` and a
kick ("Timed out") when the previous one is still unanswered at the next; Update Time every 20 ticks. A
clean stop sends Disconnect "Server closed"; a killed server just drops the connection.

Sessions own no timers: the login must finish within the connection's read deadline (``read_timeout_s``),
and in play one timer per shard (:class:`Ticker`) drives every server's keep-alives and time updates.
"""

from __future__ import annotations

import asyncio
import logging
import uuid as uuidlib
from typing import TYPE_CHECKING

from mcproof_sandbox.fleet import play_protocol as pp
from mcproof_sandbox.fleet.protocol import Handshake, Incomplete, ProtocolError

if TYPE_CHECKING:
    from mcproof_sandbox.fleet.handlers import SlpProtocol
    from mcproof_sandbox.fleet.server import Fleet, SimServer

__all__ = ["SERVER_CLOSED", "PlaySession", "Ticker"]

log = logging.getLogger("mcproof_sandbox.fleet.play")

SERVER_CLOSED = "Server closed"  # vanilla's multiplayer.disconnect.server_shutdown
SERVER_FULL = "The server is full!"  # multiplayer.disconnect.server_full
TIMED_OUT = "Timed out"  # disconnect.timeout
DUPLICATE = "You logged in from another location"  # multiplayer.disconnect.duplicate_login
TICK_S = 0.05  # the shard ticker's period: one vanilla tick at 20 TPS
TIME_UPDATE_TICKS = 20  # vanilla sends Update Time every 20 ticks
MAX_WRITE_BUFFER = 4 << 20  # a client that stops reading is dropped before its backlog grows past this
_MAX_PLAY_IN = 0x3D  # play.toServer ids run 0x00..0x3D in protocol.json; anything else is garbage

LOGIN, CONFIG, PLAY, CLOSED = range(4)


class PlaySession:
    """One connection past the handshake; its state machine, fed with bytes by its SlpProtocol."""

    __slots__ = (
        "compressed",
        "conn",
        "entity_id",
        "ka_challenge",
        "ka_pending",
        "name",
        "server",
        "state",
        "teleport_confirmed",
        "threshold",
        "uuid",
    )

    def __init__(self, conn: SlpProtocol, server: SimServer, handshake: Handshake) -> None:
        self.conn = conn
        self.server = server
        self.state = LOGIN
        self.threshold: int | None = None  # set after Set Compression
        self.compressed = False
        self.name = ""
        self.uuid = b""
        self.entity_id = 0
        self.ka_challenge = 0
        self.ka_pending = False
        self.teleport_confirmed = False
        name, proto = server.version()
        if handshake.protocol != proto:
            text = (
                f"Outdated client! Please use {name}"
                if handshake.protocol < proto
                else (f"Outdated server! I'm still on {name}")
            )
            self.kick(text)

    @property
    def uuid_str(self) -> str:
        return str(uuidlib.UUID(bytes=self.uuid))

    # --- output ---------------------------------------------------------------------------------------

    def send(self, packet: tuple[int, bytes], close: bool = False) -> None:
        transport = self.conn.transport
        if (self.state == CLOSED and not close) or transport is None or transport.is_closing():
            return
        if transport.get_write_buffer_size() > MAX_WRITE_BUFFER:
            log.debug("dropping %s on %s: it does not read", self.name or "a client", self.server.host)
            self.lost()
            self.conn.abort()
            return
        self.conn.write(pp.encode_packet(packet[0], packet[1], self.threshold), close=close)

    def kick(self, text: str) -> None:
        """Disconnect with the packet of the current state, then close (vanilla: flush, then close)."""
        if self.state == CLOSED:
            return
        if self.state == LOGIN:
            packet = pp.login_disconnect(text)
        elif self.state == CONFIG:
            packet = pp.config_disconnect(text)
        else:
            packet = pp.play_disconnect(text)
        self.lost()
        self.send(packet, close=True)
        self.conn.closed = True  # ignore whatever the client still sends

    def lost(self) -> None:
        """Forget the session (the connection closed, or we closed it)."""
        if self.state == CLOSED:
            return
        self.state = CLOSED
        self.server.forget(self)

    # --- input ----------------------------------------------------------------------------------------

    def feed(self, buf: bytearray) -> None:
        """Consume every complete packet in ``buf`` (raises ProtocolError on garbage)."""
        while buf and self.state != CLOSED and not self.conn.closed:
            try:
                packet_id, body, used = pp.read_packet(buf, self.compressed)
            except Incomplete:
                return
            del buf[:used]
            if self.state == LOGIN:
                self._login(packet_id, body)
            elif self.state == CONFIG:
                self._config(packet_id, body)
            else:
                self._play(packet_id, body)

    def _login(self, packet_id: int, body: bytes) -> None:
        srv = self.server
        if packet_id == pp.LoginIn.LOGIN_START and not self.name:
            start = pp.parse_login_start(body)
            self.name = start.name
            self.uuid = pp.offline_uuid(start.name)  # offline mode: the name decides, not the client
            old = srv.session_named(start.name)
            if old is not None:
                old.kick(DUPLICATE)
            if srv.session_count() >= srv.fleet.spec.max_players:
                self.kick(SERVER_FULL)
                return
            srv.admit(self)
            threshold = srv.fleet.spec.compression_threshold
            if threshold >= 0:
                self.send(pp.set_compression(threshold))
                self.threshold = threshold
                self.compressed = True
            self.send(pp.login_success(self.uuid, self.name))
        elif packet_id == pp.LoginIn.ACKNOWLEDGED and self.name and not body:
            self.state = CONFIG
            self.send(pp.select_known_packs([("minecraft", "core", srv.fleet.spec.version_name)]))
        elif packet_id in (pp.LoginIn.PLUGIN_RESPONSE, pp.LoginIn.COOKIE_RESPONSE):
            pass  # we never ask; vanilla would ignore unsolicited answers too
        else:
            raise ProtocolError(f"login: unexpected packet 0x{packet_id:02x} ({len(body)} bytes)")

    def _config(self, packet_id: int, body: bytes) -> None:
        if packet_id == pp.CfgIn.SELECT_KNOWN_PACKS:
            self.send(pp.finish_configuration())  # no registry data: a sandbox world has nothing to sync
        elif packet_id == pp.CfgIn.FINISH and not body:
            self.state = PLAY
            self.server.enter_play(self)
        elif packet_id in (
            pp.CfgIn.CLIENT_INFORMATION,
            pp.CfgIn.CUSTOM_PAYLOAD,
            pp.CfgIn.KEEP_ALIVE,
            pp.CfgIn.PONG,
            pp.CfgIn.RESOURCE_PACK,
            pp.CfgIn.COOKIE_RESPONSE,
        ):
            pass
        else:
            raise ProtocolError(f"configuration: unexpected packet 0x{packet_id:02x}")

    def _play(self, packet_id: int, body: bytes) -> None:
        if packet_id == pp.PlayIn.KEEP_ALIVE:
            if self.ka_pending and pp.read_i64(body) == self.ka_challenge:
                self.ka_pending = False
            else:  # vanilla: a keep-alive that answers nothing we sent is a timeout
                self.kick(TIMED_OUT)
        elif packet_id == pp.PlayIn.CONFIRM_TELEPORT:
            self.teleport_confirmed = pp.read_varint_body(body) == 1 or self.teleport_confirmed
        elif not 0 <= packet_id <= _MAX_PLAY_IN:
            raise ProtocolError(f"play: unknown packet id 0x{packet_id:02x}")
        # everything else (chunk batch received, client information, movement, player loaded, ...) is accepted

    # --- play (called by the server) ------------------------------------------------------------------

    def join(self, age: int) -> None:
        """The packets a vanilla server sends as a player enters the world (the subset a client needs)."""
        spec = self.server.fleet.spec
        self.send(pp.play_login(entity_id=self.entity_id, max_players=spec.max_players))
        self.send(pp.sync_position(1, 0.5, 64.0, 0.5))
        self.send(pp.game_event(13, 0.0))  # start waiting for level chunks
        self.send(pp.chunk_batch_start())
        self.send(pp.chunk_batch_finished(0))  # an empty batch; Chunk Batch Received is welcome, not required
        self.send(pp.update_time(age, age % 24000))


class Ticker:
    """The one timer of a shard: every TICK_S, each server with players sends what is due."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.active: dict[SimServer, None] = {}  # servers with at least one player in play
        self.handle: asyncio.TimerHandle | None = None

    def add(self, server: SimServer) -> None:
        self.active[server] = None
        if self.handle is None:
            self.handle = asyncio.get_running_loop().call_later(TICK_S, self._tick)

    def discard(self, server: SimServer) -> None:
        self.active.pop(server, None)

    def _tick(self) -> None:
        self.handle = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        for server in list(self.active):
            try:
                server.tick(now)
            except Exception:  # a bug costs that server's tick, never the shard
                log.exception("tick failed on %s", server.host)
        if self.active:
            self.handle = loop.call_later(TICK_S, self._tick)
