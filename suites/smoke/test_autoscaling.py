"""Smoke: every scalable workload in scope is set up to autoscale and to survive voluntary disruption.

Driven by the environment's ``kubernetes.autoscaling`` section (SKIPPED with the reason without one):
the Deployments and StatefulSets matching ``kubernetes.label_selector`` in ``kubernetes.namespaces`` each
need an autoscaling/v2 HorizontalPodAutoscaler with sane bounds (or a ``platform_scaled`` declaration),
metric APIs that are served (API discovery), and a PodDisruptionBudget allowing one disruption but not all.
Static configuration only; the pure checks are :mod:`mcproof.kube.autoscaling` (docs/autoscaling.md).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import pytest

from mcproof.config import Environment, KubernetesSettings
from mcproof.errors import McproofError
from mcproof.kube.autoscaling import (
    hpa_findings,
    metric_api_findings,
    metric_groups_needed,
    pdb_findings,
    platform_scaled,
)
from mcproof.kube.checks import Inventory, describe_problems
from mcproof.kube.settings import AutoscalingSettings
from mcproof.kubeapi import KubeApi

pytestmark = [pytest.mark.smoke, pytest.mark.kubernetes]

_MAX_PAGES = 100


@dataclass
class AutoscalingObjects:
    hpas: list[dict[str, Any]] = field(default_factory=list)
    pdbs: list[dict[str, Any]] = field(default_factory=list)


def _list(kube: KubeApi, path: str) -> list[dict[str, Any]]:
    """Every item at a list path (paginated, bounded)."""
    items: list[dict[str, Any]] = []
    token = ""
    for _ in range(_MAX_PAGES):
        query = {"limit": 500, **({"continue": token} if token else {})}
        body = json.loads(kube.get_raw(f"{path}?{urlencode(query)}"))
        items.extend(body.get("items") or [])
        token = (body.get("metadata") or {}).get("continue") or ""
        if not token:
            return items
    raise McproofError(f"GET {path}: more than {_MAX_PAGES} pages; narrow kubernetes.namespaces")


@pytest.fixture(scope="module")
def autoscaling(kube_settings: KubernetesSettings) -> AutoscalingSettings:
    if kube_settings.autoscaling is None:
        pytest.skip("the environment has no kubernetes.autoscaling section; autoscaling checks do not apply")
    return kube_settings.autoscaling


@pytest.fixture(scope="module")
def autoscaling_objects(kube: KubeApi, kube_settings: KubernetesSettings) -> AutoscalingObjects:
    objs = AutoscalingObjects()
    scopes = [f"/namespaces/{ns}" for ns in kube_settings.namespaces] or [""]
    try:
        for scope in scopes:
            objs.hpas += _list(kube, f"/apis/autoscaling/v2{scope}/horizontalpodautoscalers")
            objs.pdbs += _list(kube, f"/apis/policy/v1{scope}/poddisruptionbudgets")
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    return objs


def _workloads(inv: Inventory) -> list[tuple[str, dict[str, Any]]]:
    return [("StatefulSet", s) for s in inv.statefulsets] + [("Deployment", d) for d in inv.deployments]


def _served(kube: KubeApi, groups: list[str]) -> dict[str, str | None]:
    """API group -> None when discovery lists it and its preferred version answers, else why not."""
    listed = {g.get("name"): g for g in json.loads(kube.get_raw("/apis")).get("groups") or []}
    out: dict[str, str | None] = {}
    for group in groups:
        entry = listed.get(group)
        if entry is None:
            out[group] = "not registered: /apis does not list it"
            continue
        version = (entry.get("preferredVersion") or {}).get("groupVersion") or f"{group}/v1beta1"
        try:
            kube.get_raw(f"/apis/{version}")
            out[group] = None
        except McproofError as err:
            out[group] = f"registered but /apis/{version} fails: {err}"
    return out


def test_scalable_workloads_have_sane_hpa(
    kube_inventory: Inventory,
    autoscaling: AutoscalingSettings,
    autoscaling_objects: AutoscalingObjects,
    environment: Environment,
) -> None:
    every = _workloads(kube_inventory)
    if not every:
        pytest.skip(f"no StatefulSet or Deployment matches {kube_inventory.scope}")
    workloads = [(k, o) for k, o in every if not platform_scaled(k, o, autoscaling.platform_scaled)]
    if not workloads:  # nothing judged is not a pass: the platform's autoscaler is outside this check
        pytest.skip(
            f"all {len(every)} workload(s) are declared kubernetes.autoscaling.platform_scaled, so no HPA is "
            "judged; the platform's own autoscaler is not checked here"
        )
    problems = [
        f
        for kind, obj in workloads
        for f in hpa_findings(kind, obj, autoscaling_objects.hpas, ceiling=autoscaling.max_replicas_ceiling)
    ]
    assert not problems, describe_problems(
        problems, len(workloads), "have one sane autoscaling/v2 HPA", environment.minecraft.failure_list_cap
    )


def test_hpa_metric_apis_are_served(
    kube: KubeApi,
    kube_inventory: Inventory,
    autoscaling: AutoscalingSettings,
    autoscaling_objects: AutoscalingObjects,
    environment: Environment,
) -> None:
    in_scope = {
        (obj["metadata"].get("namespace"), kind, obj["metadata"].get("name"))
        for kind, obj in _workloads(kube_inventory)
    }
    hpas = [
        h
        for h in autoscaling_objects.hpas
        if (
            h["metadata"].get("namespace"),
            (h.get("spec") or {}).get("scaleTargetRef", {}).get("kind"),
            (h.get("spec") or {}).get("scaleTargetRef", {}).get("name"),
        )
        in in_scope
    ]
    if not hpas:
        pytest.skip(f"no HPA targets a workload matching {kube_inventory.scope}")
    needed = metric_groups_needed(hpas)
    try:
        served = _served(kube, sorted(needed))
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    stale = [g for g in autoscaling.metrics_api_gaps if g in served and served[g] is None]
    assert not stale, (
        f"kubernetes.autoscaling.metrics_api_gaps declares {', '.join(stale)} unserved, but the cluster serves it: "
        "remove the declaration"
    )
    gaps = {g: r for g, r in autoscaling.metrics_api_gaps.items() if g in needed}
    problems = metric_api_findings({g: h for g, h in needed.items() if g not in gaps}, served)
    assert not problems, describe_problems(
        problems, len(hpas), "read metrics from a served API", environment.minecraft.failure_list_cap
    )
    if gaps:
        shown = "; ".join(f"{g} not served ({served.get(g)}), declared: {r}" for g, r in sorted(gaps.items()))
        pytest.skip(f"{len(hpas)} HPA(s) depend on a declared metrics gap, so their metrics are not judged: {shown}")


def test_workloads_have_pdb_allowing_one_disruption(
    kube_inventory: Inventory,
    autoscaling: AutoscalingSettings,
    autoscaling_objects: AutoscalingObjects,
    environment: Environment,
) -> None:
    workloads = _workloads(kube_inventory)
    if not workloads:
        pytest.skip(f"no StatefulSet or Deployment matches {kube_inventory.scope}")
    least: list[tuple[dict[str, Any], int]] = []
    for kind, obj in workloads:
        replicas = int((obj.get("spec") or {}).get("replicas", 1))
        for hpa in autoscaling_objects.hpas:  # an autoscaled workload runs as few as minReplicas
            ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
            if hpa["metadata"].get("namespace") == obj["metadata"].get("namespace") and (
                ref.get("kind"),
                ref.get("name"),
            ) == (kind, obj["metadata"].get("name")):
                replicas = min(replicas, int(hpa["spec"].get("minReplicas", 1)))
        least.append((obj, replicas))
    judged = [(k, o, r) for (k, o), (_o, r) in zip(workloads, least, strict=True) if r > 0]
    if not judged:  # scaled to zero needs no budget, but nothing judged is not a pass
        pytest.skip(f"all {len(workloads)} workload(s) run 0 replicas at the least; no disruption budget to judge")
    problems = []
    for kind, obj, replicas in judged:
        problems += pdb_findings(kind, obj, autoscaling_objects.pdbs, replicas=replicas, peers=least)
    assert not problems, describe_problems(
        problems,
        len(judged),
        "have a PodDisruptionBudget allowing one disruption but not all",
        environment.minecraft.failure_list_cap,
    )
