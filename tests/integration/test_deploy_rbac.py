"""The delivery manifests (deploy/) on a real kube-apiserver: namespace + RBAC applied for real, the
sign-off Job, game-day CronJob and Locust Deployments applied with a server-side dry run (their image
is a placeholder; admission and validation still run), their pod templates admitted by PodSecurity
``restricted``, and every ServiceAccount proven to hold exactly what the harness needs with
SubjectAccessReviews (the apiserver's own RBAC authorizer answering for the account)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from labels import TEST_NAMESPACE_LABEL

from mcproof.paths import project_root
from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.manifests import tenant_namespace
from mcproof_sandbox.kube.workloads import delete_namespace

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]

DEPLOY = project_root() / "deploy"
FLEET_NS = "minecraft"  # the namespace deploy/rbac.yaml grants access to
HARNESS_NS = "mcproof"

Access = tuple[str, str, str, str]  # verb, resource[/subresource], API group, namespace ("" = cluster scope)

# What each account's code paths do (fixtures/cluster.py kube_inventory, discovery/kubernetes.py,
# chaos/kube.py KubeFleet, suites/security/test_kubernetes.py, chaosk8s terminate_pods) ...
DISCOVERY: list[Access] = [
    ("list", "pods", "", FLEET_NS),
    ("get", "pods", "", FLEET_NS),
    ("watch", "pods", "", FLEET_NS),
    ("list", "services", "", FLEET_NS),
    ("list", "endpoints", "", FLEET_NS),
    ("list", "endpointslices", "discovery.k8s.io", FLEET_NS),
    ("list", "statefulsets", "apps", FLEET_NS),
    ("list", "deployments", "apps", FLEET_NS),
]
SIGNOFF_ONLY: list[Access] = [
    ("list", "persistentvolumeclaims", "", FLEET_NS),
    ("list", "networkpolicies", "networking.k8s.io", FLEET_NS),
    ("list", "resourcequotas", "", FLEET_NS),
    ("list", "horizontalpodautoscalers", "autoscaling", FLEET_NS),
    ("list", "poddisruptionbudgets", "policy", FLEET_NS),
    ("list", "nodes", "", ""),
    ("list", "namespaces", "", ""),
    ("list", "clusterrolebindings", "rbac.authorization.k8s.io", ""),
    ("list", "rolebindings", "rbac.authorization.k8s.io", ""),
]
CHAOS: list[Access] = [("delete", "pods", "", FLEET_NS), ("create", "pods/eviction", "", FLEET_NS)]

# ... and what none of them may do: secrets, cluster-scoped writes, escalation, other namespaces.
NEVER: list[Access] = [
    ("get", "secrets", "", FLEET_NS),
    ("list", "secrets", "", FLEET_NS),
    ("get", "secrets", "", HARNESS_NS),
    ("list", "secrets", "", ""),
    ("create", "namespaces", "", ""),
    ("delete", "namespaces", "", ""),
    ("patch", "nodes", "", ""),
    ("create", "clusterrolebindings", "rbac.authorization.k8s.io", ""),
    ("create", "rolebindings", "rbac.authorization.k8s.io", FLEET_NS),
    ("escalate", "clusterroles", "rbac.authorization.k8s.io", ""),
    ("bind", "clusterroles", "rbac.authorization.k8s.io", ""),
    ("impersonate", "serviceaccounts", "", ""),
    ("create", "pods/exec", "", FLEET_NS),
    ("create", "pods", "", FLEET_NS),
    ("patch", "statefulsets", "apps", FLEET_NS),
    ("update", "statefulsets/scale", "apps", FLEET_NS),
    ("list", "pods", "", "kube-system"),
    ("list", "pods", "", "default"),
    ("list", "pods", "", "tenant-other"),
    ("delete", "pods", "", "tenant-other"),
    ("delete", "pods", "", HARNESS_NS),
    ("list", "configmaps", "", FLEET_NS),
]

EXPECTED: dict[str, list[Access]] = {
    "mcproof": DISCOVERY + SIGNOFF_ONLY,
    "mcproof-gameday": DISCOVERY + CHAOS,
    "mcproof-locust": [],
}


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((DEPLOY / name).read_text(encoding="utf-8")) if d]


def _allowed(auth: Any, account: str, access: Access) -> bool:
    from kubernetes import client

    verb, resource, group, namespace = access
    name, _, sub = resource.partition("/")
    attrs = client.V1ResourceAttributes(
        verb=verb, resource=name, subresource=sub or None, group=group, namespace=namespace or None
    )
    review = client.V1SubjectAccessReview(
        spec=client.V1SubjectAccessReviewSpec(
            user=f"system:serviceaccount:{HARNESS_NS}:{account}",
            groups=["system:serviceaccounts", f"system:serviceaccounts:{HARNESS_NS}", "system:authenticated"],
            resource_attributes=attrs,
        )
    )
    result = auth.create_subject_access_review(review, _request_timeout=10)
    return bool(result.status is not None and result.status.allowed)


@pytest.fixture(scope="module")
def applied(embedded_cluster: EmbeddedCluster) -> Iterator[Any]:
    """namespace.yaml + rbac.yaml applied for real (plus the `minecraft` fleet namespace); removed after."""
    from kubernetes import client, utils

    api = embedded_cluster.api()
    create_or_keep(api, tenant_namespace(FLEET_NS, labels={TEST_NAMESPACE_LABEL: "true"}))
    docs = _docs("namespace.yaml") + _docs("rbac.yaml")
    for doc in docs:
        utils.create_from_dict(api.client, doc)  # type: ignore[no-untyped-call]
    yield api
    rbac = client.RbacAuthorizationV1Api(api.client)
    for doc in docs:
        if doc["kind"] == "ClusterRoleBinding":
            rbac.delete_cluster_role_binding(doc["metadata"]["name"], _request_timeout=10)
        elif doc["kind"] == "ClusterRole":
            rbac.delete_cluster_role(doc["metadata"]["name"], _request_timeout=10)
    for ns in (HARNESS_NS, FLEET_NS):
        delete_namespace(api, ns, wait_s=30.0)


@pytest.mark.parametrize("account", sorted(EXPECTED))
def test_each_account_has_exactly_what_the_harness_needs(applied: Any, account: str) -> None:
    from kubernetes import client

    auth = client.AuthorizationV1Api(applied.client)
    needed = EXPECTED[account]
    missing = [a for a in needed if not _allowed(auth, account, a)]
    others = [a for accesses in EXPECTED.values() for a in accesses if a not in needed]
    excess = [a for a in NEVER + others if _allowed(auth, account, a)]
    assert not missing, f"{account} lacks what the harness does: {missing}; add it to deploy/rbac.yaml"
    assert not excess, f"{account} may do more than it needs: {excess}; narrow deploy/rbac.yaml"


def _pod_from(template: dict[str, Any], name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, **copy.deepcopy(template["metadata"])},
        "spec": copy.deepcopy(template["spec"]),
    }


@pytest.mark.parametrize("manifest", ["signoff-job.yaml", "gameday-cronjob.yaml", "locust.yaml"])
def test_workloads_pass_server_side_dry_run_and_podsecurity(applied: Any, manifest: str) -> None:
    """Created with dryRun=All (validation + admission, nothing stored); each pod template, as a Pod,
    is admitted by PodSecurity ``restricted`` in the harness namespace (a dry-run Pod create)."""
    from kubernetes import client, utils

    core = client.CoreV1Api(applied.client)
    for doc in _docs(manifest):
        created = utils.create_from_dict(applied.client, doc, dry_run="All")  # type: ignore[no-untyped-call]
        assert created, doc["metadata"]
        spec = doc.get("spec") or {}
        template = (spec.get("jobTemplate", {}).get("spec") or spec).get("template")
        if template is None:
            continue  # a Service
        name = (doc["metadata"].get("name") or doc["metadata"]["generateName"] + "probe").strip("-")
        pod = _pod_from(template, name)
        core.create_namespaced_pod(HARNESS_NS, pod, dry_run="All", _request_timeout=10)  # type: ignore[arg-type]
        assert pod["spec"]["serviceAccountName"] in EXPECTED


def test_locust_token_not_mounted_and_harness_namespace_restricted(applied: Any) -> None:
    from kubernetes import client

    core = client.CoreV1Api(applied.client)
    sa = core.read_namespaced_service_account("mcproof-locust", HARNESS_NS, _request_timeout=10)
    assert sa.automount_service_account_token is False
    ns = core.read_namespace(HARNESS_NS, _request_timeout=10)
    assert ns.metadata is not None
    assert (ns.metadata.labels or {}).get("pod-security.kubernetes.io/enforce") == "restricted"
