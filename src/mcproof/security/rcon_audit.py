"""RCON authentication checks: reachable RCON must refuse a short list of default passwords, and the
environment's own RCON password must be neither on that list nor short.

A check that made no login attempt proves nothing: :func:`rcon_untried` says why (no password to try,
no server whose RCON port answered, servers that stopped answering part-way through the list), and the
suite makes that *inconclusive*, never pass. A server whose RCON port did not answer at all while
others took every attempt is listed as unanswered in the evidence (nothing reachable to log in to).

>>> weak_password_problems("minecraft", ["minecraft"], min_length=12)
['the RCON password is a well-known default (#1 on the list); set a random one of >= 12 characters']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.minecraft.rcon import rcon_login

__all__ = ["DefaultPasswordResult", "rcon_untried", "try_default_passwords", "weak_password_problems"]


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


def rcon_untried(results: Sequence[DefaultPasswordResult], passwords: Sequence[str]) -> str:
    """Why the default-password check could not prove anything ("" when every answering server took
    every password and at least one did).

    >>> rcon_untried([DefaultPasswordResult("mc-1", "127.0.0.1:25575", 0, [], "refused: connection refused")],
    ...              ["minecraft"])
    'no RCON login attempted: 1 of 1 server(s) did not answer on their RCON port (mc-1 127.0.0.1:25575 refused: connection refused)'
    """
    if not passwords:
        return "no default password to try (security.rcon_default_passwords is empty)"
    if not results:
        return "no server with an RCON port was picked"
    complete = [r for r in results if not r.unanswered]
    silent = [r for r in results if r.unanswered and r.tried == 0]
    partial = [r for r in results if r.unanswered and r.tried > 0]
    shown = "; ".join(f"{r.target} {r.address} {r.unanswered}" for r in (partial or silent)[:5])
    if not complete and not partial:
        return f"no RCON login attempted: {len(silent)} of {len(results)} server(s) did not answer on their RCON port ({shown})"
    if partial:
        return (
            f"{len(partial)} server(s) stopped answering part-way through the {len(passwords)} passwords, so they "
            f"were not tried with every default ({shown})"
        )
    return ""


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
