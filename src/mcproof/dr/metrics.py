"""Pure RPO/RTO maths over markers (``{"seq": int, "ts": float}`` dicts, unix seconds).

RPO = time of the last marker written before the disaster - time of the last marker recovered.
RTO = time serving again with verified data - time of the disaster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["last_before", "rpo_seconds", "rto_seconds"]


def last_before(marks: Iterable[Mapping[str, Any]], at: float) -> dict[str, Any] | None:
    """The newest marker written at or before ``at``.

    >>> last_before([{"seq": 1, "ts": 10.0}, {"seq": 2, "ts": 12.0}, {"seq": 3, "ts": 15.0}], 13.0)
    {'seq': 2, 'ts': 12.0}
    """
    best: dict[str, Any] | None = None
    for mark in marks:
        if float(mark["ts"]) <= at and (best is None or float(mark["ts"]) > float(best["ts"])):
            best = {"seq": int(mark["seq"]), "ts": float(mark["ts"])}
    return best


def rpo_seconds(
    last_written: Mapping[str, Any] | None, last_recovered: Mapping[str, Any] | None, started: float
) -> float:
    """Data lost in time; nothing recovered counts from ``started`` (the start of the data).

    >>> rpo_seconds({"seq": 9, "ts": 20.5}, {"seq": 5, "ts": 18.0}, 0.0)
    2.5
    >>> rpo_seconds({"seq": 9, "ts": 20.5}, None, 10.0)
    10.5
    """
    if last_written is None:
        return 0.0
    recovered_ts = float(last_recovered["ts"]) if last_recovered is not None else started
    return max(0.0, float(last_written["ts"]) - recovered_ts)


def rto_seconds(disaster_at: float, recovered_at: float | None) -> float:
    """Disaster until serving with verified data; infinity when it never recovered.

    >>> rto_seconds(100.0, 112.25)
    12.25
    """
    return float("inf") if recovered_at is None else max(0.0, recovered_at - disaster_at)
