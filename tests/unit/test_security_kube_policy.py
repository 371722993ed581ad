"""mcproof's Kubernetes rules over the sample manifests: the hardened set is clean, the weak set trips
every rule, each finding naming the object and the fix."""

from __future__ import annotations

from pathlib import Path

from mcproof.security.kube_policy import load_manifests, namespace_findings, rbac_findings, workload_findings

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
        "image-not-pinned", "no-limits", "secret-in-env", "privileged", "not-hardened", "automount-token",
        "pod-security", "default-deny", "resource-quota", "cluster-admin",
    }  # fmt: skip
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
                {"name": "c", "image": "r/mc@sha256:" + "a" * 64, "resources": {"limits": {"cpu": "1", "memory": "1Gi"}},
                 "securityContext": {"allowPrivilegeEscalation": False},
                 "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
                         {"name": "TOKEN_FILE", "value": "/run/t"}]},
            ],
        },
    }  # fmt: skip
    assert workload_findings([pod]) == []
    policy = {"kind": "NetworkPolicy", "metadata": {"name": "allow", "namespace": "t"},
              "spec": {"podSelector": {}, "ingress": [{}]}}  # fmt: skip
    ns = {
        "kind": "Namespace",
        "metadata": {"name": "t", "labels": {"pod-security.kubernetes.io/enforce": "privileged"}},
    }
    rules = {f.rule for f in namespace_findings([ns, policy], ["t"])}
    assert rules == {"pod-security", "default-deny", "resource-quota"}  # an allow-all policy is not default-deny
