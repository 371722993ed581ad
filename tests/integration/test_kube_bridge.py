"""The pod bridge against a real cluster: a Running pod serves at its pod IP; a real chaosk8s
`terminate_pods` takes that server down and the StatefulSet (controller, scheduler, kwok) brings it
back; Kubernetes discovery returns pod IPs with namespace and pod, never a ClusterIP."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path

import pytest
from suite_runs import write_environment

from mcproof.config import load_environment
from mcproof.connect.targets import discover_targets
from mcproof.minecraft.status import status_ping
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant, wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]


def _pod(cluster: EmbeddedCluster, namespace: str, name: str) -> dict[str, object]:
    pods = {p["metadata"]["name"]: p for p in cluster.api().objects("pods", namespace)}
    return dict(pods.get(name) or {})


def test_terminate_pods_takes_the_server_down_and_the_statefulset_brings_it_back(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chaosk8s.pod.actions import terminate_pods

    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=1, replicas=2))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    assert wait_serving(api, [kube_namespace], timeout=20) == 2
    victim = _pod(embedded_cluster, kube_namespace, "mc-000-0")
    ip, uid = victim["status"]["podIP"], victim["metadata"]["uid"]  # type: ignore[index]
    assert ipaddress.ip_address(ip).is_loopback
    assert status_ping(ip, 25565, timeout=2).ok

    # How chaosk8s finds the cluster: $KUBECONFIG, which the kubernetes client reads once at import
    # (a Chaos Toolkit run sets it before starting); this process imported it already, so patch both.
    monkeypatch.setenv("KUBECONFIG", str(embedded_cluster.kubeconfig))
    monkeypatch.setattr("kubernetes.config.kube_config.KUBE_CONFIG_DEFAULT_LOCATION", str(embedded_cluster.kubeconfig))
    t0 = time.monotonic()
    killed = terminate_pods(
        label_selector="app.kubernetes.io/instance=mc-000", name_pattern="mc-000-0", ns=kube_namespace, grace_period=0
    )
    assert killed == ["mc-000-0"]
    timeline: list[tuple[float, bool, str]] = []
    went_down = came_back = None
    while time.monotonic() - t0 < 30 and came_back is None:
        result = status_ping(ip, 25565, timeout=0.5)
        timeline.append((round(time.monotonic() - t0, 3), result.ok, result.error_kind or ""))
        if not result.ok and went_down is None:
            went_down = timeline[-1][0]
        if went_down is not None and result.ok:
            came_back = timeline[-1][0]
        time.sleep(0.02)
    assert went_down is not None, f"the server never went down: {timeline[:5]}"
    # The replacement pod: same name, new uid; the server answers at ITS pod IP.
    deadline = time.monotonic() + 30
    new = _pod(embedded_cluster, kube_namespace, "mc-000-0")
    while time.monotonic() < deadline and (
        not new or new["metadata"]["uid"] == uid or new.get("status", {}).get("phase") != "Running"  # type: ignore[index, attr-defined]
    ):
        time.sleep(0.1)
        new = _pod(embedded_cluster, kube_namespace, "mc-000-0")
    assert new["metadata"]["uid"] != uid  # type: ignore[index]
    assert wait_serving(api, [kube_namespace], timeout=20) == 2
    assert status_ping(new["status"]["podIP"], 25565, timeout=2).ok  # type: ignore[index]
    print(f"down after {went_down} s, back after {came_back} s; {len(timeline)} pings")


def test_deleting_the_workload_stops_its_servers(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> None:
    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=1, replicas=1))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    wait_serving(api, [kube_namespace], timeout=20)
    ip = _pod(embedded_cluster, kube_namespace, "mc-000-0")["status"]["podIP"]  # type: ignore[index]
    api.apps.patch_namespaced_stateful_set_scale(
        "mc-000", kube_namespace, {"spec": {"replicas": 0}}, _request_timeout=10
    )
    deadline = time.monotonic() + 20
    while status_ping(ip, 25565, timeout=0.5).ok and time.monotonic() < deadline:
        time.sleep(0.1)
    result = status_ping(ip, 25565, timeout=0.5)
    assert not result.ok, result
    assert result.error_kind == "refused", result


def test_kubernetes_discovery_returns_pod_ips_with_namespace_and_pod(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=2, replicas=1, persistence=True))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    env_file = write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}},
        sandbox=None,
        kubernetes={"kubeconfig": str(embedded_cluster.kubeconfig), "namespaces": [kube_namespace]},
    )
    env = load_environment(str(env_file))
    targets = discover_targets(env)
    assert [t.id for t in targets] == [f"{kube_namespace}/mc-000-0", f"{kube_namespace}/mc-001-0"]
    services = {s["spec"]["clusterIP"] for s in api.objects("services", kube_namespace)}
    for target in targets:
        assert ipaddress.ip_address(target.host) in ipaddress.ip_network(embedded_cluster.status().spec["pod_cidr"])  # type: ignore[union-attr]
        assert target.host not in services
        assert (target.namespace, target.source, target.port, target.rcon_port, target.query_port) == (
            kube_namespace,
            "kubernetes",
            25565,
            25575,
            25565,
        )
        assert target.pod is not None
        assert target.id.endswith(target.pod)
        assert target.labels["app.kubernetes.io/name"] == "minecraft"
