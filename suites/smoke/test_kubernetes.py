"""Smoke: the Kubernetes side of the platform is healthy and every Minecraft Service really serves.

Environment-agnostic: the cluster, namespaces and label selector come from the environment's
``kubernetes`` section; every check is SKIPPED with the reason when there is none. Endpoints are
derived from Services and their Ready pods (pod IP + target port, see mcproof.kubeapi.endpoints), so
no check ever connects to a ClusterIP. Failure messages name every failing object (capped).

The serving ratio here is Kubernetes's: replicas that serve (Ready pod that answered a status ping at
its Service endpoint) over the DESIRED replicas (spec.replicas) of the selected workloads, so missing,
Pending and NotReady pods count as not serving (see mcproof.kube.workloads_serving).
"""

from __future__ import annotations

import pytest

from mcproof.config import Environment, KubernetesSettings
from mcproof.connect.kubernetes import endpoint_target, service_endpoint_map
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import SloMeasurement
from mcproof.kube.checks import (
    Inventory,
    describe_problems,
    nodes_not_ready,
    pods_unhealthy,
    pvcs_not_bound,
    services_without_endpoints,
    serving_replicas,
    workloads_not_ready,
)
from mcproof.kubeapi import KubeApi
from mcproof.kubeapi.endpoints import selector_matches
from mcproof.minecraft.expectations import describe_failures
from mcproof.minecraft.sweep import SweepResult, sweep_evidence, sweep_fleet
from mcproof.target import Target, ensure_loopback
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.smoke, pytest.mark.kubernetes]


def _cap(environment: Environment) -> int:
    return environment.minecraft.failure_list_cap


def test_apiserver_readyz(kube: KubeApi) -> None:
    try:
        body = kube.get_raw("/readyz").strip()
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    assert body == "ok", f"kube-apiserver /readyz answered {body[:200]!r}, expected 'ok'"


def test_nodes_ready(kube_inventory: Inventory, environment: Environment) -> None:
    nodes = kube_inventory.nodes
    assert nodes, "the cluster has no nodes"
    problems = nodes_not_ready(nodes)
    assert not problems, describe_problems(problems, len(nodes), "be Ready", _cap(environment))


def test_workloads_have_desired_ready_replicas(kube_inventory: Inventory, environment: Environment) -> None:
    inv = kube_inventory
    total = len(inv.statefulsets) + len(inv.deployments)
    if not total:
        pytest.skip(f"no StatefulSet or Deployment matches {inv.scope}")
    problems = workloads_not_ready(inv.statefulsets, inv.deployments, inv.pods)
    assert not problems, describe_problems(problems, total, "reach desired == ready replicas", _cap(environment))


def test_no_crashloop_or_excess_restarts(
    kube_inventory: Inventory, kube_settings: KubernetesSettings, environment: Environment
) -> None:
    inv = kube_inventory
    selector = dict(part.split("=", 1) for part in inv.label_selector.split(",") if "=" in part)
    pods = [p for p in inv.pods if selector_matches(selector, p["metadata"].get("labels") or {})]
    if not pods:
        pytest.skip(f"no pod matches {inv.scope}")
    problems = pods_unhealthy(pods, kube_settings.max_restarts)
    assert not problems, describe_problems(
        problems,
        len(pods),
        f"run without CrashLoopBackOff and <= {kube_settings.max_restarts} restarts",
        _cap(environment),
    )


def test_pvcs_bound(kube_inventory: Inventory, environment: Environment) -> None:
    pvcs = kube_inventory.pvcs
    if not pvcs:
        pytest.skip(f"no PersistentVolumeClaim matches {kube_inventory.scope}")
    problems = pvcs_not_bound(pvcs)
    assert not problems, describe_problems(problems, len(pvcs), "be Bound", _cap(environment))


def test_every_minecraft_service_has_ready_endpoints(kube_inventory: Inventory, environment: Environment) -> None:
    inv = kube_inventory
    if not inv.services:
        pytest.fail(f"no Minecraft Service matches {inv.scope}; check kubernetes.namespaces/label_selector")
    endpoints = service_endpoint_map(inv.services, inv.pods)
    problems = services_without_endpoints(inv.services, endpoints, inv.pods)
    assert not problems, describe_problems(problems, len(inv.services), "have a ready endpoint", _cap(environment))


@pytest.fixture(scope="module")
def endpoint_sweep(kube_inventory: Inventory, environment: Environment) -> tuple[list[Target], SweepResult | None]:
    """One status sweep of every Service endpoint (pod IP + targetPort), shared by the checks below."""
    inv = kube_inventory
    found = [endpoint_target(e) for eps in service_endpoint_map(inv.services, inv.pods).values() for e in eps]
    targets = list({f"{t.id}:{t.port}": t for t in found}.values())
    if not targets:
        return [], None
    if environment.guards.loopback_only:
        try:
            ensure_loopback(targets, environment.name)
        except McproofError as err:
            pytest.fail(str(err), pytrace=False)
    settings = environment.minecraft
    return targets, sweep_fleet(targets, timeout=settings.status_timeout_s, concurrency=settings.sweep_concurrency)


def test_every_endpoint_answers_status(
    kube_inventory: Inventory,
    environment: Environment,
    evidence: RunStore,
    endpoint_sweep: tuple[list[Target], SweepResult | None],
) -> None:
    inv = kube_inventory
    _, sweep = endpoint_sweep
    if sweep is None:
        pytest.skip(f"no ready endpoint behind the Services matching {inv.scope} (see the endpoints check)")
    settings = environment.minecraft
    failures = [r for r in sweep.results if not r.ok]
    evidence.append(
        sweep_evidence(
            sweep,
            environment=environment.name,
            method=f"Service endpoints derived from Ready pods (pod IP + targetPort); mcstatus async status(), "
            f"timeout {settings.status_timeout_s}s, concurrency {sweep.concurrency}",
            check="test_every_endpoint_answers_status",
            threshold=1.0,
        )
    )
    assert not failures, describe_failures(
        [(f"pod {r.target} at {r.address}", f"{r.error_kind}: {r.error}") for r in failures],
        len(sweep.results),
        f"answer a status ping within {settings.status_timeout_s}s",
        _cap(environment),
    )


def test_serving_ratio_of_desired_replicas(
    kube_inventory: Inventory,
    environment: Environment,
    evidence: RunStore,
    endpoint_sweep: tuple[list[Target], SweepResult | None],
) -> None:
    inv = kube_inventory
    if not inv.statefulsets and not inv.deployments:
        pytest.skip(f"no StatefulSet or Deployment matches {inv.scope}")
    _, sweep = endpoint_sweep
    answered: dict[str, bool] = {}
    for r in sweep.results if sweep is not None else []:  # a pod behind two Services serves only if both answered
        answered[r.target] = answered.get(r.target, True) and r.ok
    rows = serving_replicas(inv.statefulsets, inv.deployments, inv.pods, answered)
    desired = sum(r.desired for r in rows)
    serving = sum(r.serving for r in rows)
    if desired == 0:
        inconclusive(
            f"the {len(rows)} workload(s) matching {inv.scope} desire 0 replicas: there is no fleet to measure",
            "scale the Minecraft workloads up, or point kubernetes.label_selector/namespaces at the live fleet",
        )
    threshold = environment.slo.serving_ratio
    ratio = serving / desired
    shown = "; ".join(f"{r.workload} {r.serving}/{r.desired}" for r in rows[:20])
    more = f"; +{len(rows) - 20} more" if len(rows) > 20 else ""
    evidence.append(
        SloMeasurement(
            environment=environment.name,
            slo="serving_ratio",
            objective=f"replicas serving / desired replicas (spec.replicas) >= {threshold}",
            target=threshold,
            measured=round(ratio, 6),
            unit="ratio",
            comparator=">=",
            passed=ratio >= threshold,
            method=f"desired = spec.replicas of {len(rows)} StatefulSets/Deployments matching {inv.scope}; serving = "
            f"a Ready pod that answered a status ping at its Service endpoint; missing/NotReady pods count as not "
            f"serving; {shown}{more}",
            check="test_serving_ratio_of_desired_replicas",
            samples=desired,
        )
    )
    below = [(r.workload, r.reason) for r in rows if r.serving < r.desired]
    assert ratio >= threshold, (
        f"serving ratio {ratio:.4f} ({serving} of {desired} desired replicas serve) is below {threshold}; "
        + describe_problems(below, len(rows), "serve every desired replica", _cap(environment))
    )
