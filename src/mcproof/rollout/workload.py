"""The workload kinds the release gate rolls (Deployment, StatefulSet): how each is read, patched and judged
complete, how its strategy bounds unavailability, and which label tells one release's pods from another's.

A Deployment's new pods get new names (``pod-template-hash``); a StatefulSet's keep their names and change
``controller-revision-hash``, so the gate keys a pod by name and revision (:func:`pod_key`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mcproof.chaos.deploy import rollout_complete
from mcproof.errors import ConfigError, KubeError
from mcproof.kubeapi import KubeApi

__all__ = [
    "KINDS",
    "WorkloadKind",
    "complete",
    "kind_named",
    "max_unavailable",
    "patch",
    "pod_key",
    "pod_revision",
    "read",
    "statefulset_rollout_complete",
    "strategy",
]


@dataclass(frozen=True)
class WorkloadKind:
    kind: str  # the API kind
    plural: str  # the list name (mcproof.kubeapi)
    revision_label: str  # the pod label naming the release a pod runs
    patch_method: str  # the AppsV1Api method that patches it


KINDS = {
    "Deployment": WorkloadKind("Deployment", "deployments", "pod-template-hash", "patch_namespaced_deployment"),
    "StatefulSet": WorkloadKind(
        "StatefulSet", "statefulsets", "controller-revision-hash", "patch_namespaced_stateful_set"
    ),
}
_ALIASES = {
    "deployment": "Deployment",
    "deployments": "Deployment",
    "deploy": "Deployment",
    "statefulset": "StatefulSet",
    "statefulsets": "StatefulSet",
    "sts": "StatefulSet",
}


def kind_named(name: str) -> WorkloadKind | None:
    """The kind a ``--workload`` spelling names (``deploy``, ``sts``, ...), else None.

    >>> kind_named("sts").kind
    'StatefulSet'
    """
    canonical = _ALIASES.get(name.lower())
    return KINDS[canonical] if canonical else None


def read(api: KubeApi, kind: WorkloadKind, namespace: str, name: str) -> dict[str, Any]:
    found = api.objects(kind.plural, namespace, field_selector=f"metadata.name={name}")
    if not found:
        raise KubeError(f"{kind.kind} {namespace}/{name} not found")
    return dict(found[0])


def patch(api: KubeApi, kind: WorkloadKind, namespace: str, name: str, body: Any, what: str) -> None:
    """A strategic-merge patch (a mapping) or a JSON patch (a list) of the workload; one-line KubeError."""
    try:
        getattr(api.apps, kind.patch_method)(name, namespace, body, _request_timeout=api.timeout)
    except Exception as err:  # ApiException or transport: one line, what to check
        text = str(getattr(err, "body", "") or err).splitlines()[0][:300]
        raise KubeError(
            f"cannot patch {kind.kind} {namespace}/{name} to {what} ({text}); check the update and RBAC (patch)"
        ) from None


def pod_revision(kind: WorkloadKind, pod: Mapping[str, Any]) -> str:
    return str(((pod.get("metadata") or {}).get("labels") or {}).get(kind.revision_label, ""))


def pod_key(kind: WorkloadKind, pod: Mapping[str, Any]) -> str:
    """A pod's identity through a rollout: its name, and for a StatefulSet its name at its revision (the
    replaced pod keeps its name).

    >>> pod_key(KINDS["StatefulSet"], {"metadata": {"name": "mc-0", "labels": {"controller-revision-hash": "mc-7f"}}})
    'mc-0@mc-7f'
    """
    name = str((pod.get("metadata") or {}).get("name"))
    return f"{name}@{pod_revision(kind, pod)}" if kind.kind == "StatefulSet" else name


def statefulset_rollout_complete(sts: Mapping[str, Any]) -> bool:
    """The controller saw the new spec, every replica runs the update revision and is Ready.

    >>> statefulset_rollout_complete({"metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": {
    ...     "observedGeneration": 2, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2,
    ...     "currentRevision": "r2", "updateRevision": "r2"}})
    True
    """
    meta, spec, status = sts.get("metadata") or {}, sts.get("spec") or {}, sts.get("status") or {}
    want = int(spec.get("replicas", 1))
    update = status.get("updateRevision")
    return (
        int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
        and bool(update)
        and update == status.get("currentRevision")
        and int(status.get("updatedReplicas", 0) or 0) == want
        and int(status.get("readyReplicas", 0) or 0) == want
        and int(status.get("replicas", 0) or 0) == want
    )


def complete(kind: WorkloadKind, obj: Mapping[str, Any]) -> bool:
    return statefulset_rollout_complete(obj) if kind.kind == "StatefulSet" else rollout_complete(obj)


def strategy(kind: WorkloadKind, obj: Mapping[str, Any]) -> str:
    spec = obj.get("spec") or {}
    strat = spec.get("updateStrategy" if kind.kind == "StatefulSet" else "strategy") or {}
    kind_name = str(strat.get("type", "RollingUpdate"))
    if kind_name != "RollingUpdate":
        return kind_name
    ru = strat.get("rollingUpdate") or {}
    if kind.kind == "StatefulSet":
        return f"RollingUpdate(maxUnavailable={ru.get('maxUnavailable', 1)}, partition={ru.get('partition', 0)})"
    return f"RollingUpdate(maxUnavailable={ru.get('maxUnavailable', '25%')}, maxSurge={ru.get('maxSurge', '25%')})"


def max_unavailable(kind: WorkloadKind, obj: Mapping[str, Any]) -> int:
    """The strategy's maxUnavailable in pods (a percentage rounds down, as the controller does; Recreate
    allows every replica; a StatefulSet replaces one pod at a time unless it says otherwise). A StatefulSet
    with ``OnDelete`` never rolls by itself: a one-line error.

    >>> max_unavailable(KINDS["Deployment"], {"spec": {"replicas": 10, "strategy": {"rollingUpdate": {"maxUnavailable": "25%"}}}})
    2
    >>> max_unavailable(KINDS["StatefulSet"], {"spec": {"replicas": 3}})
    1
    """
    spec = obj.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    if kind.kind == "StatefulSet":
        strat = spec.get("updateStrategy") or {}
        if strat.get("type", "RollingUpdate") == "OnDelete":
            raise ConfigError(
                "the StatefulSet's updateStrategy is OnDelete: its pods change only when deleted, so no update "
                "rolls; gate it with updateStrategy RollingUpdate"
            )
        if int((strat.get("rollingUpdate") or {}).get("partition", 0) or 0) > 0:
            raise ConfigError(
                "the StatefulSet's rollingUpdate.partition is above 0: a staged (canary) rollout never completes "
                "by itself; gate it with partition 0, or roll the canary ordinals as their own release"
            )
        # a StatefulSet's percentage rounds up and is at least 1 (the controller's rule)
        return max(1, _resolve(kind, (strat.get("rollingUpdate") or {}).get("maxUnavailable", 1), replicas, math.ceil))
    strat = spec.get("strategy") or {}
    if strat.get("type", "RollingUpdate") != "RollingUpdate":
        return replicas
    rolling = strat.get("rollingUpdate") or {}
    unavailable = _resolve(kind, rolling.get("maxUnavailable", "25%"), replicas, math.floor)
    surge = _resolve(kind, rolling.get("maxSurge", "25%"), replicas, math.ceil)
    return 1 if unavailable == 0 and surge == 0 else unavailable  # both 0: the controller allows 1


def _resolve(kind: WorkloadKind, raw: Any, replicas: int, rounding: Any) -> int:
    try:
        if isinstance(raw, str) and raw.endswith("%"):
            return int(rounding(replicas * float(raw[:-1]) / 100))
        return int(raw)
    except ValueError:
        raise ConfigError(f"the {kind.kind}'s maxUnavailable {raw!r} is neither a count nor a percentage") from None
