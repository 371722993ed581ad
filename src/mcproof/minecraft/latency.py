"""Status latency sampling: sequential pings so the figure is the server's, not our queue's.

Under `asyncio.gather` mcstatus's `.latency` includes event-loop queueing (FIELD-NOTES: p50 46 ms at
500 concurrent), so latency samples are taken one at a time with the sync client.
"""

from __future__ import annotations

from collections.abc import Sequence

from mcproof.discovery.target import Target
from mcproof.minecraft.status import StatusResult, status_ping


def pick_evenly(targets: Sequence[Target], count: int) -> list[Target]:
    """Up to `count` targets spread evenly over the list (deterministic).

    >>> [t.id for t in pick_evenly([Target(str(i), "h") for i in range(10)], 3)]
    ['0', '3', '6']
    """
    if count >= len(targets):
        return list(targets)
    step = len(targets) / count
    return [targets[int(i * step)] for i in range(count)]


def sample_latency(targets: Sequence[Target], *, rounds: int, timeout: float) -> list[StatusResult]:
    """`rounds` sequential status pings of every target (round-robin, bounded: rounds x targets)."""
    return [
        status_ping(t.host, t.port, timeout=timeout, target=t.id, edition=t.edition)
        for _ in range(rounds)
        for t in targets
    ]
