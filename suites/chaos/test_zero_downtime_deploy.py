"""Zero-downtime deploys: roll the environment's multi-replica Minecraft workload (a proxy/lobby
Deployment) while every ready endpoint of its Service is pinged every 200 ms; the check passes only if
at every tick at least one endpoint answered and the rollout completed. The timeline is recorded as
``DeployEvidence``.

Skipped with the reason when the environment has no kubernetes section, when no Deployment with 2+
replicas matches its label selector, or when the chaos guards refuse (namespace not allowed, production
without acknowledgement).
"""

from __future__ import annotations

import os

import pytest

from mcproof.chaos.deploy import rolling_workloads, rollout_problem, watch_rollout
from mcproof.chaos.guard import check_namespace, check_tier
from mcproof.config import Environment, KubernetesSettings, Tier
from mcproof.errors import GuardError, McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import DeployEvidence
from mcproof.kubeapi import KubeApi

pytestmark = [pytest.mark.chaos, pytest.mark.destructive]

EXPERIMENT = "zero-downtime-deploy"
INTERVAL_S = 0.2
DEADLINE_S = 120.0


def test_rolling_deploy_zero_downtime(
    environment: Environment, kube: KubeApi, kube_settings: KubernetesSettings, evidence: RunStore
) -> None:
    scopes: list[str | None] = list(kube_settings.namespaces) or [None]
    try:
        found = [
            d for ns in scopes for d in kube.objects("deployments", ns, label_selector=kube_settings.label_selector)
        ]
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    candidates = rolling_workloads(found)
    if not candidates:
        pytest.skip(
            f"no Deployment with 2+ replicas matches {kube_settings.label_selector!r} in "
            f"{', '.join(kube_settings.namespaces) or 'any namespace'}; nothing can roll without downtime here"
        )
    dep = sorted(candidates, key=lambda d: (d["metadata"]["namespace"], d["metadata"]["name"]))[0]
    namespace, name = str(dep["metadata"]["namespace"]), str(dep["metadata"]["name"])
    try:
        check_tier(environment, EXPERIMENT, [t.value for t in Tier], os.environ.get("MCPROOF_ACK_PRODUCTION") == "1")
        check_namespace(environment, namespace, EXPERIMENT)
    except GuardError as err:
        pytest.skip(str(err))
    try:
        result = watch_rollout(kube, namespace, name, interval_s=INTERVAL_S, deadline_s=DEADLINE_S)
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    evidence.append(
        DeployEvidence(
            environment=environment.name,
            method=(
                f"rollout restart (pod-template annotation), every ready endpoint of {result.service} "
                f"pinged every {INTERVAL_S}s (endpoints derived from Ready pods each tick), deadline {DEADLINE_S:g}s"
            ),
            check="test_rolling_deploy_zero_downtime",
            workload=result.workload,
            service=result.service,
            strategy=result.strategy,
            replicas=result.replicas,
            started_at=result.started_at,
            ended_at=result.ended_at,
            completed=result.completed,
            rollout_s=result.rollout_s,
            interval_s=result.interval_s,
            zero_downtime=result.zero_downtime,
            gaps=result.gaps,
            timeline=result.ticks,
        )
    )
    problem = rollout_problem(result)
    assert problem is None, problem
