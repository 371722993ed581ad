"""The sign-off report as data: `build_report(records)` turns a run's evidence into verdicts.

Pure: no I/O, no clients; the renderers (`render_json`, `render_markdown`, `render_html`) only read
the `Report` it returns. Three verdicts (`mcproof.verdict`): pass, fail, inconclusive. Rules:

- suite: `fail` if any check failed or errored; else `inconclusive` if any check was inconclusive
  (the harness could not measure: reason + fix); else `pass` if at least one passed; else `skipped`;
- SLO (every SLO the environment file declares — `environment_snapshot["slo_declared"]` — plus any
  other SLO that was measured):
  `fail` if any measurement failed, `pass` if measured and every measurement passed. Without a
  measurement it is `waived` when the environment waives it (reason + owner), `not in scope` when
  the suite that evidences it was not part of this run (`run_scope`), else `inconclusive` (declared,
  in scope, never measured). A measurement counts as passed only if its `passed` flag, its own
  target and the environment's objective agree. A declared player SLO (`players.slo.<field>`, named
  `players.<field>`, objective from the snapshot's `players.slo`) follows the same rule; besides, a
  player verdict that was inconclusive over a *gap* (`PlayerEvidence.slos[].gap`: evidence that could hide
  a miss) keeps it inconclusive even when another context measured a pass (a fail still fails);
- overall: `fail` if any suite or SLO failed (a NO-GO); else `inconclusive` without a `run_end`
  record, when no check ran (none, or all skipped), when a suite or an in-scope SLO is inconclusive,
  or when the run ended with a non-zero exit status and nothing failed; else `pass`. Inconclusive is
  never shown or counted as pass.

>>> build_report([]).verdict
Traceback (most recent call last):
...
mcproof.errors.EvidenceError: evidence has no run record; it was not written by mcproof (reports/<run-id>)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.errors import EvidenceError
from mcproof.evidence.records import (
    CheckOutcome,
    PlayerEvidence,
    Record,
    RunEnd,
    RunInfo,
    RunScope,
    SloMeasurement,
)
from mcproof.report.evidence_index import EvidenceItem, index_evidence
from mcproof.report.hints import fix_hint
from mcproof.report.players import PlayerPanel, build_player_panel
from mcproof.report.plots import Plot, build_plots
from mcproof.report.releases import ReleasePanel, build_release_panel
from mcproof.report.runbooks import RunbookPanel, build_runbook_panel

# slo key -> (suite that evidences it, comparator, unit)
SLO_CATALOG: dict[str, tuple[str, str, str]] = {
    "availability": ("smoke", ">=", "ratio"),  # an observed window (suites/smoke/test_monitoring.py)
    "mttr_s": ("chaos", "<=", "s"),
    "rto_s": ("dr", "<=", "s"),
    "rpo_s": ("dr", "<=", "s"),
    "concurrent_servers": ("load", ">=", "servers"),
    "status_latency_p95_ms": ("smoke", "<=", "ms"),
    "serving_ratio": ("smoke", ">=", "ratio"),
    # players.slo.<field> (docs/players.md): the suite whose run evidences each in a sign-off
    "players.join_success_ratio": ("smoke", ">=", "ratio"),  # suites/smoke/test_players.py (and load)
    "players.join_time_p50_s": ("smoke", "<=", "s"),
    "players.join_time_p95_s": ("smoke", "<=", "s"),
    "players.session_drop_ratio": ("smoke", "<=", "ratio"),
    "players.rejoin_time_max_s": ("chaos", "<=", "s"),  # kill-one-server-with-players
    "players.tps_min": ("load", ">=", "tps"),  # the load run's player population
    "players.tps_p5": ("load", ">=", "tps"),
}
PLAYER_PREFIX = "players."
NOT_EVIDENCED = "inconclusive"  # a declared, in-scope SLO without a measurement
WAIVED = "waived"
OUT_OF_SCOPE = "not in scope"
INCONCLUSIVE = "inconclusive"


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
    inconclusive: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.errors + self.skipped + self.inconclusive

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.errors + self.inconclusive

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "total": self.total}


@dataclass(frozen=True)
class SuiteResult(_AsDict):
    suite: str
    verdict: str  # pass | fail | inconclusive | skipped
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
    verdict: str  # pass | fail | inconclusive | waived | not in scope
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
    waiver: dict[str, str] | None = None


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
    verdict: str  # pass | fail | inconclusive
    reasons: tuple[str, ...]
    counts: CheckCounts
    suites: tuple[SuiteResult, ...]
    slos: tuple[SloResult, ...]
    failures: tuple[Failure, ...]
    evidence: tuple[EvidenceItem, ...]
    plots: tuple[Plot, ...] = ()
    players: PlayerPanel = field(default_factory=lambda: build_player_panel(()))
    runbooks: RunbookPanel = field(default_factory=lambda: build_runbook_panel(()))
    releases: ReleasePanel = field(default_factory=lambda: build_release_panel(()))

    @property
    def not_evidenced(self) -> tuple[SloResult, ...]:
        """Declared, in-scope SLOs nobody measured in this run (each makes the run inconclusive)."""
        return tuple(s for s in self.slos if s.verdict == NOT_EVIDENCED and not s.measurements)

    @property
    def waived(self) -> tuple[SloResult, ...]:
        return tuple(s for s in self.slos if s.verdict == WAIVED)

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "counts": self.counts.as_dict(),
            "not_evidenced": [s.slo for s in self.not_evidenced],
            "waived": [s.slo for s in self.waived],
        }


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
    known = {"passed", "skipped", "error", "inconclusive"}
    failed = sum(1 for o in outcomes if o not in known)  # unknown counts as failed
    return CheckCounts(
        outcomes.count("passed"),
        failed,
        outcomes.count("error"),
        outcomes.count("skipped"),
        outcomes.count("inconclusive"),
    )


def _anchors(index: Mapping[str, list[str]], *keys: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for key in keys if key for a in index.get(key, [])))


def _suites(checks: list[CheckOutcome], index: Mapping[str, list[str]]) -> tuple[SuiteResult, ...]:
    results = []
    for suite in sorted({c.suite for c in checks}):
        mine = [c for c in checks if c.suite == suite]
        counts = _count(mine)
        if counts.failed or counts.errors:
            verdict = "fail"
        elif counts.inconclusive:
            verdict = INCONCLUSIVE
        else:
            verdict = "pass" if counts.passed else "skipped"
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


def _unmeasured(name: str, suite: str, waiver: dict[str, str] | None, in_scope: bool) -> tuple[str, tuple[str, ...]]:
    if waiver is not None:
        return WAIVED, (f"waived by {waiver.get('owner', '?')}: {waiver.get('reason', '')}",)
    if not in_scope:
        return OUT_OF_SCOPE, (f"the {suite} suite was not part of this run",)
    return NOT_EVIDENCED, (f"declared but not measured in this run; run the {suite} suite to evidence it",)


def _slo(
    name: str,
    objective: float | None,
    measured: list[SloMeasurement],
    index: Mapping[str, list[str]],
    *,
    waiver: dict[str, str] | None = None,
    in_scope: bool = True,
    gaps: tuple[str, ...] = (),
) -> SloResult:
    suite, comparator, unit = SLO_CATALOG.get(name, ("unknown", "", ""))
    if not comparator and measured:
        comparator, unit = measured[0].comparator, measured[0].unit
    text = f"{name} {comparator} {objective:g} {unit}".strip() if objective is not None else name
    if not measured:
        verdict, notes = _unmeasured(name, suite, waiver, in_scope)
        if verdict == NOT_EVIDENCED and gaps:
            notes = tuple(f"inconclusive: {g}" for g in gaps)
        return SloResult(name, verdict, suite, text, objective, comparator, unit, notes=notes, waiver=waiver)
    rows = tuple(_judge(m, objective, comparator, index) for m in measured)
    target = objective if objective is not None else measured[0].target

    def margin(row: SloRow) -> float:
        value = _margin(row.measured, comparator or row.comparator, target)
        return value if math.isfinite(value) else -math.inf

    worst = min(rows, key=lambda r: (r.passed, margin(r)))
    verdict = "pass" if all(r.passed for r in rows) else "fail"
    notes = tuple(dict.fromkeys(n for r in rows for n in r.notes))
    if verdict == "pass" and gaps:  # a pass elsewhere does not cover a gap that could hide a miss
        verdict = WAIVED if waiver is not None else INCONCLUSIVE
        notes += tuple(f"inconclusive where measured with a gap: {g}" for g in gaps)
    return SloResult(
        slo=name,
        verdict=verdict,
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
        notes=notes,
        measurements=rows,
        waiver=waiver,
    )


def _objectives(run: RunInfo) -> dict[str, float | None]:
    snapshot = run.environment_snapshot if isinstance(run.environment_snapshot, dict) else {}
    slo = snapshot.get("slo")
    if not isinstance(slo, dict) or not slo:
        return dict.fromkeys(k for k in SLO_CATALOG if not k.startswith(PLAYER_PREFIX))
    players = snapshot.get("players")
    player_slo = players.get("slo") if isinstance(players, dict) else None
    if isinstance(player_slo, dict):
        slo = {**slo, **{PLAYER_PREFIX + str(k): v for k, v in player_slo.items() if v is not None}}
    declared = snapshot.get("slo_declared")  # the SLOs the environment file names (older runs: all of them)
    names = [str(k) for k in declared if k in slo] if isinstance(declared, list) else list(map(str, slo))
    order = list(SLO_CATALOG)
    keys = sorted(names, key=lambda k: (order.index(k) if k in order else len(order), k))
    return {k: float(slo[k]) if isinstance(slo[k], int | float) else None for k in keys}


def _waivers(run: RunInfo) -> dict[str, dict[str, str]]:
    snapshot = run.environment_snapshot if isinstance(run.environment_snapshot, dict) else {}
    found: dict[str, dict[str, str]] = {}
    for item in snapshot.get("waivers") or []:
        if isinstance(item, dict) and item.get("slo"):
            found[str(item["slo"])] = {"reason": str(item.get("reason", "")), "owner": str(item.get("owner", ""))}
    return found


def _player_gaps(records: Iterable[Record]) -> dict[str, tuple[str, ...]]:
    """players.<field> -> "context: reason" of each inconclusive player verdict flagged ``gap`` (evidence that
    could hide a miss: :class:`mcproof.players.judge.PlayerSloVerdict`)."""
    found: dict[str, list[str]] = {}
    for r in records:
        if not isinstance(r, PlayerEvidence):
            continue
        for v in r.slos:
            if isinstance(v, dict) and v.get("gap") and v.get("verdict") == INCONCLUSIVE and v.get("slo"):
                found.setdefault(str(v["slo"]), []).append(f"{r.context} ({r.check}): {v.get('reason', '')}")
    return {k: tuple(dict.fromkeys(v)) for k, v in found.items()}


def _in_scope(name: str, scope: RunScope | None) -> bool:
    """A run without a scope record is held to every declared SLO; otherwise to its suites' SLOs."""
    suite = SLO_CATALOG.get(name, ("unknown", "", ""))[0]
    return scope is None or suite == "unknown" or suite in scope.suites


def _overall(
    end: RunEnd | None,
    checks: Iterable[CheckOutcome],
    counts: CheckCounts,
    suites: Iterable[SuiteResult],
    slos: Iterable[SloResult],
) -> tuple[str, tuple[str, ...]]:
    suites, slos = list(suites), list(slos)
    unsure = []
    if end is None:
        unsure.append("no run_end record: the run did not finish (crashed or still running)")
    if counts.total == 0:
        unsure.append("no check ran")
    elif counts.ran == 0:
        unsure.append(f"every check was skipped ({counts.skipped})")
    unsure += [
        f"check {c.check} inconclusive: {c.message or 'no reason given'}" for c in checks if c.outcome == INCONCLUSIVE
    ]
    unsure += [
        f"SLO {s.slo} declared but not measured in this run (run the {s.suite} suite)"
        for s in slos
        if s.verdict == NOT_EVIDENCED and not s.measurements
    ]
    unsure += [
        f"SLO {s.slo} inconclusive: {'; '.join(s.notes) or 'a gap in its evidence'}"
        for s in slos
        if s.verdict == INCONCLUSIVE and s.measurements
    ]
    failed = [f"suite {s.suite} failed" for s in suites if s.verdict == "fail"]
    failed += [f"SLO {s.slo} failed" for s in slos if s.verdict == "fail"]
    if failed:
        return "fail", tuple(failed + unsure)
    if not unsure and end is not None and end.exit_status != 0:
        unsure.append(f"the run exited with status {end.exit_status} but no check or SLO failed")
    if unsure:
        return INCONCLUSIVE, tuple(unsure)
    waived = [s.slo for s in slos if s.verdict == WAIVED]
    note = f" ({len(waived)} waived: {', '.join(waived)})" if waived else ""
    return "pass", (f"every check that ran passed and every declared SLO in scope was measured and met{note}",)


def _hint(check: CheckOutcome) -> str:
    """An inconclusive check carries its own fix; other failures get the generic hint for their message."""
    if check.outcome == INCONCLUSIVE and "; fix: " in check.message:
        return check.message.split("; fix: ", 1)[1]
    return fix_hint(check.check, check.message)


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
    scopes = [r for r in records if isinstance(r, RunScope) and r.run_id == run.run_id]
    scope = scopes[-1] if scopes else None
    waivers = _waivers(run)
    objectives = _objectives(run)
    evidence = index_evidence(records, objectives.get("status_latency_p95_ms"))
    index: dict[str, list[str]] = {}
    for item in evidence:
        index.setdefault(item.check, []).append(item.anchor)
    measurements = [r for r in records if isinstance(r, SloMeasurement)]
    gaps = _player_gaps(records)
    names = list(objectives) + sorted({m.slo for m in measurements} - set(objectives))
    slos = tuple(
        _slo(
            n,
            objectives.get(n),
            [m for m in measurements if m.slo == n],
            index,
            waiver=waivers.get(n),
            in_scope=_in_scope(n, scope),
            gaps=gaps.get(n, ()) if n in objectives else (),
        )
        for n in names
    )
    suites = _suites(checks, index)
    counts = _count(checks)
    verdict, reasons = _overall(end, checks, counts, suites, slos)
    failures = tuple(
        Failure(
            c.suite,
            c.check,
            c.nodeid,
            c.outcome,
            c.message,
            _anchors(index, c.nodeid, c.check),
            _hint(c),
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
    return Report(
        summary,
        verdict,
        reasons,
        counts,
        suites,
        slos,
        failures,
        evidence,
        build_plots(records, objectives),
        build_player_panel(records),
        build_runbook_panel(records),
        build_release_panel(records),
    )
