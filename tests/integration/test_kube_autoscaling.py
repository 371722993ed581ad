"""The static autoscaling checks (suites/smoke/test_autoscaling.py), run as the product runs them on the
embedded cluster: a tenant as the sandbox deploys it (PDB per release and proxy, CPU HPA for the proxy)
passes, with the unserved metrics.k8s.io SKIPPED when declared and FAILED when not; a Deployment with no
HPA and no PDB, and one whose HPA exceeds the ceiling and whose PDB allows no disruption, FAIL by name;
a scope where nothing is judged SKIPS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.manifests import minecraft_hpa, minecraft_pdb, minecraft_proxy_deployment
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]

SUITE = "smoke/test_autoscaling.py"
GAP = {"metrics.k8s.io": "the embedded cluster runs no metrics-server"}


def _env(tmp_path: Path, cluster: EmbeddedCluster, namespace: str, **autoscaling: Any) -> Path:
    autoscaling.setdefault("max_replicas_ceiling", 50)
    tmp_path.mkdir(parents=True, exist_ok=True)
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [namespace], "autoscaling": autoscaling},
        slo={},
    )


def _outcomes(tmp_path: Path, env: Path) -> tuple[int, dict[str, dict[str, Any]]]:
    run = run_suite(env, tmp_path / "reports", suite=SUITE, timeout=90)
    return run.code, check_outcomes(run)


def test_sandbox_tenant_passes_and_an_undeclared_metrics_gap_fails(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    ns = kube_namespace
    deploy_tenant(embedded_cluster.api(), Tenant(ns, releases=2, replicas=2, proxy_replicas=2, autoscaling=True))
    env = _env(tmp_path / "a", embedded_cluster, ns, platform_scaled=["*/statefulset/*"], metrics_api_gaps=GAP)
    code, outcomes = _outcomes(tmp_path / "a", env)
    assert code == 0, outcomes
    assert outcomes["test_scalable_workloads_have_sane_hpa"]["outcome"] == "passed"
    assert outcomes["test_workloads_have_pdb_allowing_one_disruption"]["outcome"] == "passed"
    metrics = outcomes["test_hpa_metric_apis_are_served"]
    assert metrics["outcome"] == "skipped"
    assert "metrics.k8s.io not served (not registered" in metrics["message"], metrics

    # Without the declaration the same cluster fails: the proxy HPA's CPU metric has no API to come from.
    env = _env(tmp_path / "b", embedded_cluster, ns, platform_scaled=["*/statefulset/*"])
    code, outcomes = _outcomes(tmp_path / "b", env)
    assert code == 1
    metrics = outcomes["test_hpa_metric_apis_are_served"]
    assert metrics["outcome"] == "failed"
    assert f"{ns}/horizontalpodautoscaler/proxy (metrics.k8s.io not served" in metrics["message"]
    assert "deploy metrics-server" in metrics["message"]

    # Game StatefulSets not declared platform-scaled: each lacks an HPA.
    env = _env(tmp_path / "c", embedded_cluster, ns, metrics_api_gaps=GAP)
    code, outcomes = _outcomes(tmp_path / "c", env)
    hpa = outcomes["test_scalable_workloads_have_sane_hpa"]
    assert hpa["outcome"] == "failed"
    assert f"{ns}/statefulset/mc-000 (no HorizontalPodAutoscaler targets it" in hpa["message"]
    assert f"{ns}/deployment/proxy" not in hpa["message"]


def test_missing_and_insane_hpa_and_pdb_fail_by_name(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    api = embedded_cluster.api()
    ns = kube_namespace
    create_or_keep(api, minecraft_proxy_deployment(ns, "bare", replicas=2))  # no HPA, no PDB
    create_or_keep(api, minecraft_proxy_deployment(ns, "wide", replicas=2))
    create_or_keep(api, minecraft_hpa(ns, "wide", min_replicas=2, max_replicas=500))  # above the ceiling
    wide = {"app.kubernetes.io/instance": "wide"}
    pdb = minecraft_pdb(ns, "wide", wide)
    pdb["spec"] = {"minAvailable": 2, "selector": {"matchLabels": wide}}  # = minReplicas: no disruption allowed
    create_or_keep(api, pdb)
    code, outcomes = _outcomes(tmp_path, _env(tmp_path, embedded_cluster, ns, metrics_api_gaps=GAP))
    assert code == 1
    hpa = outcomes["test_scalable_workloads_have_sane_hpa"]
    assert hpa["outcome"] == "failed"
    assert f"{ns}/deployment/bare (no HorizontalPodAutoscaler targets it" in hpa["message"]
    assert (
        f"{ns}/deployment/wide ({ns}/horizontalpodautoscaler/wide: maxReplicas 500 > the ceiling 50" in hpa["message"]
    )
    pdbs = outcomes["test_workloads_have_pdb_allowing_one_disruption"]
    assert pdbs["outcome"] == "failed"
    assert f"{ns}/deployment/bare (no PodDisruptionBudget selects its pods" in pdbs["message"]
    assert (
        f"{ns}/deployment/wide (pdb wide: minAvailable 2 allows no disruption at 2 selected pod(s)" in pdbs["message"]
    )


def test_nothing_judged_is_skipped_not_passed(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    """Every workload platform-scaled, or at 0 replicas: the HPA and PDB checks judged nothing, so they SKIP
    with the reason instead of passing."""
    ns = kube_namespace
    create_or_keep(embedded_cluster.api(), minecraft_proxy_deployment(ns, "idle", replicas=0))
    env = _env(tmp_path, embedded_cluster, ns, platform_scaled=["*/*/*"], metrics_api_gaps=GAP)
    _code, outcomes = _outcomes(tmp_path, env)
    hpa = outcomes["test_scalable_workloads_have_sane_hpa"]
    assert hpa["outcome"] == "skipped", hpa
    assert "all 1 workload(s) are declared kubernetes.autoscaling.platform_scaled" in hpa["message"]
    pdbs = outcomes["test_workloads_have_pdb_allowing_one_disruption"]
    assert pdbs["outcome"] == "skipped", pdbs
    assert "all 1 workload(s) run 0 replicas at the least" in pdbs["message"]


def test_the_apiserver_refuses_min_above_max(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> None:
    """min > max never reaches a cluster (the unit table covers the finding): the API validates it away."""
    from mcproof.kubeapi import KubeError

    with pytest.raises(KubeError, match="maxReplicas"):
        create_or_keep(embedded_cluster.api(), minecraft_hpa(kube_namespace, "proxy", min_replicas=5, max_replicas=3))
