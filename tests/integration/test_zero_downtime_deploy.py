"""The zero-downtime deploy check against a real control plane and the pod bridge: the proxy tier
(RollingUpdate maxUnavailable 0 / maxSurge 1, minReadySeconds) rolls with an answering endpoint at every
200 ms tick; the same workload with strategy Recreate shows a gap and the check FAILS naming the
workload and the fix. Without a multi-replica workload, or without kubernetes, the check is skipped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment, minecraft_service
from mcproof_sandbox.kube.workloads import wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes, pytest.mark.chaos]


def _env(tmp_path: Path, cluster: EmbeddedCluster, namespace: str) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}, "status_timeout_s": 1.0, "sweep_concurrency": 32},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [namespace]},
        guards={"loopback_only": True, "allowed_namespaces": [namespace]},
    )


def _deploy(cluster: EmbeddedCluster, namespace: str, strategy: str) -> None:
    api = cluster.api()
    create_or_keep(api, minecraft_service(namespace, "proxy"))
    create_or_keep(api, minecraft_proxy_deployment(namespace, replicas=2, strategy=strategy))
    wait_workloads_ready(api, [namespace], timeout=60)
    wait_serving(api, [namespace], timeout=30)


def _deploy_record(run_dir: Any) -> dict[str, Any]:
    return next(r for r in run_dir if r["type"] == "deploy")


def test_rolling_proxy_deploys_without_downtime(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace, "RollingUpdate")
    run = run_suite(
        _env(tmp_path, embedded_cluster, kube_namespace),
        tmp_path / "reports",
        "-k",
        "zero_downtime",
        suite="chaos",
        timeout=180,
    )
    outcome = check_outcomes(run)["test_rolling_deploy_zero_downtime"]
    assert outcome["outcome"] == "passed", run.output[-3000:]
    record = _deploy_record(run.evidence())
    assert record["zero_downtime"] is True
    assert record["completed"] is True
    assert record["workload"] == f"Deployment {kube_namespace}/proxy"
    assert record["strategy"] == "RollingUpdate(maxUnavailable=0, maxSurge=1)"
    assert record["gaps"] == []
    ticks = record["timeline"]
    assert len(ticks) >= 10
    assert all(t["answered"] >= 1 for t in ticks)
    before = set(ticks[0]["answering_pods"])
    after = set(ticks[-1]["answering_pods"])
    assert before
    assert not before & after  # every pod was replaced while someone answered


def test_recreate_proxy_shows_a_gap_and_fails(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace, "Recreate")
    run = run_suite(
        _env(tmp_path, embedded_cluster, kube_namespace),
        tmp_path / "reports",
        "-k",
        "zero_downtime",
        suite="chaos",
        timeout=180,
    )
    outcome = check_outcomes(run)["test_rolling_deploy_zero_downtime"]
    assert outcome["outcome"] == "failed", run.output[-3000:]
    message = str(outcome["message"])
    assert f"Deployment {kube_namespace}/proxy (strategy Recreate, 2 replicas) had no answering endpoint" in message
    assert "use strategy RollingUpdate with maxUnavailable 0" in message
    record = _deploy_record(run.evidence())
    assert record["zero_downtime"] is False
    assert record["gaps"]


def test_without_multi_replica_workload_the_check_skips(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    run = run_suite(
        _env(tmp_path, embedded_cluster, kube_namespace),
        tmp_path / "reports",
        "-k",
        "zero_downtime",
        suite="chaos",
        timeout=60,
    )
    outcome = check_outcomes(run)["test_rolling_deploy_zero_downtime"]
    assert outcome["outcome"] == "skipped"
    assert "no Deployment with 2+ replicas" in str(outcome["message"])
