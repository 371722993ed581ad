"""The compliance suite over real runs: the security suite runs first against a sandbox, then the
compliance suite scores the catalog from that run's evidence (earlier runs within the window count).
Hardened: no control fails; weak: CC6.1/CC6.6/CIS controls FAIL naming the evidence and the fix, and
the score drops. The window: a failing security run followed by a passing one still fails CC6.1, naming
the failing run; unevidenced controls make the suite inconclusive until the environment waives them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
ROOT = Path(__file__).resolve().parents[2]


def _run_both(sandbox: Sandbox, tmp_path: Path, *, weak: bool) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    rcon = {"name": "rcon", "protocol": "tcp", "role": "rcon"}
    security = {
        "exposure": {
            "forbidden": [rcon] if weak else [],
            "management": [] if weak else [{**rcon, "reason": "test: the harness is the management plane"}],
            "connect_timeout_s": 0.5,
        },
        "rcon_servers": 4,
        "fuzz": {"cases": 8, "servers": 1, "read_timeout_s": 0.2},
        "manifests": {"directory": str(ROOT / "fixtures" / "manifests" / ("weak" if weak else "hardened"))},
    }
    reports = tmp_path / "reports"
    env = write_environment(
        tmp_path / "env.yaml", sandbox.state_dir, security=security, compliance={"reports_dir": str(reports)}
    )
    first = run_suite(env, reports, "-k", "not checkov", suite="security", timeout=120)
    assert first.code == (1 if weak else 0), first.output
    second = run_suite(env, reports, suite="compliance", timeout=60)
    score = next(r for r in second.evidence() if r["type"] == "compliance_score")
    assert first.run_dir is not None
    assert score["runs"][0] == first.run_dir.name
    return score, check_outcomes(second)


def test_hardened_run_fails_only_for_the_missing_drills(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    score, outcomes = _run_both(sandbox_factory(servers=4), tmp_path, weak=False)
    assert outcomes["test_catalog_consistent"]["outcome"] == "passed"
    # The score is taken last, so this run's window checks count: with no DR drill and no game day in the
    # window, exactly the controls that need them fail; every security control is met or unevidenced.
    window_checks = ("test_dr_drill_within_window", "test_gameday_within_window")
    failing = [c for c in score["controls"] if c["status"] == "failing"]
    assert failing, "no DR drill or game day ran, so the controls that require them must fail"
    for control in failing:
        assert any(w in str(control["requirements"]) for w in window_checks), control
    assert outcomes["test_no_failing_controls"]["outcome"] == "failed"
    assert "Run the DR drill" in outcomes["test_no_failing_controls"]["message"]
    assert outcomes["test_framework_scores_meet_minimum"]["outcome"] == "skipped"
    assert "no compliance.min_scores declared" in outcomes["test_framework_scores_meet_minimum"]["message"]
    # No DR drill and no game day in the window: those checks fail with the command that fixes it.
    assert "run the DR drill" in outcomes["test_dr_drill_within_window"]["message"]
    assert "mcproof gameday" in outcomes["test_gameday_within_window"]["message"]
    controls = {c["id"]: c for c in score["controls"]}
    assert controls["5.4.1"]["status"] == "unevidenced"  # the live-cluster check is skipped without kubernetes
    assert "skipped in run" in str(controls["5.4.1"]["requirements"])
    assert "the environment has no kubernetes section" in str(controls["5.4.1"]["requirements"])
    assert controls["SC-ZERO-DOWNTIME"]["status"] == "unevidenced"
    assert {c["status"] for c in score["controls"]} <= {"satisfied", "unevidenced", "failing"}
    assert outcomes["test_every_control_evidenced"]["outcome"] == "inconclusive"
    assert sorted(score["unevidenced"]) == sorted(c["id"] for c in score["controls"] if c["status"] == "unevidenced")


def test_weak_run_fails_controls_and_lowers_the_score(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    score, outcomes = _run_both(sandbox_factory(servers=4, rcon_password="minecraft"), tmp_path, weak=True)
    failing = outcomes["test_no_failing_controls"]
    assert failing["outcome"] == "failed"
    message = failing["message"]
    assert "soc2 CC6.1 Logical access" in message
    assert "check test_rcon_refuses_default_passwords: failed" in message
    assert "accept a default RCON password" in message
    assert "Fix: RCON and the platform API must authenticate" in message
    assert "soc2 CC6.6" in message
    controls = {c["id"]: c["status"] for c in score["controls"]}
    assert controls["CC6.1"] == "failing"
    assert controls["CC6.6"] == "failing"
    assert controls["5.1.6"] == "failing"  # the weak manifests mount the token and hold a secret in env
    assert score["scores"]["soc2"]["failing"] >= 2
    assert score["scores"]["cis-k8s"]["score"] == 0.0


def _rcon_security() -> dict[str, Any]:
    rcon = {"name": "rcon", "protocol": "tcp", "role": "rcon"}
    return {
        "exposure": {"forbidden": [], "management": [{**rcon, "reason": "test: the harness is the management plane"}]},
        "rcon_servers": 4,
    }


def test_earlier_failure_in_the_window_fails_the_control_and_unevidenced_is_inconclusive(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    reports = tmp_path / "reports"
    compliance = {"reports_dir": str(reports)}
    # Run 1: the RCON checks fail (a default password); run 2, later, against a fixed fleet: they pass.
    weak = sandbox_factory(servers=4, rcon_password="minecraft")
    weak_env = write_environment(
        tmp_path / "weak.yaml", weak.state_dir, security=_rcon_security(), compliance=compliance
    )
    first = run_suite(weak_env, reports, "-k", "rcon", suite="security", timeout=120)
    assert first.code == 1, first.output
    assert check_outcomes(first)["test_rcon_refuses_default_passwords"]["outcome"] == "failed"
    fixed = sandbox_factory(servers=4)
    fixed_env = write_environment(
        tmp_path / "fixed.yaml", fixed.state_dir, security=_rcon_security(), compliance=compliance
    )
    second = run_suite(fixed_env, reports, "-k", "rcon", suite="security", timeout=120)
    assert second.code == 0, second.output
    assert first.run_dir is not None
    assert second.run_dir is not None

    scored = run_suite(fixed_env, reports, suite="compliance", timeout=60)
    outcomes = check_outcomes(scored)
    score = next(r for r in scored.evidence() if r["type"] == "compliance_score")
    assert score["runs"][:2] == [first.run_dir.name, second.run_dir.name]
    controls = {c["id"]: c for c in score["controls"]}
    assert controls["CC6.1"]["status"] == "failing"
    failing = outcomes["test_no_failing_controls"]
    assert failing["outcome"] == "failed"
    message = failing["message"]
    assert "soc2 CC6.1 Logical access" in message
    assert f"test_rcon_refuses_default_passwords failed in run {first.run_dir.name}" in message
    assert f"a later pass (run {second.run_dir.name}" in message
    assert "does not clear it" in message
    assert "CC6.1" in score["failing"]
    assert score["scores"]["soc2"]["failing"] >= 1
    # Unevidenced and not waived: the suite is inconclusive, listing the controls.
    unevidenced = outcomes["test_every_control_evidenced"]
    assert unevidenced["outcome"] == "inconclusive"
    assert "control(s) unevidenced" in unevidenced["message"]
    assert "SC-ZERO-DOWNTIME" in unevidenced["message"]
    assert "waivers: [{control: ID" in unevidenced["message"]
    assert scored.code == 1, scored.output  # a failing control beats inconclusive

    # Waive every unevidenced control in the environment file: listed as waived (reason, owner), not missing.
    waivers = [{"control": c, "reason": "not run in this test", "owner": "itest"} for c in score["unevidenced"]]
    waived_env = write_environment(
        tmp_path / "waived.yaml", fixed.state_dir, security=_rcon_security(), compliance=compliance, waivers=waivers
    )
    again = run_suite(waived_env, reports, suite="compliance", timeout=60)
    outcomes = check_outcomes(again)
    score = next(r for r in again.evidence() if r["type"] == "compliance_score")
    assert outcomes["test_every_control_evidenced"]["outcome"] == "passed", outcomes["test_every_control_evidenced"]
    assert score["unevidenced"] == []
    assert {w["control"] for w in score["waived"]} == {w["control"] for w in waivers}
    assert all(w["reason"] == "not run in this test" and w["owner"] == "itest" for w in score["waived"])
    assert sum(s["waived"] for s in score["scores"].values()) == len(waivers)
    assert {c["id"]: c["status"] for c in score["controls"]}["CC6.1"] == "failing"  # a waiver never hides it
