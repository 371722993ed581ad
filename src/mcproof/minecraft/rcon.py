"""Source RCON client: codec (pure, tested with recorded bytes), a bounded login probe and a bounded command.

Why our own: mcstatus has no RCON client, and the maintained ones cannot face a hostile server within a
deadline: ``rcon`` 2.4.9 (``rcon.source.Client``) has only a per-socket-operation timeout, its login loops
``while read().type != AUTH_RESPONSE`` and its fragment reassembly loops until the id changes, both without
a bound, and it reads any declared packet length; ``aio-mc-rcon`` likewise bounds single reads only. The
security suite's RCON audit needs one deadline over the whole exchange, a size cap and a named outcome
per hostile reply, so the codec is ours (pure, recorded bytes) and the I/O is bounded. Wire format (little-endian): int32 length (of what follows),
int32 request id, int32 type (3 login, 2 command, 0 response; the login reply is type 2), payload
(ASCII/UTF-8) + two NUL bytes. A refused login answers request id -1.

>>> encode_packet(7, LOGIN, "pw").hex()
'0c000000070000000300000070770000'
>>> decode_packet(encode_packet(7, AUTH_RESPONSE, ""))[0]
RconPacket(request_id=7, type=2, payload='')
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.errors import RconError

__all__ = [
    "AUTH_RESPONSE",
    "COMMAND",
    "LOGIN",
    "RESPONSE",
    "RconError",
    "RconFrameError",
    "RconIncomplete",
    "RconLoginResult",
    "RconPacket",
    "decode_packet",
    "encode_packet",
    "rcon_command",
    "rcon_login",
]

LOGIN = 3
COMMAND = 2
AUTH_RESPONSE = 2
RESPONSE = 0
MAX_PACKET = 4096 + 10  # vanilla splits responses at 4096 payload bytes
_HEADER = struct.Struct("<iii")


class RconIncomplete(Exception):
    """Not enough bytes yet for a whole packet."""


class RconFrameError(ValueError):
    """The bytes are not an RCON packet (bad length, missing terminator)."""


@dataclass(frozen=True)
class RconPacket:
    request_id: int
    type: int
    payload: str


def encode_packet(request_id: int, type_: int, payload: str) -> bytes:
    body = _HEADER.pack(0, request_id, type_)[4:] + payload.encode("utf-8") + b"\x00\x00"
    return struct.pack("<i", len(body)) + body


def decode_packet(buf: bytes | bytearray) -> tuple[RconPacket, int]:
    """One packet from the front of ``buf`` -> (packet, bytes used); RconIncomplete / RconFrameError."""
    if len(buf) < 4:
        raise RconIncomplete
    (length,) = struct.unpack_from("<i", buf, 0)
    if not 10 <= length <= MAX_PACKET:
        raise RconFrameError(f"RCON length {length} outside 10..{MAX_PACKET}")
    if len(buf) < 4 + length:
        raise RconIncomplete
    _, request_id, type_ = _HEADER.unpack_from(buf, 0)
    body = bytes(buf[12 : 4 + length])
    if body[-2:] != b"\x00\x00":
        raise RconFrameError("RCON packet does not end in two NUL bytes")
    return RconPacket(request_id, type_, body[:-2].decode("utf-8", "replace")), 4 + length


@dataclass(frozen=True)
class RconLoginResult:
    """One login attempt. ``outcome``: accepted | refused | unreachable | timeout | malformed | error."""

    address: str
    outcome: str
    detail: str = ""

    @property
    def accepted(self) -> bool:
        return self.outcome == "accepted"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _read_packet(sock: socket.socket, deadline: float, buf: bytearray | None = None) -> RconPacket:
    """One packet; bytes after it stay in ``buf`` for the next call when a buffer is passed."""
    buf = bytearray() if buf is None else buf
    for _ in range(MAX_PACKET + 4):  # bounded: every read gives >= 1 byte, a packet is <= MAX_PACKET + 4
        try:
            packet, used = decode_packet(buf)
            del buf[:used]
            return packet
        except RconIncomplete:
            pass
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        sock.settimeout(remaining)  # every read gets only the time left: the deadline covers the exchange
        chunk = sock.recv(MAX_PACKET)
        if not chunk:
            raise ConnectionResetError("closed before a reply")
        buf += chunk
    raise RconFrameError(f"reply did not complete within {MAX_PACKET + 4} reads")


def rcon_login(host: str, port: int = 25575, *, password: str, timeout: float = 3.0) -> RconLoginResult:
    """Try one RCON login; never raises and never puts the password in the result."""
    address = f"{host}:{port}"
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(encode_packet(0x4D43, LOGIN, password))
            packet = _read_packet(sock, deadline)
            # Some servers send an empty RESPONSE before the AUTH_RESPONSE.
            if packet.type == RESPONSE and packet.request_id != -1:
                packet = _read_packet(sock, deadline)
    except TimeoutError:
        return RconLoginResult(address, "timeout", f"login reply not complete within {timeout:g} s")
    except ConnectionRefusedError:
        return RconLoginResult(address, "unreachable", "connection refused")
    except RconFrameError as err:
        return RconLoginResult(address, "malformed", str(err))
    except OSError as err:
        return RconLoginResult(address, "error", f"{type(err).__name__}: {err}"[:160])
    if packet.request_id == -1:
        return RconLoginResult(address, "refused", "login refused (request id -1)")
    if packet.request_id == 0x4D43 and packet.type == AUTH_RESPONSE:
        return RconLoginResult(address, "accepted", "login accepted")
    return RconLoginResult(address, "malformed", f"unexpected reply id {packet.request_id} type {packet.type}")


def rcon_command(host: str, port: int, password: str, command: str, *, timeout: float = 5.0) -> str:
    """Log in, run ``command`` and return the reply text (first packet); RconError on any failure.

    The whole exchange is bounded by ``timeout``; messages name the command's first word, never the password.
    """
    verb = command.split()[0] if command.split() else "''"
    deadline = time.monotonic() + timeout
    buf = bytearray()
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            sock.sendall(encode_packet(1, LOGIN, password))
            auth = _read_packet(sock, deadline, buf)
            if auth.type == RESPONSE and auth.request_id != -1:  # some servers send an empty RESPONSE first
                auth = _read_packet(sock, deadline, buf)
            if auth.request_id == -1:
                raise RconError(f"RCON login to {host}:{port} refused: wrong password")
            sock.sendall(encode_packet(2, COMMAND, command))
            return _read_packet(sock, deadline, buf).payload
    except TimeoutError:
        raise RconError(f"RCON {verb!r} to {host}:{port}: reply not complete within {timeout:g} s") from None
    except RconFrameError as err:
        raise RconError(f"RCON {verb!r} to {host}:{port}: malformed reply ({err})") from None
    except OSError as err:
        raise RconError(f"RCON {verb!r} to {host}:{port} failed: {err}") from None
