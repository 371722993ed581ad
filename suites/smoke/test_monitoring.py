"""Smoke (non-destructive): availability over an observed window, measured by our own observer's status pings
(``monitoring.availability_servers`` servers every ``observer_interval_s`` for ``availability_window_s``)
AND by the environment's Prometheus (PromQL over its scraped series); both recorded with the window's
sample counts and resolution. They must agree within ``monitoring.availability_tolerance``, and the
availability SLO is held with the error budget consumed.

Inconclusive (reason + fix), never pass, when the window cannot resolve the objective (interval / window
coarser than the error budget) or cannot justify the tolerance (see mcproof.monitoring.availability).

Skipped with the reason when the environment has no ``monitoring`` section or its Prometheus is not running.
"""

from __future__ import annotations

import time

import pytest

from mcproof.chaos.observer import Observer
from mcproof.config import Environment
from mcproof.connect.prometheus import NoPrometheus, monitoring_settings, prometheus_client
from mcproof.connect.targets import Target
from mcproof.evidence import RunStore
from mcproof.minecraft.latency import pick_evenly
from mcproof.monitoring.availability import availability_evidence, availability_slo, wait_scraped_after
from mcproof.monitoring.promql import PromClient
from mcproof.verdict import Verdict, inconclusive

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
    observed = pick_evenly(targets, settings.availability_servers)
    window = settings.availability_window_s
    with Observer(
        observed,
        interval_s=settings.observer_interval_s,
        timeout_s=environment.minecraft.status_timeout_s,
        max_duration_s=window + 60,
    ) as observer:
        start = time.time()
        end = start + window
        # the window is a measurement span; the wait ends on the observer's first tick after it (deadline-bound)
        ticked = observer.wait_tick_after(end, timeout=window + 30)
    if not ticked or max((s.t for s in observer.samples), default=0.0) < end:
        inconclusive(
            f"the observer made no tick after the {window:g}s window ({observer.ticks} ticks); the window is not covered",
            "check the harness host is not overloaded (observer pings run in their own thread), then re-run",
        )
    if not wait_scraped_after(prometheus, settings.up_metric, end, timeout=60):
        pytest.fail(
            f"Prometheus has no {settings.up_metric} sample after the window end; is it scraping?", pytrace=False
        )
    ev = availability_evidence(
        prometheus,
        observer.samples,
        servers=[t.id for t in observed],
        start=start,
        end=end,
        objective=environment.slo.availability,
        tolerance=settings.availability_tolerance,
        environment=environment.name,
        check="test_availability_observer_and_prometheus_agree",
        interval_s=settings.observer_interval_s,
        metric=settings.up_metric,
        label=settings.server_label,
    )
    evidence.append(ev)
    slo = availability_slo(ev)
    if slo is not None:  # an unresolved window records no SLO figure (not evidenced, never a pass)
        evidence.append(slo)
    judged = [
        ("availability SLO", ev.slo_verdict, ev.slo_reason, ev.slo_fix),
        ("observer vs Prometheus", ev.agreement_verdict, ev.agreement_reason, ev.agreement_fix),
    ]
    failed = [f"{what}: {reason}" for what, verdict, reason, _ in judged if verdict == Verdict.FAIL.value]
    if failed:
        pytest.fail(
            "; ".join(failed) + f" (error budget consumed {ev.error_budget_consumed:.0%}; {ev.promql})", pytrace=False
        )
    unsure = [(f"{what}: {reason}", fix) for what, verdict, reason, fix in judged if verdict != Verdict.PASS.value]
    if unsure:
        inconclusive("; ".join(r for r, _ in unsure), "; ".join(f for _, f in unsure))
