"""Comparable figures of one run, read from its evidence records (as dicts, so new fields never break it).

Each figure is a `Metric` with a stable key (`<family>:<subject>:<stat>`), a unit and which way is
better. Families: latency, throughput, capacity, mttr, rto, rpo, detection, score, slo, verdict (SLO met: 1/0). Records of types this
module does not know are skipped, except for numeric `score` / `*_score` fields (compliance and
security scores, whenever such records exist).

>>> [m.key for m in extract_metrics([{"type": "dr", "check": "drill", "disaster": "wipe", "rpo_s": 3.0}])]
['rpo:wipe:rpo_s']
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.stats import percentile

LOWER, HIGHER = "lower", "higher"
SLO_FAMILY = {
    "status_latency_p95_ms": "latency",
    "mttr_s": "mttr",
    "rto_s": "rto",
    "rpo_s": "rpo",
    "concurrent_servers": "capacity",
}


@dataclass(frozen=True)
class Metric:
    key: str
    family: str
    unit: str
    value: float
    better: str  # "lower" | "higher"
    check: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


Row = Mapping[str, Any]


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return float(value)


def _m(family: str, subject: str, stat: str, unit: str, value: Any, better: str, check: str) -> Iterator[Metric]:
    number = _num(value)
    if number is not None:
        yield Metric(f"{family}:{subject}:{stat}", family, unit, number, better, check)


def _latency(r: Row) -> Iterator[Metric]:
    samples = sorted(v for v in (_num(s) for s in r.get("samples_ms") or []) if v is not None)
    if samples:
        for q in (50, 95, 99):
            yield from _m("latency", str(r.get("check")), f"p{q}_ms", "ms", percentile(samples, q), LOWER, r["check"])


def _fleet(r: Row) -> Iterator[Metric]:
    check = str(r.get("check"))
    yield from _m("score", check, "serving_ratio", "ratio", r.get("serving_ratio"), HIGHER, check)
    yield from _m("throughput", check, "pings_per_s", "/s", r.get("pings_per_s"), HIGHER, check)


def _query(r: Row) -> Iterator[Metric]:
    total, answered = _num(r.get("total")), _num(r.get("answered"))
    if total:
        yield from _m(
            "score", str(r.get("check")), "answered_ratio", "ratio", (answered or 0) / total, HIGHER, r["check"]
        )


def _load(r: Row) -> Iterator[Metric]:
    check, metrics = str(r.get("check")), r.get("metrics") or {}
    subject = f"{check}[{r.get('shape', '')}]"
    for stat in ("status_p50_ms", "status_p95_ms", "status_p99_ms", "query_p95_ms"):
        yield from _m("latency", subject, stat, "ms", metrics.get(stat), LOWER, check)
    for stat in ("pings_per_s", "requests_per_s"):
        yield from _m("throughput", subject, stat, "/s", metrics.get(stat), HIGHER, check)
    yield from _m("score", subject, "failure_ratio", "ratio", metrics.get("failure_ratio"), LOWER, check)


def _recovery(r: Row) -> Iterator[Metric]:
    check, subject = str(r.get("check")), str(r.get("experiment") or r.get("check"))
    for stat in ("fleet_mttr_s", "mttr_p95_s", "mttr_max_s"):
        yield from _m("mttr", subject, stat, "s", r.get(stat), LOWER, check)
    yield from _m("score", subject, "good_sample_ratio", "ratio", r.get("good_sample_ratio"), HIGHER, check)


def _dr(r: Row) -> Iterator[Metric]:
    check, subject = str(r.get("check")), str(r.get("disaster") or r.get("check"))
    yield from _m("rpo", subject, "rpo_s", "s", r.get("rpo_s"), LOWER, check)
    yield from _m("rto", subject, "rto_s", "s", r.get("rto_s"), LOWER, check)
    yield from _m("throughput", subject, "restore_mib_s", "MiB/s", r.get("restore_throughput_mib_s"), HIGHER, check)


def _detection(r: Row) -> Iterator[Metric]:
    check = str(r.get("check"))
    yield from _m(
        "detection", str(r.get("alert") or check), "time_to_fire_s", "s", r.get("time_to_fire_s"), LOWER, check
    )


def _availability(r: Row) -> Iterator[Metric]:
    check = str(r.get("check"))
    yield from _m("score", check, "availability", "ratio", r.get("observer_availability"), HIGHER, check)
    yield from _m("score", check, "error_budget_consumed", "ratio", r.get("error_budget_consumed"), LOWER, check)


def _compliance(r: Row) -> Iterator[Metric]:
    check = str(r.get("check"))
    for framework, entry in (r.get("scores") or {}).items():
        if isinstance(entry, Mapping):
            yield from _m("score", f"compliance.{framework}", "score", "ratio", entry.get("score"), HIGHER, check)


def _generic_scores(r: Row) -> Iterator[Metric]:
    check = str(r.get("check") or r.get("type"))
    for name, value in r.items():
        if name == "score" or name.endswith("_score"):
            yield from _m("score", f"{r.get('type')}:{check}", name, "", value, HIGHER, check)


EXTRACTORS: dict[str, Callable[[Row], Iterator[Metric]]] = {
    "latency": _latency,
    "fleet_status": _fleet,
    "query": _query,
    "load": _load,
    "recovery": _recovery,
    "dr": _dr,
    "detection": _detection,
    "availability": _availability,
    "compliance_score": _compliance,
}
NOT_MEASURES = {"run", "run_end", "check", "slo"}


def _slos(rows: list[Row]) -> Iterator[Metric]:
    """One figure per SLO (its worst measurement) and whether it was met (1/0)."""
    by_slo: dict[str, list[Row]] = {}
    for r in rows:
        by_slo.setdefault(str(r.get("slo")), []).append(r)
    for slo, measured in sorted(by_slo.items()):
        lower = measured[0].get("comparator") == "<="
        values = [v for v in (_num(r.get("measured")) for r in measured) if v is not None]
        if values:
            worst = max(values) if lower else min(values)
            unit = str(measured[0].get("unit", ""))
            family = SLO_FAMILY.get(slo) or ("score" if unit == "ratio" else "slo")
            yield from _m(family, f"slo.{slo}", "measured", unit, worst, LOWER if lower else HIGHER, str(slo))
        met = 1.0 if all(r.get("passed") for r in measured) else 0.0
        yield Metric(f"verdict:slo.{slo}:met", "verdict", "met", met, HIGHER, str(slo))


def _inconclusive(r: Row, unsure_checks: set[str]) -> bool:
    """A record that measured nothing (its own verdict says so, or the check that wrote it was inconclusive):
    its placeholder figures (0 s RPO, a saturated generator's p95) must not read as a change.

    >>> _inconclusive({"verdict": "inconclusive"}, set()), _inconclusive({"check": "t", "verdict": "pass"}, {"t"})
    (True, True)
    """
    verdicts = {str(r.get(k, "")) for k in ("verdict", "load_verdict", "slo_verdict")}
    return "inconclusive" in verdicts or str(r.get("check", "")).rsplit("::", 1)[-1] in unsure_checks


def extract_metrics(records: Iterable[Row]) -> list[Metric]:
    """Every comparable figure of a run; keys repeated within a run get `#2`, `#3`... in record order."""
    rows = list(records)
    unsure = {str(r.get("check")) for r in rows if r.get("type") == "check" and r.get("outcome") == "inconclusive"}
    found: list[Metric] = []
    for r in rows:
        kind = str(r.get("type"))
        if kind in NOT_MEASURES or _inconclusive(r, unsure):
            continue
        found.extend(EXTRACTORS.get(kind, _generic_scores)(r))
    found.extend(_slos([r for r in rows if r.get("type") == "slo"]))
    seen: dict[str, int] = {}
    unique = []
    for metric in found:
        seen[metric.key] = seen.get(metric.key, 0) + 1
        n = seen[metric.key]
        unique.append(metric if n == 1 else Metric(f"{metric.key}#{n}", *list(asdict(metric).values())[1:]))
    return unique
