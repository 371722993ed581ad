"""RCON authentication checks: reachable RCON must refuse a short list of default passwords, and the
environment's own RCON password must be neither on that list nor short.

>>> weak_password_problems("minecraft", ["minecraft"], min_length=12)
['the RCON password is a well-known default (#1 on the list); set a random one of >= 12 characters']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.minecraft.rcon import rcon_login

__all__ = ["DefaultPasswordResult", "try_default_passwords", "weak_password_problems"]


@dataclass(frozen=True)
class DefaultPasswordResult:
    """One server: how many defaults were tried, which (by list index) got in, and any non-answer."""

    target: str
    address: str
    tried: int
    accepted: list[int]
    unanswered: str = ""  # why the server could not be tested (refused, timeout...)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _one(target: str, host: str, port: int, passwords: Sequence[str], timeout: float) -> DefaultPasswordResult:
    accepted: list[int] = []
    tried = 0
    for index, password in enumerate(passwords, start=1):
        result = rcon_login(host, port, password=password, timeout=timeout)
        if result.outcome not in {"accepted", "refused"}:
            return DefaultPasswordResult(target, result.address, tried, accepted, f"{result.outcome}: {result.detail}")
        tried += 1
        if result.accepted:
            accepted.append(index)
    return DefaultPasswordResult(target, f"{host}:{port}", tried, accepted)


def try_default_passwords(
    servers: Iterable[tuple[str, str, int]],
    passwords: Sequence[str],
    *,
    timeout: float = 3.0,
    concurrency: int = 8,
) -> list[DefaultPasswordResult]:
    """(target id, host, rcon port) each tried with every password, one login per connection."""
    work = list(servers)
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(work) or 1))) as pool:
        return list(pool.map(lambda s: _one(s[0], s[1], s[2], passwords, timeout), work))


def weak_password_problems(password: str, defaults: Sequence[str], *, min_length: int = 12) -> list[str]:
    """Problems with the configured password (the value is never included)."""
    fix = f"set a random one of >= {min_length} characters"
    lowered = [d.lower() for d in defaults]
    if password.lower() in lowered:
        return [
            f"the RCON password is a well-known default (#{lowered.index(password.lower()) + 1} on the list); {fix}"
        ]
    if len(password) < min_length:
        return [f"the RCON password has {len(password)} characters (< {min_length}); {fix}"]
    return []
