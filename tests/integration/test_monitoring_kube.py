"""The sandbox Prometheus scrapes a real embedded cluster: kube-apiserver over TLS with the cluster CA and a
metrics-only ServiceAccount token, controller-manager and scheduler with their pinned CAs, etcd; the
cluster rules evaluate; the token can read /metrics and nothing else; the smoke check requires the
apiserver job when the environment has a cluster, and fails naming it when it is not scraped."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from tests.integration.conftest import random_base_address
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof.monitoring.promql import PromClient
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.monitoring.kube_scrape import KUBE_JOBS
from mcproof_sandbox.monitoring.rules import KUBE_ALERT_NAMES
from mcproof_sandbox.monitoring.services import MonitoringInfo, MonitoringServices, PrometheusSpec

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]

CHECK = "test_prometheus_targets_up_and_alert_rules_loaded"


@pytest.fixture(scope="module")
def kube_stack(
    embedded_cluster: EmbeddedCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, MonitoringInfo, PromClient]]:
    state: Path = tmp_path_factory.mktemp("monkube")
    sandbox, services = Sandbox(state), MonitoringServices(state)
    try:
        sandbox.up(SandboxSpec(servers=2, base_address=random_base_address(), boot_delay_s=0.2), timeout=60)
        info = services.up(PrometheusSpec(environment="itest"), timeout=45, kube_dir=embedded_cluster.state_dir)
        yield state, info, PromClient(info.prometheus_url, timeout=3.0)
    finally:
        services.down()
        sandbox.down(timeout=10)


def _wait_scalar(prom: PromClient, query: str, timeout: float = 10.0) -> float | None:
    import time

    deadline = time.monotonic() + timeout
    value = prom.scalar(query)
    while value is None and time.monotonic() < deadline:
        time.sleep(0.2)
        value = prom.scalar(query)
    return value


def test_cluster_control_plane_scraped_over_tls(kube_stack: tuple[Path, MonitoringInfo, PromClient]) -> None:
    _, info, prom = kube_stack
    assert set(KUBE_JOBS.values()) <= set(info.scrape_jobs)
    targets = {t["job"]: t for t in prom.targets()}
    for job in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        assert targets[job]["url"].startswith("https://127.0.0.1:"), targets[job]
        assert targets[job]["health"] == "up", targets[job]
    assert targets["etcd"]["health"] == "up"
    config = (info.directory / "prometheus.yml").read_text()
    assert "insecure_skip_verify" not in config
    token_file = info.directory / "kube-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert token_file.read_text() not in config  # by file reference only
    assert prom.scalar('count(apiserver_request_total{job="kube-apiserver"}) > 0') is not None


def test_cluster_rules_evaluate(kube_stack: tuple[Path, MonitoringInfo, PromClient]) -> None:
    _, _, prom = kube_stack
    rules = {r["name"]: r for r in prom.rules()}
    assert {"mcproof:kube_apiserver_up", "mcproof:kube_apiserver_5xx:ratio_rate1m", *KUBE_ALERT_NAMES} <= set(rules)
    assert all(r["health"] in ("ok", "unknown") for r in rules.values()), rules
    assert _wait_scalar(prom, "mcproof:kube_apiserver_up") == 1.0
    ratio = _wait_scalar(prom, "mcproof:kube_apiserver_5xx:ratio_rate1m")
    assert ratio is not None
    assert 0.0 <= ratio < 0.01
    assert not [a for a in prom.alerts() if a.name in KUBE_ALERT_NAMES]


def test_token_reads_metrics_and_nothing_else(
    kube_stack: tuple[Path, MonitoringInfo, PromClient], embedded_cluster: EmbeddedCluster
) -> None:
    _, info, _ = kube_stack
    status = embedded_cluster.status()
    assert status is not None
    ca = str(next((embedded_cluster.workdir / "clusters").glob("*/pki/ca.crt")))
    session = requests.Session()
    session.trust_env = False
    session.headers["Authorization"] = f"Bearer {(info.directory / 'kube-token').read_text().strip()}"
    assert session.get(status.apiserver + "/metrics", verify=ca, timeout=5).status_code == 200
    for path in ("/api/v1/pods", "/api/v1/namespaces/kube-system/secrets", "/apis/apps/v1/deployments", "/logs/"):
        assert session.get(status.apiserver + path, verify=ca, timeout=5).status_code == 403, path


def _env(tmp_path: Path, state: Path, cluster: EmbeddedCluster, **monitoring: object) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        state,
        sandbox={"servers": 2},
        monitoring={"prometheus_url": "sandbox", **monitoring},
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": ["default"]},
    )


def test_smoke_targets_check_covers_the_cluster(
    kube_stack: tuple[Path, MonitoringInfo, PromClient], embedded_cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    state, _, _ = kube_stack
    run = run_suite(
        _env(tmp_path, state, embedded_cluster),
        tmp_path / "reports",
        "-k",
        CHECK,
        suite="smoke/test_platform.py",
        timeout=60,
    )
    assert check_outcomes(run)[CHECK]["outcome"] == "passed", run.output


def test_smoke_targets_check_fails_when_the_cluster_is_not_scraped(
    kube_stack: tuple[Path, MonitoringInfo, PromClient], embedded_cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    state, _, _ = kube_stack
    env = _env(tmp_path, state, embedded_cluster, kube_apiserver_job="apiserver")
    run = run_suite(env, tmp_path / "reports", "-k", CHECK, suite="smoke/test_platform.py", timeout=60)
    outcome = check_outcomes(run)[CHECK]
    assert outcome["outcome"] == "failed", run.output
    assert "does not scrape it: no target of job 'apiserver'" in outcome["message"]


RUNBOOK_CHECK = "test_every_alert_has_a_working_runbook"
REPO = Path(__file__).resolve().parents[2]


def _runbook_env(tmp_path: Path, state: Path, cluster: EmbeddedCluster, ns: str, ops: Path) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        state,
        sandbox={"servers": 2},
        monitoring={
            "prometheus_url": "sandbox",
            "runbooks": {
                "alert_rules": "api",
                "runbooks": str(ops),
                "experiments": str(REPO / "suites" / "chaos" / "experiments"),
            },
        },
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [ns]},
    )


def test_runbook_coverage_suite_passes_then_fails_on_a_weakened_runbook(
    kube_stack: tuple[Path, MonitoringInfo, PromClient],
    embedded_cluster: EmbeddedCluster,
    kube_namespace: str,
    tmp_path: Path,
) -> None:
    """The sandbox's rules API + docs/operations/ (its namespace pointed at a tenant-shaped test namespace):
    the suite check passes; with one alert's runbook missing a section it fails naming the file."""
    import time

    from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment, minecraft_statefulset

    state, _, _ = kube_stack
    ns = kube_namespace
    api = embedded_cluster.api()
    api.apps.create_namespaced_stateful_set(ns, minecraft_statefulset(ns, "mc-000"))
    api.apps.create_namespaced_deployment(ns, minecraft_proxy_deployment(ns, replicas=1))
    deadline = time.monotonic() + 60
    while not api.core.list_namespaced_pod(ns, field_selector="metadata.name=mc-000-0").items:
        assert time.monotonic() < deadline, "pod mc-000-0 was not created within 60 s"
        time.sleep(0.2)
    ops = tmp_path / "ops"
    ops.mkdir()
    for p in (REPO / "docs" / "operations").glob("*.md"):
        (ops / p.name).write_text(p.read_text().replace("ns=minecraft", f"ns={ns}"))
    env = _runbook_env(tmp_path, state, embedded_cluster, ns, ops)
    run = run_suite(env, tmp_path / "reports", "-k", RUNBOOK_CHECK, suite="smoke/test_runbooks.py", timeout=90)
    assert check_outcomes(run)[RUNBOOK_CHECK]["outcome"] == "passed", run.output
    weak = ops / "minecraft-server-down.md"
    weak.write_text(weak.read_text().replace("## Impact", "## Who is hit"))
    run = run_suite(env, tmp_path / "reports2", "-k", RUNBOOK_CHECK, suite="smoke/test_runbooks.py", timeout=90)
    outcome = check_outcomes(run)[RUNBOOK_CHECK]
    assert outcome["outcome"] == "failed", run.output
    assert "minecraft-server-down.md" in outcome["message"]
    assert "impact" in outcome["message"]
