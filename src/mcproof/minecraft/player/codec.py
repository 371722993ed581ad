"""The Java Edition wire format the player client needs: VarInts, strings, frames, text components.

Pure functions and a frame decoder over bytes; no I/O. Every reader is bounded: a frame is at most
``MAX_FRAME_BYTES`` (vanilla's 3-byte VarInt frame length, 2 MiB), a compressed packet inflates to at
most ``MAX_DECOMPRESSED_BYTES`` (vanilla's 8 MiB; checked against the declared size *and* while
inflating, so a zip bomb costs at most that much memory), NBT is read to a bounded depth and count.

>>> pack_varint(300).hex(), read_varint(b"\\xac\\x02", 0)
('ac02', (300, 2))
>>> str(offline_uuid("Notch"))
'b50ad385-829d-3141-a216-7e7d7539ba7f'
>>> text_from_json('{"text":"Server ","extra":[{"text":"closed"}]}')
'Server closed'
"""

from __future__ import annotations

import hashlib
import json
import re
import struct
import uuid
import zlib
from typing import Any

__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "MAX_FRAME_BYTES",
    "CodecError",
    "FrameDecoder",
    "Reader",
    "encode_frame",
    "offline_uuid",
    "pack_bool",
    "pack_f32",
    "pack_i32",
    "pack_i64",
    "pack_string",
    "pack_u16",
    "pack_uuid",
    "pack_varint",
    "pack_varlong",
    "plain_text",
    "read_nbt",
    "read_varint",
    "text_from_json",
    "text_from_nbt",
]

MAX_FRAME_BYTES = (1 << 21) - 1  # the largest 3-byte VarInt: vanilla's frame decoder reads at most 3 bytes
MAX_DECOMPRESSED_BYTES = 1 << 23  # vanilla's CompressionDecoder.MAXIMUM_UNCOMPRESSED_LENGTH (8 MiB)
MAX_NBT_DEPTH = 32
MAX_NBT_ELEMENTS = 65_536  # over one NBT value, all lists and compounds together
MAX_TEXT_CHARS = 4096  # plain text kept from one chat component (a disconnect reason is one line)


class CodecError(ValueError):
    """Bytes that are not the protocol: an oversized frame, bad compression, a truncated field..."""


# -- writers -------------------------------------------------------------------------------------


def pack_varint(value: int) -> bytes:
    """A signed 32-bit int as a VarInt (negative numbers take 5 bytes, as in vanilla)."""
    if not -(1 << 31) <= value < (1 << 31):
        raise ValueError(f"{value} does not fit a VarInt")
    return _pack_var(value & 0xFFFFFFFF)


def pack_varlong(value: int) -> bytes:
    if not -(1 << 63) <= value < (1 << 63):
        raise ValueError(f"{value} does not fit a VarLong")
    return _pack_var(value & 0xFFFFFFFFFFFFFFFF)


def _pack_var(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def pack_string(value: str, max_chars: int = 32767) -> bytes:
    if len(value) > max_chars:
        raise ValueError(f"string of {len(value)} chars exceeds {max_chars}")
    data = value.encode("utf-8")
    return pack_varint(len(data)) + data


def pack_u16(value: int) -> bytes:
    return struct.pack(">H", value)


def pack_i32(value: int) -> bytes:
    return struct.pack(">i", value)


def pack_i64(value: int) -> bytes:
    return struct.pack(">q", value)


def pack_f32(value: float) -> bytes:
    return struct.pack(">f", value)


def pack_bool(value: bool) -> bytes:
    return b"\x01" if value else b"\x00"


def pack_uuid(value: uuid.UUID) -> bytes:
    return value.bytes


def offline_uuid(name: str) -> uuid.UUID:
    """The UUID an offline-mode server gives `name`: vanilla's ``UUID.nameUUIDFromBytes("OfflinePlayer:"+name)``
    (an MD5, version-3 UUID without a namespace, so not ``uuid.uuid3``)."""
    digest = bytearray(hashlib.md5(f"OfflinePlayer:{name}".encode(), usedforsecurity=False).digest())
    digest[6] = (digest[6] & 0x0F) | 0x30
    digest[8] = (digest[8] & 0x3F) | 0x80
    return uuid.UUID(bytes=bytes(digest))


def encode_frame(packet: bytes, threshold: int | None = None) -> bytes:
    """One frame around `packet` (its id and body); with compression on (`threshold` >= 0) in the
    compressed format, deflated only when it is at least `threshold` bytes (as vanilla)."""
    if threshold is None or threshold < 0:
        return pack_varint(len(packet)) + packet
    compress = len(packet) >= threshold
    body = pack_varint(len(packet)) + zlib.compress(packet) if compress else b"\x00" + packet
    return pack_varint(len(body)) + body


# -- readers -------------------------------------------------------------------------------------


def read_varint(data: bytes | bytearray | memoryview, pos: int, max_bytes: int = 5) -> tuple[int, int]:
    """(value, position after it); a signed 32-bit int (64-bit with ``max_bytes=10``).

    Raises IndexError when `data` ends inside the VarInt (more bytes may come) and CodecError when it
    is longer than `max_bytes`.
    """
    result = 0
    for i in range(max_bytes):
        byte = data[pos + i]
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            bits = 32 if max_bytes <= 5 else 64
            result &= (1 << bits) - 1
            if result >= 1 << (bits - 1):
                result -= 1 << bits
            return result, pos + i + 1
    raise CodecError(f"VarInt longer than {max_bytes} bytes")


class Reader:
    """Fields read in order from one packet body; a truncated field is a CodecError."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise CodecError(f"packet truncated: wanted {n} bytes at offset {self.pos} of {len(self.data)}")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def varint(self) -> int:
        try:
            value, self.pos = read_varint(self.data, self.pos)
        except IndexError:
            raise CodecError("packet truncated inside a VarInt") from None
        return value

    def varlong(self) -> int:
        try:
            value, self.pos = read_varint(self.data, self.pos, max_bytes=10)
        except IndexError:
            raise CodecError("packet truncated inside a VarLong") from None
        return value

    def string(self, max_chars: int = 32767) -> str:
        size = self.varint()
        if size < 0 or size > max_chars * 3:
            raise CodecError(f"string of {size} bytes exceeds {max_chars} chars")
        try:
            text = self._take(size).decode("utf-8")
        except UnicodeDecodeError as err:
            raise CodecError(f"string is not UTF-8 ({err.reason})") from None
        if len(text) > max_chars:
            raise CodecError(f"string of {len(text)} chars exceeds {max_chars}")
        return text

    def bool(self) -> bool:
        return self._take(1) != b"\x00"

    def u8(self) -> int:
        return self._take(1)[0]

    def u16(self) -> int:
        return int(struct.unpack(">H", self._take(2))[0])

    def i32(self) -> int:
        return int(struct.unpack(">i", self._take(4))[0])

    def i64(self) -> int:
        return int(struct.unpack(">q", self._take(8))[0])

    def f32(self) -> float:
        return float(struct.unpack(">f", self._take(4))[0])

    def f64(self) -> float:
        return float(struct.unpack(">d", self._take(8))[0])

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(bytes=self._take(16))

    def raw(self, n: int) -> bytes:
        return self._take(n)

    def rest(self) -> bytes:
        return self._take(len(self.data) - self.pos)

    def nbt(self) -> Any:
        """An anonymous (network, 1.20.2+) NBT value: a type byte, no root name, the payload."""
        value, self.pos = read_nbt(self.data, self.pos)
        return value


class FrameDecoder:
    """Splits a byte stream into packets (id + body), with and without compression.

    `feed` bytes as they arrive; `packets()` returns every complete packet so far. Compression is
    switched on by `set_compression` (after Set Compression), as on the wire.
    """

    def __init__(self, max_frame: int = MAX_FRAME_BYTES, max_decompressed: int = MAX_DECOMPRESSED_BYTES) -> None:
        self._buffer = bytearray()
        self._max_frame = max_frame
        self._max_decompressed = max_decompressed
        self.threshold: int | None = None

    def set_compression(self, threshold: int) -> None:
        self.threshold = threshold if threshold >= 0 else None

    @property
    def buffered(self) -> int:
        return len(self._buffer)

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def next_packet(self) -> bytes | None:
        """The next complete packet, or None until more bytes come."""
        buf = self._buffer
        try:
            length, start = read_varint(buf, 0, max_bytes=3)
        except IndexError:
            return None
        except CodecError:
            raise CodecError(f"frame length exceeds {self._max_frame:,} bytes (a 3-byte VarInt)") from None
        if length <= 0 or length > self._max_frame:
            raise CodecError(f"frame length {length:,} is outside 1..{self._max_frame:,} bytes")
        if len(buf) < start + length:
            return None
        frame = bytes(buf[start : start + length])
        del buf[: start + length]
        if self.threshold is None:
            return frame
        return self._inflate(frame)

    def packets(self) -> list[bytes]:
        out = []
        while (packet := self.next_packet()) is not None:
            out.append(packet)
        return out

    def _inflate(self, frame: bytes) -> bytes:
        try:
            size, pos = read_varint(frame, 0)
        except IndexError:
            raise CodecError("compressed frame truncated inside its data length") from None
        if size == 0:
            return frame[pos:]
        threshold = self.threshold or 0
        if size < threshold:
            raise CodecError(f"badly compressed packet: declared size {size} is below the threshold {threshold}")
        if size > self._max_decompressed:
            raise CodecError(f"compressed packet declares {size:,} bytes, over the cap of {self._max_decompressed:,}")
        inflater = zlib.decompressobj()
        try:
            packet = inflater.decompress(frame[pos:], size + 1)  # never inflate more than declared + 1
        except zlib.error as err:
            raise CodecError(f"bad compressed packet ({err})") from None
        if len(packet) != size or inflater.unconsumed_tail:
            raise CodecError(
                f"compressed packet inflates to {'more' if len(packet) > size else len(packet)} "
                f"bytes, not the declared {size}"
            )
        return packet


# -- NBT and text components ---------------------------------------------------------------------

_FIXED = {1: ">b", 2: ">h", 3: ">i", 4: ">q", 5: ">f", 6: ">d"}


def read_nbt(data: bytes, pos: int) -> tuple[Any, int]:
    """(value, position after it) of an anonymous NBT tag: compounds as dicts, lists and arrays as lists.

    >>> read_nbt(b"\\x08\\x00\\x02hi", 0)
    ('hi', 5)
    """
    budget = [MAX_NBT_ELEMENTS]
    try:
        tag = data[pos]
        return _nbt_payload(data, pos + 1, tag, 0, budget)
    except (IndexError, struct.error):
        raise CodecError("NBT truncated") from None


def _nbt_payload(data: bytes, pos: int, tag: int, depth: int, budget: list[int]) -> tuple[Any, int]:
    if depth > MAX_NBT_DEPTH:
        raise CodecError(f"NBT nested deeper than {MAX_NBT_DEPTH}")
    if tag in _FIXED:
        fmt = _FIXED[tag]
        size = struct.calcsize(fmt)
        if pos + size > len(data):
            raise IndexError
        return struct.unpack_from(fmt, data, pos)[0], pos + size
    if tag == 8:
        (size,) = struct.unpack_from(">H", data, pos)
        end = pos + 2 + size
        if end > len(data):
            raise IndexError
        return data[pos + 2 : end].decode("utf-8", errors="replace"), end  # modified UTF-8: close enough for text
    if tag in (7, 11, 12):  # byte, int and long arrays
        (count,) = struct.unpack_from(">i", data, pos)
        width = {7: 1, 11: 4, 12: 8}[tag]
        end = pos + 4 + count * width
        if count < 0 or end > len(data):
            raise CodecError("NBT array length out of range")
        return [], end  # contents are never text
    if tag == 9:
        item, count = data[pos], struct.unpack_from(">i", data, pos + 1)[0]
        pos += 5
        _spend(budget, max(count, 0))
        items = []
        for _ in range(count):
            value, pos = _nbt_payload(data, pos, item, depth + 1, budget)
            items.append(value)
        return items, pos
    if tag == 10:
        out: dict[str, Any] = {}
        while True:
            child = data[pos]
            pos += 1
            if child == 0:
                return out, pos
            _spend(budget, 1)
            name, pos = _nbt_payload(data, pos, 8, depth + 1, budget)
            out[name], pos = _nbt_payload(data, pos, child, depth + 1, budget)
    raise CodecError(f"unknown NBT tag type {tag}")


def _spend(budget: list[int], n: int) -> None:
    budget[0] -= n
    if budget[0] < 0:
        raise CodecError(f"NBT has more than {MAX_NBT_ELEMENTS:,} elements")


def text_from_nbt(data: bytes) -> str:
    """The plain text of an anonymous NBT text component (config/play disconnect, 1.20.3+).

    >>> text_from_nbt(b"\\x0a\\x08\\x00\\x04text\\x00\\x06Bye :)\\x00")
    'Bye :)'
    """
    value, _ = read_nbt(data, 0)
    return plain_text(value)


def text_from_json(data: str) -> str:
    """The plain text of a JSON text component (login disconnect); not JSON -> the string itself.

    Raises CodecError for JSON nested deeper than ``MAX_NBT_DEPTH`` (checked before parsing: no
    RecursionError, whatever the server sends).

    >>> text_from_json('[' * 100_000)
    Traceback (most recent call last):
    ...
    mcproof.minecraft.player.codec.CodecError: JSON text component nested deeper than 32
    """
    if _json_depth(data) > MAX_NBT_DEPTH:
        raise CodecError(f"JSON text component nested deeper than {MAX_NBT_DEPTH}")
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return _clip(data)
    return plain_text(value)


_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')


def _json_depth(data: str) -> int:
    """How deep `[`/`{` nest in `data`, brackets inside strings not counted (one regex pass, no recursion)."""
    depth = deepest = 0
    for match in _JSON_TOKEN.finditer(data):
        piece = match.group()
        if piece in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif piece in ("]", "}"):
            depth -= 1
    return deepest


def plain_text(component: Any) -> str:
    """The plain text of a decoded text component (str, list or dict, from JSON or NBT), one line,
    at most ``MAX_TEXT_CHARS``; anything that is not a component (a number, a bad ``extra``) is skipped.

    >>> plain_text({"text": "Bye", "extra": 5})
    'Bye'
    """
    text = _Text()
    text.collect(component, 0)
    return _clip("".join(text.parts))


class _Text:
    """The parts of a component's text with a running character count: stops at the cap, never re-sums."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.chars = 0

    @property
    def full(self) -> bool:
        return self.chars > MAX_TEXT_CHARS

    def add(self, part: str) -> None:
        if not self.full:
            part = part[: MAX_TEXT_CHARS + 1 - self.chars]
            self.parts.append(part)
            self.chars += len(part)

    def collect(self, component: Any, depth: int) -> None:
        if depth > MAX_NBT_DEPTH or self.full:
            return
        if isinstance(component, str):
            self.add(component)
        elif isinstance(component, bool):
            return
        elif isinstance(component, int | float):
            self.add(str(component))
        elif isinstance(component, list):
            for item in component:
                if self.full:
                    return
                self.collect(item, depth + 1)
        elif isinstance(component, dict):
            if "text" in component or "" in component:  # "" is an NBT list element's wrapped value
                self.collect(component.get("text", component.get("")), depth + 1)
            elif "translate" in component:
                fallback, key = component.get("fallback"), component["translate"]
                self.add(fallback if isinstance(fallback, str) and fallback else key if isinstance(key, str) else "")
                args = component.get("with")
                if isinstance(args, list) and args:
                    self.add(" (")
                    for i, arg in enumerate(args):
                        if self.full:
                            return
                        if i:
                            self.add(", ")
                        self.collect(arg, depth + 1)
                    self.add(")")
            extra = component.get("extra")
            if isinstance(extra, list):
                for child in extra:
                    if self.full:
                        return
                    self.collect(child, depth + 1)


def _clip(text: str) -> str:
    text = " ".join(text.split())  # one line
    return text if len(text) <= MAX_TEXT_CHARS else text[: MAX_TEXT_CHARS - 1] + "…"
