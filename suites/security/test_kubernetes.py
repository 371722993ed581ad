"""Kubernetes hardening against the live apiserver (the environment's `kubernetes:` section): RBAC,
token automount, PodSecurity labels AND a privileged pod really rejected by admission (server-side
dry run: admission runs, nothing is created), default-deny NetworkPolicy, quotas, secrets in env,
pinned images, limits, and the harness's own RBAC proven least-privilege with access reviews. A check
that found nothing to judge (no pod, no binding) is inconclusive, never a pass."""

from __future__ import annotations

from typing import Any

import pytest

from mcproof.config import Environment
from mcproof.evidence import RunStore
from mcproof.evidence.records import PolicyScanEvidence
from mcproof.security.kube_policy import Finding, namespace_findings, rbac_findings, workload_findings
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.security, pytest.mark.kubernetes]

# (verb, resource, group, namespace or "" for cluster scope): what the harness must NOT be allowed to do.
FORBIDDEN_FOR_HARNESS = [
    ("create", "clusterrolebindings", "rbac.authorization.k8s.io", ""),
    ("escalate", "clusterroles", "rbac.authorization.k8s.io", ""),
    ("impersonate", "users", "", ""),
    ("list", "secrets", "", ""),
    ("delete", "namespaces", "", ""),
    ("create", "pods/exec", "", "kube-system"),
]


@pytest.fixture(scope="module")
def kube_client(environment: Environment) -> Any:
    settings = environment.kubernetes
    if settings is None:
        pytest.skip("the environment has no kubernetes section (kubeconfig, context, namespaces)")
    from kubernetes import config

    kubeconfig = environment.kubeconfig_path  # kubernetes.kubeconfig, else the embedded cluster's, else default
    try:
        return config.new_client_from_config(  # type: ignore[no-untyped-call]
            config_file=str(kubeconfig) if kubeconfig else None, context=settings.context
        )
    except Exception as err:  # the client raises plain Exceptions for bad files/contexts
        pytest.fail(
            f"cannot load kubeconfig {kubeconfig} context {settings.context}: {err}; fix kubernetes.*", pytrace=False
        )


def _listed(method: Any, *args: Any, kind: str) -> list[dict[str, Any]]:
    """Every object a list call returns (paginated, raw JSON), tagged with its kind; an API error fails
    the check in one line."""
    from mcproof.kubeapi import KubeError, list_pages

    try:
        items, _ = list_pages(method, *args, timeout=10.0)
    except KubeError as err:
        pytest.fail(str(err), pytrace=False)
    return [{**i, "kind": kind} for i in items]


@pytest.fixture(scope="module")
def tenants(environment: Environment) -> list[str]:
    assert environment.kubernetes is not None
    if not environment.kubernetes.namespaces:
        pytest.skip("no tenant namespaces declared (kubernetes.namespaces)")
    return list(environment.kubernetes.namespaces)


def _record(evidence: RunStore, env: Environment, check: str, findings: list[Finding], checked: int) -> None:
    evidence.append(
        PolicyScanEvidence(
            environment=env.name,
            method="kubernetes client, live objects, mcproof.security.kube_policy rules",
            check=check,
            tool="mcproof-kube-policy",
            source="apiserver",
            passed_checks=checked,
            findings=[f.as_dict() for f in findings],
            accepted=[],
            passed=not findings,
        )
    )


def test_no_cluster_admin_for_workloads(kube_client: Any, environment: Environment, evidence: RunStore) -> None:
    from kubernetes import client

    rbac = client.RbacAuthorizationV1Api(kube_client)
    objects = _listed(rbac.list_cluster_role_binding, kind="ClusterRoleBinding")
    objects += _listed(rbac.list_role_binding_for_all_namespaces, kind="RoleBinding")
    if not objects:
        inconclusive(
            "the apiserver listed no ClusterRoleBinding or RoleBinding: no RBAC to judge",
            "check the harness may list (cluster)rolebindings (deploy/rbac.yaml)",
        )
    findings = rbac_findings(objects)
    _record(evidence, environment, "test_no_cluster_admin_for_workloads", findings, len(objects))
    assert not findings, "; ".join(map(str, findings))


def test_workloads_hardened(kube_client: Any, tenants: list[str], environment: Environment, evidence: RunStore) -> None:
    from kubernetes import client

    core = client.CoreV1Api(kube_client)
    pods = [p for ns in tenants for p in _listed(core.list_namespaced_pod, ns, kind="Pod")]
    if not pods:
        inconclusive(
            f"no pod in the tenant namespaces {', '.join(tenants)}: no workload to judge",
            "deploy the tenants' workloads (or fix kubernetes.namespaces), then re-run",
        )
    findings = workload_findings(pods)
    _record(evidence, environment, "test_workloads_hardened", findings, len(pods))
    assert not findings, f"{len(findings)} finding(s): " + "; ".join(map(str, findings[:25]))


def test_tenant_namespaces_isolated(
    kube_client: Any, tenants: list[str], environment: Environment, evidence: RunStore
) -> None:
    from kubernetes import client

    core, net = client.CoreV1Api(kube_client), client.NetworkingV1Api(kube_client)
    objects = _listed(core.list_namespace, kind="Namespace")
    for ns in tenants:
        objects += _listed(net.list_namespaced_network_policy, ns, kind="NetworkPolicy")
        objects += _listed(core.list_namespaced_resource_quota, ns, kind="ResourceQuota")
    findings = namespace_findings(objects, tenants)
    _record(evidence, environment, "test_tenant_namespaces_isolated", findings, len(tenants))
    assert not findings, "; ".join(map(str, findings))


def test_privileged_pod_rejected(kube_client: Any, tenants: list[str]) -> None:
    """A privileged pod, otherwise valid (requests and limits, so a ResourceQuota cannot be what refuses it),
    is created with a server-side dry run; only a 403 from PodSecurity admission counts as rejected."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    core = client.CoreV1Api(kube_client)
    admitted: list[str] = []
    other: list[str] = []
    resources = {"cpu": "10m", "memory": "16Mi"}
    for ns in tenants:
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "mcproof-privileged-probe", "labels": {"mcproof.io/probe": "admission"}},
            "spec": {
                "containers": [
                    {
                        "name": "p",
                        "image": "registry.invalid/pause:3.10",
                        "resources": {"requests": dict(resources), "limits": dict(resources)},
                        "securityContext": {"privileged": True},
                    }
                ]
            },
        }
        try:
            core.create_namespaced_pod(ns, pod, dry_run="All", _request_timeout=10)  # type: ignore[arg-type]
            admitted.append(ns)
        except ApiException as err:
            body = str(err.body or "")
            if err.status != 403:
                pytest.fail(
                    f"namespace {ns}: unexpected {err.status} on a dry-run pod create: {err.reason}", pytrace=False
                )
            if "PodSecurity" not in body:
                other.append(f"{ns} ({body[:200]})")
    assert not admitted, (
        f"a privileged pod was admitted (server-side dry run) in namespace(s) {', '.join(admitted)}; "
        "label them pod-security.kubernetes.io/enforce=restricted (or baseline)"
    )
    assert not other, (
        f"a privileged pod was refused, but not by PodSecurity admission, in {', '.join(other)}; "
        "PodSecurity is not proven to block it: label the namespace pod-security.kubernetes.io/enforce=restricted "
        "and enable the PodSecurity admission plugin"
    )


def test_harness_rbac_least_privilege(kube_client: Any, environment: Environment) -> None:
    from kubernetes import client

    settings = environment.kubernetes
    if settings is not None and settings.embedded is not None and settings.kubeconfig is None:
        pytest.skip(
            "the embedded sandbox cluster is reached with the cluster-admin kubeconfig mcproof generated for it; "
            "the deployed harness's ServiceAccounts (deploy/rbac.yaml) are proven least-privilege with "
            "SubjectAccessReviews by tests/integration/test_deploy_rbac.py"
        )

    auth = client.AuthorizationV1Api(kube_client)
    allowed = []
    for verb, resource, group, ns in FORBIDDEN_FOR_HARNESS:
        sub = resource.split("/", 1)
        attrs = {"verb": verb, "resource": sub[0], "group": group}
        if len(sub) == 2:
            attrs["subresource"] = sub[1]
        if ns:
            attrs["namespace"] = ns
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(resource_attributes=client.V1ResourceAttributes(**attrs))
        )
        review = auth.create_self_subject_access_review(body, _request_timeout=10)
        if review.status is not None and review.status.allowed:
            allowed.append(f"{verb} {resource}" + (f" in {ns}" if ns else " (cluster-wide)"))
    assert not allowed, (
        f"the harness's credentials may {', '.join(allowed)}; run the harness with a ServiceAccount bound only to "
        "read-only Roles in the tenant namespaces (plus the chaos allow-list)"
    )
