"""Pure RPO/RTO maths over the harness's own records (unix seconds, the harness's clock).

Markers are written by the harness; each write is ``{"seq": int, "sent_at": float, "acked_at": float}``
(sent, and acknowledged by the platform). After the restore the harness reads which marker numbers the
world holds (``present``).

**RPO** = disaster time - acknowledgement time of the newest marker present after the restore: the window
of acknowledged writes the disaster destroyed (every write acknowledged after that marker, up to the
disaster, is gone). Resolution: one write interval. Nothing recovered: the whole window since writing
started. Markers lost are counted against the markers on disk (acknowledged before the disaster and
absent after the restore).

**RTO** = time serving again with verified data - disaster time, in four contiguous parts:
detection (disaster -> the harness sees the server down), restore (-> the platform acknowledged the
restore), boot (-> the first status ping answers), verification (-> markers read back and the world
verified). The parts sum to the RTO.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "RpoFigures",
    "backups_after",
    "last_before",
    "newest_backup_at",
    "rpo_from_markers",
    "rpo_seconds",
    "rto_parts",
    "rto_seconds",
]


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


@dataclass(frozen=True)
class RpoFigures:
    """RPO and marker counts of one drill (``last_*`` as ``{"seq", "ts"}`` with ts = acknowledgement time)."""

    rpo_s: float
    last_written: dict[str, Any] | None
    last_recovered: dict[str, Any] | None
    written: int
    recovered: int
    lost: int
    missing_below_newest: list[int] = field(default_factory=list)  # holes: a backup holds a prefix
    never_written: list[int] = field(default_factory=list)  # present but never sent by the harness

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rpo_from_markers(
    writes: Sequence[Mapping[str, Any]], present: Iterable[int], *, disaster_at: float, writing_started: float
) -> RpoFigures:
    """RPO from the harness's acknowledged writes and the marker numbers on disk after the restore.

    >>> w = [{"seq": i, "sent_at": 100.0 + i, "acked_at": 100.1 + i} for i in range(1, 11)]
    >>> f = rpo_from_markers(w, range(1, 7), disaster_at=110.5, writing_started=100.0)
    >>> round(f.rpo_s, 3), f.last_recovered, f.written, f.recovered, f.lost
    (4.4, {'seq': 6, 'ts': 106.1}, 10, 6, 4)
    """
    acked = {int(w["seq"]): float(w["acked_at"]) for w in writes if float(w["acked_at"]) <= disaster_at}
    sent = {int(w["seq"]) for w in writes}
    on_disk = set(int(s) for s in present)
    recovered = sorted(s for s in on_disk if s in acked)
    last_seq = max(acked, default=None)
    last_written = {"seq": last_seq, "ts": acked[last_seq]} if last_seq is not None else None
    newest = recovered[-1] if recovered else None
    last_recovered = {"seq": newest, "ts": acked[newest]} if newest is not None else None
    if last_written is None:
        rpo = 0.0
    else:
        rpo = max(0.0, disaster_at - (acked[newest] if newest is not None else writing_started))
    holes = sorted(s for s in acked if newest is not None and s < newest and s not in on_disk)
    return RpoFigures(
        rpo_s=rpo,
        last_written=last_written,
        last_recovered=last_recovered,
        written=len(acked),
        recovered=len(recovered),
        lost=len(acked) - len(recovered),
        missing_below_newest=holes[:100],
        never_written=sorted(on_disk - sent)[:100],
    )


def rto_seconds(disaster_at: float, recovered_at: float | None) -> float:
    """Disaster until serving with verified data; infinity when it never recovered.

    >>> rto_seconds(100.0, 112.25)
    12.25
    """
    return float("inf") if recovered_at is None else max(0.0, recovered_at - disaster_at)


_PARTS = ("detection", "restore", "boot", "verification")


def rto_parts(
    disaster_at: float,
    detected_at: float | None,
    restored_at: float | None,
    serving_at: float | None,
    verified_at: float | None,
) -> list[dict[str, Any]]:
    """The RTO's contiguous parts with their timestamps; a part that never ended has ``end`` None.

    >>> [(p["part"], p["s"]) for p in rto_parts(100.0, 100.5, 103.0, 104.25, 104.5)]
    [('detection', 0.5), ('restore', 2.5), ('boot', 1.25), ('verification', 0.25)]
    >>> [p["end"] for p in rto_parts(100.0, 100.5, None, None, None)]
    [100.5, None, None, None]
    """
    ends = (detected_at, restored_at, serving_at, verified_at)
    parts: list[dict[str, Any]] = []
    start: float | None = disaster_at
    for name, end in zip(_PARTS, ends, strict=True):
        done = start is not None and end is not None
        parts.append(
            {
                "part": name,
                "start": start,
                "end": end if done else None,
                "s": round(max(0.0, end - start), 6) if done and start is not None and end is not None else None,
            }
        )
        start = end if done else None
    return parts


def newest_backup_at(backups: Iterable[Mapping[str, Any]], trigger: str | None = None) -> float | None:
    """``created_at`` of the newest backup (of ``trigger`` when given); None when there is none.

    >>> newest_backup_at([{"created_at": 5.0, "trigger": "schedule"}, {"created_at": 9.0, "trigger": "api"}], "schedule")
    5.0
    """
    times = [float(b["created_at"]) for b in backups if trigger is None or b.get("trigger") == trigger]
    return max(times, default=None)


def backups_after(
    backups: Iterable[Mapping[str, Any]], after: float, trigger: str | None = None
) -> list[dict[str, Any]]:
    """Backups created after ``after`` (of ``trigger`` when given), oldest first.

    >>> [b["id"] for b in backups_after([{"id": "a", "created_at": 1.0}, {"id": "b", "created_at": 3.0}], 2.0)]
    ['b']
    """
    found = [
        dict(b) for b in backups if float(b["created_at"]) > after and (trigger is None or b.get("trigger") == trigger)
    ]
    return sorted(found, key=lambda b: float(b["created_at"]))
