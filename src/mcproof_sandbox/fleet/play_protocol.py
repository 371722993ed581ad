"""Pure server-side codec of the Java Edition login, configuration and play states (protocol 769, 1.21.4).

Why our own: no maintained Python library *serves* the current (1.20.2+) configuration-phase protocol; the
harness's player client (:mod:`mcproof.minecraft.player`) is written independently on purpose, so the two
implementations cross-check each other, and neither imports the other. Packet ids and field layouts are
minecraft-data's ``data/pc/1.21.4/protocol.json`` (the copy flying-squid installs:
``~/.cache/mcproof/thirdparty/flying-squid/node_modules/minecraft-data/minecraft-data/data/pc/1.21.4/protocol.json``).
Only the packets a sandbox server needs to hold a session open are here. No I/O: tested with bytes.

Framing (after Set Compression): ``VarInt packet_length, VarInt data_length (0 = not compressed), data``;
``data`` is zlib when ``data_length`` > 0. Serverbound bounds are vanilla's: a frame of at most 2^21 - 1 bytes
(3-byte length VarInt) and at most 2^23 bytes once decompressed.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from dataclasses import dataclass

from mcproof_sandbox.fleet.protocol import Incomplete, ProtocolError, decode_varint, encode_string, encode_varint

__all__ = [
    "MAX_DECOMPRESSED",
    "MAX_FRAME",
    "CfgIn",
    "CfgOut",
    "LoginIn",
    "LoginOut",
    "LoginStart",
    "PlayIn",
    "PlayOut",
    "chunk_batch_finished",
    "chunk_batch_start",
    "config_disconnect",
    "encode_packet",
    "finish_configuration",
    "game_event",
    "keep_alive",
    "login_disconnect",
    "login_success",
    "nbt_text",
    "offline_uuid",
    "parse_login_start",
    "play_disconnect",
    "play_login",
    "read_i64",
    "read_packet",
    "read_varint_body",
    "select_known_packs",
    "set_compression",
    "sync_position",
    "update_time",
]

MAX_FRAME = (1 << 21) - 1  # vanilla: the frame length is a VarInt of at most 3 bytes
MAX_DECOMPRESSED = 1 << 23  # vanilla's ceiling on a decompressed serverbound packet (8 MiB)
MAX_NAME = 16  # vanilla player names are 1..16 characters


class LoginOut:
    """Clientbound login-state packet ids (protocol.json ``login.toClient``)."""

    DISCONNECT = 0x00
    SUCCESS = 0x02
    COMPRESS = 0x03


class LoginIn:
    """Serverbound login-state packet ids (``login.toServer``)."""

    LOGIN_START = 0x00
    ENCRYPTION_RESPONSE = 0x01
    PLUGIN_RESPONSE = 0x02
    ACKNOWLEDGED = 0x03
    COOKIE_RESPONSE = 0x04


class CfgOut:
    """Clientbound configuration-state packet ids (``configuration.toClient``)."""

    DISCONNECT = 0x02
    FINISH = 0x03
    KEEP_ALIVE = 0x04
    SELECT_KNOWN_PACKS = 0x0E


class CfgIn:
    """Serverbound configuration-state packet ids (``configuration.toServer``)."""

    CLIENT_INFORMATION = 0x00  # "settings"
    COOKIE_RESPONSE = 0x01
    CUSTOM_PAYLOAD = 0x02
    FINISH = 0x03
    KEEP_ALIVE = 0x04
    PONG = 0x05
    RESOURCE_PACK = 0x06
    SELECT_KNOWN_PACKS = 0x07


class PlayOut:
    """Clientbound play-state packet ids (``play.toClient``)."""

    CHUNK_BATCH_FINISHED = 0x0C
    CHUNK_BATCH_START = 0x0D
    DISCONNECT = 0x1D  # "kick_disconnect"
    GAME_EVENT = 0x23  # "game_state_change"
    KEEP_ALIVE = 0x27
    LOGIN = 0x2C
    SYNC_POSITION = 0x42  # "position"
    UPDATE_TIME = 0x6B


class PlayIn:
    """Serverbound play-state packet ids (``play.toServer``)."""

    CONFIRM_TELEPORT = 0x00
    CHUNK_BATCH_RECEIVED = 0x09
    KEEP_ALIVE = 0x1A
    PLAYER_LOADED = 0x2A


# --- framing ------------------------------------------------------------------------------------------


def read_packet(buf: bytes | bytearray, compressed: bool) -> tuple[int, bytes, int]:
    """Read one serverbound packet; return ``(packet_id, body, consumed)``.

    ``compressed``: Set Compression was sent (any threshold), so every frame carries a data-length VarInt.

    >>> read_packet(b"\\x03\\x1a\\x00\\x07", compressed=False)
    (26, b'\\x00\\x07', 4)
    """
    length, start = decode_varint(buf, 0, max_bytes=3)
    if length <= 0 or length > MAX_FRAME:
        raise ProtocolError(f"packet length {length} outside 1..{MAX_FRAME}")
    end = start + length
    if end > len(buf):
        raise Incomplete
    frame = bytes(buf[start:end])
    if compressed:
        try:
            data_len, pos = decode_varint(frame, 0)
        except Incomplete:
            raise ProtocolError("truncated data length") from None
        if data_len == 0:
            frame = frame[pos:]
        else:
            if data_len < 0 or data_len > MAX_DECOMPRESSED:
                raise ProtocolError(f"decompressed length {data_len} outside 1..{MAX_DECOMPRESSED}")
            inflater = zlib.decompressobj()
            try:
                data = inflater.decompress(frame[pos:], data_len)
            except zlib.error as exc:
                raise ProtocolError(f"bad zlib data: {exc}") from None
            if len(data) != data_len or inflater.unconsumed_tail:
                raise ProtocolError(f"decompressed to {len(data)}+ bytes, header said {data_len}")
            frame = data
    if not frame:
        raise ProtocolError("empty packet")
    try:
        packet_id, pos = decode_varint(frame, 0)
    except Incomplete:
        raise ProtocolError("truncated packet id") from None
    return packet_id, frame[pos:], end


def encode_packet(packet_id: int, body: bytes, threshold: int | None) -> bytes:
    """Frame a clientbound packet; ``threshold`` None = compression not negotiated (-1 in vanilla terms).

    >>> encode_packet(0x27, b"", None)
    b"\\x01'"
    >>> encode_packet(0x27, b"", 256)
    b"\\x02\\x00'"
    """
    data = encode_varint(packet_id) + body
    if threshold is None:
        return encode_varint(len(data)) + data
    inner = encode_varint(len(data)) + zlib.compress(data) if len(data) >= threshold else b"\x00" + data
    return encode_varint(len(inner)) + inner


# --- primitive readers --------------------------------------------------------------------------------


def _read_string(body: bytes, pos: int, max_chars: int) -> tuple[str, int]:
    try:
        length, pos = decode_varint(body, pos, max_bytes=3)
    except Incomplete:
        raise ProtocolError("truncated string length") from None
    if length < 0 or length > max_chars * 3 or pos + length > len(body):
        raise ProtocolError(f"bad string length {length}")
    try:
        text = body[pos : pos + length].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("string is not UTF-8") from None
    if len(text) > max_chars:
        raise ProtocolError(f"string longer than {max_chars} characters")
    return text, pos + length


def read_i64(body: bytes) -> int:
    """A body that is exactly one big-endian int64 (keep-alive ids)."""
    if len(body) != 8:
        raise ProtocolError(f"expected 8 bytes, got {len(body)}")
    return int(struct.unpack(">q", body)[0])


def read_varint_body(body: bytes) -> int:
    """A body that is exactly one VarInt (Confirm Teleportation)."""
    try:
        value, pos = decode_varint(body, 0)
    except Incomplete:
        raise ProtocolError("truncated VarInt") from None
    if pos != len(body):
        raise ProtocolError("trailing bytes after VarInt")
    return value


@dataclass(frozen=True)
class LoginStart:
    """Login Start (login 0x00): ``username`` (string, 16), ``playerUUID`` (UUID)."""

    name: str
    uuid: bytes


def parse_login_start(body: bytes) -> LoginStart:
    """Parse Login Start; vanilla's name rules: 1..16 characters, ASCII 33..126.

    >>> parse_login_start(b"\\x05Steve" + bytes(16)).name
    'Steve'
    """
    name, pos = _read_string(body, 0, MAX_NAME)
    if not name or any(not 33 <= ord(c) <= 126 for c in name):
        raise ProtocolError(f"invalid player name {name!r}")
    if len(body) - pos != 16:
        raise ProtocolError(f"login start: expected a 16-byte UUID after the name, got {len(body) - pos} bytes")
    return LoginStart(name, body[pos:])


def offline_uuid(name: str) -> bytes:
    """The UUID an offline-mode server gives ``name``: version 3 of ``OfflinePlayer:<name>`` (vanilla's
    ``UUIDUtil.createOfflinePlayerUUID``).

    >>> offline_uuid("Notch").hex()
    'b50ad385829d3141a2167e7d7539ba7f'
    """
    digest = bytearray(hashlib.md5(f"OfflinePlayer:{name}".encode(), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return bytes(digest)


# --- text -----------------------------------------------------------------------------------------------


def _nbt_string(text: str) -> bytes:
    data = text.encode("utf-8")  # modified UTF-8 equals UTF-8 for text without NUL or astral characters
    if len(data) > 0xFFFF:
        raise ValueError("NBT string longer than 65535 bytes")
    return struct.pack(">H", len(data)) + data


def nbt_text(text: str) -> bytes:
    """A text component ``{"text": text}`` as network NBT (an unnamed root compound, since 1.20.2).

    >>> nbt_text("hi")
    b'\\n\\x08\\x00\\x04text\\x00\\x02hi\\x00'
    """
    return b"\x0a" + b"\x08" + _nbt_string("text") + _nbt_string(text.replace("\0", "")) + b"\x00"


# --- login ----------------------------------------------------------------------------------------------


def login_disconnect(text: str) -> tuple[int, bytes]:
    """Login Disconnect: the reason is a JSON text component (a string field, unlike later states)."""
    return LoginOut.DISCONNECT, encode_string(json.dumps({"text": text}))


def set_compression(threshold: int) -> tuple[int, bytes]:
    return LoginOut.COMPRESS, encode_varint(threshold)


def login_success(player_uuid: bytes, name: str) -> tuple[int, bytes]:
    """Login Success: uuid, username, properties (none: offline mode has no skin signature)."""
    return LoginOut.SUCCESS, player_uuid + encode_string(name) + encode_varint(0)


# --- configuration ------------------------------------------------------------------------------------


def select_known_packs(packs: list[tuple[str, str, str]]) -> tuple[int, bytes]:
    """Select Known Packs: ``[(namespace, id, version)]``; vanilla offers ``minecraft:core`` at its version."""
    body = encode_varint(len(packs)) + b"".join(
        encode_string(a) + encode_string(b) + encode_string(c) for a, b, c in packs
    )
    return CfgOut.SELECT_KNOWN_PACKS, body


def finish_configuration() -> tuple[int, bytes]:
    return CfgOut.FINISH, b""


def config_disconnect(text: str) -> tuple[int, bytes]:
    return CfgOut.DISCONNECT, nbt_text(text)


def keep_alive(packet_id: int, challenge: int) -> tuple[int, bytes]:
    """Keep Alive (``CfgOut.KEEP_ALIVE`` or ``PlayOut.KEEP_ALIVE``): one int64 the client echoes."""
    return packet_id, struct.pack(">q", challenge)


# --- play -----------------------------------------------------------------------------------------------


def play_login(
    *,
    entity_id: int,
    max_players: int,
    view_distance: int = 10,
    simulation_distance: int = 10,
    hashed_seed: int = 0,
    gamemode: int = 0,
) -> tuple[int, bytes]:
    """Login ("join game", play 0x2C), with a SpawnInfo for the overworld (dimension type id 0)."""
    body = (
        struct.pack(">i?", entity_id, False)
        + encode_varint(1)
        + encode_string("minecraft:overworld")
        + encode_varint(max_players)
        + encode_varint(view_distance)
        + encode_varint(simulation_distance)
        + struct.pack(">???", False, True, False)  # reducedDebugInfo, enableRespawnScreen, doLimitedCrafting
        # SpawnInfo: dimension, name, hashedSeed, gamemode, previousGamemode, isDebug, isFlat, death (absent),
        # portalCooldown, seaLevel
        + encode_varint(0)
        + encode_string("minecraft:overworld")
        + struct.pack(">qbB???", hashed_seed, gamemode, 0xFF, False, False, False)
        + encode_varint(0)
        + encode_varint(63)
        + b"\x00"  # enforcesSecureChat
    )
    return PlayOut.LOGIN, body


def sync_position(
    teleport_id: int, x: float, y: float, z: float, yaw: float = 0.0, pitch: float = 0.0
) -> tuple[int, bytes]:
    """Synchronize Player Position (play 0x42): absolute position, zero velocity, no relative flags."""
    body = encode_varint(teleport_id) + struct.pack(">ddddddffI", x, y, z, 0.0, 0.0, 0.0, yaw, pitch, 0)
    return PlayOut.SYNC_POSITION, body


def chunk_batch_start() -> tuple[int, bytes]:
    return PlayOut.CHUNK_BATCH_START, b""


def chunk_batch_finished(batch_size: int) -> tuple[int, bytes]:
    return PlayOut.CHUNK_BATCH_FINISHED, encode_varint(batch_size)


def game_event(event: int, value: float) -> tuple[int, bytes]:
    """Game Event (play 0x23); event 13 = "start waiting for level chunks" ends the client's loading screen."""
    return PlayOut.GAME_EVENT, struct.pack(">Bf", event, value)


def update_time(world_age: int, time_of_day: int, advancing: bool = True) -> tuple[int, bytes]:
    """Update Time (play 0x6B): world age, time of day, whether the day time advances."""
    return PlayOut.UPDATE_TIME, struct.pack(">qq?", world_age, time_of_day, advancing)


def play_disconnect(text: str) -> tuple[int, bytes]:
    """Disconnect (play 0x1D, "kick_disconnect"): the reason is an NBT text component."""
    return PlayOut.DISCONNECT, nbt_text(text)
