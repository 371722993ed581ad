"""A real Prometheus over the sandbox fleet: rules loaded, alerts fired by Prometheus itself on an injected
outage (and not fired where they cannot), availability from observer pings vs PromQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import random_base_address

from mcproof.chaos.observer import Observer
from mcproof.monitoring.availability import availability_evidence, availability_slo, wait_scraped_after
from mcproof.monitoring.detection import measure_detection
from mcproof.monitoring.promql import PromClient
from mcproof.target import Target
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.monitoring.rules import ALERT_NAMES
from mcproof_sandbox.monitoring.services import MonitoringInfo, MonitoringServices, PrometheusSpec

pytestmark = pytest.mark.integration

NEVER = {"alert": "NeverFires", "expr": "mcproof_metric_that_does_not_exist == 0", "for": "0s"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, MonitoringInfo, PromClient]]:
    state: Path = tmp_path_factory.mktemp("mon")
    sandbox = Sandbox(state)
    services = MonitoringServices(state)
    try:
        sandbox.up(SandboxSpec(servers=5, base_address=random_base_address(), boot_delay_s=0.3), timeout=60)
        info = services.up(PrometheusSpec(environment="itest", down_for_s=2.0, extra_alerts=(NEVER,)), timeout=30)
        yield sandbox, info, PromClient(info.prometheus_url, timeout=3.0)
    finally:
        services.down()
        sandbox.down(timeout=10)


def test_prometheus_loopback_only_rules_loaded_targets_up(stack: tuple[Sandbox, MonitoringInfo, PromClient]) -> None:
    _, info, prom = stack
    assert info.prometheus_url.startswith("http://127.0.0.1:")
    config = (info.directory / "prometheus.yml").read_text()
    assert "remote_write" not in config
    assert "alerting" not in config
    rules = {r["name"]: r for r in prom.rules()}
    assert set(ALERT_NAMES) | {"mcproof:fleet_up:ratio", "NeverFires"} <= set(rules)
    assert all(r["health"] == "ok" for r in rules.values()), rules
    targets = prom.targets()
    assert {t["job"] for t in targets} == {"mcproof-fleet", "prometheus"}
    assert all(t["url"].startswith("http://127.0.0.1:") for t in targets)
    assert all(t["health"] == "up" for t in targets), targets
    assert prom.scalar("count(mcproof_server_up)") == 5
    deadline = time.monotonic() + 5
    while prom.scalar("mcproof:fleet_up:ratio") is None and time.monotonic() < deadline:
        time.sleep(0.2)  # the recording rule's first evaluation
    assert prom.scalar("mcproof:fleet_up:ratio") == 1.0


def test_server_down_alert_fires_within_window(stack: tuple[Sandbox, MonitoringInfo, PromClient]) -> None:
    sandbox, _, prom = stack
    try:
        ev = measure_detection(
            prom,
            inject=lambda: sandbox.inject(["mc-00002"], "kill", restart=False),
            alert="MinecraftServerDown",
            labels={"server": "mc-00002"},
            window_s=15.0,
            environment="itest",
            check="t",
            outage="kill mc-00002",
        )
    finally:
        sandbox.clear(["mc-00002"])
    assert ev.passed, ev.samples
    assert ev.fired_at is not None
    assert ev.time_to_fire_s is not None
    # scrape 1 s + for 2 s + evaluation 1 s: never before `for:`, well within the window
    assert 2.0 <= ev.time_to_fire_s < 8.0, ev.time_to_fire_s
    states = [s["state"] for s in ev.samples]
    assert states[-1] == "firing"
    assert "pending" in states  # Prometheus held it pending for `for:` first
    assert ev.as_dict()["type"] == "detection"


def test_alert_that_never_fires_fails_detection(stack: tuple[Sandbox, MonitoringInfo, PromClient]) -> None:
    sandbox, _, prom = stack
    never = measure_detection(
        prom,
        inject=lambda: None,
        alert="NeverFires",
        labels={},
        window_s=2.5,
        environment="itest",
        check="t",
        outage="none (rule on a missing metric)",
    )
    assert not never.passed
    assert never.fired_at is None
    assert never.time_to_fire_s is None
    assert {s["state"] for s in never.samples} == {"inactive"}
    assert never.samples[-1]["t"] >= never.injected_at + 2.5
    # a window shorter than the rule's `for:` (2 s) cannot see the alert fire
    try:
        short = measure_detection(
            prom,
            inject=lambda: sandbox.inject(["mc-00003"], "kill", restart=False),
            alert="MinecraftServerDown",
            labels={"server": "mc-00003"},
            window_s=1.0,
            environment="itest",
            check="t",
        )
    finally:
        sandbox.clear(["mc-00003"])
    assert not short.passed
    assert short.fired_at is None


def test_availability_observer_and_promql_agree(stack: tuple[Sandbox, MonitoringInfo, PromClient]) -> None:
    sandbox, _, prom = stack
    targets = [Target(s.id, s.host, s.port, source="sandbox") for s in sandbox.servers()]
    time.sleep(2.5)  # any earlier test's server is serving again (boot delay) before the window opens
    with Observer(targets, interval_s=0.5, timeout_s=0.5) as observer:
        start = time.time()
        time.sleep(3.0)
        sandbox.inject(["mc-00001"], "kill", restart=False)
        time.sleep(5.0)
        sandbox.clear(["mc-00001"])
        time.sleep(5.0)
        end = time.time()
    assert wait_scraped_after(prom, "mcproof_server_up", end, timeout=30)  # the scrape covering `end` is in
    kwargs = {
        "servers": [t.id for t in targets],
        "start": start,
        "end": end,
        "environment": "itest",
        "check": "t",
        "interval_s": 0.5,
    }
    # 99.9 % with the 0.001 tolerance: a ~13 s window of 5 servers cannot justify that tolerance (one episode
    # alone moves the figures ~(0.5 + 1) / (5 x 13) apart), and the SLO misses by far more than the resolution
    ev = availability_evidence(prom, observer.samples, objective=0.999, tolerance=0.001, **kwargs)  # type: ignore[arg-type]
    assert ev.prometheus_availability is not None, ev.method
    # one of five servers down ~5.3 s (plus boot delay) of ~13 s: about 0.92
    assert 0.85 < ev.observer_availability < 0.97
    assert 0.85 < ev.prometheus_availability < 0.97
    assert ev.down_episodes >= 1
    assert ev.prometheus_samples is not None
    assert ev.scrape_interval_s is not None
    assert 0.8 < ev.scrape_interval_s < 1.3  # measured from the sample count: the sandbox scrapes every 1 s
    # the derivation holds on real data: the two figures differ by no more than sampling explains
    assert abs(ev.observer_availability - ev.prometheus_availability) <= ev.agreement_bound, ev.method
    assert ev.agreement_verdict == "inconclusive"
    assert "one down episode alone" in ev.agreement_reason
    assert ev.error_budget_consumed > 1  # 0.999 allows 0.1 %: this window broke it
    assert ev.slo_verdict == "fail"  # unresolved window, but a miss larger than any sampling doubt
    slo = availability_slo(ev)
    assert slo is not None
    assert slo.slo == "availability"
    assert not slo.passed
    assert slo.measured == ev.observer_availability
    # a 90 % objective with a 0.05 tolerance is resolvable in this window, and the monitors agree
    loose = availability_evidence(prom, observer.samples, objective=0.9, tolerance=0.05, **kwargs)  # type: ignore[arg-type]
    assert loose.agreement_verdict != "fail", loose.agreement_reason
