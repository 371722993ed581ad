"""Protocol robustness: a bounded, seeded set of malformed Server List Ping inputs, and a runner that
sends each on its own connection and then proves the server still answers a status ping.

Why our own: the cases are Minecraft-specific framing faults (VarInt lengths, handshake fields), and
the set must be small, reproducible from its seed and listed in the evidence; a general fuzzer is neither.

>>> [c.name for c in fuzz_cases(seed=1, count=3)]
['empty-connection', 'oversized-varint-length', 'varint-six-bytes']
>>> fuzz_cases(seed=1, count=30) == fuzz_cases(seed=1, count=30)
True
"""

from __future__ import annotations

import random
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.minecraft.player.codec import pack_varint

__all__ = ["FuzzCase", "FuzzOutcome", "fuzz_cases", "run_cases", "send_case", "varint"]


def varint(value: int) -> bytes:
    """Minecraft VarInt (two's complement for negatives): the player client's codec, one implementation.

    >>> varint(300).hex(), varint(-1).hex()
    ('ac02', 'ffffffff0f')
    """
    return pack_varint(value)


def _string(text: bytes) -> bytes:
    return varint(len(text)) + text


def _frame(payload: bytes) -> bytes:
    return varint(len(payload)) + payload


def _handshake(protocol: int = 769, host: bytes = b"localhost", port: int = 25565, next_state: int = 1) -> bytes:
    return b"\x00" + varint(protocol) + _string(host) + port.to_bytes(2, "big") + varint(next_state)


@dataclass(frozen=True)
class FuzzCase:
    name: str
    data: bytes
    description: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "bytes": len(self.data),
            "head": self.data[:24].hex(),
            "description": self.description,
        }


def _fixed() -> list[FuzzCase]:
    valid = _frame(_handshake()) + _frame(b"\x00")
    return [
        FuzzCase("empty-connection", b"", "connect and close without a byte"),
        FuzzCase(
            "oversized-varint-length", b"\xff\xff\xff\xff\x7f" + b"\x00" * 8, "frame length 2^31-1+ (5-byte VarInt)"
        ),
        FuzzCase("varint-six-bytes", b"\x80" * 6 + b"\x01", "VarInt longer than 5 bytes"),
        FuzzCase("negative-length", varint(-1) + b"\x00" * 4, "frame length -1"),
        FuzzCase("zero-length-frame", b"\x00" * 16, "sixteen empty frames"),
        FuzzCase("truncated-frame", varint(2_000_000) + b"\x00" * 10, "length 2,000,000, then 10 bytes and close"),
        FuzzCase("truncated-handshake", valid[:7], "a valid handshake cut after 7 bytes"),
        FuzzCase(
            "huge-host-string",
            _frame(b"\x00" + varint(769) + varint(32767) + b"a" * 600),
            "host length 32767, 600 sent",
        ),
        FuzzCase("bad-next-state", _frame(_handshake(next_state=99)) + _frame(b"\x00"), "handshake next_state 99"),
        FuzzCase("negative-protocol", _frame(_handshake(protocol=-5)) + _frame(b"\x00"), "protocol version -5"),
        FuzzCase("status-before-handshake", _frame(b"\x00") + _frame(b"\x00"), "status request with no handshake"),
        FuzzCase("unknown-packet-id", _frame(_handshake()) + _frame(b"\x7f\x01\x02"), "packet id 0x7f in status state"),
        FuzzCase("legacy-ping-partial", b"\xfe\x01\xfa\x00\x0b", "1.6 legacy ping cut short"),
        FuzzCase("oversized-frame-4k", varint(4096) + b"\x41" * 4096, "a 4 KiB frame of junk"),
        FuzzCase(
            "invalid-utf8-host",
            _frame(b"\x00" + varint(769) + _string(b"\xff\xfe\xfd") + b"\x63\xdd\x01"),
            "host not UTF-8",
        ),
        FuzzCase(
            "ping-wrong-size", _frame(_handshake()) + _frame(b"\x00") + _frame(b"\x01\x00"), "ping with 1-byte payload"
        ),
    ]


def _mutate(rng: random.Random, base: bytes) -> tuple[bytes, str]:
    data = bytearray(base)
    kind = rng.choice(("flip", "truncate", "insert", "random"))
    if kind == "flip":
        for _ in range(rng.randint(1, 4)):
            i = rng.randrange(len(data))
            data[i] ^= 1 << rng.randrange(8)
        return bytes(data), "bit flips in a valid handshake + status request"
    if kind == "truncate":
        return bytes(data[: rng.randrange(1, len(data))]), "a valid exchange truncated at a random byte"
    if kind == "insert":
        i = rng.randrange(len(data))
        return bytes(data[:i]) + rng.randbytes(rng.randint(1, 32)) + bytes(data[i:]), "random bytes inserted"
    return rng.randbytes(rng.randint(1, 512)), "random bytes"


def fuzz_cases(*, seed: int, count: int) -> list[FuzzCase]:
    """The fixed cases first, then seeded mutations of a valid exchange, ``count`` in all."""
    cases = _fixed()[:count]
    rng = random.Random(seed)
    base = _frame(_handshake()) + _frame(b"\x00")
    for n in range(count - len(cases)):
        data, description = _mutate(rng, base)
        cases.append(FuzzCase(f"mutation-{n:03d}", data, description))
    return cases


@dataclass(frozen=True)
class FuzzOutcome:
    """How the server reacted to one case: closed | reset | replied | silent | refused | error."""

    case: str
    reaction: str
    reply_bytes: int
    elapsed_ms: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def send_case(host: str, port: int, case: FuzzCase, *, read_timeout: float = 0.3) -> FuzzOutcome:
    """Send one case on a fresh connection and read (bounded) until the server closes or goes quiet."""
    start = time.perf_counter()
    received = 0
    reaction = "silent"

    def done(kind: str) -> FuzzOutcome:
        return FuzzOutcome(case.name, kind, received, round((time.perf_counter() - start) * 1000, 2))

    try:
        with socket.create_connection((host, port), timeout=read_timeout * 3) as sock:
            if case.data:
                sock.sendall(case.data)
            sock.settimeout(read_timeout)
            for _ in range(16):
                chunk = sock.recv(4096)
                if not chunk:
                    return done("replied" if received else "closed")
                received += len(chunk)
                reaction = "replied"
    except ConnectionRefusedError:
        return done("refused")
    except TimeoutError:
        return done(reaction)
    except (ConnectionResetError, BrokenPipeError):
        return done("reset")
    except OSError:
        return done("error")
    return done(reaction)


def run_cases(
    host: str,
    port: int,
    cases: list[FuzzCase],
    *,
    alive: Callable[[], bool],
    read_timeout: float = 0.3,
) -> tuple[list[FuzzOutcome], list[str]]:
    """Every case in order, with ``alive()`` (a status ping) after each one.

    Returns (outcomes, the case after which the server stopped answering, if any: the run stops there).
    """
    outcomes: list[FuzzOutcome] = []
    for case in cases:
        outcomes.append(send_case(host, port, case, read_timeout=read_timeout))
        if not alive():
            return outcomes, [case.name]
    return outcomes, []
