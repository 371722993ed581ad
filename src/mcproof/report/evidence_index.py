"""Evidence index: one summary per raw evidence record, with an anchor the verdict rows link to.

Raw records (fleet sweeps, latency samples, query results) can hold thousands of entries; the
report keeps only what a reader needs to judge them: totals, the time window, failures by kind and
a latency histogram (bins computed here, drawn by `svg.py`), so `report.json` stays small.

>>> from mcproof.evidence import QueryEvidence
>>> item = summarize_evidence(1, QueryEvidence("e", "query", "t::q", "a", "b", 2, 1, [], []))
>>> (item.anchor, item.totals["answered"], item.bar.failures_by_kind if item.bar else None)
('ev-1', 1, {'unlisted': 1})
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.evidence.records import FleetStatusEvidence, LatencyEvidence, QueryEvidence, Record
from mcproof.report.record_summary import generic_fields, is_raw
from mcproof.stats import percentile

EVIDENCE_TYPES = (FleetStatusEvidence, LatencyEvidence, QueryEvidence)
HISTOGRAM_BINS = 24

Scalar = int | float | str


@dataclass(frozen=True)
class BarPlot:
    """How many of `total` were fine (`ok`), and the rest by error kind."""

    ok_label: str
    total: int
    ok: int
    failures_by_kind: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LatencyPlot:
    """A latency histogram over [0, bin_edges[-1]] with the p95 and the SLO objective.

    `beyond` samples lie past the last edge (outliers) and are counted in the last bin.
    """

    count: int
    min_ms: float
    p50_ms: float
    p95_ms: float
    max_ms: float
    slo_ms: float | None
    bin_edges: tuple[float, ...]
    bin_counts: tuple[int, ...]
    beyond: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvidenceItem:
    """One raw evidence record, summarized; `anchor` is its id in the HTML report (`#ev-N`)."""

    anchor: str
    type: str
    check: str
    method: str
    started_at: str
    ended_at: str
    totals: dict[str, Scalar]
    bar: BarPlot | None = None
    latency: LatencyPlot | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _kind(entry: Mapping[str, Any]) -> str:
    return str(entry.get("error_kind") or entry.get("kind") or "error")


def failures_by_kind(
    total: int, ok: int, results: Sequence[Mapping[str, Any]], failures: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """Not-ok count by error kind; from full results when present (failure lists may be capped).

    Whatever the listed entries do not account for is reported as `unlisted`, never dropped.

    >>> failures_by_kind(5, 2, [], [{"error_kind": "timeout"}])
    {'unlisted': 2, 'timeout': 1}
    """
    listed = [r for r in results if not r.get("ok")] if results else list(failures)
    counts = Counter(_kind(entry) for entry in listed)
    missing = (total - ok) - sum(counts.values())
    if missing > 0:
        counts["unlisted"] += missing
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def histogram(samples: Sequence[float], slo_ms: float | None, bins: int = HISTOGRAM_BINS) -> LatencyPlot | None:
    """Bin finite samples over [0, hi]; hi reaches the SLO line only when it is on a readable scale.

    >>> plot = histogram([1.0, 2.0, 3.0, 4.0], 5.0, bins=5)
    >>> (plot.bin_edges[-1], plot.bin_counts) if plot else None
    (5.0, (0, 1, 1, 1, 1))
    """
    values = sorted(float(s) for s in samples if isinstance(s, int | float) and math.isfinite(s))
    if not values:
        return None
    cap = 3 * percentile(values, 95)  # outliers past 3 x p95 must not flatten the rest: counted as `beyond`
    high = max(max(v for v in values if v <= cap) if values[-1] > cap else values[-1], 1e-9)
    if slo_ms is not None and math.isfinite(slo_ms) and 0 < slo_ms <= 2 * high:
        high = max(high, slo_ms)
    width = high / bins
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, max(0, int(value / width)))] += 1
    return LatencyPlot(
        count=len(values),
        min_ms=values[0],
        p50_ms=percentile(values, 50),
        p95_ms=percentile(values, 95),
        max_ms=values[-1],
        slo_ms=slo_ms,
        bin_edges=tuple(round(width * i, 6) for i in range(bins + 1)),
        bin_counts=tuple(counts),
        beyond=sum(1 for v in values if v > high),
    )


def summarize_evidence(number: int, record: Record, slo_latency_ms: float | None = None) -> EvidenceItem:
    """Summary of one raw evidence record; `number` makes its anchor (`ev-<number>`)."""
    anchor = f"ev-{number}"
    if isinstance(record, FleetStatusEvidence):
        totals: dict[str, Scalar] = {
            "total": record.total,
            "serving": record.serving,
            "serving_ratio": record.serving_ratio,
            "threshold": record.threshold,
            "concurrency": record.concurrency,
            "timeout_s": record.timeout_s,
            "duration_s": record.duration_s,
            "pings_per_s": record.pings_per_s,
        }
        bar = BarPlot(
            "serving",
            record.total,
            record.serving,
            failures_by_kind(record.total, record.serving, record.results, record.failures),
        )
        return EvidenceItem(
            anchor, record.record_type, record.check, record.method, record.started_at, record.ended_at, totals, bar=bar
        )
    if isinstance(record, LatencyEvidence):
        plot = histogram(record.samples_ms, slo_latency_ms)
        totals = {
            "servers": record.servers,
            "rounds": record.rounds,
            "samples": len(record.samples_ms),
            "failures": record.failures,
        }
        if plot is not None:
            totals.update({"p50_ms": plot.p50_ms, "p95_ms": plot.p95_ms, "max_ms": plot.max_ms})
        return EvidenceItem(
            anchor,
            record.record_type,
            record.check,
            record.method,
            record.started_at,
            record.ended_at,
            totals,
            latency=plot,
        )
    if isinstance(record, QueryEvidence):
        totals = {"total": record.total, "answered": record.answered, "failures": record.total - record.answered}
        bar = BarPlot(
            "answered",
            record.total,
            record.answered,
            failures_by_kind(record.total, record.answered, record.results, record.failures),
        )
        return EvidenceItem(
            anchor, record.record_type, record.check, record.method, record.started_at, record.ended_at, totals, bar=bar
        )
    if not is_raw(record):
        raise TypeError(f"{type(record).__name__} is not raw evidence")
    kind, check, method, started, ended, totals = generic_fields(record)
    return EvidenceItem(anchor, kind, check, method, started, ended, totals)


def index_evidence(records: Iterable[Record], slo_latency_ms: float | None = None) -> tuple[EvidenceItem, ...]:
    """Summaries of every raw evidence record of any registered type, numbered in the order written
    (`ev-1`, `ev-2`...); types without a specific view get a generic summary (`record_summary.py`)."""
    raw = [r for r in records if is_raw(r)]
    return tuple(summarize_evidence(n, r, slo_latency_ms) for n, r in enumerate(raw, start=1))
