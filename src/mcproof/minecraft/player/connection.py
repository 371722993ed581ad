"""The player client's protocol state machine, apart from any I/O (sans-IO).

`PlayerConnection` turns received bytes into events and queues the bytes to answer with; a driver
(:mod:`.aio` for asyncio, :mod:`.blocking` for blocking/gevent sockets) moves the bytes and keeps the
deadlines. States: handshake -> login -> configuration -> play (and back to configuration when the
server asks for a re-configuration), then closed.

What it answers, as a vanilla client does: keep-alives (configuration and play), pings (pong),
Select Known Packs (echoes the packs the server offered: a vanilla client of the same version knows
them all, and it saves the server sending the registry contents), Finish Configuration (ack), Login
Plugin Request ("not understood"), Cookie Request (no cookie), Code of Conduct (accept; 26.1+),
Synchronize Player Position (Confirm Teleportation, then Player Loaded once), Chunk Batch Finished
(Chunk Batch Received) and Start Configuration (ack). An Encryption Request means an online-mode
server: reported as `OnlineMode`, never answered.

A clean leave: there is no serverbound disconnect packet in the Java protocol; a vanilla client
leaves by closing the connection. `disconnect_bytes()` returns what is still queued (to flush before
closing) and marks the connection closed; the driver then closes the socket.

>>> conn = PlayerConnection("mcproof_1", "127.0.0.1", 25565, 769)
>>> conn.initial_bytes()[:4].hex()  # frame length, handshake id, protocol 769 as a VarInt
'10008106'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcproof.minecraft.player import codec
from mcproof.minecraft.player.codec import CodecError, Reader
from mcproof.minecraft.player.versions import packet_ids

__all__ = [
    "CHUNKS_PER_TICK",
    "ConfigurationEntered",
    "Disconnected",
    "Event",
    "JoinedGame",
    "OnlineMode",
    "PlayEntered",
    "PlayerConnection",
    "ProtocolViolation",
    "WorldTime",
]

CHUNKS_PER_TICK = 7.0  # what Chunk Batch Received asks for; a fixed figure (we never render chunks)
_NAME = re.compile(r"[A-Za-z0-9_]{1,16}")


@dataclass(frozen=True)
class ConfigurationEntered:
    """Login succeeded (or the server asked for a re-configuration): the configuration phase began."""

    reconfiguration: bool = False


@dataclass(frozen=True)
class PlayEntered:
    """Configuration finished (acknowledged): the play phase began; Join Game comes next."""


@dataclass(frozen=True)
class JoinedGame:
    """The server's Join Game ("login") packet: the player is in the world."""

    entity_id: int


@dataclass(frozen=True)
class WorldTime:
    """An Update Time / Set Time packet; `world_age` is its first field, game ticks since world creation."""

    world_age: int
    day_time: int | None = None


@dataclass(frozen=True)
class Disconnected:
    """The server sent a disconnect packet; `reason` is its text component as plain text."""

    phase: str
    reason: str


@dataclass(frozen=True)
class OnlineMode:
    """The server sent an Encryption Request: it authenticates players (online mode)."""

    server_id: str
    should_authenticate: bool


@dataclass(frozen=True)
class ProtocolViolation:
    """The server sent bytes that are not the protocol; the connection is unusable."""

    detail: str


Event = ConfigurationEntered | PlayEntered | JoinedGame | WorldTime | Disconnected | OnlineMode | ProtocolViolation


class PlayerConnection:
    """One offline-mode player's protocol state; feed it bytes, send what it queues.

    Raises `UnsupportedVersion` (from the constructor) for a protocol without a packet table and
    ValueError for a name a vanilla server would refuse.
    """

    def __init__(self, name: str, host: str, port: int, protocol: int) -> None:
        if not _NAME.fullmatch(name):
            raise ValueError(f"player name {name!r} is not 1-16 characters of A-Z, a-z, 0-9 and _")
        self.ids = packet_ids(protocol)
        self.name, self.host, self.port, self.protocol = name, host, port, protocol
        self.uuid = codec.offline_uuid(name)
        self.state = "handshake"
        self._decoder = codec.FrameDecoder()
        self._threshold: int | None = None
        self._out = bytearray()
        self._loaded_sent = False
        self.packets_received = 0
        self.keepalives_answered = 0
        self.time_updates = 0
        self.teleports_confirmed = 0

    # -- output ----------------------------------------------------------------------------------

    def _send(self, packet_id: int, body: bytes = b"") -> None:
        self._out += codec.encode_frame(codec.pack_varint(packet_id) + body, self._threshold)

    def initial_bytes(self) -> bytes:
        """Handshake (next state: login) and Login Start; the connection is then in the login state."""
        if self.state != "handshake":
            raise RuntimeError("initial_bytes() was already called")
        self._send(
            self.ids.sb_handshake,
            codec.pack_varint(self.protocol)
            + codec.pack_string(self.host, 255)
            + codec.pack_u16(self.port)
            + codec.pack_varint(2),
        )
        self._send(self.ids.sb_login_start, codec.pack_string(self.name, 16) + codec.pack_uuid(self.uuid))
        self.state = "login"
        return self.bytes_to_send()

    def bytes_to_send(self) -> bytes:
        """Everything queued since the last call (answers to what was received)."""
        out, self._out = bytes(self._out), bytearray()
        return out

    def disconnect_bytes(self) -> bytes:
        """A clean leave: the bytes still queued; the driver sends them and closes the socket (the Java
        protocol has no serverbound disconnect packet)."""
        self.state = "closed"
        return self.bytes_to_send()

    @property
    def closed(self) -> bool:
        return self.state == "closed"

    # -- input -----------------------------------------------------------------------------------

    def receive(self, data: bytes) -> list[Event]:
        """The events in `data` (appended to what was buffered); answers are queued for bytes_to_send()."""
        if self.state == "closed":
            return []
        if self.state == "handshake":
            raise RuntimeError("receive() before initial_bytes()")
        events: list[Event] = []
        self._decoder.feed(data)
        try:
            while self.state != "closed" and (packet := self._decoder.next_packet()) is not None:
                self.packets_received += 1
                reader = Reader(packet)
                packet_id = reader.varint()
                event = self._dispatch(packet_id, reader)
                if event is not None:
                    events.append(event)
                    if isinstance(event, Disconnected | OnlineMode):
                        self.state = "closed"
        except CodecError as err:
            self.state = "closed"
            events.append(ProtocolViolation(str(err)))
        except Exception as err:  # hostile bytes must end as a violation, never a traceback
            self.state = "closed"
            events.append(ProtocolViolation(_one_line(f"unparseable packet ({type(err).__name__}: {err})")))
        return events

    def _dispatch(self, packet_id: int, r: Reader) -> Event | None:
        if self.state == "login":
            return self._login(packet_id, r)
        if self.state == "configuration":
            return self._configuration(packet_id, r)
        return self._play(packet_id, r)

    def _login(self, pid: int, r: Reader) -> Event | None:
        ids = self.ids
        if pid == ids.cb_login_disconnect:
            return Disconnected("login", codec.text_from_json(r.string(262144)))
        if pid == ids.cb_encryption_request:
            server_id = r.string(20)
            r.raw(max(0, _bounded(r.varint(), len(r.data))))  # public key
            r.raw(max(0, _bounded(r.varint(), len(r.data))))  # verify token
            should_authenticate = r.bool() if r.pos < len(r.data) else True
            return OnlineMode(server_id, should_authenticate)
        if pid == ids.cb_set_compression:
            threshold = r.varint()
            self._threshold = threshold if threshold >= 0 else None
            self._decoder.set_compression(threshold)
            return None
        if pid == ids.cb_login_plugin_request:
            message_id = r.varint()
            self._send(ids.sb_login_plugin_response, codec.pack_varint(message_id) + codec.pack_bool(False))
            return None
        if pid == ids.cb_login_cookie_request:
            self._cookie(ids.sb_login_cookie_response, r)
            return None
        if pid == ids.cb_login_success:
            self._send(ids.sb_login_ack)
            self.state = "configuration"
            return ConfigurationEntered()
        raise CodecError(f"unexpected login packet 0x{pid:02x}")

    def _configuration(self, pid: int, r: Reader) -> Event | None:
        ids = self.ids
        if pid == ids.cb_config_keep_alive:
            self._send(ids.sb_config_keep_alive, r.raw(8))
            self.keepalives_answered += 1
        elif pid == ids.cb_config_ping:
            self._send(ids.sb_config_pong, r.raw(4))
        elif pid == ids.cb_config_known_packs:
            count = r.varint()
            if not 0 <= count <= 64:  # vanilla's limit on known packs
                raise CodecError(f"Select Known Packs lists {count} packs (at most 64)")
            packs = b"".join(
                codec.pack_string(r.string()) + codec.pack_string(r.string()) + codec.pack_string(r.string())
                for _ in range(count)
            )
            self._send(ids.sb_config_known_packs, codec.pack_varint(count) + packs)
        elif pid == ids.cb_config_cookie_request:
            self._cookie(ids.sb_config_cookie_response, r)
        elif pid == ids.cb_config_finish:
            self._send(ids.sb_config_finish_ack)
            self.state = "play"
            return PlayEntered()
        elif pid == ids.cb_config_disconnect:
            return Disconnected("configuration", codec.text_from_nbt(r.rest()))
        elif ids.cb_config_code_of_conduct is not None and pid == ids.cb_config_code_of_conduct:
            assert ids.sb_config_accept_code_of_conduct is not None
            self._send(ids.sb_config_accept_code_of_conduct)
        return None  # registry data, tags, features, plugin messages...: nothing to answer

    def _play(self, pid: int, r: Reader) -> Event | None:
        ids = self.ids
        if pid == ids.play_cb_keep_alive:
            self._send(ids.play_sb_keep_alive, r.raw(8))
            self.keepalives_answered += 1
        elif pid == ids.play_cb_time:
            self.time_updates += 1
            return self._world_time(r)
        elif pid == ids.play_cb_join:
            return JoinedGame(r.i32())
        elif pid == ids.play_cb_position:
            self._send(ids.play_sb_teleport_confirm, codec.pack_varint(r.varint()))
            self.teleports_confirmed += 1
            if not self._loaded_sent:
                self._send(ids.play_sb_player_loaded)
                self._loaded_sent = True
        elif pid == ids.play_cb_chunk_batch_finished:
            self._send(ids.play_sb_chunk_batch_received, codec.pack_f32(CHUNKS_PER_TICK))
        elif pid == ids.play_cb_ping:
            self._send(ids.play_sb_pong, r.raw(4))
        elif pid == ids.play_cb_cookie_request:
            self._cookie(ids.play_sb_cookie_response, r)
        elif pid == ids.play_cb_start_configuration:
            self._send(ids.play_sb_configuration_ack)
            self.state = "configuration"
            return ConfigurationEntered(reconfiguration=True)
        elif pid == ids.play_cb_disconnect:
            return Disconnected("play", codec.text_from_nbt(r.rest()))
        return None

    def _world_time(self, r: Reader) -> WorldTime:
        world_age = r.i64()
        if self.protocol == 769:  # age, time of day, tick day time
            return WorldTime(world_age, r.i64())
        day_time = None  # 26.1+: a list of clock updates (id, total ticks, partial tick, rate)
        if r.varint() > 0:
            r.varint()
            day_time = r.varlong()
        return WorldTime(world_age, day_time)

    def _cookie(self, response_id: int, r: Reader) -> None:
        self._send(response_id, codec.pack_string(r.string(32767)) + codec.pack_bool(False))


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounded(size: int, limit: int) -> int:
    if size < 0 or size > limit:
        raise CodecError(f"field length {size} is outside the packet")
    return size
