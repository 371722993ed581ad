"""Score a controls catalog against evidence records (pure): per control satisfied / failing /
unevidenced with the evidence behind it and the fix, and per framework the share satisfied.

Evidence comes as plain dicts (evidence.jsonl lines), newest last; :func:`gather_runs` reads the
current run and earlier runs within the window.

>>> from mcproof.compliance.catalog import Catalog
>>> cat = Catalog.model_validate({"version": "1", "frameworks": {"f": "F"}, "controls": [
...     {"id": "X", "framework": "f", "title": "t", "fix": "do it", "requires": [{"check": "test_a"}]}]})
>>> rec = {"type": "check", "check": "test_a", "nodeid": "suites/s/test_s.py::test_a", "outcome": "failed",
...        "message": "boom", "recorded_at": "2026-11-25T00:00:00Z"}
>>> s = score_catalog(cat, [rec])
>>> s.scores["f"]["score"], s.controls[0].status
(0.0, 'failing')
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcproof.compliance.catalog import Catalog, Control, Requirement

__all__ = ["ControlResult", "ScoreResult", "gather_runs", "score_catalog"]

SATISFIED, FAILING, UNEVIDENCED = "satisfied", "failing", "unevidenced"


@dataclass(frozen=True)
class RequirementResult:
    requirement: str
    status: str  # met | failed | missing
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ControlResult:
    id: str
    framework: str
    title: str
    status: str
    requirements: list[RequirementResult]
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "requirements": [r.as_dict() for r in self.requirements]}

    def summary(self) -> str:
        bad = [r for r in self.requirements if r.status != "met"]
        why = "; ".join(f"{r.requirement}: {r.status} ({r.evidence})" for r in bad)
        return f"{self.framework} {self.id} {self.title} is {self.status.upper()}: {why}. Fix: {self.fix}"


@dataclass(frozen=True)
class ScoreResult:
    scores: dict[str, dict[str, Any]]
    controls: list[ControlResult]

    def not_satisfied(self) -> list[ControlResult]:
        return [c for c in self.controls if c.status != SATISFIED]


def _check(req: Requirement, records: list[dict[str, Any]]) -> RequirementResult:
    assert req.check is not None
    newest: dict[str, dict[str, Any]] = {}
    skipped: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.get("type") != "check" or not fnmatch.fnmatchcase(str(r.get("check")), req.check):
            continue
        (skipped if r.get("outcome") == "skipped" else newest)[str(r.get("nodeid"))] = r
    name = req.describe()
    if not newest:
        if skipped:
            first = next(iter(skipped.values()))
            return RequirementResult(name, "missing", f"skipped: {first.get('message', '')[:200]}")
        return RequirementResult(
            name, "missing", "no outcome in the runs considered" + (" (planned)" if req.planned else "")
        )
    failed = [r for r in newest.values() if r.get("outcome") != "passed"]
    if failed:
        r = failed[0]
        return RequirementResult(
            name, "failed", f"{r.get('nodeid')} {r.get('outcome')}: {str(r.get('message', ''))[:300]}"
        )
    latest = max(str(r.get("recorded_at", "")) for r in newest.values())
    return RequirementResult(name, "met", f"{len(newest)} check(s) passed, latest {latest}")


def _evidence(req: Requirement, records: list[dict[str, Any]]) -> RequirementResult:
    found = [r for r in records if r.get("type") == req.evidence]
    if not found:
        return RequirementResult(req.describe(), "missing", f"no {req.evidence} record in the runs considered")
    newest = found[-1]
    wrong = {k: newest.get(k) for k, v in req.where.items() if newest.get(k) != v}
    stamp = newest.get("recorded_at") or newest.get("ended_at") or newest.get("started_at") or ""
    if wrong:
        return RequirementResult(req.describe(), "failed", f"newest {req.evidence} record ({stamp}) has {wrong}")
    return RequirementResult(
        req.describe(), "met", f"newest {req.evidence} record ({stamp}, check {newest.get('check')})"
    )


def _slo(req: Requirement, records: list[dict[str, Any]]) -> RequirementResult:
    found = [r for r in records if r.get("type") == "slo" and r.get("slo") == req.slo]
    if not found:
        return RequirementResult(req.describe(), "missing", f"no measurement of SLO {req.slo}")
    r = found[-1]
    text = f"measured {r.get('measured')} {r.get('unit')} {r.get('comparator')} {r.get('target')} ({r.get('check')})"
    return RequirementResult(req.describe(), "met" if r.get("passed") else "failed", text)


def _judge(control: Control, records: list[dict[str, Any]]) -> ControlResult:
    results = []
    for req in control.requires:
        if req.check is not None:
            results.append(_check(req, records))
        elif req.evidence is not None:
            results.append(_evidence(req, records))
        else:
            results.append(_slo(req, records))
    statuses = {r.status for r in results}
    status = FAILING if "failed" in statuses else UNEVIDENCED if "missing" in statuses else SATISFIED
    return ControlResult(control.id, control.framework, control.title, status, results, control.fix)


def score_catalog(catalog: Catalog, records: Iterable[dict[str, Any]]) -> ScoreResult:
    """Judge every control; records in time order (newest last)."""
    ordered = list(records)
    controls = [_judge(c, ordered) for c in catalog.controls]
    scores: dict[str, dict[str, Any]] = {}
    for fw, name in catalog.frameworks.items():
        mine = [c for c in controls if c.framework == fw]
        counts = {s: sum(c.status == s for c in mine) for s in (SATISFIED, FAILING, UNEVIDENCED)}
        scores[fw] = {
            "name": name,
            "controls": len(mine),
            **counts,
            "score": round(counts[SATISFIED] / len(mine), 4) if mine else 0.0,
        }
    return ScoreResult(scores, controls)


def _run_started(lines: list[dict[str, Any]]) -> dt.datetime | None:
    for r in lines:
        if r.get("type") == "run":
            try:
                return dt.datetime.fromisoformat(str(r["started_at"]).replace("Z", "+00:00"))
            except (KeyError, ValueError):
                return None
    return None


def _read(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def gather_runs(
    current: Path, reports_dir: Path | None, *, environment: str, window_days: int, now: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Evidence of earlier runs of ``environment`` within the window (oldest first), then the current run."""
    now = now or dt.datetime.now(dt.UTC)
    earlier: list[tuple[dt.datetime, str, list[dict[str, Any]]]] = []
    if reports_dir is not None and reports_dir.is_dir():
        for path in sorted(reports_dir.glob("*/evidence.jsonl")):
            if path.parent.is_symlink() or path.parent.resolve() == current.resolve():
                continue
            lines = _read(path)
            started = _run_started(lines)
            run = next((r for r in lines if r.get("type") == "run"), {})
            if started is None or run.get("environment") != environment:
                continue
            if now - started <= dt.timedelta(days=window_days):
                earlier.append((started, path.parent.name, lines))
    earlier.sort(key=lambda x: x[0])
    records = [r for _, _, lines in earlier for r in lines]
    current_file = current / "evidence.jsonl"
    records += _read(current_file) if current_file.is_file() else []
    return records, [name for _, name, _ in earlier] + [current.name]
