"""The Kubernetes smoke checks, run as the product runs them (pytest subprocess on an environment
file): they pass on a healthy tenant, FAIL naming the object for an unschedulable StatefulSet, a
Service selecting no pods and an unbound PVC, a serving ratio over DESIRED replicas that pods which
never become Ready lower, and SKIP with the reason without a kubernetes section."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof.kubeapi.endpoints import pod_is_ready
from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.manifests import minecraft_service, minecraft_statefulset
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant, wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]

SUITE = "smoke/test_kubernetes.py"


def _env(tmp_path: Path, cluster: EmbeddedCluster, namespace: str) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}, "status_timeout_s": 1.0, "sweep_concurrency": 32},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [namespace]},
        slo={},  # these runs check Kubernetes only: the environment declares no SLO they would leave unmeasured
    )


def test_healthy_tenant_passes_every_kubernetes_check(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=2, replicas=2, persistence=True))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    wait_serving(api, [kube_namespace], timeout=20)
    run = run_suite(_env(tmp_path, embedded_cluster, kube_namespace), tmp_path / "reports", suite=SUITE, timeout=90)
    assert run.code == 0, run.output
    outcomes = check_outcomes(run)
    assert {name: o["outcome"] for name, o in outcomes.items()} == {
        "test_apiserver_readyz": "passed",
        "test_nodes_ready": "passed",
        "test_workloads_have_desired_ready_replicas": "passed",
        "test_no_crashloop_or_excess_restarts": "passed",
        "test_pvcs_bound": "passed",
        "test_every_minecraft_service_has_ready_endpoints": "passed",
        "test_every_endpoint_answers_status": "passed",
        "test_serving_ratio_of_desired_replicas": "passed",
    }
    ratio = next(r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "serving_ratio")
    assert (ratio["measured"], ratio["samples"], ratio["passed"]) == (1.0, 4, True)
    fleet = next(r for r in run.evidence() if r["type"] == "fleet_status")
    assert fleet["total"] == 4
    assert fleet["serving"] == 4
    assert all(r["address"].startswith("127.") for r in fleet["results"])


def test_broken_objects_fail_the_checks_by_name(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    api = embedded_cluster.api()
    ns = kube_namespace
    deploy_tenant(api, Tenant(ns, releases=1, replicas=1))  # one healthy release: mc-000
    # A StatefulSet whose nodeSelector matches no node: its pod stays Pending (Unschedulable).
    create_or_keep(api, minecraft_statefulset(ns, "stranded", node_selector={"type": "no-such-node"}))
    create_or_keep(api, minecraft_service(ns, "stranded"))
    # A Service whose selector matches no pod.
    create_or_keep(api, minecraft_service(ns, "orphan", selector={"app.kubernetes.io/instance": "nobody"}))
    # A PVC no PV will ever bind (static class, no matching PV).
    create_or_keep(api, minecraft_statefulset(ns, "unbound", persistence=True))
    deadline = time.monotonic() + 30  # let the scheduler judge stranded-0 and mc-000 become ready
    while time.monotonic() < deadline:
        pods = {p["metadata"]["name"]: p for p in api.objects("pods", ns)}
        stranded = pods.get("stranded-0", {}).get("status", {}).get("conditions") or []
        if any(c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable" for c in stranded) and pod_is_ready(
            pods.get("mc-000-0", {})
        ):
            break
        time.sleep(0.2)
    run = run_suite(_env(tmp_path, embedded_cluster, ns), tmp_path / "reports", suite=SUITE, timeout=90)
    assert run.code == 1, run.output
    outcomes = check_outcomes(run)

    workloads = outcomes["test_workloads_have_desired_ready_replicas"]
    assert workloads["outcome"] == "failed"
    assert (
        f"statefulset {ns}/stranded (desired 1, ready 0; pod stranded-0: Pending: Unschedulable:"
        in workloads["message"]
    )
    assert "didn't match Pod's node affinity/selector" in workloads["message"]
    assert f"statefulset {ns}/mc-000" not in workloads["message"]

    endpoints = outcomes["test_every_minecraft_service_has_ready_endpoints"]
    assert endpoints["outcome"] == "failed"
    assert f"service {ns}/orphan (selector app.kubernetes.io/instance=nobody matches no pod)" in endpoints["message"]
    assert f"service {ns}/stranded (1 pod(s) match" in endpoints["message"]
    assert f"service {ns}/mc-000" not in endpoints["message"]

    pvcs = outcomes["test_pvcs_bound"]
    assert pvcs["outcome"] == "failed"
    assert f"pvc {ns}/data-unbound-0 (phase Pending)" in pvcs["message"]

    assert outcomes["test_apiserver_readyz"]["outcome"] == "passed"
    assert outcomes["test_nodes_ready"]["outcome"] == "passed"


def test_pods_that_never_become_ready_lower_the_serving_ratio(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    """Discovery sees only Ready endpoints (2 of 4 desired replicas): the ratio is over desired replicas."""
    api = embedded_cluster.api()
    ns = kube_namespace
    deploy_tenant(api, Tenant(ns, releases=1, replicas=2))  # mc-000: 2 replicas that serve
    wait_workloads_ready(api, [ns], timeout=30)
    wait_serving(api, [ns], timeout=20)  # mc-000's pods answer through the bridge
    # 2 replicas whose nodeSelector matches no node: Pending (Unschedulable) for ever, never Ready
    create_or_keep(api, minecraft_statefulset(ns, "stranded", replicas=2, node_selector={"type": "no-such-node"}))
    create_or_keep(api, minecraft_service(ns, "stranded"))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # both stranded pods created and judged Unschedulable
        pods = [p for p in api.objects("pods", ns) if p["metadata"]["name"].startswith("stranded-")]
        if len(pods) == 2 and all(
            any(
                c["type"] == "PodScheduled" and c.get("reason") == "Unschedulable"
                for c in p["status"].get("conditions") or []
            )
            for p in pods
        ):
            break
        time.sleep(0.2)
    run = run_suite(_env(tmp_path, embedded_cluster, ns), tmp_path / "reports", suite=SUITE, timeout=90)
    assert run.code == 1, run.output
    outcome = check_outcomes(run)["test_serving_ratio_of_desired_replicas"]
    assert outcome["outcome"] == "failed"
    assert "serving ratio 0.5000 (2 of 4 desired replicas serve)" in outcome["message"]
    assert (
        f"statefulset {ns}/stranded (desired 2, serving 0; pod stranded-0: Pending: Unschedulable" in outcome["message"]
    )
    assert f"statefulset {ns}/mc-000" not in outcome["message"]
    ratio = next(r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "serving_ratio")
    assert (ratio["measured"], ratio["samples"], ratio["passed"]) == (0.5, 4, False)
    # the endpoints that exist all answer: only the desired-replica denominator shows the gap
    assert check_outcomes(run)["test_every_endpoint_answers_status"]["outcome"] == "passed"


def test_without_a_kubernetes_section_every_check_is_skipped_with_the_reason(tmp_path: Path) -> None:
    env_file = write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1", "port": 25565}]}},
        sandbox=None,
    )
    run = run_suite(env_file, tmp_path / "reports", suite=SUITE, timeout=60)
    assert run.code == 3, run.output  # every check skipped: nothing was measured, so inconclusive, never pass
    assert run.report()["verdict"] == "inconclusive"
    outcomes = check_outcomes(run)
    assert len(outcomes) == 8
    for outcome in outcomes.values():
        assert outcome["outcome"] == "skipped"
        assert "has no kubernetes section" in outcome["message"]
