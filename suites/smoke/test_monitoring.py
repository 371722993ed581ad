"""Smoke (non-destructive): availability over a short window, measured by our own observer's status pings
AND by the environment's Prometheus (PromQL over its scraped series); both recorded, they must agree within
``monitoring.availability_tolerance``, and the availability SLO is held with the error budget consumed.

Skipped with the reason when the environment has no ``monitoring`` section or its Prometheus is not running.
"""

from __future__ import annotations

import time

import pytest

from mcproof.chaos.observer import Observer
from mcproof.config import Environment
from mcproof.discovery import Target
from mcproof.evidence import RunStore
from mcproof.minecraft.latency import pick_evenly
from mcproof.monitoring.availability import availability_evidence, availability_slo, wait_scraped_after
from mcproof.monitoring.connect import NoPrometheus, monitoring_settings, prometheus_client
from mcproof.monitoring.promql import PromClient

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def prometheus(environment: Environment) -> PromClient:
    try:
        return prometheus_client(environment)
    except NoPrometheus as err:
        pytest.skip(str(err))


def test_availability_observer_and_prometheus_agree(
    prometheus: PromClient, environment: Environment, evidence: RunStore, request: pytest.FixtureRequest
) -> None:
    settings = monitoring_settings(environment)
    targets: list[Target] = request.getfixturevalue("targets")  # after `prometheus`: its skip reason comes first
    observed = pick_evenly(targets, environment.minecraft.latency_servers)
    with Observer(observed, interval_s=settings.observer_interval_s, timeout_s=environment.minecraft.status_timeout_s,
                  max_duration_s=settings.availability_window_s + 30) as observer:  # fmt: skip
        start = time.time()
        time.sleep(settings.availability_window_s)
        end = time.time()
    if not wait_scraped_after(prometheus, settings.up_metric, end, timeout=60):
        pytest.fail(
            f"Prometheus has no {settings.up_metric} sample after the window end; is it scraping?", pytrace=False
        )
    ev = availability_evidence(
        prometheus, observer.samples, servers=[t.id for t in observed], start=start, end=end,
        objective=environment.slo.availability, tolerance=settings.availability_tolerance,
        environment=environment.name, check="test_availability_observer_and_prometheus_agree",
        metric=settings.up_metric, label=settings.server_label,
    )  # fmt: skip
    slo = availability_slo(ev)
    evidence.append(ev)
    evidence.append(slo)
    assert ev.prometheus_availability is not None, (
        f"Prometheus returned no availability for {len(observed)} servers ({ev.promql}); "
        f"check that monitoring.up_metric and server_label match its series"
    )
    assert ev.agree, (
        f"observer availability {ev.observer_availability:.4f} and Prometheus {ev.prometheus_availability:.4f} "
        f"differ by more than {ev.tolerance:g}; one of them does not see what customers see"
    )
    assert slo.passed, (
        f"availability {ev.observer_availability:.4%} below the SLO {ev.objective:.3%} over "
        f"{end - start:.0f}s; error budget consumed {ev.error_budget_consumed:.0%}"
    )
