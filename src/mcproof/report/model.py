"""The sign-off report as data: `build_report(records)` turns a run's evidence into verdicts.

Pure: no I/O, no clients; the renderers (`render_json`, `render_markdown`, `render_html`) only read
the `Report` it returns. Verdict rules:

- suite: `fail` if any check failed or errored, `pass` if at least one passed, else `skipped`
  (with the skip reasons);
- SLO (every key of the run's `environment_snapshot["slo"]`, plus any other SLO that was measured):
  `not evidenced` without a measurement, `fail` if any measurement failed, else `pass`. A measurement
  counts as passed only if its `passed` flag, its own target and the environment's objective agree;
- overall: `incomplete` without a `run_end` record, when no check ran (none, or all skipped), or
  when the run ended with a non-zero exit status and nothing failed; else `fail` if any suite or SLO
  failed; else `pass`.

>>> build_report([]).verdict
Traceback (most recent call last):
...
mcproof.errors.EvidenceError: evidence has no run record; it was not written by mcproof (reports/<run-id>)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.errors import EvidenceError
from mcproof.evidence.records import CheckOutcome, Record, RunEnd, RunInfo, SloMeasurement
from mcproof.report.evidence_index import EvidenceItem, index_evidence
from mcproof.report.hints import fix_hint
from mcproof.report.plots import Plot, build_plots

# slo key -> (suite that evidences it, comparator, unit)
SLO_CATALOG: dict[str, tuple[str, str, str]] = {
    "availability": ("chaos", ">=", "ratio"),
    "mttr_s": ("chaos", "<=", "s"),
    "rto_s": ("dr", "<=", "s"),
    "rpo_s": ("dr", "<=", "s"),
    "concurrent_servers": ("load", ">=", "servers"),
    "status_latency_p95_ms": ("smoke", "<=", "ms"),
    "serving_ratio": ("smoke", ">=", "ratio"),
}
NOT_EVIDENCED = "not evidenced"


@dataclass(frozen=True)
class _AsDict:
    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class RunSummary(_AsDict):
    run_id: str
    environment: str
    tier: str
    started_at: str
    ended_at: str | None
    exit_status: int | None
    mcproof_version: str
    host: str
    argv: tuple[str, ...]


@dataclass(frozen=True)
class CheckCounts(_AsDict):
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.errors

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


@dataclass(frozen=True)
class SuiteResult(_AsDict):
    suite: str
    verdict: str  # pass | fail | skipped
    counts: CheckCounts
    skip_reasons: tuple[str, ...]
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class SloRow(_AsDict):
    """One SloMeasurement record, as judged."""

    target: float
    measured: float
    unit: str
    comparator: str
    margin: float
    passed: bool
    method: str
    samples: int
    check: str
    recorded_at: str
    evidence: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class SloResult(_AsDict):
    """One SLO: the headline is its worst measurement; `suite` is the suite that evidences it."""

    slo: str
    verdict: str  # pass | fail | not evidenced
    suite: str
    objective: str
    target: float | None
    comparator: str
    unit: str
    measured: float | None = None
    margin: float | None = None
    method: str = ""
    samples: int = 0
    check: str = ""
    evidence: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    measurements: tuple[SloRow, ...] = ()


@dataclass(frozen=True)
class Failure(_AsDict):
    suite: str
    check: str
    nodeid: str
    outcome: str
    message: str
    evidence: tuple[str, ...]
    hint: str = ""


@dataclass(frozen=True)
class Report(_AsDict):
    run: RunSummary
    verdict: str  # pass | fail | incomplete
    reasons: tuple[str, ...]
    counts: CheckCounts
    suites: tuple[SuiteResult, ...]
    slos: tuple[SloResult, ...]
    failures: tuple[Failure, ...]
    evidence: tuple[EvidenceItem, ...]
    plots: tuple[Plot, ...] = ()

    @property
    def not_evidenced(self) -> tuple[SloResult, ...]:
        return tuple(s for s in self.slos if s.verdict == NOT_EVIDENCED)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "counts": self.counts.as_dict(), "not_evidenced": [s.slo for s in self.not_evidenced]}


def _meets(measured: float, comparator: str, target: float) -> bool | None:
    if comparator == "<=":
        return measured <= target
    if comparator == ">=":
        return measured >= target
    return None


def _margin(measured: float, comparator: str, target: float) -> float:
    return target - measured if comparator == "<=" else measured - target


def _count(checks: Iterable[CheckOutcome]) -> CheckCounts:
    outcomes = [c.outcome for c in checks]
    failed = sum(1 for o in outcomes if o not in {"passed", "skipped", "error"})  # unknown counts as failed
    return CheckCounts(outcomes.count("passed"), failed, outcomes.count("error"), outcomes.count("skipped"))


def _anchors(index: Mapping[str, list[str]], *keys: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for key in keys if key for a in index.get(key, [])))


def _suites(checks: list[CheckOutcome], index: Mapping[str, list[str]]) -> tuple[SuiteResult, ...]:
    results = []
    for suite in sorted({c.suite for c in checks}):
        mine = [c for c in checks if c.suite == suite]
        counts = _count(mine)
        verdict = "fail" if counts.failed or counts.errors else "pass" if counts.passed else "skipped"
        reasons = tuple(dict.fromkeys(c.message or "no reason given" for c in mine if c.outcome == "skipped"))
        evidence = tuple(dict.fromkeys(a for c in mine for a in _anchors(index, c.nodeid, c.check)))
        results.append(SuiteResult(suite, verdict, counts, reasons, evidence))
    return tuple(results)


def _judge(m: SloMeasurement, objective: float | None, comparator: str, index: Mapping[str, list[str]]) -> SloRow:
    notes = []
    own = _meets(m.measured, m.comparator, m.target)
    if own is None:
        notes.append(f"unknown comparator {m.comparator!r}; counted as failed")
    elif own != m.passed:
        notes.append(f"recorded passed={m.passed} but {m.measured} {m.comparator} {m.target} is {own}")
    env = True if objective is None else _meets(m.measured, comparator, objective)
    if objective is not None and not env:
        notes.append(f"misses the environment's objective {comparator} {objective} (measured against {m.target})")
    passed = bool(m.passed and own and env)
    return SloRow(
        m.target,
        m.measured,
        m.unit,
        m.comparator,
        m.margin,
        passed,
        m.method,
        m.samples,
        m.check,
        m.recorded_at,
        _anchors(index, m.check),
        tuple(notes),
    )


def _slo(
    name: str, objective: float | None, measured: list[SloMeasurement], index: Mapping[str, list[str]]
) -> SloResult:
    suite, comparator, unit = SLO_CATALOG.get(name, ("unknown", "", ""))
    if not comparator and measured:
        comparator, unit = measured[0].comparator, measured[0].unit
    text = f"{name} {comparator} {objective:g} {unit}".strip() if objective is not None else name
    if not measured:
        return SloResult(
            name,
            NOT_EVIDENCED,
            suite,
            text,
            objective,
            comparator,
            unit,
            notes=(f"no measurement; run the {suite} suite to evidence it",),
        )
    rows = tuple(_judge(m, objective, comparator, index) for m in measured)
    target = objective if objective is not None else measured[0].target

    def margin(row: SloRow) -> float:
        value = _margin(row.measured, comparator or row.comparator, target)
        return value if math.isfinite(value) else -math.inf

    worst = min(rows, key=lambda r: (r.passed, margin(r)))
    return SloResult(
        slo=name,
        verdict="pass" if all(r.passed for r in rows) else "fail",
        suite=suite,
        objective=measured[0].objective or text,
        target=target,
        comparator=comparator or worst.comparator,
        unit=unit or worst.unit,
        measured=worst.measured,
        margin=_margin(worst.measured, comparator or worst.comparator, target),
        method=worst.method,
        samples=worst.samples,
        check=worst.check,
        evidence=tuple(dict.fromkeys(a for r in rows for a in r.evidence)),
        notes=tuple(dict.fromkeys(n for r in rows for n in r.notes)),
        measurements=rows,
    )


def _objectives(run: RunInfo) -> dict[str, float | None]:
    slo = run.environment_snapshot.get("slo") if isinstance(run.environment_snapshot, dict) else None
    if not isinstance(slo, dict) or not slo:
        return dict.fromkeys(SLO_CATALOG)
    order = list(SLO_CATALOG)
    keys = sorted(map(str, slo), key=lambda k: (order.index(k) if k in order else len(order), k))
    return {k: float(slo[k]) if isinstance(slo[k], int | float) else None for k in keys}


def _overall(
    end: RunEnd | None, counts: CheckCounts, suites: Iterable[SuiteResult], slos: Iterable[SloResult]
) -> tuple[str, tuple[str, ...]]:
    reasons = []
    if end is None:
        reasons.append("no run_end record: the run did not finish (crashed or still running)")
    if counts.total == 0:
        reasons.append("no check ran")
    elif counts.ran == 0:
        reasons.append(f"every check was skipped ({counts.skipped})")
    failed = [f"suite {s.suite} failed" for s in suites if s.verdict == "fail"]
    failed += [f"SLO {s.slo} failed" for s in slos if s.verdict == "fail"]
    if reasons:
        return "incomplete", tuple(reasons + failed)
    if failed:
        return "fail", tuple(failed)
    if end is not None and end.exit_status != 0:
        return "incomplete", (f"the run exited with status {end.exit_status} but no check or SLO failed",)
    return "pass", ("every suite that ran passed and every evidenced SLO was met",)


def build_report(records: Iterable[Record]) -> Report:
    """Verdicts for one run from its evidence records (in the order written)."""
    records = list(records)
    runs = [r for r in records if isinstance(r, RunInfo)]
    if not runs:
        raise EvidenceError("evidence has no run record; it was not written by mcproof (reports/<run-id>)")
    run = runs[0]
    ends = [r for r in records if isinstance(r, RunEnd) and r.run_id == run.run_id]
    end = ends[-1] if ends else None
    checks = [r for r in records if isinstance(r, CheckOutcome)]
    objectives = _objectives(run)
    evidence = index_evidence(records, objectives.get("status_latency_p95_ms"))
    index: dict[str, list[str]] = {}
    for item in evidence:
        index.setdefault(item.check, []).append(item.anchor)
    measurements = [r for r in records if isinstance(r, SloMeasurement)]
    names = list(objectives) + sorted({m.slo for m in measurements} - set(objectives))
    slos = tuple(_slo(n, objectives.get(n), [m for m in measurements if m.slo == n], index) for n in names)
    suites = _suites(checks, index)
    counts = _count(checks)
    verdict, reasons = _overall(end, counts, suites, slos)
    failures = tuple(
        Failure(
            c.suite,
            c.check,
            c.nodeid,
            c.outcome,
            c.message,
            _anchors(index, c.nodeid, c.check),
            fix_hint(c.check, c.message),
        )
        for c in checks
        if c.outcome not in {"passed", "skipped"}
    )
    summary = RunSummary(
        run.run_id,
        run.environment,
        run.tier,
        run.started_at,
        end.ended_at if end else None,
        end.exit_status if end else None,
        run.mcproof_version,
        run.host,
        tuple(run.argv),
    )
    return Report(summary, verdict, reasons, counts, suites, slos, failures, evidence, build_plots(records, objectives))
