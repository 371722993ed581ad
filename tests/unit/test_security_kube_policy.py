"""mcproof's Kubernetes rules over the sample manifests: the hardened set is clean, the weak set trips
every rule, each finding naming the object and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.config import load_environment
from mcproof.security.kube_policy import (
    load_manifests,
    manifests_directory,
    namespace_findings,
    rbac_findings,
    workload_findings,
)
from mcproof_sandbox.kube.embedded import tenants
from mcproof_sandbox.kube.workloads import tenant_manifests, write_manifests

MANIFESTS = Path(__file__).resolve().parents[2] / "fixtures" / "manifests"


def _all(directory: Path) -> list[str]:
    objects = load_manifests(directory)
    return [str(f) for f in (*workload_findings(objects), *namespace_findings(objects), *rbac_findings(objects))]


def test_hardened_manifests_are_clean() -> None:
    assert _all(MANIFESTS / "hardened") == []


def test_weak_manifests_trip_every_rule() -> None:
    objects = load_manifests(MANIFESTS / "weak")
    rules = {f.rule for f in (*workload_findings(objects), *namespace_findings(objects), *rbac_findings(objects))}
    assert rules == {
        "image-not-pinned",
        "no-limits",
        "secret-in-env",
        "privileged",
        "not-hardened",
        "automount-token",
        "pod-security",
        "default-deny",
        "resource-quota",
        "cluster-admin",
    }
    text = "\n".join(_all(MANIFESTS / "weak"))
    assert (
        "Deployment/tenant-a/mc-survival container minecraft: runs privileged; remove securityContext.privileged"
        in text
    )
    assert "ClusterRoleBinding/tenant-a-default-admin: binds ServiceAccount tenant-a/default to cluster-admin" in text


def test_rules_on_live_shaped_objects() -> None:
    pod = {
        "kind": "Pod",
        "metadata": {"name": "p", "namespace": "t"},
        "spec": {
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True},
            "containers": [
                {
                    "name": "c",
                    "image": "r/mc@sha256:" + "a" * 64,
                    "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                    "securityContext": {"allowPrivilegeEscalation": False},
                    "env": [
                        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                        {"name": "TOKEN_FILE", "value": "/run/t"},
                    ],
                },
            ],
        },
    }
    assert workload_findings([pod]) == []
    policy = {
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow", "namespace": "t"},
        "spec": {"podSelector": {}, "ingress": [{}]},
    }
    ns = {
        "kind": "Namespace",
        "metadata": {"name": "t", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
    }
    rules = {f.rule for f in namespace_findings([ns, policy], ["t"])}
    assert rules == {"pod-security", "default-deny", "resource-quota"}  # an allow-all policy is not default-deny


def test_sandbox_manifests_as_applied_are_clean(tmp_path: Path) -> None:
    """What the local sandbox's cluster applies (the same render deploy_tenant uses), written as it
    writes them, passes every rule."""
    env = load_environment(str(Path(__file__).resolve().parents[2] / "environments" / "local.yaml"))
    assert env.kubernetes is not None
    assert env.kubernetes.embedded is not None
    rendered = {
        t.namespace: tenant_manifests(t, labels={"mcproof.io/sandbox": "true"})
        for t in tenants(env, env.kubernetes.embedded)
    }
    write_manifests(tmp_path, rendered)
    (tmp_path / "stale.yaml").write_text("kind: Pod\n")
    write_manifests(tmp_path, rendered)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["minecraft.yaml", "tenant-b.yaml"]
    objects = load_manifests(tmp_path)
    assert {o["kind"] for o in objects} >= {"Namespace", "NetworkPolicy", "ResourceQuota", "StatefulSet", "Deployment"}
    assert _all(tmp_path) == []


def test_local_environment_scans_the_embedded_clusters_applied_manifests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPROOF_STATE_DIR", "/tmp/mcproof-unit-state")
    env = load_environment(str(Path(__file__).resolve().parents[2] / "environments" / "local.yaml"))
    assert env.security is not None
    assert env.security.manifests is not None
    assert env.security.manifests.directory is None
    assert manifests_directory(env, env.security.manifests) == Path("/tmp/mcproof-unit-state/kube/applied")
