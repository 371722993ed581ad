"""Chaos on the embedded cluster: the library's k8s-pod-kill and k8s-node-drain experiments run for real
(chaostoolkit-kubernetes against the test's kube-apiserver, pointed there by the runner, not by
$KUBECONFIG), the observer follows the replaced pod to its new IP, and recovery is measured.

The experiments are the library's files as they are: their ``${mcproof_namespace}`` and
``${mcproof_label_selector}`` are bound from the test environment's ``kubernetes`` section."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from suite_runs import write_environment

from mcproof.chaos.experiment import run_chaos_experiment
from mcproof.chaos.kube import KubeFleet, chaosk8s_cluster
from mcproof.chaos.library import find_experiment
from mcproof.config import load_environment
from mcproof.errors import GuardError
from mcproof.evidence.store import RunStore
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant, wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes, pytest.mark.chaos]

# The test tenant is 2 pods on 2 nodes: one pod or one node is half of it, so these tests raise the limit
# (the guard's refusal below keeps the environment default of 20 %).
CHAOS = {
    "observer_interval_s": 0.25,
    "observer_timeout_s": 0.5,
    "recovery_window_s": 30,
    "observer_sample": 50,
    "max_blast_radius": 1.0,
}


def _env_file(tmp_path: Path, cluster: EmbeddedCluster, namespace: str, **chaos: Any) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}, "status_timeout_s": 1.0, "sweep_concurrency": 32},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [namespace]},
        guards={"loopback_only": True, "allowed_namespaces": [namespace]},
        chaos={**CHAOS, **chaos},
    )


def _experiment_in(name: str, namespace: str, directory: Path, **changes: Any) -> Path:
    """The library experiment ``name``, its namespace left to the environment's binding (asserted), with
    ``changes`` (more method arguments, or ``extension`` for the mcproof extension)."""
    data: dict[str, Any] = json.loads(find_experiment(name).read_text(encoding="utf-8"))
    extension = changes.pop("extension", None)
    if extension is not None:
        data["extensions"] = [{"name": "mcproof", **extension}]
    for activity in data["method"]:
        args = activity["provider"].get("arguments") or {}
        for key in ("ns", "pod_namespace"):
            if key in args:
                assert args[key] == "${mcproof_namespace}", f"{name} hard-codes {key}={args[key]}"
        if activity["type"] == "action":
            args.update(changes)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _pods(cluster: EmbeddedCluster, namespace: str) -> dict[str, str]:
    return {p["metadata"]["name"]: p["metadata"]["uid"] for p in cluster.api().objects("pods", namespace)}


@pytest.fixture
def tenant(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> str:
    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=2, replicas=1))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    wait_serving(api, [kube_namespace], timeout=20)
    return kube_namespace


def test_pod_kill_is_survived_and_its_mttr_measured(
    embedded_cluster: EmbeddedCluster, tenant: str, tmp_path: Path
) -> None:
    env = load_environment(str(_env_file(tmp_path, embedded_cluster, tenant)))
    before = _pods(embedded_cluster, tenant)
    store = RunStore.create(tmp_path / "reports", "r1")
    kubeconfig_before = os.environ.get("KUBECONFIG")
    outcome = run_chaos_experiment(env, str(_experiment_in("k8s-pod-kill", tenant, tmp_path)), store, seed=3)
    assert outcome.passed, (outcome.reasons, outcome.lines)
    assert os.environ.get("KUBECONFIG") == kubeconfig_before  # restored after the run
    journal = outcome.journal or {}
    kill = next(r for r in journal["run"] if r["activity"]["name"] == "terminate-one-minecraft-pod")
    assert kill["status"] == "succeeded", kill
    after = _pods(embedded_cluster, tenant)
    assert sorted(after) == sorted(before)  # the StatefulSet brought the pod back under its name ...
    replaced = [name for name in before if after[name] != before[name]]
    assert len(replaced) == 1  # ... as a new pod (new UID): exactly one was killed
    ev = outcome.evidence
    assert ev is not None
    assert ev.passed
    assert ev.affected == [f"{tenant}/{replaced[0]}"]
    assert ev.unrecovered == []
    assert ev.fleet_mttr_s is not None
    assert 0 < ev.fleet_mttr_s < 30
    assert ev.serving_after_rollback
    assert ev.targets_observed == 2
    kinds = {s["error_kind"] for s in ev.timeline if not s["ok"]}
    assert kinds, "the observer never saw the killed pod down"
    assert ev.verdict == "pass"
    assert ev.fault_targets == [f"{tenant}/{replaced[0]}"]  # terminate_pods' output, resolved to the target


def test_invisible_pod_kill_is_proven_from_the_kube_api(
    embedded_cluster: EmbeddedCluster, tenant: str, tmp_path: Path
) -> None:
    env = load_environment(str(_env_file(tmp_path, embedded_cluster, tenant)))
    experiment = _experiment_in("k8s-pod-kill", tenant, tmp_path, extension={"fault_visible": False})
    outcome = run_chaos_experiment(env, str(experiment), RunStore.create(tmp_path / "reports", "r1"), seed=3)
    assert outcome.verdict == "pass", (outcome.reasons, outcome.lines)
    proof = next(line for line in outcome.lines if "fault proof" in line)
    assert "deleted (gone or replaced under a new UID)" in proof


def test_killing_a_pod_that_is_no_minecraft_server_is_inconclusive(
    embedded_cluster: EmbeddedCluster, tenant: str, tmp_path: Path
) -> None:
    from mcproof_sandbox.kube.cluster import create_or_keep
    from mcproof_sandbox.kube.manifests import KWOK_TAINT

    api = embedded_cluster.api()
    create_or_keep(
        api,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "helper", "namespace": tenant, "labels": {"app": "helper"}},
            "spec": {
                "nodeSelector": {"type": "kwok"},
                "tolerations": [{"key": KWOK_TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}],
                "securityContext": {
                    "runAsNonRoot": True,
                    "runAsUser": 1000,
                    "seccompProfile": {"type": "RuntimeDefault"},
                },
                "containers": [
                    {
                        "name": "helper",
                        "image": "busybox",
                        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                        "resources": {
                            "requests": {"cpu": "10m", "memory": "16Mi"},
                            "limits": {"cpu": "10m", "memory": "16Mi"},
                        },
                    }
                ],
            },
        },
    )
    env = load_environment(str(_env_file(tmp_path, embedded_cluster, tenant)))
    experiment = _experiment_in("k8s-pod-kill", tenant, tmp_path, label_selector="app=helper")
    outcome = run_chaos_experiment(env, str(experiment), RunStore.create(tmp_path / "reports", "r1"), seed=3)
    kill = next(r for r in (outcome.journal or {})["run"] if r["activity"]["name"] == "terminate-one-minecraft-pod")
    assert kill["status"] == "succeeded"
    assert kill["output"] == ["helper"]  # the action worked, on a pod that serves no Minecraft
    assert outcome.verdict == "inconclusive", (outcome.reasons, outcome.lines)
    assert outcome.reasons[0] == (
        "fault affected no observed target: terminate-one-minecraft-pod named no Minecraft server"
    )
    assert not any(p["metadata"]["name"] == "helper" for p in api.objects("pods", tenant))


def test_node_drain_reschedules_and_uncordons(embedded_cluster: EmbeddedCluster, tenant: str, tmp_path: Path) -> None:
    env = load_environment(str(_env_file(tmp_path, embedded_cluster, tenant)))
    store = RunStore.create(tmp_path / "reports", "r1")
    outcome = run_chaos_experiment(env, str(_experiment_in("k8s-node-drain", tenant, tmp_path)), store, seed=3)
    journal = outcome.journal or {}
    drain = next(r for r in journal["run"] if r["activity"]["name"] == "drain-one-node")
    assert drain["status"] == "succeeded", drain
    drained = drain["output"]
    assert len(drained) == 1
    assert outcome.passed, (outcome.reasons, outcome.lines)
    nodes = {n["metadata"]["name"]: n for n in embedded_cluster.api().objects("nodes")}
    assert not (nodes[drained[0]].get("spec") or {}).get("unschedulable"), "the rollback did not uncordon"
    pods = embedded_cluster.api().objects("pods", tenant)
    where = {p["metadata"]["name"]: (p["spec"].get("nodeName"), p["metadata"]["uid"]) for p in pods}
    assert pods
    assert all(node != drained[0] for node, _ in where.values()), (
        drained,
        where,
        outcome.lines,
        journal["run"],
    )
    assert outcome.evidence is not None
    assert outcome.evidence.unrecovered == []
    assert outcome.evidence.fault_targets  # the drained node's Minecraft pods, from the pre-method snapshot


def test_chaosk8s_client_follows_the_environment_kubeconfig(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    from chaosk8s import create_k8s_api_client
    from kubernetes import client

    env = load_environment(str(_env_file(tmp_path, embedded_cluster, kube_namespace)))
    with chaosk8s_cluster(env) as path:
        assert path == str(embedded_cluster.kubeconfig)
        nodes = client.CoreV1Api(create_k8s_api_client()).list_node().items
        names = [str(n.metadata.name) for n in nodes if n.metadata is not None]
    assert names
    assert all(n.startswith("kwok-node-") for n in names)
    assert KubeFleet(env).expected() == 0  # nothing deployed in this namespace


def test_node_drain_over_the_blast_radius_is_refused_before_anything(
    embedded_cluster: EmbeddedCluster, tenant: str, tmp_path: Path
) -> None:
    env = load_environment(str(_env_file(tmp_path, embedded_cluster, tenant, max_blast_radius=0.2)))
    before = _pods(embedded_cluster, tenant)
    store = RunStore.create(tmp_path / "reports", "r1")
    with pytest.raises(GuardError) as err:
        run_chaos_experiment(env, str(_experiment_in("k8s-node-drain", tenant, tmp_path)), store, seed=3)
    text = str(err.value)
    assert "\n" not in text
    assert "refused, drain_nodes may affect" in text
    assert "of 2 Minecraft pods on node(s) kwok-node-" in text
    assert f"{tenant}/mc-00" in text
    assert "blast radius limit is 20%" in text
    nodes = embedded_cluster.api().objects("nodes")
    assert not any((n.get("spec") or {}).get("unschedulable") for n in nodes), "a node was cordoned"
    assert _pods(embedded_cluster, tenant) == before  # same pods, same UIDs: nothing was evicted
    assert not list(store.run_dir.glob("journal-*.json"))  # chaoslib never started
