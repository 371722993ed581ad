"""Serving ratio over desired replicas (pure, recorded-shape objects): missing, Pending, NotReady and
silent pods count as not serving; surge pods never count above desired."""

from __future__ import annotations

from typing import Any

from mcproof.kube.checks import serving_replicas

READY = [{"type": "Ready", "status": "True"}]


def _workload(name: str, replicas: int | None, ns: str = "t") -> dict[str, Any]:
    spec: dict[str, Any] = {"selector": {"matchLabels": {"app.kubernetes.io/instance": name}}}
    if replicas is not None:
        spec["replicas"] = replicas
    return {"metadata": {"name": name, "namespace": ns}, "spec": spec}


def _pod(name: str, release: str, *, ready: bool = True, ns: str = "t") -> dict[str, Any]:
    status: dict[str, Any] = (
        {"phase": "Running", "podIP": "127.64.0.9", "conditions": READY}
        if ready
        else {
            "phase": "Pending",
            "conditions": [
                {
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": "0/2 nodes are available",
                }
            ],
        }
    )
    return {
        "metadata": {"name": name, "namespace": ns, "labels": {"app.kubernetes.io/instance": release}},
        "status": status,
    }


def test_denominator_is_desired_replicas() -> None:
    sts = [_workload("mc-000", 3), _workload("stranded", 2), _workload("default", None)]
    deploy = [_workload("proxy", 2)]
    pods = [
        _pod("mc-000-0", "mc-000"),
        _pod("mc-000-1", "mc-000"),  # mc-000-2 missing
        _pod("stranded-0", "stranded", ready=False),
        _pod("stranded-1", "stranded", ready=False),
        _pod("default-0", "default"),
        _pod("proxy-a", "proxy"),
        _pod("proxy-b", "proxy"),
        _pod("proxy-c", "proxy"),  # a surge pod
        _pod("other-0", "mc-000", ns="elsewhere"),  # another namespace: not mc-000's
    ]
    answered = {
        "t/mc-000-0": True,
        "t/mc-000-1": False,
        "t/default-0": True,
        "t/proxy-a": True,
        "t/proxy-b": True,
        "t/proxy-c": True,
    }
    rows = {r.workload: r for r in serving_replicas(sts, deploy, pods, answered)}
    assert {k: (r.desired, r.ready, r.serving) for k, r in rows.items()} == {
        "statefulset t/mc-000": (3, 2, 1),
        "statefulset t/stranded": (2, 0, 0),
        "statefulset t/default": (1, 1, 1),  # no spec.replicas means 1
        "deployment t/proxy": (2, 3, 2),  # surge: never above desired
    }
    assert rows["statefulset t/mc-000"].reason == (
        "desired 3, serving 1; pod mc-000-1: Ready but did not answer a status ping; 1 pod(s) missing"
    )
    assert rows["statefulset t/stranded"].reason.startswith("desired 2, serving 0; pod stranded-0: Pending")
    assert rows["deployment t/proxy"].not_serving == ()
    total = sum(r.serving for r in rows.values()) / sum(r.desired for r in rows.values())
    assert total == 4 / 8


def test_ready_pod_behind_no_service_is_not_serving_and_zero_desired_counts_nothing() -> None:
    rows = serving_replicas([_workload("a", 1), _workload("idle", 0)], [], [_pod("a-0", "a")], {})
    assert [(r.desired, r.serving, r.not_serving) for r in rows] == [
        (1, 0, ("pod a-0: Ready but behind no Service endpoint",)),
        (0, 0, ()),
    ]
