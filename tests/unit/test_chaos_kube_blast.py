"""Blast radius of chaosk8s steps sized from recorded cluster JSON: drains count every pod on the node,
whatever the namespace; terminate_pods follows chaosk8s's qty/mode/rand arithmetic; refusals are one line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from mcproof.chaos.kube_blast import size_step, verdict
from mcproof.config import Environment, parse_environment
from mcproof.errors import GuardError

MC = {"app.kubernetes.io/name": "minecraft"}


def _env(max_blast: float = 0.2) -> Environment:
    data = {
        "name": "t",
        "tier": "dev",
        "minecraft": {"discovery": {"kind": "kubernetes"}},
        "kubernetes": {"namespaces": ["minecraft", "tenant-b"]},
        "guards": {"allowed_namespaces": ["minecraft", "tenant-b"], "max_blast_radius": max_blast},
    }
    return parse_environment(yaml.safe_dump(data), Path("t.yaml"))


def _pod(ns: str, name: str, node: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "metadata": {"namespace": ns, "name": name, "labels": MC if labels is None else labels},
        "spec": {"nodeName": node},
    }


def _node(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name, "labels": {"mcproof.io/chaos": "drainable"}}}


NODES = [_node(f"n{i}") for i in range(5)]
# 10 Minecraft pods, 2 per node; node n4 also runs a pod of kube-system
PODS = [_pod("minecraft" if i % 2 else "tenant-b", f"mc-{i}", f"n{i // 2}") for i in range(10)]
DRAIN = {
    "label_selector": "mcproof.io/chaos=drainable",
    "count": 1,
    "pod_namespace": "minecraft",
    "pod_label_selector": "app.kubernetes.io/name=minecraft",
}


def test_drain_counts_every_pod_on_the_fullest_candidate_node() -> None:
    pods = [*PODS, _pod("minecraft", "mc-extra", "n1")]
    blast = size_step(_env(), "drain_nodes", DRAIN, pods, NODES)
    assert blast.nodes == ("n1",)
    assert blast.affected == 3
    assert blast.minecraft_total == 11
    assert set(blast.pods) == {"minecraft/mc-3", "tenant-b/mc-2", "minecraft/mc-extra"}
    assert blast.namespaces == ("minecraft", "tenant-b")
    with pytest.raises(GuardError) as err:
        verdict(_env(0.2), blast, 0.2, "k8s-node-drain")
    text = str(err.value)
    assert "\n" not in text
    assert "drain_nodes may affect 3 of 11 Minecraft pods on node(s) n1" in text
    assert "27%" in text
    verdict(_env(0.3), blast, 0.3, "k8s-node-drain")


def test_drain_fits_when_one_node_holds_under_the_limit() -> None:
    blast = size_step(_env(), "drain_nodes", DRAIN, PODS, NODES)
    assert blast.affected == 2
    assert blast.minecraft_total == 10
    verdict(_env(), blast, 0.2, "k8s-node-drain")


def test_drain_refused_when_a_node_hosts_a_pod_of_another_namespace() -> None:
    pods = [*PODS, _pod("kube-system", "coredns-0", "n4", {"k8s-app": "dns"})]
    blast = size_step(_env(), "drain_nodes", DRAIN, pods, NODES)
    assert blast.nodes == ("n4",)  # same Minecraft count as the others, more pods: the worst case
    with pytest.raises(GuardError) as err:
        verdict(_env(), blast, 0.2, "k8s-node-drain")
    assert "namespace(s) kube-system outside guards.allowed_namespaces" in str(err.value)
    assert "kube-system/coredns-0" in str(err.value)


def test_drain_of_every_candidate_without_count() -> None:
    blast = size_step(_env(), "drain_nodes", {**DRAIN, "count": None}, PODS, NODES)
    assert blast.affected == 10
    with pytest.raises(GuardError):
        verdict(_env(), blast, 0.2, "drain-all")


def test_terminate_pods_fixed_percentage_and_all() -> None:
    args = {"label_selector": "app.kubernetes.io/name=minecraft", "ns": "minecraft", "qty": 1, "rand": True}
    one = size_step(_env(), "terminate_pods", args, PODS)
    assert (one.affected, one.minecraft_total) == (1, 10)
    assert len(one.pods) == 5  # with rand, any of the 5 candidates may be the one
    verdict(_env(), one, 0.2, "k8s-pod-kill")
    pct = size_step(_env(), "terminate_pods", {**args, "mode": "percentage", "qty": 50}, PODS)
    assert pct.affected == 3  # ceil(50 % of 5), as chaosk8s rounds
    with pytest.raises(GuardError) as err:
        verdict(_env(), pct, 0.2, "pod-kill-half")
    assert "terminate_pods may affect 3 of 10 Minecraft pods" in str(err.value)
    every = size_step(_env(), "terminate_pods", {**args, "all": True}, PODS)
    assert every.affected == 5
    first = size_step(_env(), "terminate_pods", {**args, "rand": False, "qty": 2}, PODS)
    assert first.pods == ("minecraft/mc-1", "minecraft/mc-3")


def test_terminate_pods_outside_the_allow_list_is_refused() -> None:
    pods = [*PODS, _pod("kube-system", "coredns-0", "n4", MC)]
    blast = size_step(_env(), "terminate_pods", {"ns": "kube-system", "qty": 1}, pods)
    with pytest.raises(GuardError) as err:
        verdict(_env(), blast, 0.2, "bad-kill")
    assert "kube-system" in str(err.value)
