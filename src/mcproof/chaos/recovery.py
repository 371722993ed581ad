"""Pure recovery maths: observer samples + injection time -> per-server and fleet MTTR.

Definitions (the method string in the evidence repeats them):

- a sample is *good* when the status ping answered (and, when a latency bound is given, within it);
- a target is *affected* when a sample at or after the injection is not good;
- it *recovered* when its last sample is good; its recovery instant is the midpoint between its last
  bad sample and the first good sample after it (resolution: half the sampling interval);
- per-server MTTR = recovery instant - injection time; fleet MTTR = the latest of them;
- a target whose last sample is bad is *unrecovered* (no MTTR; counted as down until the end).

Example::

    >>> s = [Sample("a", 10.0, True), Sample("a", 10.5, False), Sample("a", 11.0, False), Sample("a", 11.5, True)]
    >>> compute_recovery(s, injected_at=10.4).per_server[0].mttr_s
    0.85
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mcproof.stats import percentile

__all__ = [
    "BudgetBurn",
    "RecoveryFigures",
    "Sample",
    "ServerRecovery",
    "compute_recovery",
    "epoch_to_iso",
    "error_budget_burn",
    "iso_to_epoch",
    "observed_downtime",
]


def iso_to_epoch(text: str) -> float:
    """ISO-8601 (``Z`` or offset; naive means UTC) -> epoch seconds.

    >>> iso_to_epoch("1970-01-01T00:00:01.500Z")
    1.5
    """
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def epoch_to_iso(t: float) -> str:
    """ISO-8601 UTC with milliseconds for an epoch time.

    >>> epoch_to_iso(1.5)
    '1970-01-01T00:00:01.500Z'
    """
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Sample:
    """One observer ping: target id, start time (epoch s), outcome."""

    target: str
    t: float
    ok: bool
    latency_ms: float | None = None
    error_kind: str | None = None

    def good(self, slow_ms: float | None) -> bool:
        return self.ok and (slow_ms is None or self.latency_ms is None or self.latency_ms <= slow_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "at": epoch_to_iso(self.t),
            "ok": self.ok,
            "latency_ms": self.latency_ms,
            "error_kind": self.error_kind,
        }


@dataclass(frozen=True)
class ServerRecovery:
    target: str
    first_failure_at: str
    last_failure_at: str
    recovered_at: str | None
    mttr_s: float | None
    downtime_s: float
    failed_samples: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RecoveryFigures:
    injected_at: float
    observed_from: float
    observed_to: float
    targets_observed: int
    per_server: tuple[ServerRecovery, ...]
    unrecovered: tuple[str, ...]
    fleet_mttr_s: float | None
    mttr_summary: dict[str, float]
    good_ratio: float
    downtime_server_s: float
    samples: int

    @property
    def affected(self) -> list[str]:
        return [s.target for s in self.per_server]


def _summary(values: Sequence[float]) -> dict[str, float]:
    if not values:
        return {"count": 0}
    return {
        "count": len(values),
        "p50": round(percentile(values, 50), 3),
        "p95": round(percentile(values, 95), 3),
        "max": round(max(values), 3),
    }


def compute_recovery(samples: Iterable[Sample], injected_at: float, slow_ms: float | None = None) -> RecoveryFigures:
    """Recovery figures from raw samples (any order); see the module docstring for definitions."""
    ordered = sorted(samples, key=lambda s: (s.t, s.target))
    by_target: dict[str, list[Sample]] = {}
    for sample in ordered:
        by_target.setdefault(sample.target, []).append(sample)
    start = ordered[0].t if ordered else injected_at
    end = ordered[-1].t if ordered else injected_at
    per_server: list[ServerRecovery] = []
    unrecovered: list[str] = []
    for target in sorted(by_target):
        after = [s for s in by_target[target] if s.t >= injected_at]
        bad = [s for s in after if not s.good(slow_ms)]
        if not bad:
            continue
        first_bad, last_bad = bad[0], bad[-1]
        good_after = [s for s in after if s.t > last_bad.t]
        if good_after:
            recovered = (last_bad.t + good_after[0].t) / 2
            mttr: float | None = round(recovered - injected_at, 3)
            downtime = recovered - injected_at
            recovered_iso: str | None = epoch_to_iso(recovered)
        else:
            mttr, recovered_iso, downtime = None, None, end - injected_at
            unrecovered.append(target)
        per_server.append(
            ServerRecovery(
                target,
                epoch_to_iso(first_bad.t),
                epoch_to_iso(last_bad.t),
                recovered_iso,
                mttr,
                round(max(0.0, downtime), 3),
                len(bad),
            )
        )
    mttrs = [s.mttr_s for s in per_server if s.mttr_s is not None]
    fleet = None if unrecovered else (max(mttrs) if mttrs else 0.0)
    good = sum(1 for s in ordered if s.good(slow_ms))
    return RecoveryFigures(
        injected_at=injected_at,
        observed_from=start,
        observed_to=end,
        targets_observed=len(by_target),
        per_server=tuple(per_server),
        unrecovered=tuple(unrecovered),
        fleet_mttr_s=fleet,
        mttr_summary=_summary(mttrs),
        good_ratio=round(good / len(ordered), 6) if ordered else 0.0,
        downtime_server_s=round(sum(s.downtime_s for s in per_server), 3),
        samples=len(ordered),
    )


def observed_downtime(samples: Iterable[Sample], since: float, slow_ms: float | None = None) -> dict[str, float]:
    """Server-seconds each target was seen down at or after ``since``: each bad sample stands for the time
    from the midpoint with its predecessor (``since`` for the first) to the midpoint with its successor
    (its own time for the last); resolution: half the sampling interval at each edge.

    >>> s = [Sample("a", 9.0, True), Sample("a", 10.5, False), Sample("a", 11.0, False), Sample("a", 11.5, True)]
    >>> observed_downtime(s, since=10.0)
    {'a': 1.25}
    """
    by_target: dict[str, list[Sample]] = {}
    for sample in sorted(samples, key=lambda s: (s.t, s.target)):
        if sample.t >= since:
            by_target.setdefault(sample.target, []).append(sample)
    out: dict[str, float] = {}
    for target, seen in sorted(by_target.items()):
        down = 0.0
        for i, sample in enumerate(seen):
            if sample.good(slow_ms):
                continue
            start = since if i == 0 else (seen[i - 1].t + sample.t) / 2
            end = sample.t if i == len(seen) - 1 else (sample.t + seen[i + 1].t) / 2
            down += max(0.0, end - start)
        if down > 0:
            out[target] = round(down, 3)
    return out


@dataclass(frozen=True)
class BudgetBurn:
    """The share of a period's error budget one experiment burned (never an availability projection)."""

    availability: float  # the objective, e.g. 0.999
    period_s: float  # the SLO period, e.g. 30 days
    servers: int  # the fleet the budget is shared by
    budget_server_s: float  # (1 - availability) x period x servers
    burned_server_s: float  # downtime the observer saw, summed over servers
    burned_share: float  # burned / budget (1.0 = the whole period's budget)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def error_budget_burn(downtime_server_s: float, servers: int, availability: float, period_s: float) -> BudgetBurn:
    """The error budget of ``servers`` over ``period_s`` at ``availability``, and the share ``downtime_server_s``
    of observed downtime burned of it.

    >>> b = error_budget_burn(25.92, 10, 0.999, 30 * 86400)
    >>> b.budget_server_s, b.burned_share
    (25920.0, 0.001)
    """
    if servers <= 0 or period_s <= 0 or not 0 < availability <= 1:
        raise ValueError("servers and period_s must be > 0 and availability in (0, 1]")
    budget = (1 - availability) * period_s * servers
    share = downtime_server_s / budget if budget > 0 else (0.0 if downtime_server_s <= 0 else float("inf"))
    return BudgetBurn(availability, period_s, servers, round(budget, 3), round(downtime_server_s, 3), round(share, 9))
