"""Pure checks of a status reply against what the environment expects."""

from __future__ import annotations

from mcproof.config import ExpectedVersion
from mcproof.minecraft.status import StatusResult


def status_problems(result: StatusResult, expect: ExpectedVersion) -> list[str]:
    """Reasons a status reply is not acceptable; empty when it is.

    >>> r = StatusResult("a", "h:1", True, "t", 1.0, "1.8.9", 47, "motd", 1, 20)
    >>> status_problems(r, ExpectedVersion(name="1.21.4", protocol=769))
    ["version '1.8.9' != expected '1.21.4'", 'protocol 47 != expected 769']
    """
    if not result.ok:
        return [f"{result.error_kind}: {result.error}"]
    problems: list[str] = []
    if expect.name is not None and result.version_name != expect.name:
        problems.append(f"version {result.version_name!r} != expected {expect.name!r}")
    if expect.protocol is not None and result.protocol != expect.protocol:
        problems.append(f"protocol {result.protocol} != expected {expect.protocol}")
    if not (result.motd or "").strip():
        problems.append("MOTD is empty")
    online, maximum = result.players_online, result.players_max
    if maximum is None or maximum <= 0:
        problems.append(f"players.max is {maximum}, expected > 0")
    elif online is None or not 0 <= online <= maximum:
        problems.append(f"players.online {online} outside 0..{maximum}")
    return problems


def describe_failures(failures: list[tuple[str, str]], total: int, what: str, cap: int = 20) -> str:
    """One failure message naming each failing target (capped), for a fleet-wide check.

    >>> describe_failures([("mc-1", "timeout")], 10, "answer a status ping")
    '1 of 10 servers failed to answer a status ping: mc-1 (timeout)'
    """
    shown = "; ".join(f"{name} ({reason})" for name, reason in failures[:cap])
    more = f"; +{len(failures) - cap} more in evidence.jsonl" if len(failures) > cap else ""
    return f"{len(failures)} of {total} servers failed to {what}: {shown}{more}"
