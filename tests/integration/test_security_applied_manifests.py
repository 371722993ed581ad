"""The security suite's manifest checks scan what the environment really deploys: for the sandbox, the
manifests its embedded cluster applied (written to ``<kube state dir>/applied`` by the same call that
applies them). They pass Checkov and mcproof's rules; the weak fixture still FAILS naming the object."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof.config import load_environment
from mcproof.security.checkov import checkov_path
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.kube.embedded import APPLIED_DIR, start_embedded

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes, pytest.mark.security]

SandboxFactory = Callable[..., Sandbox]
ROOT = Path(__file__).resolve().parents[2]
HAVE_CHECKOV = checkov_path().is_file()


def _kubernetes(namespace: str) -> dict[str, Any]:
    embedded = {
        "nodes": 2,
        "tenants": [namespace],
        "releases_per_tenant": 2,
        "replicas": 1,
        "persistence": True,
        "proxy_replicas": 2,
        "pod_cidr": f"127.{random.randint(91, 110)}.0.0/16",
    }
    return {"namespaces": [namespace], "embedded": embedded}


def test_sandbox_applied_manifests_pass_and_weak_fixture_fails(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=2)
    ns = f"mct-applied-{random.randint(0, 99999):05d}"
    env_file = write_environment(
        tmp_path / "env.yaml", sandbox.state_dir, kubernetes=_kubernetes(ns), security={"manifests": {}}
    )
    env = load_environment(str(env_file))
    kube_dir = env.kube_state_dir
    assert kube_dir is not None
    assert env.kubernetes is not None
    assert env.kubernetes.embedded is not None
    # Before the cluster applied anything there is nothing of the environment to scan: inconclusive.
    before = run_suite(env_file, tmp_path / "reports", "-k", "manifest", suite="security", timeout=120)
    outcome = check_outcomes(before)["test_manifest_kubernetes_policy"]
    assert outcome["outcome"] == "inconclusive", before.output
    assert "has written no applied manifests" in outcome["message"]
    assert before.code == 3, before.output
    try:
        start_embedded(kube_dir, env, env.kubernetes.embedded)
        applied = kube_dir / APPLIED_DIR
        objects = list(yaml.safe_load_all((applied / f"{ns}.yaml").read_text(encoding="utf-8")))
        kinds = {o["kind"] for o in objects}
        assert {"Namespace", "ResourceQuota", "NetworkPolicy", "StatefulSet", "Deployment", "Service"} <= kinds
        # What the cluster holds is what was written: every applied workload is there, by name.
        api = EmbeddedCluster(kube_dir).api()
        live = {o["metadata"]["name"] for o in api.objects("statefulsets", ns) + api.objects("deployments", ns)}
        assert live == {o["metadata"]["name"] for o in objects if o["kind"] in {"StatefulSet", "Deployment"}}

        run = run_suite(env_file, tmp_path / "reports", "-k", "manifest", suite="security", timeout=180)
        outcomes = check_outcomes(run)
        assert outcomes["test_manifest_kubernetes_policy"]["outcome"] == "passed", run.output
        if HAVE_CHECKOV:
            assert outcomes["test_checkov_manifests"]["outcome"] == "passed", outcomes["test_checkov_manifests"]
        assert run.code == 0, run.output
        scans = [r for r in run.evidence() if r["type"] == "policy_scan"]
        assert scans
        assert {r["source"] for r in scans} == {str(applied)}
        assert all(r["passed"] for r in scans)
    finally:
        EmbeddedCluster(kube_dir).down()

    weak = write_environment(
        tmp_path / "weak.yaml",
        sandbox.state_dir,
        security={"manifests": {"directory": str(ROOT / "fixtures" / "manifests" / "weak")}},
    )
    failed = run_suite(weak, tmp_path / "reports", "-k", "manifest", suite="security", timeout=180)
    assert failed.code == 1, failed.output
    outcomes = check_outcomes(failed)
    policy = outcomes["test_manifest_kubernetes_policy"]
    assert policy["outcome"] == "failed"
    assert "Deployment/tenant-a/mc-survival container minecraft: runs privileged" in policy["message"]
    if HAVE_CHECKOV:
        assert outcomes["test_checkov_manifests"]["outcome"] == "failed"
        assert "CKV_K8S_16 Deployment.tenant-a.mc-survival" in outcomes["test_checkov_manifests"]["message"]
