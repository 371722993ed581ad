"""Run-level plots as data: what people would rather look at than read, built only from evidence.

Each `Plot` is drawn by `svg.py` and links to the evidence it came from (`ev-N`). A plot
exists only when its evidence does:

- `latency_over_time`: status latency p50/p95 per time slice of each latency record, SLO line;
- `load_throughput`: status pings per second over a load run; `load_latency`: its percentiles;
- `recovery_time`: fleet MTTR per chaos experiment against the MTTR SLO;
- `availability_timeline`: share of observed servers serving over time, fault windows shaded;
- `dr_objectives`: RPO and RTO per drill against their targets;
- `detection_time`, `detection_timeline`, `availability_agreement`, `error_budget`: see `plots_monitoring`;
- `compliance_score`: score per framework (`compliance_score` records' `scores[framework].score`, or
  any record with `framework` and a numeric `score`).

>>> [p.kind for p in build_plots([])]
[]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from mcproof.evidence.records import Record
from mcproof.report.record_summary import is_raw
from mcproof.stats import percentile

SLICES = 20


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Plot:
    """A line chart (`series`) or a bar chart (`bars`); `lines` are reference levels, `windows` shaded x ranges."""

    anchor: str
    kind: str
    title: str
    x_label: str
    y_label: str
    evidence: tuple[str, ...]
    series: tuple[Series, ...] = ()
    bars: tuple[tuple[str, float], ...] = ()
    lines: tuple[tuple[str, float], ...] = ()
    windows: tuple[tuple[float, float, str], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float) and math.isfinite(value):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


def _sliced(points: list[tuple[float, float]], slices: int = SLICES) -> list[tuple[float, list[float]]]:
    """Group (t, value) by time slice; t relative to the first point, slice centre as x."""
    if not points:
        return []
    t0, t1 = points[0][0], max(p[0] for p in points)
    width = max((t1 - t0) / slices, 1e-6)
    groups: dict[int, list[float]] = {}
    for t, v in points:
        groups.setdefault(min(slices - 1, int((t - t0) / width)), []).append(v)
    return [(round((i + 0.5) * width, 3), groups[i]) for i in sorted(groups)]


def _latency(anchor: str, r: Mapping[str, Any], slo_ms: float | None) -> Iterator[Plot]:
    pairs = [(_epoch(t), _num(v)) for t, v in zip(r.get("sample_times") or [], r.get("samples_ms") or [], strict=False)]
    points = sorted((t, v) for t, v in pairs if t is not None and v is not None)
    groups = _sliced(points)
    if len(groups) < 2:  # all samples at one instant: nothing to show over time (the histogram has it)
        return
    series = tuple(Series(f"p{q}", tuple((x, percentile(sorted(vs), q)) for x, vs in groups)) for q in (50, 95))
    top = max(p[1] for s in series for p in s.points)
    lines = (("SLO", slo_ms),) if slo_ms is not None and slo_ms <= 3 * top else ()
    note = f" (SLO {slo_ms:g} ms off scale)" if slo_ms is not None and not lines else ""
    yield Plot(
        f"plot-{anchor}",
        "latency_over_time",
        f"Status latency over time: {r.get('check')}{note}",
        "seconds since first sample",
        "ms",
        (anchor,),
        series=series,
        lines=lines,
    )


def _load(anchor: str, r: Mapping[str, Any]) -> Iterator[Plot]:
    rows = [row for row in r.get("status_per_second") or [] if isinstance(row, list | tuple) and len(row) == 2]
    if rows:
        series = (Series("status pings/s", tuple((float(t), float(n)) for t, n in rows)),)
        yield Plot(
            f"plot-{anchor}-rate",
            "load_throughput",
            f"Load throughput: {r.get('shape')} ({r.get('check')})",
            "seconds since start",
            "pings/s",
            (anchor,),
            series=series,
        )
    status = r.get("status_ms") or {}
    bars = tuple((q, v) for q in ("p50", "p90", "p95", "p99", "max") if (v := _num(status.get(q))) is not None)
    if bars:
        yield Plot(
            f"plot-{anchor}-latency",
            "load_latency",
            f"Load status latency percentiles ({r.get('check')})",
            "percentile",
            "ms",
            (anchor,),
            bars=bars,
        )


def _availability(anchor: str, r: Mapping[str, Any]) -> Iterator[Plot]:
    samples = [(t, bool(s.get("ok"))) for s in r.get("timeline") or [] if (t := _epoch(s.get("t"))) is not None]
    samples.sort()
    groups = _sliced([(t, 1.0 if ok else 0.0) for t, ok in samples], 40)
    if not groups:
        return
    t0 = samples[0][0]
    bad = [t - t0 for t, ok in samples if not ok]
    windows: tuple[tuple[float, float, str], ...] = ((min(bad), max(bad), "failing samples"),) if bad else ()
    injected = _epoch(r.get("injected_at"))
    lines = (("serving", 1.0),)
    if injected is not None:
        windows += ((injected - t0, injected - t0, "fault injected"),)
    series = (Series("share serving", tuple((x, sum(vs) / len(vs)) for x, vs in groups)),)
    yield Plot(
        f"plot-{anchor}",
        "availability_timeline",
        f"Availability during {r.get('experiment') or r.get('check')}",
        "seconds since observation start",
        "share serving",
        (anchor,),
        series=series,
        lines=lines,
        windows=windows,
    )


def build_plots(records: Iterable[Record], slo: Mapping[str, float | None] | None = None) -> tuple[Plot, ...]:
    """Every plot the evidence supports, anchors numbered as `index_evidence` numbers records."""
    slo = slo or {}
    plots: list[Plot] = []
    recovery: list[tuple[str, Mapping[str, Any]]] = []
    drills: list[tuple[str, Mapping[str, Any]]] = []
    scores: list[tuple[str, Mapping[str, Any]]] = []
    detections: list[tuple[str, Mapping[str, Any]]] = []
    availability: list[tuple[str, Mapping[str, Any]]] = []
    for number, record in enumerate((r for r in records if is_raw(r)), start=1):
        anchor, data = f"ev-{number}", record.as_dict()
        kind = data.get("type")
        if kind == "latency":
            plots.extend(_latency(anchor, data, slo.get("status_latency_p95_ms")))
        elif kind == "load":
            plots.extend(_load(anchor, data))
        elif kind == "recovery":
            recovery.append((anchor, data))
            plots.extend(_availability(anchor, data))
        elif kind == "dr":
            drills.append((anchor, data))
        elif kind == "detection":
            detections.append((anchor, data))
        elif kind == "availability":
            availability.append((anchor, data))
        if _num(data.get("score")) is not None and data.get("framework"):
            scores.append((anchor, {"framework": data["framework"], "score": data["score"]}))
        per_framework = data.get("scores") if kind == "compliance_score" else None
        if isinstance(per_framework, Mapping):
            scores += [
                (anchor, {"framework": fw, "score": v.get("score")})
                for fw, v in per_framework.items()
                if isinstance(v, Mapping) and _num(v.get("score")) is not None
            ]
    if recovery:
        bars = tuple(
            (str(d.get("experiment")), v) for _, d in recovery if (v := _num(d.get("fleet_mttr_s"))) is not None
        )
        mttr = slo.get("mttr_s") or _num(recovery[0][1].get("mttr_slo_s"))
        plots.append(
            Plot(
                "plot-recovery",
                "recovery_time",
                "Recovery time (fleet MTTR) per chaos experiment",
                "experiment",
                "s",
                tuple(a for a, _ in recovery),
                bars=bars,
                lines=(("MTTR SLO", mttr),) if mttr else (),
            )
        )
    if drills:
        bars = tuple(
            (f"{d.get('disaster')} {k[:3].upper()}", v)
            for _, d in drills
            for k in ("rpo_s", "rto_s")
            if (v := _num(d.get(k))) is not None
        ) + tuple(
            (f"{d.get('disaster')} first player join", v)
            for _, d in drills
            if (v := _num(d.get("first_player_join_s"))) is not None
        )
        lines = tuple((f"{k[:3].upper()} SLO", v) for k in ("rpo_s", "rto_s") if (v := slo.get(k)) is not None)
        plots.append(
            Plot(
                "plot-dr",
                "dr_objectives",
                "Disaster recovery: RPO, RTO and first player join (from the restore end) per drill",
                "drill",
                "s",
                tuple(a for a, _ in drills),
                bars=bars,
                lines=lines,
            )
        )
    if detections or availability:
        from mcproof.report.plots_monitoring import monitoring_plots

        plots.extend(monitoring_plots(detections, availability))
    if scores:
        bars = tuple((str(d.get("framework")), float(d["score"])) for _, d in scores)
        plots.append(
            Plot(
                "plot-compliance",
                "compliance_score",
                "Compliance score per framework",
                "framework",
                "score",
                tuple(dict.fromkeys(a for a, _ in scores)),
                bars=bars,
            )
        )
    return tuple(plots)
