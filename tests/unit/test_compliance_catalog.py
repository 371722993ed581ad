"""The controls catalog in the repo is valid and consistent with the suites, and the scorer judges
controls satisfied / failing / unevidenced from evidence, with a window over earlier runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mcproof.compliance.catalog import Catalog, catalog_problems, known_slos, load_catalog, suite_check_names
from mcproof.compliance.score import RUN_KEY, gather_runs, score_catalog
from mcproof.config import Waiver
from mcproof.errors import ConfigError
from mcproof.evidence.records import RECORD_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_repo_catalog_is_consistent() -> None:
    catalog = load_catalog(ROOT / "compliance" / "controls.yaml")
    assert {"soc2", "cis-k8s", "platform"} == set(catalog.frameworks)
    ids = {c.id for c in catalog.controls}
    assert {"CC6.1", "CC6.6", "CC7.2", "CC7.4", "A1.2", "A1.3", "SC-AVAILABILITY", "SC-MTTR", "SC-DR"} <= ids
    problems = catalog_problems(
        catalog,
        checks=suite_check_names(ROOT / "suites"),
        record_types=set(RECORD_TYPES),
        slos=known_slos(),
    )
    assert problems == []


def test_bad_catalog_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "version: '1'\nframeworks: {f: F}\ncontrols: [{id: X, framework: f, title: t, fix: f, requires: [{}]}]\n"
    )
    with pytest.raises(
        ConfigError, match=r"c.yaml: field controls.0.requires.0: .*exactly one of check, evidence, slo"
    ):
        load_catalog(path)


CATALOG = Catalog.model_validate(
    {
        "version": "t",
        "frameworks": {"a": "A", "b": "B"},
        "controls": [
            {"id": "C1", "framework": "a", "title": "rcon", "fix": "fix rcon", "requires": [{"check": "test_rcon*"}]},
            {
                "id": "C2",
                "framework": "a",
                "title": "dr",
                "fix": "run dr",
                "requires": [{"evidence": "dr", "where": {"recovered": True}}, {"slo": "rto_s"}],
            },
            {"id": "C3", "framework": "b", "title": "kube", "fix": "add kube", "requires": [{"check": "test_kube"}]},
        ],
    }
)


def _check(
    name: str, outcome: str, message: str = "", run: str = "r1", at: str = "2026-11-25T00:00:00Z"
) -> dict[str, Any]:
    return {
        "type": "check",
        "check": name,
        "nodeid": f"suites/s.py::{name}",
        "outcome": outcome,
        "message": message,
        "recorded_at": at,
        RUN_KEY: run,
    }


def test_score_statuses() -> None:
    records = [
        _check("test_rcon_a", "passed"),
        _check("test_rcon_b", "failed", "mc-1 accepts a default password"),
        {"type": "dr", "recovered": True, "ended_at": "2026-11-25T00:00:00Z", "check": "d"},
        {"type": "slo", "slo": "rto_s", "passed": True, "measured": 10, "unit": "s", "comparator": "<=", "target": 900},
        _check("test_kube", "skipped", "the environment has no kubernetes section"),
    ]
    result = score_catalog(CATALOG, records)
    status = {c.id: c.status for c in result.controls}
    assert status == {"C1": "failing", "C2": "satisfied", "C3": "unevidenced"}
    assert result.scores["a"]["score"] == 0.5
    assert result.scores["b"]["score"] == 0.0
    c1 = result.controls[0].summary()
    assert "C1 rcon is FAILING" in c1
    assert "mc-1 accepts a default password" in c1
    assert c1.endswith("Fix: fix rcon")
    assert "skipped in this run (r1): the environment has no kubernetes section" in result.controls[2].summary()
    assert score_catalog(CATALOG, [{"type": "dr", "recovered": False}]).controls[1].status == "failing"


def test_earlier_failure_in_the_window_is_not_hidden_by_a_later_pass() -> None:
    records = [
        _check("test_rcon_b", "failed", "mc-1 accepts a default password", run="run-a", at="2026-11-20T10:00:00Z"),
        _check("test_rcon_a", "passed", run="run-b", at="2026-11-24T10:00:00Z"),
        _check("test_rcon_b", "passed", run="run-b", at="2026-11-24T10:00:01Z"),
    ]
    result = score_catalog(CATALOG, records, current_run="run-b")
    c1 = result.controls[0]
    assert c1.status == "failing"
    text = c1.requirements[0].evidence
    assert "suites/s.py::test_rcon_b failed in run run-a at 2026-11-20T10:00:00Z" in text
    assert "mc-1 accepts a default password" in text
    assert "a later pass (run run-b at 2026-11-24T10:00:01Z) does not clear it" in text
    assert result.scores["a"]["failing"] == 1
    # Once the failing run has aged out of the window (gather_runs drops it), the control is satisfied.
    assert score_catalog(CATALOG, records[1:], current_run="run-b").controls[0].status == "satisfied"


def test_a_compliance_window_check_is_judged_by_its_newest_run() -> None:
    catalog = Catalog.model_validate(
        {
            "version": "t",
            "frameworks": {"a": "A"},
            "controls": [
                {
                    "id": "D1",
                    "framework": "a",
                    "title": "drill",
                    "fix": "run a drill",
                    "requires": [{"check": "test_dr_drill_within_window"}],
                }
            ],
        }
    )
    missed = {
        **_check("test_dr_drill_within_window", "failed", "no drill in 30 days", run="run-a"),
        "suite": "compliance",
    }
    done = {
        **_check("test_dr_drill_within_window", "passed", run="run-b", at="2026-11-26T00:00:00Z"),
        "suite": "compliance",
    }
    # The check judges the window itself: once a drill was done, its newest outcome decides.
    assert score_catalog(catalog, [missed, done], current_run="run-b").controls[0].status == "satisfied"
    assert score_catalog(catalog, [done, {**missed, RUN_KEY: "run-c"}], current_run="run-c").controls[0].status == (
        "failing"
    )
    # The same history for a check of another suite keeps the earlier failure (the window rule).
    other = [{**r, "suite": "dr"} for r in (missed, done)]
    assert score_catalog(catalog, other, current_run="run-b").controls[0].status == "failing"


def test_evidence_and_slo_records_are_all_judged() -> None:
    dr_bad = {"type": "dr", "recovered": False, "ended_at": "2026-11-20T00:00:00Z", "check": "d", RUN_KEY: "run-a"}
    dr_ok = {**dr_bad, "recovered": True, "ended_at": "2026-11-24T00:00:00Z", RUN_KEY: "run-b"}
    slo = {
        "type": "slo",
        "slo": "rto_s",
        "passed": True,
        "measured": 10,
        "unit": "s",
        "comparator": "<=",
        "target": 900,
        "check": "d",
        RUN_KEY: "run-b",
    }
    c2 = score_catalog(CATALOG, [dr_bad, dr_ok, slo]).controls[1]
    assert c2.status == "failing"
    assert "dr record in run run-a at 2026-11-20T00:00:00Z (check d) has {'recovered': False}" in c2.summary()
    missed = {**slo, "passed": False, "measured": 1200, RUN_KEY: "run-a"}
    c2 = score_catalog(CATALOG, [missed, dr_ok, slo]).controls[1]
    assert c2.status == "failing"
    assert "SLO rto_s measurement in run run-a" in c2.summary()
    assert "measured 1200 s" in c2.summary()


def test_inconclusive_records_never_satisfy() -> None:
    records = [
        _check("test_rcon_a", "passed", run="run-a"),
        _check("test_rcon_a", "inconclusive", "fault not applied; fix the proxy", run="run-b"),
    ]
    c1 = score_catalog(CATALOG, records, current_run="run-b").controls[0]
    assert c1.status == "unevidenced"
    assert c1.requirements[0].status == "inconclusive"
    assert "inconclusive in run run-b" in c1.summary()
    assert "never satisfies" in c1.summary()
    # Evidence written by an inconclusive check does not satisfy either (nor fail).
    dr = {"type": "dr", "recovered": True, "check": "test_drill", RUN_KEY: "run-b"}
    slo = {"type": "slo", "slo": "rto_s", "passed": True, "check": "test_drill", RUN_KEY: "run-b"}
    outcome = _check("test_drill", "inconclusive", "no backup was taken", run="run-b")
    c2 = score_catalog(CATALOG, [dr, slo, outcome]).controls[1]
    assert c2.status == "unevidenced"
    assert {r.status for r in c2.requirements} == {"inconclusive"}


def test_skip_rule_this_run_versus_earlier_runs() -> None:
    passed_before = _check("test_kube", "passed", run="run-a", at="2026-11-20T00:00:00Z")
    skipped_now = _check("test_kube", "skipped", "the environment has no kubernetes section", run="run-b")
    # This run skipped it: an earlier pass is not carried over.
    c3 = score_catalog(CATALOG, [passed_before, skipped_now], current_run="run-b").controls[2]
    assert c3.status == "unevidenced"
    assert "skipped in this run (run-b): the environment has no kubernetes section" in c3.summary()
    assert "passes in earlier runs (run-a) do not count for a check this run skipped" in c3.summary()
    # An earlier run's skip measured nothing: a pass (in this run or another) decides.
    skipped_before = {**skipped_now, RUN_KEY: "run-a"}
    passed_now = {**passed_before, RUN_KEY: "run-b"}
    assert score_catalog(CATALOG, [skipped_before, passed_now], current_run="run-b").controls[2].status == "satisfied"
    # This run did not run the check at all (e.g. only the compliance suite ran): the window's passes count.
    assert score_catalog(CATALOG, [passed_before], current_run="run-b").controls[2].status == "satisfied"


def test_unevidenced_controls_are_listed_and_waivers_apply() -> None:
    waiver = Waiver(control="C3", reason="no cluster in this environment yet", owner="sre-team")
    records = [_check("test_rcon_a", "passed"), _check("test_kube", "skipped", "no kubernetes")]
    result = score_catalog(
        CATALOG, records, waivers={"C3": waiver, "C1": Waiver(control="C1", reason="n/a", owner="x")}
    )
    status = {c.id: c.status for c in result.controls}
    assert status == {"C1": "satisfied", "C2": "unevidenced", "C3": "waived"}
    assert [c.id for c in result.with_status("unevidenced")] == ["C2"]
    c3 = result.controls[2]
    assert c3.waiver == {"reason": "no cluster in this environment yet", "owner": "sre-team"}
    assert "(waived: no cluster in this environment yet -- sre-team)" in c3.summary()
    assert result.controls[0].waiver is None  # satisfied: nothing to waive
    assert result.scores["a"] == {
        "name": "A",
        "controls": 2,
        "satisfied": 1,
        "failing": 0,
        "unevidenced": 1,
        "waived": 0,
        "score": 0.5,
    }
    assert result.scores["b"]["waived"] == 1
    assert result.scores["b"]["score"] == 0.0
    # A waiver never hides a failing control.
    failing = score_catalog(CATALOG, [_check("test_kube", "failed", "boom")], waivers={"C3": waiver}).controls[2]
    assert failing.status == "failing"
    assert "a waiver does not cover a failing control" in failing.summary()


def _write_run(reports: Path, name: str, started: dt.datetime, env: str, extra: dict[str, Any]) -> None:
    run = reports / name
    run.mkdir(parents=True)
    lines = [{"type": "run", "environment": env, "started_at": started.isoformat().replace("+00:00", "Z")}, extra]
    (run / "evidence.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")


def test_gather_runs_window_and_environment(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
    reports = tmp_path / "reports"
    _write_run(reports, "a-old", now - dt.timedelta(days=40), "stg", {"type": "dr", "n": 1})
    _write_run(reports, "b-recent", now - dt.timedelta(days=3), "stg", {"type": "dr", "n": 2})
    _write_run(reports, "c-other-env", now - dt.timedelta(days=1), "prod", {"type": "dr", "n": 3})
    _write_run(reports, "d-current", now, "stg", {"type": "dr", "n": 4})
    records, runs = gather_runs(reports / "d-current", reports, environment="stg", window_days=30, now=now)
    assert runs == ["b-recent", "d-current"]
    assert [r["n"] for r in records if r["type"] == "dr"] == [2, 4]
    assert [r[RUN_KEY] for r in records if r["type"] == "dr"] == ["b-recent", "d-current"]
