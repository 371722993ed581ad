"""`mcproof rollout gate` against a real control plane and the pod bridge: the proxy Deployment
(RollingUpdate maxUnavailable 0 / maxSurge 1) rolls to a release whose pod template names another
Minecraft version (the bridge serves each pod the version its template annotates). A good release passes
with zero failed requests; a bad one (wrong protocol) FAILS and, with --rollback, is rolled back by the
harness (rollout undo through the API) with time-to-rollback and time-to-healthy recorded and the old
version answering again. Bad input is one line and exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from suite_runs import write_environment

from mcproof_sandbox.kube.bridge import BOOT_ANNOTATION, PROTOCOL_ANNOTATION, VERSION_ANNOTATION
from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment, minecraft_service, minecraft_statefulset
from mcproof_sandbox.kube.workloads import wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]


def _env(tmp_path: Path, cluster: EmbeddedCluster, namespace: str) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}, "expect": {"name": "1.21.4", "protocol": 769}},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": [namespace]},
        guards={"loopback_only": True, "allowed_namespaces": [namespace]},
        rollout={
            "interval_s": 0.2,
            "rollout_deadline_s": 60,
            "ready_deadline_s": 30,
            "healthy_deadline_s": 60,
            # kwok marks a pod Ready when it turns Running (no probe runs) and the bridge opens its server
            # once it sees that: a start-up gap of a watch event (measured up to ~0.6 s on a busy 2-core box)
            "readiness_gap_s": 4.0,
        },
    )


def _deploy(cluster: EmbeddedCluster, namespace: str) -> None:
    api = cluster.api()
    create_or_keep(api, minecraft_service(namespace, "proxy"))
    create_or_keep(api, minecraft_proxy_deployment(namespace, replicas=2, min_ready_s=1))
    wait_workloads_ready(api, [namespace], timeout=60)
    wait_serving(api, [namespace], timeout=30)


def _release(tmp_path: Path, version: str, protocol: int, boot_s: float = 0.0) -> Path:
    """A release patch: its pods serve ``version``/``protocol``, their servers up ``boot_s`` after Running
    (kwok marks a pod Ready at Running: a start-up time is a readiness gap)."""
    ann = {VERSION_ANNOTATION: version, PROTOCOL_ANNOTATION: str(protocol), BOOT_ANNOTATION: str(boot_s)}
    patch = {"spec": {"template": {"metadata": {"annotations": ann}}}}
    path = tmp_path / f"release-{protocol}-{boot_s:g}.yaml"
    path.write_text(yaml.safe_dump(patch), encoding="utf-8")
    return path


def _gate(env: Path, *args: str, out: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    run = subprocess.run(
        [sys.executable, "-m", "mcproof.cli", "rollout", "gate", "--env", str(env), "-o", str(out), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ},
        check=False,
    )
    evidence = json.loads(out.read_text(encoding="utf-8")) if out.exists() else {}
    return run, evidence


def _rows(ev: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The gate's SLO rows (mcproof.rollout.slos) by name."""
    return {r["slo"]: r for r in ev.get("slos", [])}


def test_good_release_passes_with_zero_failed_requests(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace)
    run, ev = _gate(
        _env(tmp_path, embedded_cluster, kube_namespace),
        "--workload", f"{kube_namespace}/deployment/proxy",
        "--to", str(_release(tmp_path, "1.21.5", 770)),
        "--expect-version", "1.21.5", "--expect-protocol", "770", "--rollback",
        out=tmp_path / "gate.json",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert ev["verdict"] == "pass", ev["reason"]
    assert ev["routed_failures"] == 0  # no serving pod dropped a request through the handoff
    assert all(p["readiness_gap_s"] is not None and p["readiness_gap_s"] <= 4.0 for p in ev["new_pods"])
    assert ev["old_versions"] == ["1.21.4/769"]
    assert ev["rollout_completed"] is True
    assert ev["max_unavailable_allowed"] == 0
    assert ev["max_unavailable_observed"] == 0
    assert len(ev["new_pods"]) == 2
    assert all(p["versions"] == ["1.21.5/770"] and p["restarts"] == 0 for p in ev["new_pods"])
    assert ev["rollback"]["performed"] is False
    assert ev["samples"] >= 10
    rows = _rows(ev)
    assert set(rows) == {
        "rollout.routed_failures", "rollout.max_unavailable", "rollout.rollout_s", "rollout.readiness_gap_s",
        "rollout.error_ratio",
    }  # fmt: skip
    assert all(r["passed"] and r["samples"] > 0 for r in rows.values()), rows
    assert rows["rollout.rollout_s"]["measured"] == ev["rollout_s"]
    assert "SLO rollout.routed_failures 0 <= 0 requests" in run.stdout


def test_wrong_protocol_release_fails_and_is_rolled_back(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace)
    env = _env(tmp_path, embedded_cluster, kube_namespace)
    run, ev = _gate(
        env,
        "--workload", f"{kube_namespace}/deployment/proxy",
        "--to", str(_release(tmp_path, "1.21.5", 760)),
        "--expect-version", "1.21.5", "--expect-protocol", "770", "--rollback",
        out=tmp_path / "gate.json",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert ev["verdict"] == "fail"
    assert "answers 1.21.5/760, expected 1.21.5/770" in ev["reason"]
    rb = ev["rollback"]
    assert rb["performed"] is True, rb
    assert rb["healthy"] is True, rb
    assert rb["time_to_rollback_s"] >= 0
    assert rb["time_to_healthy_s"] > 0
    assert "rolled back to revision 1" in run.stdout
    rows = _rows(ev)
    assert "rollout.rollout_s" not in rows  # stopped at the wrong version: neither completed nor timed out
    assert rows["rollout.time_to_healthy_s"]["passed"] is True
    assert rows["rollout.time_to_healthy_s"]["measured"] == rb["time_to_healthy_s"]
    # the old version answers again on every replica, served by the real controllers' pods
    last = [t for t in ev["ticks"] if t["phase"] == "rollback"][-1]
    assert last["answered"] == 2
    dep = embedded_cluster.api().apps.read_namespaced_deployment("proxy", kube_namespace)
    assert VERSION_ANNOTATION not in (dep.spec.template.metadata.annotations or {})
    # the same bad release without --rollback: fails, and stays (no rollback recorded)
    run2, ev2 = _gate(
        env,
        "--workload", f"{kube_namespace}/deployment/proxy",
        "--to", str(_release(tmp_path, "1.21.5", 760)),
        "--expect-protocol", "770",
        out=tmp_path / "gate2.json",
    )  # fmt: skip
    assert run2.returncode == 1
    assert ev2["rollback"]["performed"] is False


def test_release_ready_before_it_answers_fails(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace)
    run, ev = _gate(
        _env(tmp_path, embedded_cluster, kube_namespace),
        "--workload", f"{kube_namespace}/deployment/proxy",
        "--to", str(_release(tmp_path, "1.21.5", 770, boot_s=10.0)),
        "--expect-version", "1.21.5", "--expect-protocol", "770",
        out=tmp_path / "gate.json",
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    assert "before it answered" in ev["reason"]
    assert "its readiness probe does not cover the server's start-up" in ev["reason"]
    assert ev["startup_failures"] > 0
    gap = _rows(ev)["rollout.readiness_gap_s"]
    assert gap["passed"] is False, gap
    assert gap["samples"] >= 1  # the new pods sampled (one that never answered: its observed span, failed)
    assert "SLO rollout.readiness_gap_s" in run.stdout
    assert "MISSED" in run.stdout


def test_unchanged_template_is_inconclusive_and_bad_input_is_one_line(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    _deploy(embedded_cluster, kube_namespace)
    env = _env(tmp_path, embedded_cluster, kube_namespace)
    same = tmp_path / "same.yaml"
    same.write_text(yaml.safe_dump({"spec": {"replicas": 2}}), encoding="utf-8")
    run, ev = _gate(env, "--workload", f"{kube_namespace}/deployment/proxy", "--to", str(same), out=tmp_path / "g.json")
    assert run.returncode == 3, run.stdout + run.stderr
    assert ev["verdict"] == "inconclusive"
    assert "nothing rolled" in ev["reason"]
    assert ev["slos"] == []  # nothing measured: no SLO row, never a pass
    for args, text in (
        (["--workload", "proxy", "--to", str(same)], "is not NS/KIND/NAME"),
        (["--workload", f"{kube_namespace}/deployment/nope", "--to", str(same)], "not found"),
        (["--workload", f"{kube_namespace}/deployment/proxy", "--to", str(tmp_path / "missing.yaml")], "no such file"),
    ):
        bad, _ = _gate(env, *args, out=tmp_path / "bad.json")
        assert bad.returncode == 2, bad.stdout + bad.stderr
        assert text in bad.stderr, bad.stderr
        assert len(bad.stderr.strip().splitlines()) == 1, bad.stderr


def test_statefulset_release_measures_each_servers_downtime_and_rolls_back(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    """Game servers: a StatefulSet replaces each pod under its own name, so each server is down through its
    replacement; that downtime is measured per server and judged against rollout.max_server_downtime_s."""
    api = embedded_cluster.api()
    create_or_keep(api, minecraft_service(kube_namespace, "mc"))
    create_or_keep(api, minecraft_statefulset(kube_namespace, "mc", replicas=2))
    wait_workloads_ready(api, [kube_namespace], timeout=60)
    wait_serving(api, [kube_namespace], timeout=30)
    env = _env(tmp_path, embedded_cluster, kube_namespace)
    run, ev = _gate(
        env,
        "--workload", f"{kube_namespace}/statefulset/mc",
        "--to", str(_release(tmp_path, "1.21.5", 770)),
        "--expect-version", "1.21.5", "--expect-protocol", "770", "--rollback",
        out=tmp_path / "sts-good.json",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert ev["workload"] == f"StatefulSet {kube_namespace}/mc"
    assert ev["rollout_completed"] is True
    servers = {d["server"]: d for d in ev["server_downtime"]}
    assert sorted(servers) == ["mc-0", "mc-1"]  # both servers replaced, each measured
    assert all(d["downtime_s"] is not None and 0 < d["downtime_s"] <= 60 for d in servers.values())
    assert all(p["versions"] == ["1.21.5/770"] for p in ev["new_pods"])
    down = _rows(ev)["rollout.max_server_downtime_s"]
    assert down["passed"] is True
    assert down["samples"] == 2
    assert down["measured"] == max(d["downtime_s"] for d in servers.values())
    # a server-downtime SLO the replacement cannot meet fails the same good release
    strict = tmp_path / "strict.yaml"
    doc = yaml.safe_load(env.read_text(encoding="utf-8"))
    doc["rollout"]["max_server_downtime_s"] = 0.01
    strict.write_text(yaml.safe_dump(doc), encoding="utf-8")
    run2, ev2 = _gate(
        strict,
        "--workload", f"{kube_namespace}/sts/mc",
        "--to", str(_release(tmp_path, "1.21.6", 771)),
        "--expect-version", "1.21.6", "--expect-protocol", "771", "--rollback",
        out=tmp_path / "sts-strict.json",
    )  # fmt: skip
    assert run2.returncode == 1, run2.stdout + run2.stderr
    assert "through its replacement (SLO rollout.max_server_downtime_s 0.01s)" in ev2["reason"]
    assert ev2["rollback"]["performed"] is True
    assert ev2["rollback"]["healthy"] is True, ev2["rollback"]
    strict_down = _rows(ev2)["rollout.max_server_downtime_s"]
    assert strict_down["passed"] is False
    assert strict_down["measured"] > 0.01
    assert _rows(ev2)["rollout.time_to_healthy_s"]["passed"] is True
    sts = api.apps.read_namespaced_stateful_set("mc", kube_namespace)
    assert sts.spec.template.metadata.annotations[VERSION_ANNOTATION] == "1.21.5"  # back on the release before
