"""The fleet's serving ratio as Kubernetes defines the fleet: serving pods over *desired* replicas.

The denominator is ``spec.replicas`` of every selected StatefulSet and Deployment (a missing
``replicas`` means 1), so a pod that is missing, Pending, NotReady or Ready-but-silent counts as not
serving. Discovery only returns Ready endpoints, so a ratio over discovered targets would hide
exactly those pods. A replica serves when its pod is Ready and answered a status ping at its Service
endpoint; surge pods of a rollout never count above ``desired``.

>>> sts = {"metadata": {"name": "mc", "namespace": "t"}, "spec": {"replicas": 2,
...        "selector": {"matchLabels": {"app": "mc"}}}}
>>> pod = {"metadata": {"name": "mc-0", "namespace": "t", "labels": {"app": "mc"}},
...        "status": {"phase": "Running", "podIP": "127.64.0.2", "conditions": [{"type": "Ready", "status": "True"}]}}
>>> row = serving_replicas([sts], [], [pod], {"t/mc-0": True})[0]
>>> (row.workload, row.desired, row.serving, row.reason)
('statefulset t/mc', 2, 1, 'desired 2, serving 1; 1 pod(s) missing')
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.kubeapi.endpoints import pod_is_ready, pod_problem, selector_matches

__all__ = ["WorkloadServing", "owned_pods", "serving_replicas"]

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class WorkloadServing:
    """One workload: desired replicas, Ready pods, serving replicas and why the others are not serving."""

    workload: str  # "statefulset namespace/name"
    desired: int
    ready: int
    serving: int
    not_serving: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        head = f"desired {self.desired}, serving {self.serving}"
        return "; ".join((head, *self.not_serving[:3])) + (
            f"; +{len(self.not_serving) - 3} more" if len(self.not_serving) > 3 else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "not_serving": list(self.not_serving)}


def owned_pods(workload: Obj, pods: Iterable[Obj]) -> list[Obj]:
    """The pods a workload's selector matches in its namespace."""
    meta = workload.get("metadata") or {}
    selector = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    return [
        p
        for p in pods
        if (p.get("metadata") or {}).get("namespace") == meta.get("namespace")
        and selector_matches(selector, (p.get("metadata") or {}).get("labels") or {})
    ]


def serving_replicas(
    statefulsets: Iterable[Obj], deployments: Iterable[Obj], pods: Iterable[Obj], answered: Mapping[str, bool]
) -> list[WorkloadServing]:
    """Per workload, how many of its desired replicas serve (``answered``: "namespace/pod" -> status ping ok)."""
    pods = list(pods)
    rows = []
    for kind, items in (("statefulset", statefulsets), ("deployment", deployments)):
        for obj in items:
            meta = obj.get("metadata") or {}
            spec_replicas = (obj.get("spec") or {}).get("replicas")
            desired = 1 if spec_replicas is None else int(spec_replicas)
            owned = sorted(owned_pods(obj, pods), key=lambda p: str(p["metadata"].get("name")))
            ready = [p for p in owned if pod_is_ready(p)]
            why: list[str] = []
            serving = 0
            for pod in owned:
                name = pod["metadata"].get("name")
                key = f"{meta.get('namespace')}/{name}"
                if not pod_is_ready(pod):
                    why.append(f"pod {name}: {pod_problem(pod)}")
                elif key not in answered:
                    why.append(f"pod {name}: Ready but behind no Service endpoint")
                elif not answered[key]:
                    why.append(f"pod {name}: Ready but did not answer a status ping")
                else:
                    serving += 1
            if len(owned) < desired:
                why.append(f"{desired - len(owned)} pod(s) missing")
            ns = meta.get("namespace")
            rows.append(
                WorkloadServing(
                    f"{kind} {ns}/{meta.get('name')}" if ns else f"{kind} {meta.get('name')}",
                    desired,
                    len(ready),
                    min(serving, desired),
                    tuple(why) if serving < desired else (),
                )
            )
    return rows
