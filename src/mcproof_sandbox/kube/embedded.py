"""The sandbox's embedded cluster for an environment: start it with its Minecraft tenants, wait until
every tenant server serves, describe it for ``mcproof sandbox status``, stop it.

Called by ``mcproof sandbox up --kubernetes`` / ``status`` / ``down`` and by the run lifecycle when
the environment has ``kubernetes.embedded``. Suites never import this.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from mcproof.config import EmbeddedKubernetes, Environment
from mcproof.kubeapi import KubeApi, KubeError
from mcproof.kubeapi.endpoints import endpoint_target, service_endpoint_map
from mcproof.kubeapi.listwatch import ListWatch, WatchedList
from mcproof_sandbox.kube.cluster import ClusterSpec, ClusterStatus, EmbeddedCluster
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant, wait_workloads_ready, write_manifests
from mcproof_sandbox.state import APPLIED_DIR

__all__ = ["APPLIED_DIR", "cluster_spec", "describe", "start_embedded", "tenants", "wait_serving"]


Echo = Callable[[str], None]


def cluster_spec(env: Environment | None, settings: EmbeddedKubernetes) -> ClusterSpec:
    """The ClusterSpec for an environment (its sandbox's version/motd for the bridged servers)."""
    spec = ClusterSpec(nodes=settings.nodes, pod_cidr=settings.pod_cidr, bridge_shards=settings.bridge_shards)
    if env is None:
        return spec
    if env.kubernetes is not None:
        spec = replace(spec, bridge_selector=env.kubernetes.label_selector)
    spec = replace(spec, query_enabled=env.minecraft.query_enabled)
    if env.sandbox is not None:
        sb = env.sandbox
        spec = replace(
            spec,
            version_name=sb.version_name,
            protocol=sb.protocol,
            motd=sb.motd,
            max_players=sb.max_players,
            tick_rate=sb.tick_rate,
        )
    return spec


def tenants(env: Environment | None, settings: EmbeddedKubernetes) -> list[Tenant]:
    version = env.sandbox.version_name if env is not None and env.sandbox is not None else "1.21.4"
    return [
        Tenant(
            ns,
            releases=settings.releases_per_tenant,
            replicas=settings.replicas,
            persistence=settings.persistence,
            version_name=version,
            proxy_replicas=settings.proxy_replicas,
            autoscaling=settings.autoscaling,
        )
        for ns in settings.tenants
    ]


def wait_serving(api: KubeApi, namespaces: list[str], timeout: float = 60.0) -> int:
    """Wait until every ready endpoint of every Minecraft Service in ``namespaces`` answers a status
    ping; return how many answered."""
    from mcproof.minecraft.sweep import sweep_fleet

    deadline = time.monotonic() + timeout
    last = ""
    watched = [WatchedList(ListWatch(api, "pods", ns, watch_timeout_s=30)).start() for ns in namespaces]
    try:
        while time.monotonic() < deadline:
            services = [
                s
                for ns in namespaces
                for s in api.objects("services", ns, label_selector="app.kubernetes.io/name=minecraft")
            ]
            emap = service_endpoint_map(services, [p for w in watched for p in w.items(timeout=timeout)])
            targets = [endpoint_target(e) for eps in emap.values() for e in eps]
            if targets and all(emap.values()):
                sweep = sweep_fleet(targets, timeout=2.0, concurrency=256)
                if sweep.serving == len(targets):
                    return len(targets)
                last = f"{sweep.serving}/{len(targets)} endpoints answer"
            else:
                last = f"{sum(1 for v in emap.values() if v)}/{len(emap)} services have endpoints"
            time.sleep(0.3)
    finally:
        for w in watched:
            w.close()
    raise KubeError(f"tenant servers not serving after {timeout:g}s ({last})")


def start_embedded(
    state_dir: Path, env: Environment | None, settings: EmbeddedKubernetes, *, echo: Echo | None = None
) -> ClusterStatus:
    """Start (or reuse) the cluster, deploy the tenants, wait until all of them serve."""
    say = echo or (lambda _line: None)
    cluster = EmbeddedCluster(state_dir)
    status = cluster.up(cluster_spec(env, settings), echo=say)
    api = cluster.api()
    items = tenants(env, settings)
    try:
        applied = {t.namespace: deploy_tenant(api, t, labels={"mcproof.io/sandbox": "true"}) for t in items}
        write_manifests(state_dir / APPLIED_DIR, applied)  # scanned by suites/security/test_manifests.py
        names = [t.namespace for t in items]
        wait_workloads_ready(api, names, timeout=120.0)
        served = wait_serving(api, names, timeout=60.0)
    except BaseException:
        cluster.down()
        raise
    say(f"mcproof: {len(items)} tenant namespace(s), {served} Minecraft pods serving through the pod bridge")
    return status


def describe(status: ClusterStatus) -> list[tuple[str, str]]:
    """Rows for ``mcproof sandbox status``."""
    rss = sum(status.rss_bytes.values())
    return [
        ("kubernetes", f"running ({status.name}, {status.apiserver})"),
        ("kubeconfig", status.kubeconfig),
        ("audit log", status.audit_log),
        ("kube rss", f"{rss / 2**20:.0f} MiB ({len(status.components)} components, {len(status.bridge_pids)} bridge)"),
    ]


# --- for `mcproof sandbox up/status/down` ---------------------------------------------------------


def kube_dir_for(sandbox_state_dir: Path, env: Environment | None) -> Path:
    """Where the sandbox's cluster lives: ``<sandbox state dir>/kube`` (as ``Environment.kube_state_dir``)."""
    return Path(sandbox_state_dir) / "kube"


def wants_cluster(env: Environment | None) -> bool:
    return env is not None and env.kubernetes is not None and env.kubernetes.embedded is not None


def cli_up(sandbox_state_dir: Path, env: Environment | None, echo: Echo) -> list[tuple[str, str]]:
    """Start the cluster (environment's embedded settings, else defaults); status rows."""
    settings = env.kubernetes.embedded if env is not None and env.kubernetes is not None else None
    status = start_embedded(kube_dir_for(sandbox_state_dir, env), env, settings or EmbeddedKubernetes(), echo=echo)
    return describe(status)


def cli_status(sandbox_state_dir: Path, env: Environment | None) -> list[tuple[str, str]]:
    status = EmbeddedCluster(kube_dir_for(sandbox_state_dir, env)).status()
    return describe(status) if status is not None else []


def cli_down(sandbox_state_dir: Path, env: Environment | None) -> bool:
    """Stop the cluster if one runs (or left files behind); True when there was one."""
    cluster = EmbeddedCluster(kube_dir_for(sandbox_state_dir, env))
    had = (cluster.state_dir / "cluster.json").exists()
    cluster.down()
    return had
