"""Score a controls catalog against every evidence record in its window (pure): per control satisfied /
failing / unevidenced / waived with the evidence behind it and the fix, per framework the counts.

Evidence comes as plain dicts (evidence.jsonl lines) in time order, oldest run first, each tagged with
its run id under ``RUN_KEY`` (:func:`gather_runs` reads the current run and earlier runs within the
window and tags them). The window rule, per requirement:

- **Every** relevant record in the window must pass. One failing record (a failed or errored check, an
  evidence record not matching ``where``, an SLO measurement that missed) makes the requirement
  *failed*, and the evidence names that record, its run and its time; a later pass does not clear it
  (the evidence says so). The window is how long a failure counts: it ages out, it is never overwritten.
- An ``inconclusive`` record (a check that could not measure, or evidence written by one) never
  satisfies: the requirement is *inconclusive* (the control unevidenced).
- A skip measures nothing. A skip in an **earlier** run is ignored (other records decide); a check
  **this run** skipped is *missing* even if earlier runs passed it: the current run says it could not
  check it here, so an old pass is not carried over.
- No record at all: *missing*.
- Exception: a check of the **compliance** suite itself (``test_dr_drill_within_window``...) already
  judges the window when it runs, so only its newest run's outcome counts; judging its old outcomes
  again would keep a control failing after the drill it missed was done.

A control is FAILING when any requirement failed, else UNEVIDENCED when any is inconclusive or
missing, else SATISFIED. An unevidenced control the environment waives (``waivers: [{control: ID,
reason, owner}]``) is WAIVED (listed with reason and owner, never counted as satisfied); a waiver
never hides a failing control.

>>> from mcproof.compliance.catalog import Catalog
>>> cat = Catalog.model_validate({"version": "1", "frameworks": {"f": "F"}, "controls": [
...     {"id": "X", "framework": "f", "title": "t", "fix": "do it", "requires": [{"check": "test_a"}]}]})
>>> rec = {"type": "check", "check": "test_a", "nodeid": "s.py::test_a", "outcome": "failed",
...        "message": "boom", "recorded_at": "2026-11-25T00:00:00Z", RUN_KEY: "run-1"}
>>> later = {**rec, "outcome": "passed", "recorded_at": "2026-11-26T00:00:00Z", RUN_KEY: "run-2"}
>>> s = score_catalog(cat, [rec, later])
>>> s.scores["f"]["failing"], s.controls[0].status
(1, 'failing')
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.compliance.catalog import Catalog, Control, Requirement
from mcproof.compliance.window import RUN_KEY, gather_runs
from mcproof.config import Waiver

__all__ = ["RUN_KEY", "ControlResult", "RequirementResult", "ScoreResult", "gather_runs", "score_catalog"]

SATISFIED, FAILING, UNEVIDENCED, WAIVED = "satisfied", "failing", "unevidenced", "waived"
STATUSES = (SATISFIED, FAILING, UNEVIDENCED, WAIVED)
MET, FAILED, INCONCLUSIVE, MISSING = "met", "failed", "inconclusive", "missing"
_NOT_FAILING = frozenset({"passed", "skipped", "inconclusive"})


@dataclass(frozen=True)
class RequirementResult:
    requirement: str
    status: str  # met | failed | inconclusive | missing
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ControlResult:
    id: str
    framework: str
    title: str
    status: str  # satisfied | failing | unevidenced | waived
    requirements: list[RequirementResult]
    fix: str
    waiver: dict[str, str] | None = None  # {reason, owner} when the environment waives the control

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "requirements": [r.as_dict() for r in self.requirements]}

    def summary(self) -> str:
        bad = [r for r in self.requirements if r.status != MET]
        why = "; ".join(f"{r.requirement}: {r.status} ({r.evidence})" for r in bad)
        text = f"{self.framework} {self.id} {self.title} is {self.status.upper()}: {why}."
        if self.waiver is not None:
            how = "waived" if self.status == WAIVED else "a waiver does not cover a failing control"
            text += f" ({how}: {self.waiver['reason']} -- {self.waiver['owner']})"
        return f"{text} Fix: {self.fix}"


@dataclass(frozen=True)
class ScoreResult:
    scores: dict[str, dict[str, Any]]
    controls: list[ControlResult]

    def with_status(self, status: str) -> list[ControlResult]:
        return [c for c in self.controls if c.status == status]

    def not_satisfied(self) -> list[ControlResult]:
        return [c for c in self.controls if c.status != SATISFIED]


def _run(r: Mapping[str, Any]) -> str:
    return str(r.get(RUN_KEY) or "?")


def _stamp(r: Mapping[str, Any]) -> str:
    return str(r.get("recorded_at") or r.get("ended_at") or r.get("observed_to") or r.get("started_at") or "?")


def _where(r: Mapping[str, Any]) -> str:
    return f"run {_run(r)} at {_stamp(r)}"


def _later_pass(first: int, rows: list[tuple[int, dict[str, Any]]], same: Any) -> str:
    """' ; a later pass ... does not clear it' when a passing row of the same subject follows index ``first``."""
    later = [r for i, r in rows if i > first and same(r)]
    if not later:
        return ""
    return f"; a later pass ({_where(later[-1])}) does not clear it: every record in the window must pass"


def _check(req: Requirement, records: list[dict[str, Any]], current: str) -> RequirementResult:
    assert req.check is not None
    pattern = req.check
    rows = [
        (i, r)
        for i, r in enumerate(records)
        if r.get("type") == "check" and fnmatch.fnmatchcase(str(r.get("check")), pattern)
    ]
    if rows and all(r.get("suite") == "compliance" for _, r in rows):
        newest = _run(rows[-1][1])  # a window check: its newest run's outcome supersedes the older ones
        rows = [(i, r) for i, r in rows if _run(r) == newest]
    name = req.describe()
    ran = [(i, r) for i, r in rows if r.get("outcome") != "skipped"]
    bad = [(i, r) for i, r in ran if r.get("outcome") not in _NOT_FAILING]
    if bad:
        i, r = bad[0]
        node = r.get("nodeid")
        text = f"{node} {r.get('outcome')} in {_where(r)}: {str(r.get('message', ''))[:300]}"
        if len(bad) > 1:
            text += f"; {len(bad) - 1} more failing record(s) in the window"
        passed = [(j, x) for j, x in ran if x.get("outcome") == "passed"]
        return RequirementResult(name, FAILED, text + _later_pass(i, passed, lambda x: x.get("nodeid") == node))
    parts: list[str] = []
    now = [r for _, r in rows if _run(r) == current]
    skipped_now = sorted(
        {str(r.get("nodeid")) for r in now if r.get("outcome") == "skipped"}
        - {str(r.get("nodeid")) for r in now if r.get("outcome") != "skipped"}
    )
    for node in skipped_now[:3]:
        msg = next(str(r.get("message", "")) for r in now if r.get("nodeid") == node)
        older = sorted({_run(r) for _, r in ran if r.get("nodeid") == node})
        text = f"{node} skipped in this run ({current}): {msg[:200]}"
        if older:
            text += f"; passes in earlier runs ({', '.join(older)}) do not count for a check this run skipped"
        parts.append(text)
    inconclusive = [r for _, r in ran if r.get("outcome") == "inconclusive"]
    if inconclusive:
        r = inconclusive[0]
        parts.insert(
            0,
            f"{r.get('nodeid')} inconclusive in {_where(r)}: {str(r.get('message', ''))[:300]}; "
            "an inconclusive record never satisfies a control",
        )
        return RequirementResult(name, INCONCLUSIVE, "; ".join(parts))
    if parts:
        return RequirementResult(name, MISSING, "; ".join(parts))
    if not ran:
        if rows:
            r = rows[-1][1]
            return RequirementResult(name, MISSING, f"skipped in {_where(r)}: {str(r.get('message', ''))[:200]}")
        return RequirementResult(
            name, MISSING, "no outcome in the runs considered" + (" (planned)" if req.planned else "")
        )
    runs = sorted({_run(r) for _, r in ran})
    checks = {str(r.get("nodeid")) for _, r in ran}
    latest = max(_stamp(r) for _, r in ran)
    return RequirementResult(
        name,
        MET,
        f"all {len(ran)} record(s) of {len(checks)} check(s) passed in run(s) {', '.join(runs)}, latest {latest}",
    )


def _inconclusive_checks(records: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(run, check name) of every inconclusive check: the evidence such a check wrote proves nothing."""
    return {
        (_run(r), str(r.get("check"))) for r in records if r.get("type") == "check" and r.get("outcome") == INCONCLUSIVE
    }


def _records_against(
    name: str, rows: list[tuple[int, dict[str, Any]]], inconclusive: set[tuple[str, str]], wrong: Any, what: str
) -> RequirementResult:
    """Judge records of one kind: any wrong one fails (named); any from an inconclusive check does not count."""
    if not rows:
        return RequirementResult(name, MISSING, f"no {what} in the runs considered")
    unsure = [(i, r) for i, r in rows if (_run(r), str(r.get("check"))) in inconclusive]
    judged = [(i, r) for i, r in rows if (_run(r), str(r.get("check"))) not in inconclusive]
    bad = [(i, r, wrong(r)) for i, r in judged if wrong(r)]
    if bad:
        i, r, why = bad[0]
        text = f"{what} in {_where(r)} (check {r.get('check')}) {why}"
        if len(bad) > 1:
            text += f"; {len(bad) - 1} more failing record(s) in the window"
        good = [(j, x) for j, x in judged if not wrong(x)]
        return RequirementResult(name, FAILED, text + _later_pass(i, good, lambda _x: True))
    if unsure:
        r = unsure[0][1]
        return RequirementResult(
            name,
            INCONCLUSIVE,
            f"{what} in {_where(r)} was written by check {r.get('check')}, which was inconclusive there; "
            "an inconclusive record never satisfies a control",
        )
    runs = sorted({_run(r) for _, r in judged})
    newest = judged[-1][1]
    return RequirementResult(
        name, MET, f"all {len(judged)} {what}(s) in run(s) {', '.join(runs)} hold, newest {_where(newest)}"
    )


def _evidence(req: Requirement, records: list[dict[str, Any]], unsure: set[tuple[str, str]]) -> RequirementResult:
    rows = [(i, r) for i, r in enumerate(records) if r.get("type") == req.evidence]

    def wrong(r: dict[str, Any]) -> str:
        bad = {k: r.get(k) for k, v in req.where.items() if r.get(k) != v}
        return f"has {bad} (required {req.where})" if bad else ""

    return _records_against(req.describe(), rows, unsure, wrong, f"{req.evidence} record")


def _slo(req: Requirement, records: list[dict[str, Any]], unsure: set[tuple[str, str]]) -> RequirementResult:
    rows = [(i, r) for i, r in enumerate(records) if r.get("type") == "slo" and r.get("slo") == req.slo]

    def wrong(r: dict[str, Any]) -> str:
        if r.get("passed"):
            return ""
        return (
            f"missed: measured {r.get('measured')} {r.get('unit')}, objective {r.get('comparator')} {r.get('target')}"
        )

    return _records_against(req.describe(), rows, unsure, wrong, f"SLO {req.slo} measurement")


def _judge(
    control: Control, records: list[dict[str, Any]], current: str, unsure: set[tuple[str, str]], waiver: Waiver | None
) -> ControlResult:
    results = []
    for req in control.requires:
        if req.check is not None:
            results.append(_check(req, records, current))
        elif req.evidence is not None:
            results.append(_evidence(req, records, unsure))
        else:
            results.append(_slo(req, records, unsure))
    statuses = {r.status for r in results}
    status = FAILING if FAILED in statuses else SATISFIED if statuses == {MET} else UNEVIDENCED
    waived = {"reason": waiver.reason, "owner": waiver.owner} if waiver is not None else None
    if status == UNEVIDENCED and waived is not None:
        status = WAIVED
    if status == SATISFIED:
        waived = None  # nothing to waive
    return ControlResult(control.id, control.framework, control.title, status, results, control.fix, waived)


def score_catalog(
    catalog: Catalog,
    records: Iterable[dict[str, Any]],
    *,
    current_run: str | None = None,
    waivers: Mapping[str, Waiver] | None = None,
) -> ScoreResult:
    """Judge every control against every record (time order, oldest first, tagged with RUN_KEY).

    ``current_run``: this run's id (default: the run of the last record); ``waivers``: control id -> waiver.
    """
    ordered = list(records)
    current = current_run or (_run(ordered[-1]) if ordered else "?")
    unsure = _inconclusive_checks(ordered)
    controls = [_judge(c, ordered, current, unsure, (waivers or {}).get(c.id)) for c in catalog.controls]
    scores: dict[str, dict[str, Any]] = {}
    for fw, name in catalog.frameworks.items():
        mine = [c for c in controls if c.framework == fw]
        counts = {s: sum(c.status == s for c in mine) for s in STATUSES}
        scores[fw] = {
            "name": name,
            "controls": len(mine),
            **counts,
            "score": round(counts[SATISFIED] / len(mine), 4) if mine else 0.0,  # waived never count as satisfied
        }
    return ScoreResult(scores, controls)
