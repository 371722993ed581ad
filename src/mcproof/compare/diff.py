"""`compare_runs(run_a, run_b)`: every figure of the baseline A against B, judged with thresholds.

Reads evidence only (`evidence.jsonl` of each run). A metric in one run but not the other is `new`
or `gone` (never a regression by itself; the `verdict:*:met` flags cover a lost SLO).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcproof.compare.metrics import LOWER, Metric, extract_metrics
from mcproof.compare.thresholds import Threshold, Thresholds
from mcproof.errors import EvidenceError

EVIDENCE = "evidence.jsonl"
REGRESSION, IMPROVEMENT, UNCHANGED, NEW, GONE = "regression", "improvement", "unchanged", "new", "gone"


@dataclass(frozen=True)
class RunRef:
    path: str
    run_id: str
    environment: str
    started_at: str


@dataclass(frozen=True)
class Delta:
    key: str
    family: str
    unit: str
    better: str
    a: float | None
    b: float | None
    change: float | None  # b - a
    relative: float | None  # (b - a) / |a|
    status: str  # regression | improvement | unchanged | new | gone
    threshold: Threshold


@dataclass(frozen=True)
class Comparison:
    a: RunRef
    b: RunRef
    deltas: tuple[Delta, ...]
    notes: tuple[str, ...]

    @property
    def regressions(self) -> tuple[Delta, ...]:
        return tuple(d for d in self.deltas if d.status == REGRESSION)

    @property
    def improvements(self) -> tuple[Delta, ...]:
        return tuple(d for d in self.deltas if d.status == IMPROVEMENT)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": "mcproof.compare/1",
            **asdict(self),
            "regressions": len(self.regressions),
            "improvements": len(self.improvements),
        }


def _read(run_dir: Path) -> tuple[RunRef, list[dict[str, Any]]]:
    path = run_dir / EVIDENCE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise EvidenceError(f"cannot read {path} ({err.strerror}); pass a run directory (reports/<run-id>)") from None
    rows = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise EvidenceError(f"{path}:{number}: damaged evidence line; the run cannot be compared") from None
        if isinstance(row, dict):
            rows.append(row)
    run = next((r for r in rows if r.get("type") == "run"), None)
    if run is None:
        raise EvidenceError(f"{path} has no run record; it was not written by mcproof")
    ref = RunRef(str(run_dir), str(run.get("run_id")), str(run.get("environment")), str(run.get("started_at")))
    return ref, rows


def judge(a: Metric | None, b: Metric | None, threshold: Threshold) -> Delta:
    """One figure's delta and status.

    >>> m = lambda v: Metric("latency:x:p95_ms", "latency", "ms", v, "lower", "x")
    >>> judge(m(1.0), m(51.0), Threshold(0.25, 2.0)).status, judge(m(10.0), m(11.0), Threshold(0.25, 2.0)).status
    ('regression', 'unchanged')
    """
    ref = a or b
    assert ref is not None
    if a is None or b is None:
        status = NEW if a is None else GONE
        if b is None and ref.family == "verdict" and not threshold.ignore:
            status = REGRESSION  # an SLO the baseline met and this run no longer evidences is not "gone": it is lost
        a_value = a.value if a is not None else None
        b_value = b.value if b is not None else None
        return Delta(ref.key, ref.family, ref.unit, ref.better, a_value, b_value, None, None, status, threshold)
    change = b.value - a.value
    relative = change / abs(a.value) if a.value else None
    worse = change > 0 if ref.better == LOWER else change < 0
    status = UNCHANGED
    if abs(change) > threshold.limit(a.value) and not threshold.ignore:
        status = REGRESSION if worse else IMPROVEMENT
    return Delta(ref.key, ref.family, ref.unit, ref.better, a.value, b.value, change, relative, status, threshold)


def compare_runs(run_a: Path, run_b: Path, thresholds: Thresholds | None = None) -> Comparison:
    """Compare B against the baseline A."""
    thresholds = thresholds or Thresholds()
    ref_a, rows_a = _read(run_a)
    ref_b, rows_b = _read(run_b)
    metrics_a = {m.key: m for m in extract_metrics(rows_a)}
    metrics_b = {m.key: m for m in extract_metrics(rows_b)}
    keys = list(metrics_a) + [k for k in metrics_b if k not in metrics_a]
    deltas = []
    for key in keys:
        ref = metrics_a.get(key) or metrics_b[key]
        deltas.append(judge(metrics_a.get(key), metrics_b.get(key), thresholds.for_metric(key, ref.family)))
    notes = []
    if ref_a.environment != ref_b.environment:
        notes.append(f"the runs are of different environments ({ref_a.environment} vs {ref_b.environment})")
    if not deltas:
        notes.append("no comparable figures in either run (no latency, load, recovery, DR or SLO evidence)")
    return Comparison(ref_a, ref_b, tuple(deltas), tuple(notes))
