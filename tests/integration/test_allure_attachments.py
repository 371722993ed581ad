"""Allure results of a smoke run carry, per check, the evidence that check appended (issue 8)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from suite_runs import run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration


def _results(allure_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(allure_dir.glob("*-result.json"))]


def test_smoke_checks_attach_their_evidence(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=20)
    sandbox.inject(["mc-00002"], "refuse")
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    run = run_suite(env_file, tmp_path / "reports", timeout=120)
    assert run.code == 1, run.output
    assert run.run_dir is not None
    allure_dir = run.run_dir / "allure-results"
    results = {r["name"]: r for r in _results(allure_dir) if "test_minecraft" in r.get("fullName", "")}
    assert results, sorted(p.name for p in allure_dir.iterdir())

    attached: dict[str, list[tuple[str, str]]] = {}
    for name, result in results.items():
        for attachment in result.get("attachments", []):
            path = allure_dir / attachment["source"]
            assert path.is_file(), attachment  # every referenced attachment exists
            attached.setdefault(name, []).append((attachment["name"], path.read_text()))

    fleet = [
        json.loads(body)
        for bodies in attached.values()
        for title, body in bodies
        if title.startswith("evidence: fleet_status")
    ]
    assert len(fleet) == 1, {k: [t for t, _ in v] for k, v in attached.items()}  # once: where it was measured
    assert fleet[0]["total"] == 20
    assert [(f["target"], f["error_kind"]) for f in fleet[0]["failures"]] == [("mc-00002", "refused")]
    slos = [json.loads(b) for bodies in attached.values() for t, b in bodies if t.startswith("evidence: slo")]
    assert {s["slo"] for s in slos} >= {"serving_ratio"}
    titles = {t for bodies in attached.values() for t, _ in bodies}
    assert not any(t.startswith("evidence: check") for t in titles)  # bookkeeping is not re-attached
