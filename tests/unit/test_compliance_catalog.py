"""The controls catalog in the repo is valid and consistent with the suites, and the scorer judges
controls satisfied / failing / unevidenced from evidence, with a window over earlier runs."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mcproof.compliance.catalog import Catalog, catalog_problems, load_catalog, suite_check_names
from mcproof.compliance.score import gather_runs, score_catalog
from mcproof.config import Slo
from mcproof.errors import ConfigError
from mcproof.evidence.records import RECORD_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_repo_catalog_is_consistent() -> None:
    catalog = load_catalog(ROOT / "compliance" / "controls.yaml")
    assert {"soc2", "cis-k8s", "platform"} == set(catalog.frameworks)
    ids = {c.id for c in catalog.controls}
    assert {"CC6.1", "CC6.6", "CC7.2", "CC7.4", "A1.2", "A1.3", "SC-AVAILABILITY", "SC-MTTR", "SC-DR"} <= ids
    problems = catalog_problems(
        catalog, checks=suite_check_names(ROOT / "suites"), record_types=set(RECORD_TYPES), slos=set(Slo.model_fields)
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
            {"id": "C2", "framework": "a", "title": "dr", "fix": "run dr",
             "requires": [{"evidence": "dr", "where": {"recovered": True}}, {"slo": "rto_s"}]},
            {"id": "C3", "framework": "b", "title": "kube", "fix": "add kube", "requires": [{"check": "test_kube"}]},
        ],
    }
)  # fmt: skip


def _check(name: str, outcome: str, message: str = "") -> dict[str, Any]:
    return {"type": "check", "check": name, "nodeid": f"suites/s.py::{name}", "outcome": outcome, "message": message}


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
    assert "skipped: the environment has no kubernetes section" in result.controls[2].summary()
    # A later run fixing the failure wins (newest outcome per check).
    assert score_catalog(CATALOG, [*records, _check("test_rcon_b", "passed")]).controls[0].status == "satisfied"
    assert score_catalog(CATALOG, [{"type": "dr", "recovered": False}]).controls[1].status == "failing"


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
