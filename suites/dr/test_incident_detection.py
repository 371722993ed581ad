"""Incident detection (destructive): kill one server through the platform API and hold the time until the
environment's Prometheus fires the matching alert against ``monitoring.detection_window_s``.

Environment-agnostic: the outage is a platform power action (``kill``) on a server created for the check
and deleted afterwards; the alert is ``monitoring.server_down_alert`` with ``{server_label: <server id>}``.
Skipped with the reason when there is no platform API or no Prometheus; inconclusive when the platform
refuses the server or the outage (nothing was measured). Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

import pytest

from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi, platform_client
from mcproof.connect.prometheus import NoPrometheus, monitoring_settings, prometheus_client
from mcproof.evidence import RunStore, SloMeasurement
from mcproof.minecraft.status import status_ping
from mcproof.monitoring.detection import measure_detection
from mcproof.monitoring.promql import PromClient, PromError
from mcproof.monitoring.settings import MonitoringSettings
from mcproof.platform.adapter import ApiCallError, ServerRecord
from mcproof.platform.client import PlatformClient
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.dr, pytest.mark.destructive]


@pytest.fixture(scope="module")
def prometheus(environment: Environment) -> PromClient:
    try:
        return prometheus_client(environment)
    except NoPrometheus as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def platform(environment: Environment) -> PlatformClient:
    try:
        return platform_client(environment, environment.dr.tenant if environment.dr else "alpha")
    except NoPlatformApi as err:
        pytest.skip(str(err))


def _until(predicate: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return False


@pytest.fixture
def victim(platform: PlatformClient, prometheus: PromClient, environment: Environment) -> Iterator[ServerRecord]:
    """A server created for the check, serving and seen up by Prometheus; always started and deleted after."""
    settings = monitoring_settings(environment)
    try:
        server = platform.create_server("mcproof-detection")
    except ApiCallError as err:
        inconclusive(
            f"the platform refused a server for the detection check: {err}",
            "free a server slot for the tenant and rerun; detection was not measured",
        )
    try:
        # generous deadlines (a slow host boots and scrapes slower); each ends as soon as its condition holds
        ok = _until(lambda: status_ping(server.host, server.port, timeout=1.0).ok, 60)
        assert ok, f"new server {server.id} ({server.host}:{server.port}) never answered a status ping"
        seen = f'{settings.up_metric}{{{settings.server_label}="{server.id}"}} == 1'
        ok = _until(lambda: bool(_query(prometheus, seen)), max(60.0, 20 * settings.sandbox_scrape_interval_s))
        assert ok, f"Prometheus never saw {server.id} up ({seen}); is the server among its scrape targets?"
        yield server
    finally:
        with contextlib.suppress(ApiCallError):
            platform.power(server.id, "start")
        with contextlib.suppress(ApiCallError):
            platform.delete_server(server.id)


def _query(prom: PromClient, expr: str) -> list[tuple[dict[str, str], float]]:
    try:
        return prom.query(expr)
    except PromError:
        return []


def test_server_down_alert_fires_within_detection_window(
    victim: ServerRecord,
    platform: PlatformClient,
    prometheus: PromClient,
    environment: Environment,
    evidence: RunStore,
) -> None:
    settings: MonitoringSettings = monitoring_settings(environment)
    try:
        ev = measure_detection(
            prometheus,
            inject=lambda: platform.power(victim.id, "kill"),
            alert=settings.server_down_alert,
            labels={settings.server_label: victim.id},
            window_s=settings.detection_window_s,
            environment=environment.name,
            check="test_server_down_alert_fires_within_detection_window",
            outage=f"platform API power kill of {victim.id} ({victim.host}:{victim.port})",
        )
    except PromError as err:
        pytest.fail(str(err), pytrace=False)
    except ApiCallError as err:
        inconclusive(
            f"the harness could not apply the outage (power kill of {victim.id}): {err}",
            "check the platform's power API for this tenant; detection was not measured",
        )
    evidence.append(ev)
    waited = ev.time_to_fire_s if ev.time_to_fire_s is not None else ev.samples[-1]["t"] - ev.injected_at
    evidence.append(
        SloMeasurement(
            environment=environment.name,
            slo="detection_s",
            objective=f"{settings.server_down_alert} fires within {settings.detection_window_s:g}s of an outage",
            target=settings.detection_window_s,
            measured=round(waited, 3),
            unit="s",
            comparator="<=",
            passed=ev.passed,
            method=ev.method,
            check=ev.check,
            samples=len(ev.samples),
        )
    )
    assert ev.passed, (
        f"{settings.server_down_alert}{{{settings.server_label}={victim.id}}} did not fire within "
        f"{settings.detection_window_s:g}s of the outage (last state {ev.samples[-1]['state']}); check the rule's "
        "expression and `for:`, the scrape interval and that the server is a scrape target"
    )
