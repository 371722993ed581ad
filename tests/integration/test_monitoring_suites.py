"""The product's monitoring checks against a real sandbox + platform API + Prometheus, in a subprocess:
smoke (API health, certificate, targets/rules, backup age, availability agreement) and the destructive
incident-detection check, including its failure when the window is shorter than the rule's `for:`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import random_base_address
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.monitoring.services import MonitoringServices, PrometheusSpec
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration

SMOKE_CHECKS = {
    "test_platform_api_healthy",
    "test_platform_api_certificate_valid",
    "test_prometheus_targets_up_and_alert_rules_loaded",
    "test_last_backup_within_rpo",
    "test_availability_observer_and_prometheus_agree",
}


@pytest.fixture(scope="module")
def platform_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Sandbox (4 servers) -> platform API (one server with a backup) -> monitoring; the state dir."""
    state = tmp_path_factory.mktemp("monsuite")
    sandbox, platform, monitoring = Sandbox(state), PlatformServices(state), MonitoringServices(state)
    try:
        sandbox.up(SandboxSpec(servers=4, base_address=random_base_address(), boot_delay_s=0.3), timeout=60)
        info = platform.up(EngineConfig(environment="itest", autosave_s=1.0, filler_bytes=4096), timeout=30)
        client = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
        server = client.create_server("smoke")
        client.create_backup(server.id)
        monitoring.up(PrometheusSpec(environment="itest", down_for_s=2.0), timeout=30)
        yield state
    finally:
        monitoring.down()
        platform.down()
        sandbox.down(timeout=10)


def _env(tmp_path: Path, state: Path, availability: float = 0.95, **monitoring: object) -> Path:
    # 4 servers every 0.1 s for 10 s: resolution 1 % <= the 5 % budget of a 95 % objective; one down episode
    # moves observer and PromQL (scrape 1 s) < (0.1 + 1) / (4 x 10) = 0.0275 apart <= tolerance 0.04 <= budget
    settings = {
        "prometheus_url": "sandbox",
        "detection_window_s": 15,
        "availability_window_s": 10,
        "observer_interval_s": 0.1,
        "availability_tolerance": 0.04,
        **monitoring,
    }
    return write_environment(
        tmp_path / "env.yaml", state, monitoring=settings, sandbox={"servers": 4}, slo={"availability": availability}
    )  # only what these partial runs measure


def test_smoke_platform_and_monitoring_checks_pass(platform_stack: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, platform_stack)
    run = run_suite(
        env, tmp_path / "reports", "suites/smoke/test_monitoring.py", suite="smoke/test_platform.py", timeout=60
    )
    assert run.code == 0, run.output
    outcomes = check_outcomes(run)
    assert {k: v["outcome"] for k, v in outcomes.items()} == dict.fromkeys(SMOKE_CHECKS, "passed")
    records = run.evidence()
    availability = next(r for r in records if r["type"] == "availability")
    assert availability["agree"]
    assert availability["observer_availability"] == 1.0
    assert availability["prometheus_availability"] == 1.0
    assert availability["error_budget_consumed"] == 0.0
    assert (availability["slo_verdict"], availability["agreement_verdict"]) == ("pass", "pass")
    assert availability["samples_per_server"] >= 80  # ~100 ticks of 0.1 s in 10 s
    assert availability["prometheus_samples"] >= 28  # ~10 scrapes x 4 servers
    assert "window 10.0s" in availability["method"]
    slos = {r["slo"]: r for r in records if r["type"] == "slo"}
    assert slos["availability"]["passed"]
    assert "resolution" in slos["availability"]["objective"]
    assert 0 <= slos["backup_age_s"]["measured"] < 60


def test_availability_window_too_short_for_the_objective_is_inconclusive(platform_stack: Path, tmp_path: Path) -> None:
    """A 4 s window at 0.5 s cannot tell 99.9 % from 100 %: inconclusive with the reason and fix, no SLO figure."""
    env = _env(
        tmp_path,
        platform_stack,
        availability=0.999,
        availability_window_s=4,
        observer_interval_s=0.5,
        availability_tolerance=0.001,
    )
    run = run_suite(env, tmp_path / "reports", suite="smoke/test_monitoring.py", timeout=60)
    assert run.code == 3, run.output
    outcome = check_outcomes(run)["test_availability_observer_and_prometheus_agree"]
    assert outcome["outcome"] == "inconclusive"
    assert "cannot tell 99.900% from 100 %" in outcome["message"]
    assert "observe for at least 500s" in outcome["message"]
    records = run.evidence()
    availability = next(r for r in records if r["type"] == "availability")
    assert availability["observer_availability"] == 1.0  # all up, and still not a pass
    assert availability["slo_verdict"] == "inconclusive"
    assert not [r for r in records if r["type"] == "slo" and r["slo"] == "availability"]


def test_smoke_checks_skip_with_reason_without_monitoring(platform_stack: Path, tmp_path: Path) -> None:
    env = write_environment(tmp_path / "env.yaml", tmp_path / "no-sandbox-here", sandbox={"servers": 4})
    run = run_suite(
        env, tmp_path / "reports", "suites/smoke/test_monitoring.py", suite="smoke/test_platform.py", timeout=60
    )
    outcomes = check_outcomes(run)
    assert {v["outcome"] for v in outcomes.values()} == {"skipped"}, run.output
    assert "no monitoring section" in outcomes["test_availability_observer_and_prometheus_agree"]["message"]
    assert "no sandbox platform API runs" in outcomes["test_platform_api_healthy"]["message"]


def test_incident_detection_passes_and_records_time_to_fire(platform_stack: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, platform_stack)
    run = run_suite(env, tmp_path / "reports", suite="dr/test_incident_detection.py", timeout=60)
    assert run.code == 0, run.output
    detection = next(r for r in run.evidence() if r["type"] == "detection")
    assert detection["passed"]
    assert detection["alert"] == "MinecraftServerDown"
    assert 2.0 <= detection["time_to_fire_s"] < 15
    slo = next(r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "detection_s")
    assert slo["passed"]
    assert slo["measured"] == detection["time_to_fire_s"]


def test_detection_window_shorter_than_for_fails(platform_stack: Path, tmp_path: Path) -> None:
    env = _env(tmp_path, platform_stack, detection_window_s=1.0)
    run = run_suite(env, tmp_path / "reports", suite="dr/test_incident_detection.py", timeout=60)
    assert run.code == 1, run.output
    outcome = check_outcomes(run)["test_server_down_alert_fires_within_detection_window"]
    assert outcome["outcome"] == "failed"
    assert "did not fire within 1s" in outcome["message"]
    detection = next(r for r in run.evidence() if r["type"] == "detection")
    assert detection["fired_at"] is None
    assert not detection["passed"]
