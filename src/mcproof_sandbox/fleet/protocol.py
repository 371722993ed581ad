"""Pure encode/decode of the three Minecraft Java server protocols the sandbox speaks.

Why our own: mcstatus (and every other Python library we know) implements the *client* side
only; no maintained Python library serves Server List Ping, Query or RCON. This module is the
server side, without I/O, so it is tested with recorded bytes (the mcstatus ``_protocol`` pattern).

Decoders take a buffer and return ``(value, bytes_consumed)``, raise :class:`Incomplete` when more
bytes are needed and :class:`ProtocolError` when the bytes can never become valid.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import struct
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_SLP_FRAME",
    "RCON_AUTH",
    "RCON_AUTH_RESPONSE",
    "RCON_COMMAND",
    "RCON_RESPONSE",
    "Handshake",
    "Incomplete",
    "ProtocolError",
    "QueryRequest",
    "RconPacket",
    "challenge_token",
    "decode_rcon",
    "decode_varint",
    "encode_basic_stat",
    "encode_challenge",
    "encode_frame",
    "encode_full_stat",
    "encode_legacy_kick",
    "encode_pong",
    "encode_rcon",
    "encode_status_response",
    "encode_string",
    "encode_varint",
    "parse_handshake",
    "parse_query_request",
    "read_frame",
    "status_document",
]

MAX_SLP_FRAME = 1024  # serverbound status-state packets are tiny; vanilla caps the handshake host at 255 chars
RCON_AUTH = 3
RCON_COMMAND = 2
RCON_AUTH_RESPONSE = 2
RCON_RESPONSE = 0
RCON_MAX_INCOMING = 1460  # vanilla's limit for a client packet body
RCON_MAX_PAYLOAD_OUT = 4096  # vanilla splits longer responses
_QUERY_MAGIC = b"\xfe\xfd"


class ProtocolError(ValueError):
    """The peer sent bytes that can never form a valid packet; close the connection."""


class Incomplete(Exception):
    """More bytes are needed before the value can be decoded."""


# --- VarInt / framing (Server List Ping) -------------------------------------------------------------


def encode_varint(value: int) -> bytes:
    """Encode a signed 32-bit int as a VarInt.

    >>> encode_varint(300)
    b'\\xac\\x02'
    """
    if not -(2**31) <= value < 2**31:
        raise ValueError(f"VarInt out of 32-bit range: {value}")
    remaining = value & 0xFFFFFFFF
    out = bytearray()
    while True:
        if remaining & ~0x7F == 0:
            out.append(remaining)
            return bytes(out)
        out.append(remaining & 0x7F | 0x80)
        remaining >>= 7


def decode_varint(buf: bytes | bytearray, offset: int = 0, max_bytes: int = 5) -> tuple[int, int]:
    """Decode a VarInt at ``offset``; return ``(value, new_offset)``.

    >>> decode_varint(b"\\xff\\xff\\xff\\xff\\x0f")
    (-1, 5)
    """
    result = 0
    for i in range(max_bytes):
        if offset + i >= len(buf):
            raise Incomplete
        byte = buf[offset + i]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if i == 4 and byte > 0x0F:
                raise ProtocolError("VarInt exceeds 32 bits")
            if result >= 2**31:
                result -= 2**32
            return result, offset + i + 1
    raise ProtocolError(f"VarInt longer than {max_bytes} bytes")


def read_frame(buf: bytes | bytearray, max_len: int = MAX_SLP_FRAME) -> tuple[bytes, int]:
    """Read one length-prefixed packet; return ``(payload, consumed)``."""
    length, start = decode_varint(buf, 0, max_bytes=3)
    if length < 0 or length > max_len:
        raise ProtocolError(f"packet length {length} outside 0..{max_len}")
    end = start + length
    if end > len(buf):
        raise Incomplete
    return bytes(buf[start:end]), end


def encode_frame(payload: bytes) -> bytes:
    """Prefix ``payload`` with its VarInt length."""
    return encode_varint(len(payload)) + payload


def encode_string(text: str) -> bytes:
    """VarInt-length-prefixed UTF-8 string."""
    data = text.encode("utf-8")
    return encode_varint(len(data)) + data


@dataclass(frozen=True)
class Handshake:
    """The first packet of a modern connection (id 0x00)."""

    protocol: int
    host: str
    port: int
    next_state: int

    def as_dict(self) -> dict[str, Any]:
        return {"protocol": self.protocol, "host": self.host, "port": self.port, "next_state": self.next_state}


def parse_handshake(payload: bytes) -> Handshake:
    """Parse a handshake packet body (packet id included)."""
    try:
        packet_id, pos = decode_varint(payload)
        if packet_id != 0:
            raise ProtocolError(f"expected handshake id 0, got {packet_id}")
        protocol, pos = decode_varint(payload, pos)
        host_len, pos = decode_varint(payload, pos, max_bytes=3)
        if host_len < 0 or host_len > 255 * 4 or pos + host_len + 3 > len(payload):
            raise ProtocolError("bad handshake host length")
        host = payload[pos : pos + host_len].decode("utf-8")
        pos += host_len
        (port,) = struct.unpack_from(">H", payload, pos)
        next_state, pos = decode_varint(payload, pos + 2)
    except (Incomplete, UnicodeDecodeError, struct.error) as exc:
        raise ProtocolError(f"truncated or invalid handshake: {exc!r}") from None
    if pos != len(payload):
        raise ProtocolError("trailing bytes after handshake")
    return Handshake(protocol, host, port, next_state)


def status_document(
    *, version_name: str, protocol: int, motd: str, online: int, max_players: int, sample: list[tuple[str, str]]
) -> dict[str, Any]:
    """The status JSON a vanilla server sends; ``sample`` is ``[(name, uuid), ...]``."""
    return {
        "version": {"name": version_name, "protocol": protocol},
        "players": {"max": max_players, "online": online, "sample": [{"name": n, "id": i} for n, i in sample]},
        "description": {"text": motd},
        "enforcesSecureChat": False,
    }


def encode_status_response(document: dict[str, Any] | str) -> bytes:
    """Status response packet (id 0x00 + JSON string), framed."""
    text = document if isinstance(document, str) else json.dumps(document, separators=(",", ":"))
    return encode_frame(b"\x00" + encode_string(text))


def encode_pong(payload: bytes) -> bytes:
    """Pong packet (id 0x01) echoing the client's 8-byte payload, framed."""
    if len(payload) != 8:
        raise ProtocolError(f"ping payload must be 8 bytes, got {len(payload)}")
    return encode_frame(b"\x01" + payload)


def encode_legacy_kick(*, protocol: int, version_name: str, motd: str, online: int, max_players: int) -> bytes:
    """Legacy (pre-1.7) ping answer: 0xFF, UTF-16 length, ``§1\\0proto\\0version\\0motd\\0online\\0max``."""
    text = "\0".join(["§1", str(protocol), version_name, motd, str(online), str(max_players)])
    return b"\xff" + struct.pack(">H", len(text)) + text.encode("utf-16-be")


# --- RCON (Source RCON framing, little-endian) ----------------------------------------------------------


@dataclass(frozen=True)
class RconPacket:
    """One RCON packet."""

    request_id: int
    type: int
    payload: str

    def as_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "type": self.type, "payload": self.payload}


def encode_rcon(request_id: int, type_: int, payload: str) -> bytes:
    """Encode an RCON packet: int32 length, int32 id, int32 type, payload, two NULs."""
    body = struct.pack("<ii", request_id, type_) + payload.encode("utf-8") + b"\x00\x00"
    return struct.pack("<i", len(body)) + body


def decode_rcon(buf: bytes | bytearray, max_len: int = RCON_MAX_INCOMING) -> tuple[RconPacket, int]:
    """Decode one RCON packet from ``buf``; return ``(packet, consumed)``."""
    if len(buf) < 4:
        raise Incomplete
    (length,) = struct.unpack_from("<i", buf, 0)
    if length < 10 or length > max_len:
        raise ProtocolError(f"RCON length {length} outside 10..{max_len}")
    if len(buf) < 4 + length:
        raise Incomplete
    request_id, type_ = struct.unpack_from("<ii", buf, 4)
    body = bytes(buf[12 : 4 + length])
    if not body.endswith(b"\x00\x00"):
        raise ProtocolError("RCON packet not terminated by two NUL bytes")
    try:
        payload = body[:-2].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("RCON payload is not UTF-8") from None
    return RconPacket(request_id, type_, payload), 4 + length


# --- Query (UDP, GameSpy4-style) -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryRequest:
    """A parsed client datagram: ``type`` 9 = handshake, 0 = stat (``full`` when padded)."""

    type: int
    session_id: int
    token: int | None
    full: bool

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "session_id": self.session_id, "token": self.token, "full": self.full}


def parse_query_request(data: bytes) -> QueryRequest:
    """Parse a Query datagram (handshake: 7 bytes, basic stat: 11, full stat: 15)."""
    if len(data) < 7 or data[:2] != _QUERY_MAGIC:
        raise ProtocolError("not a query packet")
    type_ = data[2]
    (session_id,) = struct.unpack_from(">I", data, 3)
    if type_ == 9 and len(data) == 7:
        return QueryRequest(9, session_id, None, False)
    if type_ == 0 and len(data) in (11, 15):
        (token,) = struct.unpack_from(">i", data, 7)
        return QueryRequest(0, session_id, token, len(data) == 15)
    raise ProtocolError(f"unexpected query type {type_} with {len(data)} bytes")


def challenge_token(secret: bytes, client: str, port: int, bucket: int) -> int:
    """Stateless challenge token for one client and time bucket (a non-negative int32)."""
    digest = hmac.new(secret, f"{client}|{port}|{bucket}".encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def encode_challenge(session_id: int, token: int) -> bytes:
    """Handshake reply: type 9, session id, token as NUL-terminated decimal ASCII."""
    return b"\x09" + struct.pack(">I", session_id) + str(token).encode("ascii") + b"\x00"


def _z(text: str) -> bytes:
    return text.encode("latin-1", "replace") + b"\x00"


def encode_basic_stat(
    session_id: int, *, motd: str, map_name: str, online: int, max_players: int, port: int, host: str
) -> bytes:
    """Basic stat reply (type 0)."""
    return (
        b"\x00"
        + struct.pack(">I", session_id)
        + _z(motd)
        + _z("SMP")
        + _z(map_name)
        + _z(str(online))
        + _z(str(max_players))
        + struct.pack("<H", port)
        + _z(host)
    )


def encode_full_stat(
    session_id: int,
    *,
    motd: str,
    version_name: str,
    map_name: str,
    online: int,
    max_players: int,
    port: int,
    host: str,
    players: list[str],
    plugins: str = "",
) -> bytes:
    """Full stat reply (type 0): padding, key/value section, then the player section."""
    pairs = [
        ("hostname", motd),
        ("gametype", "SMP"),
        ("game_id", "MINECRAFT"),
        ("version", version_name),
        ("plugins", plugins),
        ("map", map_name),
        ("numplayers", str(online)),
        ("maxplayers", str(max_players)),
        ("hostport", str(port)),
        ("hostip", host),
    ]
    out = bytearray(b"\x00" + struct.pack(">I", session_id) + b"splitnum\x00\x80\x00")
    for key, value in pairs:
        out += _z(key) + _z(value)
    out += b"\x00\x01player_\x00\x00"
    for name in players:
        out += _z(name)
    out += b"\x00"
    return bytes(out)
