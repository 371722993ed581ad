"""The Target: one Minecraft server the suites check, wherever it was discovered."""

from __future__ import annotations

import ipaddress
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.errors import TargetError


@dataclass(frozen=True)
class Target:
    """A Minecraft server endpoint plus where it came from."""

    id: str
    host: str
    port: int = 25565
    edition: str = "java"
    query_port: int | None = None
    rcon_port: int | None = None
    source: str = "static"
    namespace: str | None = None
    pod: str | None = None
    labels: dict[str, str] = field(default_factory=dict)

    @property
    def address(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'.

    >>> is_loopback("127.1.0.7"), is_loopback("203.0.113.1")
    (True, False)
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def ensure_loopback(targets: list[Target], environment: str) -> list[Target]:
    """Refuse any target outside loopback (the sandbox's network rule)."""
    outside = [t for t in targets if not is_loopback(t.host)]
    if outside:
        names = ", ".join(f"{t.id} ({t.host})" for t in outside[:5])
        raise TargetError(
            f"environment '{environment}' is loopback-only but discovery returned non-loopback targets: "
            f"{names}; fix the discovery source or set guards.loopback_only: false for a real environment"
        )
    return targets
