"""Smoke: the Kubernetes side of the platform is healthy and every Minecraft Service really serves.

Environment-agnostic: the cluster, namespaces and label selector come from the environment's
``kubernetes`` section; every check is SKIPPED with the reason when there is none. Endpoints are
derived from Services and their Ready pods (pod IP + target port, see mcproof.kube.endpoints), so
no check ever connects to a ClusterIP. Failure messages name every failing object (capped).
"""

from __future__ import annotations

import pytest

from mcproof.config import Environment, KubernetesSettings
from mcproof.discovery.kubernetes import endpoint_target, service_endpoint_map
from mcproof.discovery.target import ensure_loopback
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.kube.checks import (
    Inventory,
    describe_problems,
    nodes_not_ready,
    pods_unhealthy,
    pvcs_not_bound,
    services_without_endpoints,
    workloads_not_ready,
)
from mcproof.kube.client import KubeApi
from mcproof.kube.endpoints import selector_matches
from mcproof.minecraft.expectations import describe_failures
from mcproof.minecraft.sweep import sweep_evidence, sweep_fleet

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


def test_every_endpoint_answers_status(kube_inventory: Inventory, environment: Environment, evidence: RunStore) -> None:
    inv = kube_inventory
    targets = [endpoint_target(e) for eps in service_endpoint_map(inv.services, inv.pods).values() for e in eps]
    if not targets:
        pytest.skip(f"no ready endpoint behind the Services matching {inv.scope} (see the endpoints check)")
    if environment.guards.loopback_only:
        try:
            ensure_loopback(targets, environment.name)
        except McproofError as err:
            pytest.fail(str(err), pytrace=False)
    settings = environment.minecraft
    sweep = sweep_fleet(targets, timeout=settings.status_timeout_s, concurrency=settings.sweep_concurrency)
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
