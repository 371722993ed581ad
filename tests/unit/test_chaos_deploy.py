"""Zero-downtime deploy judgement: gaps in a recorded tick timeline, rollout completion, messages."""

from __future__ import annotations

from typing import Any

from mcproof.chaos.deploy import RolloutResult, deploy_gaps, rolling_workloads, rollout_complete, rollout_problem
from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment


def _ticks(answered: list[int]) -> list[dict[str, Any]]:
    return [{"t_s": round(i * 0.2, 3), "endpoints": 2, "answered": a} for i, a in enumerate(answered)]


def _result(answered: list[int], *, completed: bool = True, strategy: str = "Recreate") -> RolloutResult:
    ticks = _ticks(answered)
    return RolloutResult(
        "t",
        "Deployment t/proxy",
        "t/proxy",
        strategy,
        2,
        "2026-01-01T00:00:00+00:00",
        "2026-01-01T00:00:09+00:00",
        completed,
        3.0 if completed else None,
        0.2,
        ticks,
        deploy_gaps(ticks),
    )


def test_gaps_group_consecutive_silent_ticks() -> None:
    assert deploy_gaps(_ticks([2, 1, 2])) == []
    assert deploy_gaps(_ticks([2, 0, 0, 1, 0, 2])) == [
        {"from_s": 0.2, "to_s": 0.4, "ticks": 2},
        {"from_s": 0.8, "to_s": 0.8, "ticks": 1},
    ]


def test_rollout_complete_needs_every_replica_updated_and_available() -> None:
    base = {"metadata": {"generation": 3}, "spec": {"replicas": 2}}
    done = {"observedGeneration": 3, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2}
    assert rollout_complete({**base, "status": done})
    assert not rollout_complete({**base, "status": {**done, "observedGeneration": 2}})
    assert not rollout_complete({**base, "status": {**done, "replicas": 3}})  # an old pod still terminating
    assert not rollout_complete({**base, "status": {**done, "availableReplicas": 1}})


def test_problem_names_workload_gap_and_fix() -> None:
    assert rollout_problem(_result([2, 1, 1, 2], strategy="RollingUpdate(maxUnavailable=0, maxSurge=1)")) is None
    problem = rollout_problem(_result([2, 0, 0, 0, 2]))
    assert problem is not None
    assert "Deployment t/proxy (strategy Recreate, 2 replicas)" in problem
    assert "3 of 5 ticks" in problem
    assert "from 0.2s to 0.6s" in problem
    assert "maxUnavailable 0" in problem
    unfinished = rollout_problem(_result([2, 2], completed=False))
    assert unfinished is not None
    assert "did not finish its rollout" in unfinished


def test_proxy_manifest_rolls_safely_and_recreate_is_the_broken_variant() -> None:
    dep = minecraft_proxy_deployment("t", replicas=3)
    labels = dep["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/name"] == "minecraft"
    assert labels["app.kubernetes.io/component"] == "proxy"
    assert dep["spec"]["selector"]["matchLabels"] == labels
    assert dep["spec"]["minReadySeconds"] >= 1
    assert "readinessProbe" in dep["spec"]["template"]["spec"]["containers"][0]
    assert minecraft_proxy_deployment("t", strategy="Recreate")["spec"]["strategy"] == {"type": "Recreate"}
    assert [
        d["metadata"]["name"] for d in rolling_workloads([dep, minecraft_proxy_deployment("t", "one", replicas=1)])
    ] == ["proxy"]
