"""What a sandbox fleet looks like (:class:`SandboxSpec`), its addresses, and the fault catalogue.

Stdlib only: shard processes import this, and each shard must stay small in memory.
"""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, fields
from typing import Any

from mcproof.errors import SandboxError

__all__ = [
    "DOWN_KINDS",
    "FAULT_KINDS",
    "OVERSIZED_MAX_BYTES",
    "TRICKLE_MAX_S",
    "SandboxSpec",
    "normalize_fault",
    "server_host",
    "server_id",
]

FAULT_KINDS = ("kill", "stop", "hang", "slow", "trickle", "oversized", "wrong_version", "malformed", "refuse", "lag")
DOWN_KINDS = ("kill", "stop")  # take a server down (it comes back when supervised and `restart`)
TRICKLE_MAX_S = 600.0  # a trickling connection is closed after this, whatever is left to send
OVERSIZED_MAX_BYTES = 64 << 20
_MAX_SERVERS = 60_000


def server_id(index: int) -> str:
    """Stable id of server ``index``.

    >>> server_id(7)
    'mc-00007'
    """
    return f"mc-{index:05d}"


def server_host(base_address: str, index: int) -> str:
    """Loopback address of server ``index``, skipping .0 and .255 in the last octet.

    >>> server_host("127.1.0.1", 254)
    '127.1.1.1'
    """
    base = int(ipaddress.IPv4Address(base_address))
    prefix, last = base >> 8, base & 0xFF
    pos = (last - 1) + index
    host = ipaddress.IPv4Address(((prefix + pos // 254) << 8) | (pos % 254 + 1))
    if not host.is_loopback:
        raise SandboxError(f"server {index} would get {host}, outside 127.0.0.0/8; lower servers or base_address")
    return str(host)


@dataclass(frozen=True)
class SandboxSpec:
    """Fleet shape; validated on construction. ``rcon_password`` is never written to state or logs."""

    servers: int = 50
    version_name: str = "1.21.4"
    protocol: int = 769
    motd: str = "mcproof sandbox"
    max_players: int = 20
    query_enabled: bool = True
    rcon_password: str | None = None
    boot_delay_s: float = 2.0
    supervise: bool = True
    shard_size: int = 2500
    slp_port: int = 25565
    rcon_port: int = 25575
    base_address: str = "127.1.0.1"
    read_timeout_s: float = 10.0  # a connection must finish a status exchange or a login within this
    player_step_s: float = 5.0  # accepted for old state files; unused since players are real sessions
    tick_rate: float = 20.0  # ticks per second: how fast world age advances (the `lag` fault lowers it)
    compression_threshold: int = 256  # vanilla network-compression-threshold; -1: no Set Compression
    keepalive_s: float = 15.0  # vanilla: a keep-alive every 15 s; one unanswered at the next is a kick

    def __post_init__(self) -> None:
        problems: list[str] = []
        if not 1 <= self.servers <= _MAX_SERVERS:
            problems.append(f"servers must be 1..{_MAX_SERVERS}, got {self.servers}")
        if not 1 <= self.shard_size <= 5000:
            problems.append(f"shard_size must be 1..5000 (3 sockets per server, 20k fds), got {self.shard_size}")
        if not 0 <= self.max_players <= 100_000:
            problems.append(f"max_players must be 0..100000, got {self.max_players}")
        for name in ("slp_port", "rcon_port"):
            port = getattr(self, name)
            if not 1 <= port <= 65535:
                problems.append(f"{name} must be 1..65535, got {port}")
        if self.slp_port == self.rcon_port:
            problems.append("slp_port and rcon_port must differ")
        if not 0 <= self.boot_delay_s <= 600:
            problems.append(f"boot_delay_s must be 0..600, got {self.boot_delay_s}")
        if not 0.1 <= self.read_timeout_s <= 600:
            problems.append(f"read_timeout_s must be 0.1..600, got {self.read_timeout_s}")
        if self.player_step_s <= 0:
            problems.append("player_step_s must be > 0")
        if not 0 < self.tick_rate <= 1000:
            problems.append(f"tick_rate must be in (0, 1000], got {self.tick_rate}")
        if not -1 <= self.compression_threshold <= 1 << 21:
            problems.append(f"compression_threshold must be -1 (off) .. 2097152, got {self.compression_threshold}")
        if not 0.2 <= self.keepalive_s <= 600:
            problems.append(f"keepalive_s must be 0.2..600, got {self.keepalive_s}")
        if self.rcon_password is not None and not 1 <= len(self.rcon_password) <= 256:
            problems.append("rcon_password must be 1..256 characters")
        if len(self.motd) > 256 or len(self.version_name) > 64:
            problems.append("motd must be <= 256 and version_name <= 64 characters")
        try:
            base = ipaddress.IPv4Address(self.base_address)
            if not base.is_loopback or base.packed[3] in (0, 255):
                problems.append(f"base_address must be in 127.0.0.0/8 and not end in .0/.255, got {base}")
        except ValueError:
            problems.append(f"base_address is not an IPv4 address: {self.base_address!r}")
        if problems:
            raise SandboxError("invalid sandbox spec: " + "; ".join(problems))
        server_host(self.base_address, self.servers - 1)  # raises when the range leaves loopback

    @property
    def shard_count(self) -> int:
        return -(-self.servers // self.shard_size)

    def as_dict(self) -> dict[str, Any]:
        """JSON-safe dict WITHOUT the password (``rcon_password_set`` says whether one was given)."""
        data = asdict(self)
        data["rcon_password_set"] = data.pop("rcon_password") is not None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], rcon_password: str | None = None) -> SandboxSpec:
        """Inverse of :meth:`as_dict`; unknown keys are ignored."""
        names = {f.name for f in fields(cls)} - {"rcon_password"}
        return cls(**{k: v for k, v in data.items() if k in names}, rcon_password=rcon_password)


def normalize_fault(kind: str, params: dict[str, Any]) -> dict[str, Any]:
    """Validate a fault and fill defaults; raise SandboxError naming the allowed values."""
    allowed: dict[str, dict[str, Any]] = {
        "kill": {"restart": True},  # the process dies: connections drop, no packet
        "stop": {"restart": True},  # a clean stop: players get Disconnect "Server closed", then it goes down
        "lag": {"tps": 5.0},  # the server ticks at `tps`: world age (Update Time) advances that fast
        "hang": {},
        "slow": {"delay_s": 1.0},
        "trickle": {"interval_s": 1.0},  # accept, then send every reply one byte per interval
        "oversized": {"size_bytes": 2 << 20},  # a reply frame of this size (status, RCON); Query: 64 KB
        "wrong_version": {"version_name": "0.0.0-wrong", "protocol": 1},
        "malformed": {"mode": "json"},
        "refuse": {},
    }
    if kind not in allowed:
        raise SandboxError(f"unknown fault kind {kind!r}; use one of {', '.join(FAULT_KINDS)}")
    params = {k: v for k, v in params.items() if v is not None}
    unknown = set(params) - set(allowed[kind])
    if unknown:
        raise SandboxError(f"fault {kind!r} takes {sorted(allowed[kind]) or 'no parameters'}, got {sorted(unknown)}")
    out = {**allowed[kind], **params}
    if kind == "slow" and not (isinstance(out["delay_s"], int | float) and 0 < out["delay_s"] <= 300):
        raise SandboxError(f"slow delay_s must be a number in (0, 300], got {out['delay_s']!r}")
    if kind == "trickle" and not (isinstance(out["interval_s"], int | float) and 0 < out["interval_s"] <= 60):
        raise SandboxError(f"trickle interval_s must be a number in (0, 60], got {out['interval_s']!r}")
    if kind == "oversized" and not (
        isinstance(out["size_bytes"], int) and 1 << 16 <= out["size_bytes"] <= OVERSIZED_MAX_BYTES
    ):
        raise SandboxError(
            f"oversized size_bytes must be an integer in 65536..{OVERSIZED_MAX_BYTES}, got {out['size_bytes']!r}"
        )
    if kind == "malformed" and out["mode"] not in ("json", "packet"):
        raise SandboxError(f"malformed mode must be 'json' or 'packet', got {out['mode']!r}")
    if kind == "wrong_version":
        out["version_name"] = str(out["version_name"])[:64]
        out["protocol"] = int(out["protocol"])
    if kind == "lag" and not (
        isinstance(out["tps"], int | float) and not isinstance(out["tps"], bool) and 0 < out["tps"] <= 1000
    ):
        raise SandboxError(f"lag tps must be a number in (0, 1000], got {out['tps']!r}")
    if kind == "lag":
        out["tps"] = float(out["tps"])
    if kind in DOWN_KINDS:
        out["restart"] = bool(out["restart"])
    return out
