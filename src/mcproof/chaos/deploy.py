"""Zero-downtime deploys: roll a multi-replica Minecraft workload while every ready endpoint is pinged.

:func:`rolling_workloads` (pure) picks the Deployments worth rolling: 2+ replicas, selected by the
environment's label selector. :func:`watch_rollout` triggers a rollout the way ``kubectl rollout restart``
does (a pod-template annotation), then ticks every ``interval_s`` until the rollout completed (plus a
short settle) or the deadline: each tick derives the Service's endpoints from the Ready pods
(:mod:`mcproof.kubeapi.endpoints`, never a ClusterIP) and pings every one (mcstatus). :func:`deploy_gaps`
(pure) finds the ticks where no endpoint answered; the deploy is zero-downtime when there are none.

Example::

    >>> deploy_gaps([{"t_s": 0.0, "endpoints": 2, "answered": 1}, {"t_s": 0.2, "endpoints": 1, "answered": 0}])
    [{'from_s': 0.2, 'to_s': 0.2, 'ticks': 1}]
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcproof.connect.kubernetes import endpoint_target
from mcproof.kubeapi import KubeApi, KubeError
from mcproof.kubeapi.endpoints import selector_matches, service_endpoints
from mcproof.minecraft.sweep import sweep_fleet

__all__ = [
    "RolloutResult",
    "deploy_gaps",
    "rolling_workloads",
    "rollout_complete",
    "rollout_problem",
    "watch_rollout",
]

RESTART_ANNOTATION = "kubectl.kubernetes.io/restartedAt"  # what `kubectl rollout restart` sets


def rolling_workloads(deployments: Iterable[Mapping[str, Any]], min_replicas: int = 2) -> list[Mapping[str, Any]]:
    """Deployments with at least ``min_replicas`` replicas (one replica can never roll without a gap).

    >>> d = {"metadata": {"name": "p"}, "spec": {"replicas": 2}}
    >>> [x["metadata"]["name"] for x in rolling_workloads([d, {"metadata": {"name": "s"}, "spec": {}}])]
    ['p']
    """
    return [d for d in deployments if int((d.get("spec") or {}).get("replicas", 1)) >= min_replicas]


def rollout_complete(deployment: Mapping[str, Any]) -> bool:
    """The rollout finished: the controller saw the new spec and every replica is updated and available.

    >>> rollout_complete({"metadata": {"generation": 2}, "spec": {"replicas": 2}, "status": {
    ...     "observedGeneration": 2, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}})
    True
    """
    meta, spec, status = deployment.get("metadata") or {}, deployment.get("spec") or {}, deployment.get("status") or {}
    want = int(spec.get("replicas", 1))
    return (
        int(status.get("observedGeneration", 0)) >= int(meta.get("generation", 0))
        and int(status.get("updatedReplicas", 0) or 0) == want
        and int(status.get("availableReplicas", 0) or 0) == want
        and int(status.get("replicas", 0) or 0) == want
    )


def deploy_gaps(ticks: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Runs of consecutive ticks where no endpoint answered: ``from_s``, ``to_s`` (tick times), ``ticks``."""
    gaps: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for tick in ticks:
        if int(tick.get("answered", 0)) > 0:
            current = None
            continue
        if current is None:
            current = {"from_s": tick["t_s"], "to_s": tick["t_s"], "ticks": 0}
            gaps.append(current)
        current["to_s"] = tick["t_s"]
        current["ticks"] += 1
    return gaps


@dataclass(frozen=True)
class RolloutResult:
    namespace: str
    workload: str
    service: str
    strategy: str
    replicas: int
    started_at: str
    ended_at: str
    completed: bool
    rollout_s: float | None
    interval_s: float
    ticks: list[dict[str, Any]]
    gaps: list[dict[str, Any]]

    @property
    def zero_downtime(self) -> bool:
        return self.completed and not self.gaps and bool(self.ticks)


FIX = (
    "use strategy RollingUpdate with maxUnavailable 0 and maxSurge >= 1, a readiness probe on the game port "
    "and minReadySeconds covering the server's start-up, with 2+ replicas"
)


def rollout_problem(result: RolloutResult) -> str | None:
    """None for a zero-downtime rollout; else one line naming the workload, the gaps and the fix."""
    if not result.ticks:
        return f"{result.workload}: no tick was taken; raise the deadline"
    if result.gaps:
        worst = max(result.gaps, key=lambda g: g["ticks"])
        return (
            f"{result.workload} (strategy {result.strategy}, {result.replicas} replicas) had no answering endpoint "
            f"in {sum(g['ticks'] for g in result.gaps)} of {len(result.ticks)} ticks ({len(result.gaps)} gap(s), "
            f"longest from {worst['from_s']:g}s to {worst['to_s']:g}s after the rollout started) behind Service "
            f"{result.service}; {FIX}"
        )
    if not result.completed:
        return (
            f"{result.workload} did not finish its rollout within the deadline ({len(result.ticks)} ticks, "
            f"{result.interval_s:g}s apart); check its pods (kubectl rollout status) or raise the deadline"
        )
    return None


def _strategy(dep: Mapping[str, Any]) -> str:
    strat = (dep.get("spec") or {}).get("strategy") or {}
    kind = str(strat.get("type", "RollingUpdate"))
    if kind == "RollingUpdate":
        ru = strat.get("rollingUpdate") or {}
        return f"RollingUpdate(maxUnavailable={ru.get('maxUnavailable', '25%')}, maxSurge={ru.get('maxSurge', '25%')})"
    return kind


def _deployment(api: KubeApi, namespace: str, name: str) -> dict[str, Any]:
    found = api.objects("deployments", namespace, field_selector=f"metadata.name={name}")
    if not found:
        raise KubeError(f"Deployment {namespace}/{name} not found")
    return found[0]


def _service_for(api: KubeApi, namespace: str, dep: Mapping[str, Any]) -> Mapping[str, Any]:
    labels = ((dep.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
    for svc in api.objects("services", namespace):
        selector = (svc.get("spec") or {}).get("selector") or {}
        if selector and selector_matches(selector, labels):
            return svc
    name = dep["metadata"]["name"]
    raise KubeError(f"no Service in {namespace} selects the pods of Deployment {name}; add one for its game port")


def watch_rollout(
    api: KubeApi,
    namespace: str,
    name: str,
    *,
    interval_s: float = 0.2,
    deadline_s: float = 90.0,
    settle_s: float = 1.0,
    ping_timeout_s: float = 0.5,
    port_name: str = "minecraft",
) -> RolloutResult:
    """Restart Deployment ``namespace/name`` and ping its Service's ready endpoints every ``interval_s``
    until the rollout completed and ``settle_s`` passed, or ``deadline_s`` (bounded either way)."""
    dep = _deployment(api, namespace, name)
    service = _service_for(api, namespace, dep)
    selector = (service.get("spec") or {}).get("selector") or {}
    label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
    started_at = dt.datetime.now(dt.UTC).isoformat()
    stamp = started_at
    patch = {"spec": {"template": {"metadata": {"annotations": {RESTART_ANNOTATION: stamp}}}}}
    t0 = time.monotonic()
    try:
        api.apps.patch_namespaced_deployment(name, namespace, patch, _request_timeout=api.timeout)
    except Exception as err:  # ApiException or transport: one line, what to check
        raise KubeError(f"cannot patch Deployment {namespace}/{name} to roll it ({err}); check RBAC (patch)") from None
    ticks: list[dict[str, Any]] = []
    done_at: float | None = None
    while True:
        tick_start = time.monotonic()
        now = tick_start - t0
        if now > deadline_s or (done_at is not None and now - done_at >= settle_s):
            break
        pods = api.objects("pods", namespace, label_selector=label_selector)
        eps = service_endpoints(service, pods, port_name=port_name)
        targets = [endpoint_target(e) for e in eps]
        answered: list[str] = []
        if targets:
            sweep = sweep_fleet(targets, timeout=ping_timeout_s, deadline_s=max(1.0, ping_timeout_s * 2))
            answered = [r.target for r in sweep.results if r.ok]
        current = _deployment(api, namespace, name)
        if done_at is None and rollout_complete(current):
            done_at = time.monotonic() - t0
        ticks.append(
            {
                "t_s": round(now, 3),
                "endpoints": len(targets),
                "answered": len(answered),
                "ready_pods": sorted(e.pod for e in eps),
                "answering_pods": sorted(p.split("/", 1)[-1] for p in answered),
                "updated": int((current.get("status") or {}).get("updatedReplicas", 0) or 0),
            }
        )
        time.sleep(max(0.0, interval_s - (time.monotonic() - tick_start)))
    return RolloutResult(
        namespace=namespace,
        workload=f"Deployment {namespace}/{name}",
        service=f"{namespace}/{service['metadata']['name']}",
        strategy=_strategy(dep),
        replicas=int((dep.get("spec") or {}).get("replicas", 1)),
        started_at=started_at,
        ended_at=dt.datetime.now(dt.UTC).isoformat(),
        completed=done_at is not None,
        rollout_s=round(done_at, 3) if done_at is not None else None,
        interval_s=interval_s,
        ticks=ticks,
        gaps=deploy_gaps(ticks),
    )
