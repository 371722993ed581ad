"""Endpoint derivation and the Kubernetes checks, on objects recorded from the embedded cluster
(kube-apiserver v1.36.3 + kwok 0.8.0), trimmed to the fields that matter."""

from __future__ import annotations

import copy
from typing import Any

from mcproof.connect.kubernetes import endpoint_target, service_endpoint_map
from mcproof.kube.checks import (
    nodes_not_ready,
    pods_unhealthy,
    pvcs_not_bound,
    services_without_endpoints,
    workloads_not_ready,
)
from mcproof.kubeapi.endpoints import pod_is_ready, resolve_target_port, service_endpoints
from mcproof_sandbox.kube.manifests import minecraft_service, minecraft_statefulset

NS = "tenant-a"
LABELS = {"app.kubernetes.io/name": "minecraft", "app.kubernetes.io/instance": "mc-000"}
READY_POD: dict[str, Any] = {
    "metadata": {"name": "mc-000-0", "namespace": NS, "uid": "8d655d21", "labels": dict(LABELS)},
    "spec": {"containers": minecraft_statefulset(NS, "mc-000")["spec"]["template"]["spec"]["containers"]},
    "status": {
        "phase": "Running",
        "podIP": "127.64.0.1",
        "conditions": [
            {"type": "Initialized", "status": "True"},
            {"type": "Ready", "status": "True"},
            {"type": "ContainersReady", "status": "True"},
            {"type": "PodScheduled", "status": "True"},
        ],
        "containerStatuses": [{"name": "minecraft", "ready": True, "restartCount": 0, "state": {"running": {}}}],
    },
}
PENDING_POD: dict[str, Any] = {
    "metadata": {"name": "stranded-0", "namespace": NS, "labels": {**LABELS, "app.kubernetes.io/instance": "stranded"}},
    "spec": READY_POD["spec"],
    "status": {
        "phase": "Pending",
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/2 nodes are available: 2 node(s) didn't match Pod's node affinity/selector.",
            }
        ],
    },
}


def _pod(**changes: Any) -> dict[str, Any]:
    pod = copy.deepcopy(READY_POD)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        pod[section][field] = value
    return pod


def test_service_endpoints_follow_the_endpoints_controller_rules() -> None:
    service = minecraft_service(NS, "mc-000")
    other_ns = _pod(metadata__namespace="elsewhere")
    terminating = _pod(metadata__name="mc-000-1", metadata__deletionTimestamp="2026-11-25T18:45:36Z")
    not_ready = _pod(metadata__name="mc-000-2", status__conditions=[{"type": "Ready", "status": "False"}])
    endpoints = service_endpoints(service, [READY_POD, other_ns, terminating, not_ready, PENDING_POD])
    assert [(e.pod, e.ip, e.port, e.port_name) for e in endpoints] == [("mc-000-0", "127.64.0.1", 25565, "minecraft")]
    assert endpoints[0].container_ports["rcon/TCP"] == 25575
    assert endpoints[0].container_ports["query/UDP"] == 25565


def test_named_and_numeric_target_ports() -> None:
    assert resolve_target_port({"port": 25565, "targetPort": "rcon", "protocol": "TCP"}, READY_POD) == 25575
    assert resolve_target_port({"port": 25565, "targetPort": "query", "protocol": "UDP"}, READY_POD) == 25565
    assert resolve_target_port({"port": 25565, "targetPort": "nope"}, READY_POD) is None
    assert resolve_target_port({"port": 80, "targetPort": 8080}, READY_POD) == 8080


def test_service_without_selector_has_no_derived_endpoints() -> None:
    service = minecraft_service(NS, "mc-000")
    service["spec"]["selector"] = {}
    assert service_endpoints(service, [READY_POD]) == []


def test_targets_carry_pod_and_namespace_never_the_cluster_ip() -> None:
    service = minecraft_service(NS, "mc-000")
    service["spec"]["clusterIP"] = "127.96.0.10"
    emap = service_endpoint_map([service], [READY_POD])
    target = endpoint_target(emap[f"{NS}/mc-000"][0])
    assert (target.id, target.host, target.port, target.namespace, target.pod) == (
        f"{NS}/mc-000-0",
        "127.64.0.1",
        25565,
        NS,
        "mc-000-0",
    )
    assert (target.query_port, target.rcon_port, target.source) == (25565, 25575, "kubernetes")
    assert target.labels["mcproof.io/service"] == "mc-000"


def test_pod_readiness() -> None:
    assert pod_is_ready(READY_POD)
    assert not pod_is_ready(PENDING_POD)
    assert not pod_is_ready(_pod(status__podIP=None))


def test_services_without_endpoints_say_why() -> None:
    orphan = minecraft_service(NS, "orphan", selector={"app.kubernetes.io/instance": "nobody"})
    stranded = minecraft_service(NS, "stranded")
    healthy = minecraft_service(NS, "mc-000")
    pods = [READY_POD, PENDING_POD]
    problems = services_without_endpoints(
        [orphan, stranded, healthy], service_endpoint_map([orphan, stranded, healthy], pods), pods
    )
    assert problems == [
        (f"service {NS}/orphan", "selector app.kubernetes.io/instance=nobody matches no pod"),
        (
            f"service {NS}/stranded",
            "1 pod(s) match app.kubernetes.io/instance=stranded,app.kubernetes.io/name=minecraft but none is ready; "
            "pod stranded-0: Pending: Unschedulable: 0/2 nodes are available: 2 node(s) didn't match Pod's node "
            "affinity/selector.",
        ),
    ]


def test_workloads_not_ready_names_the_statefulset_and_its_pod() -> None:
    stranded = minecraft_statefulset(NS, "stranded")
    stranded["status"] = {"replicas": 1, "availableReplicas": 0}
    healthy = minecraft_statefulset(NS, "mc-000")
    healthy["status"] = {"replicas": 1, "readyReplicas": 1}
    empty = minecraft_statefulset(NS, "blocked")
    empty["status"] = {}
    problems = workloads_not_ready([stranded, healthy, empty], [], [READY_POD, PENDING_POD])
    assert problems[0] == (
        f"statefulset {NS}/stranded",
        "desired 1, ready 0; pod stranded-0: Pending: Unschedulable: 0/2 nodes are available: "
        "2 node(s) didn't match Pod's node affinity/selector.",
    )
    assert problems[1][0] == f"statefulset {NS}/blocked"
    assert "no pods created" in problems[1][1]
    assert len(problems) == 2


def test_crashloop_restarts_nodes_and_pvcs() -> None:
    crashing = _pod(
        status__containerStatuses=[
            {"name": "minecraft", "restartCount": 7, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}
        ]
    )
    restarted = _pod(
        metadata__name="mc-000-1",
        status__containerStatuses=[{"name": "minecraft", "restartCount": 4, "state": {"running": {}}}],
    )
    assert pods_unhealthy([READY_POD, crashing, restarted], max_restarts=3) == [
        (f"pod {NS}/mc-000-0", "container minecraft CrashLoopBackOff, 7 restarts"),
        (f"pod {NS}/mc-000-1", "container minecraft restarted 4 times (max 3)"),
    ]
    nodes = [
        {"metadata": {"name": "kwok-node-0"}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}},
        {
            "metadata": {"name": "kwok-node-1"},
            "status": {"conditions": [{"type": "Ready", "status": "Unknown", "reason": "NodeStatusUnknown"}]},
        },
        {
            "metadata": {"name": "kwok-node-2"},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
    ]
    assert nodes_not_ready(nodes) == [
        ("node kwok-node-1", "Ready=Unknown: NodeStatusUnknown"),
        ("node kwok-node-2", "cordoned (spec.unschedulable)"),
    ]
    pvcs = [
        {"metadata": {"name": "data-mc-000-0", "namespace": NS}, "status": {"phase": "Bound"}},
        {"metadata": {"name": "data-unbound-0", "namespace": NS}, "status": {"phase": "Pending"}},
    ]
    assert pvcs_not_bound(pvcs) == [(f"pvc {NS}/data-unbound-0", "phase Pending")]
