"""Smoke: the hosting platform around the game servers — API health, its TLS certificate, monitoring
(Prometheus targets up, alert rules loaded) and backup freshness against the RPO.

Environment-agnostic: the platform API is the environment's ``platform_api`` (or the sandbox's own),
Prometheus is ``monitoring.prometheus_url`` (or the sandbox's own); each check is skipped with the reason
when the environment has no such part.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mcproof.config import Environment, PlatformApiSettings
from mcproof.connect.platform import NoPlatformApi, platform_client
from mcproof.connect.prometheus import NoPrometheus, monitoring_settings, prometheus_client
from mcproof.evidence import RunStore, SloMeasurement
from mcproof.monitoring.promql import PromClient, PromError
from mcproof.platform.adapter import ApiCallError, Unsupported
from mcproof.platform.client import PlatformClient
from mcproof.security.tls import inspect_tls, tls_problems

pytestmark = pytest.mark.smoke


@pytest.fixture(scope="module")
def platform(environment: Environment) -> PlatformClient:
    tenant = environment.dr.tenant if environment.dr is not None else "alpha"
    try:
        return platform_client(environment, tenant)
    except NoPlatformApi as err:
        pytest.skip(str(err))


@pytest.fixture(scope="module")
def prometheus(environment: Environment) -> PromClient:
    try:
        return prometheus_client(environment)
    except NoPrometheus as err:
        pytest.skip(str(err))


def test_platform_api_healthy(platform: PlatformClient) -> None:
    try:
        health = platform.health()
    except ApiCallError as err:
        pytest.fail(f"platform API {platform.base_url} health check failed: {err}", pytrace=False)
    assert health["healthz"].get("status") == "ok", f"/healthz answered {health['healthz']}"
    assert health["readyz"].get("ready") is True, f"/readyz not ready: {health['readyz']}"


def test_platform_api_certificate_valid(platform: PlatformClient, environment: Environment) -> None:
    url = urlsplit(platform.base_url)
    if url.scheme != "https":
        pytest.skip(f"platform API {platform.base_url} is not HTTPS; no certificate to check")
    window = (environment.platform_api or PlatformApiSettings(base_url=platform.base_url)).cert_warning_days
    ca = platform.verify if isinstance(platform.verify, str) else None
    result = inspect_tls("platform_api", url.hostname or "", url.port or 443, ca_file=Path(ca) if ca else None)
    problems = [p for p in tls_problems(result, window_days=window) if "legacy" not in p]
    assert not problems, "; ".join(problems)
    assert result.verified, f"certificate of {result.address} not valid for {result.server_name}: {result.verify_error}"


def test_prometheus_targets_up_and_alert_rules_loaded(prometheus: PromClient, environment: Environment) -> None:
    settings = monitoring_settings(environment)
    try:
        targets, rules = prometheus.targets(), prometheus.rules()
    except PromError as err:
        pytest.fail(str(err), pytrace=False)
    assert targets, f"Prometheus {prometheus.base_url} has no active scrape targets; check its scrape_configs"
    down = [
        f"{t['job']} {t['url']} ({t['health']}: {t['last_error'] or 'no error text'})"
        for t in targets
        if t["health"] != "up"
    ]
    assert not down, f"{len(down)} of {len(targets)} scrape targets not up: " + "; ".join(down[:10])
    kube_job = settings.kube_apiserver_job
    if environment.kubernetes is not None and kube_job:
        jobs = sorted({t["job"] for t in targets})
        assert kube_job in jobs, (
            f"environment '{environment.name}' has a Kubernetes cluster but Prometheus does not scrape it: no target "
            f"of job {kube_job!r} (jobs: {', '.join(jobs)}); add the kube-apiserver /metrics scrape job or set "
            "monitoring.kube_apiserver_job"
        )
    alerts = {r["name"]: r for r in rules if r.get("type") == "alerting"}
    assert settings.server_down_alert in alerts, (
        f"alert rule {settings.server_down_alert!r} is not loaded (loaded: {', '.join(sorted(alerts)) or 'none'}); "
        "check rule_files or monitoring.server_down_alert"
    )
    broken = [f"{r['name']}: {r.get('lastError', '')}" for r in rules if r.get("health") not in ("ok", "unknown")]
    assert not broken, "rules failing evaluation: " + "; ".join(broken[:10])


def test_last_backup_within_rpo(platform: PlatformClient, environment: Environment, evidence: RunStore) -> None:
    rpo = environment.slo.rpo_s
    try:
        servers = platform.list_servers()
        if not servers:
            pytest.skip(f"the platform API's tenant has no servers at {platform.base_url}; nothing is backed up")
        newest = {
            s.id: max((float(b["created_at"]) for b in platform.list_backups(s.id)), default=None) for s in servers
        }
    except Unsupported as err:
        pytest.skip(f"the platform cannot list backups: {err}")
    except ApiCallError as err:
        pytest.fail(f"listing backups failed: {err}", pytrace=False)
    now = time.time()
    never = sorted(sid for sid, at in newest.items() if at is None)
    assert not never, (
        f"{len(never)} server(s) have no backup at all: {', '.join(never[:10])}; check the backup schedule"
    )
    ages = {sid: now - at for sid, at in newest.items() if at is not None}
    worst = max(ages.values())
    evidence.append(
        SloMeasurement(
            environment=environment.name,
            slo="backup_age_s",
            objective=f"newest backup of every server <= RPO {rpo:g}s",
            target=rpo,
            measured=round(worst, 3),
            unit="s",
            comparator="<=",
            passed=worst <= rpo,
            method="platform API: GET /v1/servers, GET /v1/servers/{id}/backups; age = now - newest created_at",
            check="test_last_backup_within_rpo",
            samples=len(ages),
        )
    )
    stale = sorted(f"{sid} ({age:.0f}s)" for sid, age in ages.items() if age > rpo)
    assert not stale, (
        f"newest backup older than the RPO {rpo:g}s on: {', '.join(stale[:10])}; check the backup schedule"
    )
