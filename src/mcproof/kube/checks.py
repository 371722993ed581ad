"""Kubernetes health checks as pure functions over raw API JSON: each returns ``(object, reason)``
pairs for what is wrong (empty: healthy), naming the object as ``kind namespace/name``.

The smoke suite (suites/smoke/test_kubernetes.py) reads one snapshot (:class:`Inventory`) and
calls these; unit tests feed them recorded objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mcproof.kube.workloads_serving import WorkloadServing, owned_pods, serving_replicas
from mcproof.kubeapi.endpoints import Endpoint, pod_is_ready, pod_problem, selector_matches

__all__ = [
    "Inventory",
    "WorkloadServing",
    "describe_problems",
    "nodes_not_ready",
    "pods_unhealthy",
    "pvcs_not_bound",
    "services_without_endpoints",
    "serving_replicas",
    "workloads_not_ready",
]

Obj = Mapping[str, Any]
Problem = tuple[str, str]


@dataclass(frozen=True)
class Inventory:
    """One read of what the checks look at (so every check sees the same moment)."""

    namespaces: tuple[str, ...]  # empty: all
    label_selector: str
    nodes: list[dict[str, Any]] = field(default_factory=list)
    statefulsets: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    pods: list[dict[str, Any]] = field(default_factory=list)  # every pod in scope (not only selected)
    pvcs: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)

    @property
    def scope(self) -> str:
        where = ", ".join(self.namespaces) if self.namespaces else "all namespaces"
        return f"{self.label_selector} in {where}"


def _name(kind: str, obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{kind} {ns}/{meta.get('name')}" if ns else f"{kind} {meta.get('name')}"


def _condition(obj: Obj, kind: str) -> Mapping[str, Any] | None:
    for cond in (obj.get("status") or {}).get("conditions") or []:
        if cond.get("type") == kind:
            return dict(cond)
    return None


def describe_problems(problems: list[Problem], total: int, what: str, cap: int = 20) -> str:
    """One failure line naming each object (capped).

    >>> describe_problems([("node n1", "Ready=False")], 3, "be Ready")
    '1 of 3 objects failed to be Ready: node n1 (Ready=False)'
    """
    shown = "; ".join(f"{name} ({reason})" for name, reason in problems[:cap])
    more = f"; +{len(problems) - cap} more" if len(problems) > cap else ""
    return f"{len(problems)} of {total} objects failed to {what}: {shown}{more}"


def nodes_not_ready(nodes: Iterable[Obj]) -> list[Problem]:
    """Nodes whose Ready condition is not True (or that are cordoned).

    >>> nodes_not_ready([{"metadata": {"name": "n1"}, "status": {"conditions": [{"type": "Ready", "status": "False",
    ...     "reason": "KubeletNotReady"}]}}])
    [('node n1', 'Ready=False: KubeletNotReady')]
    """
    problems = []
    for node in nodes:
        ready = _condition(node, "Ready")
        if ready is None or ready.get("status") != "True":
            status = ready.get("status", "Unknown") if ready else "missing"
            reason = f": {ready.get('reason')}" if ready and ready.get("reason") else ""
            problems.append((_name("node", node), f"Ready={status}{reason}"))
        elif (node.get("spec") or {}).get("unschedulable"):
            problems.append((_name("node", node), "cordoned (spec.unschedulable)"))
    return problems


def workloads_not_ready(statefulsets: Iterable[Obj], deployments: Iterable[Obj], pods: Iterable[Obj]) -> list[Problem]:
    """StatefulSets/Deployments whose ready replicas are fewer than desired; the reason names a
    pod that is not ready and why (e.g. ``Pending: Unschedulable: 0/3 nodes are available ...``)."""
    pods = list(pods)
    problems = []
    for kind, items in (("statefulset", statefulsets), ("deployment", deployments)):
        for obj in items:
            desired = int((obj.get("spec") or {}).get("replicas", 1))
            ready = int((obj.get("status") or {}).get("readyReplicas") or 0)
            if ready >= desired:
                continue
            reason = f"desired {desired}, ready {ready}"
            lagging = [p for p in owned_pods(obj, pods) if not pod_is_ready(p)]
            if lagging:
                reason += f"; pod {lagging[0]['metadata']['name']}: {pod_problem(lagging[0])}"
            elif not owned_pods(obj, pods):
                reason += "; no pods created (see its events: quota, PodSecurity or admission refusals)"
            problems.append((_name(kind, obj), reason))
    return problems


def pods_unhealthy(pods: Iterable[Obj], max_restarts: int) -> list[Problem]:
    """Pods with a container in CrashLoopBackOff (or another waiting error) or restarted too often."""
    problems = []
    for pod in pods:
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        for cs in statuses:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            restarts = int(cs.get("restartCount") or 0)
            if waiting.get("reason") in (
                "CrashLoopBackOff",
                "ImagePullBackOff",
                "ErrImagePull",
                "CreateContainerError",
            ):
                problems.append(
                    (_name("pod", pod), f"container {cs.get('name')} {waiting['reason']}, {restarts} restarts")
                )
            elif restarts > max_restarts:
                problems.append(
                    (_name("pod", pod), f"container {cs.get('name')} restarted {restarts} times (max {max_restarts})")
                )
    return problems


def pvcs_not_bound(pvcs: Iterable[Obj]) -> list[Problem]:
    """PersistentVolumeClaims whose phase is not Bound."""
    return [
        (_name("pvc", pvc), f"phase {(pvc.get('status') or {}).get('phase', 'Unknown')}")
        for pvc in pvcs
        if (pvc.get("status") or {}).get("phase") != "Bound"
    ]


def services_without_endpoints(
    services: Iterable[Obj], endpoints: Mapping[str, list[Endpoint]], pods: Iterable[Obj]
) -> list[Problem]:
    """Services with no ready endpoint, saying whether the selector matches nothing or the pods are not ready."""
    pods = list(pods)
    problems = []
    for svc in services:
        meta = svc.get("metadata") or {}
        key = f"{meta.get('namespace')}/{meta.get('name')}"
        if endpoints.get(key):
            continue
        selector = (svc.get("spec") or {}).get("selector") or {}
        if not selector:
            problems.append((_name("service", svc), "has no selector, so no derived endpoints"))
            continue
        matched = [
            p
            for p in pods
            if (p.get("metadata") or {}).get("namespace") == meta.get("namespace")
            and selector_matches(selector, (p.get("metadata") or {}).get("labels") or {})
        ]
        shown = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        if not matched:
            problems.append((_name("service", svc), f"selector {shown} matches no pod"))
        else:
            first = matched[0]
            problems.append(
                (
                    _name("service", svc),
                    f"{len(matched)} pod(s) match {shown} but none is ready; "
                    f"pod {first['metadata']['name']}: {pod_problem(first)}",
                )
            )
    return problems
