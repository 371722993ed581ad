"""The embedded cluster is a real, locked-down control plane: TLS + RBAC, PodSecurity and
ResourceQuota admission, an audit log in the state dir, raised controller QPS, loopback pod IPs;
and `mcproof sandbox up --kubernetes` / status / down manage it without leaving processes."""

from __future__ import annotations

import random
import time
from pathlib import Path

import psutil
import pytest
from suite_runs import run_cli, write_environment

from mcproof.kubeapi import KubeError, connect
from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.manifests import tenant_quota

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]


def _pod(namespace: str, name: str, *, privileged: bool = False) -> dict[str, object]:
    container: dict[str, object] = {"name": "c", "image": "x"}
    if privileged:
        container["securityContext"] = {"privileged": True}
    else:
        container["securityContext"] = {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "runAsNonRoot": True,
            "runAsUser": 1000,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        container["resources"] = {"requests": {"cpu": "10m", "memory": "16Mi"}}
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"containers": [container]},
    }


def test_control_plane_is_real_and_locked_down(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> None:
    status = embedded_cluster.status()
    assert status is not None
    assert status.apiserver.startswith("https://127.0.0.1:")
    api = embedded_cluster.api()
    assert api.get_raw("/readyz").strip() == "ok"
    apiserver = " ".join(psutil.Process(status.components["kube-apiserver"]).cmdline())
    assert "--authorization-mode=Node,RBAC" in apiserver
    assert "PodSecurity,ResourceQuota" in apiserver
    assert f"--audit-log-path={status.audit_log}" in apiserver
    for component in ("kube-controller-manager", "kube-scheduler"):
        assert "--kube-api-qps=5000" in " ".join(psutil.Process(status.components[component]).cmdline())

    # PodSecurity `restricted` on tenant namespaces: a privileged pod is refused.
    with pytest.raises(KubeError, match="violates PodSecurity"):
        create_or_keep(api, _pod(kube_namespace, "privileged", privileged=True))
    # ResourceQuota: the second pod over a 1-pod quota is refused.
    quota = tenant_quota(kube_namespace, pods=1)
    create_or_keep(api, quota)
    deadline = time.monotonic() + 30  # the quota controller fills status.hard/used before admission enforces it
    while time.monotonic() < deadline:
        got = api.core.read_namespaced_resource_quota(quota["metadata"]["name"], kube_namespace, _request_timeout=5)
        if got.status is not None and got.status.hard and got.status.used is not None:
            break
        time.sleep(0.1)
    create_or_keep(api, _pod(kube_namespace, "first"))
    with pytest.raises(KubeError, match="exceeded quota"):
        create_or_keep(api, _pod(kube_namespace, "second"))
    # Audit: the refused create is in the audit log inside the state dir.
    audit = Path(status.audit_log)
    assert audit.is_relative_to(embedded_cluster.state_dir)
    deadline = time.monotonic() + 10
    while kube_namespace not in audit.read_text(encoding="utf-8") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert kube_namespace in audit.read_text(encoding="utf-8")


def test_rbac_refuses_an_unprivileged_identity(embedded_cluster: EmbeddedCluster) -> None:
    """A token-less client is anonymous: RBAC lets it read /readyz but not list pods."""
    from kubernetes import client

    admin = connect(embedded_cluster.kubeconfig)
    cfg = client.Configuration()
    cfg.host = admin.client.configuration.host
    cfg.ssl_ca_cert = admin.client.configuration.ssl_ca_cert
    anon = client.CoreV1Api(client.ApiClient(cfg))
    with pytest.raises(client.exceptions.ApiException) as err:
        anon.list_namespaced_pod("default", _request_timeout=5)
    assert err.value.status in (401, 403)


def test_sandbox_cli_starts_reports_and_stops_the_cluster(tmp_path: Path) -> None:
    state = tmp_path / "sandbox"
    env_file = write_environment(
        tmp_path / "env.yaml",
        state,
        sandbox={"servers": 3, "base_address": f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.1"},
        kubernetes={
            "embedded": {
                "nodes": 1,
                "tenants": ["cli-tenant"],
                "releases_per_tenant": 1,
                "pod_cidr": f"127.{random.randint(91, 99)}.0.0/16",
            }
        },
    )
    try:
        up = run_cli("sandbox", "up", "--env", str(env_file), "--kubernetes", timeout=150)
        assert up.returncode == 0, up.stdout + up.stderr
        assert f"kubeconfig  {state / 'kube' / 'kubeconfig'}" in up.stdout
        status = run_cli("sandbox", "status", "--env", str(env_file))
        assert "kubernetes  running" in status.stdout, status.stdout
        assert "audit log" in status.stdout
        pids = EmbeddedCluster(state / "kube").status()
        assert pids is not None
        every = [*pids.components.values(), *pids.bridge_pids]
    finally:
        down = run_cli("sandbox", "down", "--env", str(env_file), timeout=90)
    assert down.returncode == 0, down.stdout + down.stderr
    assert "kubernetes cluster stopped" in down.stdout

    def alive() -> list[int]:
        return [p for p in every if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]

    deadline = time.monotonic() + 15  # processes signalled by `down` may take a moment to exit
    while alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive(), f"orphans after down: {alive()}"
    assert EmbeddedCluster(state / "kube").status() is None
