"""Static autoscaling checks as pure functions over raw API JSON (no I/O).

Every scalable workload in scope (Deployments and StatefulSets) needs:

- an autoscaling/v2 HorizontalPodAutoscaler whose ``scaleTargetRef`` names it, with sane bounds
  (``1 <= minReplicas <= maxReplicas <= ceiling``) and metrics that can be computed: Resource and
  ContainerResource metrics need a request for that resource on every (the named) container, and
  each metric type needs its API group served (:func:`metric_api_findings`);
- a PodDisruptionBudget selecting its pods that allows at least one voluntary disruption and not all
  (judged at the lowest replica count the workload runs at: the HPA's minReplicas, else spec.replicas).

Workloads the environment declares ``platform_scaled`` (scaled by the platform's own autoscaler, e.g.
game servers) need only the PDB. Each finding is ``(object, reason and fix)``, the object named
``namespace/kind/name``.
"""

from __future__ import annotations

import fnmatch
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from mcproof.kube.settings import METRIC_API_GROUPS

__all__ = [
    "Finding",
    "hpa_findings",
    "label_selector_matches",
    "metric_api_findings",
    "metric_groups_needed",
    "pdb_findings",
    "platform_scaled",
    "workload_ref",
]

Obj = Mapping[str, Any]
Finding = tuple[str, str]
_KIND = {"Deployment": "deployment", "StatefulSet": "statefulset"}


def workload_ref(kind: str, obj: Obj) -> str:
    """``namespace/kind/name`` (kind lower-case).

    >>> workload_ref("Deployment", {"metadata": {"namespace": "t1", "name": "proxy"}})
    't1/deployment/proxy'
    """
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace')}/{_KIND.get(kind, kind.lower())}/{meta.get('name')}"


def _requirement(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, op, values = str(expr.get("key")), expr.get("operator"), list(expr.get("values") or [])
    if op == "In":
        return key in labels and labels[key] in values
    if op == "NotIn":
        return key not in labels or labels[key] not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    return False


def label_selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """A metav1.LabelSelector (matchLabels + matchExpressions); an empty one selects everything, as a
    policy/v1 PodDisruptionBudget's does; ``None`` selects nothing.

    >>> label_selector_matches({"matchExpressions": [{"key": "a", "operator": "In", "values": ["1"]}]}, {"a": "1"})
    True
    >>> label_selector_matches({}, {"a": "1"}), label_selector_matches(None, {"a": "1"})
    (True, False)
    """
    if selector is None:
        return False
    match = selector.get("matchLabels") or {}
    if any(labels.get(k) != v for k, v in match.items()):
        return False
    return all(_requirement(e, labels) for e in selector.get("matchExpressions") or [])


def platform_scaled(kind: str, obj: Obj, entries: Iterable[str]) -> bool:
    """Whether a workload is declared scaled by the platform: an entry is a label selector (``k=v,...``,
    matched against the workload's labels) or a glob over ``namespace/kind/name``.

    >>> sts = {"metadata": {"namespace": "t1", "name": "mc-000", "labels": {"tier": "game"}}}
    >>> platform_scaled("StatefulSet", sts, ["*/statefulset/*"]), platform_scaled("StatefulSet", sts, ["tier=game"])
    (True, True)
    >>> platform_scaled("StatefulSet", sts, ["t2/statefulset/*", "tier=web"])
    False
    """
    ref = workload_ref(kind, obj)
    labels = (obj.get("metadata") or {}).get("labels") or {}
    for entry in entries:
        if "=" in entry:
            wanted = dict(part.strip().split("=", 1) for part in entry.split(",") if part.strip())
            if all(labels.get(k) == v for k, v in wanted.items()):
                return True
        elif fnmatch.fnmatchcase(ref, entry):
            return True
    return False


def _containers(obj: Obj) -> list[Mapping[str, Any]]:
    """The containers whose usage an HPA averages: the regular ones and native sidecars (init containers
    with ``restartPolicy: Always``)."""
    pod = (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}
    sidecars = [c for c in pod.get("initContainers") or [] if c.get("restartPolicy") == "Always"]
    return list(pod.get("containers") or []) + sidecars


_ZERO = re.compile(r"^\+?0+(\.0+)?[A-Za-z]*$")


def _has_request(container: Mapping[str, Any], resource: Any) -> bool:
    """A non-zero request, or a limit (admission copies a limit into a missing request)."""
    res = container.get("resources") or {}
    for part in ("requests", "limits"):
        value = (res.get(part) or {}).get(resource)
        if value is not None and not _ZERO.match(str(value).strip()):
            return True
    return False


def _metrics(hpa: Obj) -> list[Mapping[str, Any]]:
    # An autoscaling/v2 HPA without metrics defaults to 80 % average CPU utilization.
    metrics = list((hpa.get("spec") or {}).get("metrics") or [])
    return metrics or [{"type": "Resource", "resource": {"name": "cpu"}}]


def _hpa_name(hpa: Obj) -> str:
    meta = hpa.get("metadata") or {}
    return f"{meta.get('namespace')}/horizontalpodautoscaler/{meta.get('name')}"


def _targets(hpa: Obj, kind: str, obj: Obj) -> bool:
    ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
    meta, hmeta = obj.get("metadata") or {}, hpa.get("metadata") or {}
    return (
        hmeta.get("namespace") == meta.get("namespace")
        and ref.get("kind") == kind
        and ref.get("name") == meta.get("name")
        and str(ref.get("apiVersion", "apps/v1")).startswith("apps/")
    )


def _metric_findings(hpa: Obj, kind: str, obj: Obj) -> list[str]:
    out = []
    containers = _containers(obj)
    for metric in _metrics(hpa):
        mtype = metric.get("type")
        if mtype not in METRIC_API_GROUPS:
            out.append(
                f"metric type {mtype!r} is not an autoscaling/v2 metric type (fix: Resource, Pods, Object, External)"
            )
            continue
        if mtype not in ("Resource", "ContainerResource"):
            continue
        source = metric.get("resource" if mtype == "Resource" else "containerResource") or {}
        resource = source.get("name")
        if (source.get("target") or {}).get("type", "Utilization") != "Utilization":
            continue  # an AverageValue target is absolute: it needs no request
        scoped = [c for c in containers if mtype == "Resource" or c.get("name") == source.get("container")]
        if mtype == "ContainerResource" and not scoped:
            out.append(
                f"ContainerResource metric names container {source.get('container')!r}, which the pod lacks "
                "(fix: name one of the pod template's containers)"
            )
        lacking = [str(c.get("name")) for c in scoped if not _has_request(c, resource)]
        if lacking:
            out.append(
                f"{mtype} metric {resource} needs a {resource} request on every container, missing on "
                f"{', '.join(lacking)} (fix: set resources.requests.{resource} in the {kind}'s pod template)"
            )
    return out


def hpa_findings(
    kind: str, obj: Obj, hpas: Iterable[Obj], *, ceiling: int, platform: Iterable[str] = ()
) -> list[Finding]:
    """What is wrong with the workload's autoscaling (empty: an HPA with sane bounds and computable metrics).

    >>> dep = {"metadata": {"namespace": "t1", "name": "proxy"}, "spec": {"template": {"spec": {"containers": [
    ...     {"name": "c", "resources": {"requests": {"cpu": "100m"}}}]}}}}
    >>> hpa = {"metadata": {"namespace": "t1", "name": "proxy"}, "spec": {"scaleTargetRef": {
    ...     "apiVersion": "apps/v1", "kind": "Deployment", "name": "proxy"}, "minReplicas": 2, "maxReplicas": 6}}
    >>> hpa_findings("Deployment", dep, [hpa], ceiling=10)
    []
    >>> hpa_findings("Deployment", dep, [], ceiling=10)[0][1][:39]
    'no HorizontalPodAutoscaler targets it ('
    """
    ref = workload_ref(kind, obj)
    if platform_scaled(kind, obj, platform):
        return []
    mine = [h for h in hpas if _targets(h, kind, obj)]
    if not mine:
        return [
            (
                ref,
                f"no HorizontalPodAutoscaler targets it (fix: create an autoscaling/v2 HPA with scaleTargetRef "
                f"{{apiVersion: apps/v1, kind: {kind}, name: {(obj.get('metadata') or {}).get('name')}}}, or list it "
                "in kubernetes.autoscaling.platform_scaled if the platform's own autoscaler scales it)",
            )
        ]
    if len(mine) > 1:
        names = ", ".join(sorted(_hpa_name(h) for h in mine))
        return [(ref, f"{len(mine)} HPAs target it ({names}); they fight over its replicas (fix: keep one)")]
    hpa = mine[0]
    spec = hpa.get("spec") or {}
    lo, hi = int(spec.get("minReplicas", 1)), int(spec.get("maxReplicas", 0))
    where = _hpa_name(hpa)
    out: list[Finding] = []
    if lo < 1:
        out.append((ref, f"{where}: minReplicas {lo} < 1 scales it to zero (fix: minReplicas >= 1)"))
    if hi < lo:
        out.append((ref, f"{where}: maxReplicas {hi} < minReplicas {lo} (fix: maxReplicas >= minReplicas)"))
    if hi > ceiling:
        out.append(
            (
                ref,
                f"{where}: maxReplicas {hi} > the ceiling {ceiling} (fix: lower maxReplicas, or raise "
                "kubernetes.autoscaling.max_replicas_ceiling if the cluster holds that many)",
            )
        )
    out += [(ref, f"{where}: {reason}") for reason in _metric_findings(hpa, kind, obj)]
    return out


def metric_groups_needed(hpas: Iterable[Obj]) -> dict[str, list[str]]:
    """API group -> the HPAs (``ns/horizontalpodautoscaler/name``) whose metrics are read from it.

    >>> metric_groups_needed([{"metadata": {"namespace": "t1", "name": "h"}, "spec": {}}])
    {'metrics.k8s.io': ['t1/horizontalpodautoscaler/h']}
    """
    out: dict[str, list[str]] = {}
    for hpa in hpas:
        for metric in _metrics(hpa):
            group = METRIC_API_GROUPS.get(str(metric.get("type")))
            if group and _hpa_name(hpa) not in out.setdefault(group, []):
                out[group].append(_hpa_name(hpa))
    return out


def metric_api_findings(needed: Mapping[str, list[str]], served: Mapping[str, str | None]) -> list[Finding]:
    """For each API group an HPA needs: a finding unless ``served[group]`` is None (discovery answered);
    a string there says why it is not served (absent from /apis, or its version failed).

    >>> metric_api_findings({"metrics.k8s.io": ["t1/horizontalpodautoscaler/h"]}, {"metrics.k8s.io": "not registered"})[0][0]
    't1/horizontalpodautoscaler/h'
    """
    out = []
    for group, hpas in sorted(needed.items()):
        problem = served.get(group, "not looked up")
        if problem is None:
            continue
        fix = (
            "deploy metrics-server"
            if group == "metrics.k8s.io"
            else "deploy a metrics adapter (e.g. prometheus-adapter) serving it"
        )
        for hpa in hpas:
            out.append((hpa, f"{group} not served ({problem}): the HPA cannot compute its metric (fix: {fix})"))
    return out


def _resolve(value: Any, replicas: int) -> int:
    # intstr: an int, or "N%" of replicas rounded up (the disruption controller's rounding).
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(int(value[:-1]) * replicas / 100)
    return int(value)


def _template_labels(obj: Obj) -> Mapping[str, Any]:
    return ((((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels")) or {}


def pdb_findings(
    kind: str, obj: Obj, pdbs: Iterable[Obj], *, replicas: int, peers: Iterable[tuple[Obj, int]] = ()
) -> list[Finding]:
    """What is wrong with the PodDisruptionBudget of a workload running ``replicas`` pods at the least.
    ``peers``: the other workloads in scope and their replicas; a PDB selecting them too shares its budget
    over all their pods (the disruption controller counts every selected pod), judged that way.

    >>> sts = {"metadata": {"namespace": "t1", "name": "mc"}, "spec": {"template": {"metadata": {"labels": {"a": "1"}}}}}
    >>> pdb = {"metadata": {"namespace": "t1", "name": "mc"}, "spec": {"selector": {"matchLabels": {"a": "1"}},
    ...     "maxUnavailable": 1}}
    >>> pdb_findings("StatefulSet", sts, [pdb], replicas=2)
    []
    >>> pdb_findings("StatefulSet", sts, [pdb], replicas=1)[0][1][:32]
    'maxUnavailable 1 lets all 1 pods'
    """
    ref = workload_ref(kind, obj)
    if replicas == 0:
        return []  # scaled to zero (an idle server): nothing a drain could disrupt
    meta = obj.get("metadata") or {}
    labels = _template_labels(obj)
    mine = [
        p
        for p in pdbs
        if (p.get("metadata") or {}).get("namespace") == meta.get("namespace")
        and label_selector_matches((p.get("spec") or {}).get("selector"), labels)
    ]
    if not mine:
        return [
            (
                ref,
                "no PodDisruptionBudget selects its pods (fix: a policy/v1 PDB with its pod labels as selector and "
                "maxUnavailable: 1)",
            )
        ]
    if len(mine) > 1:
        names = ", ".join(sorted(str((p.get("metadata") or {}).get("name")) for p in mine))
        return [(ref, f"{len(mine)} PDBs select its pods ({names}): the API refuses every eviction (fix: keep one)")]
    pdb = mine[0]
    spec = pdb.get("spec") or {}
    name = f"pdb {(pdb.get('metadata') or {}).get('name')}"
    shared = [
        (o, r)
        for o, r in peers
        if o is not obj
        and (o.get("metadata") or {}).get("namespace") == meta.get("namespace")
        and label_selector_matches(spec.get("selector"), _template_labels(o))
    ]
    total = replicas + sum(r for _o, r in shared)
    if "maxUnavailable" in spec:
        allowed = _resolve(spec["maxUnavailable"], total)
        shown = f"maxUnavailable {spec['maxUnavailable']}"
    elif "minAvailable" in spec:
        allowed = total - _resolve(spec["minAvailable"], total)
        shown = f"minAvailable {spec['minAvailable']}"
    else:
        return [(ref, f"{name} sets neither minAvailable nor maxUnavailable (fix: maxUnavailable: 1)")]
    if allowed < 1:
        return [
            (
                ref,
                f"{name}: {shown} allows no disruption at {total} selected pod(s): a node drain blocks forever "
                "(fix: maxUnavailable: 1, or minAvailable below the replica count)",
            )
        ]
    if shared and allowed >= replicas:
        return [
            (
                ref,
                f"{name} also selects {len(shared)} other workload(s); its budget of {allowed} over {total} pods lets "
                f"all {replicas} of this one go at once (fix: one PDB per workload)",
            )
        ]
    if allowed >= replicas:
        return [
            (
                ref,
                f"{shown} lets all {replicas} pods go at once ({name}; fix: run >= 2 replicas and allow fewer "
                "disruptions than replicas)",
            )
        ]
    return []
