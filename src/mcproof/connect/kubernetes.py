"""Targets from Kubernetes: the ready endpoints of the Minecraft Services.

For each namespace (``kubernetes.namespaces``, or every namespace) the Services matching
``kubernetes.label_selector`` are read with their Pods, and each Service's endpoints are derived the
way the endpoints controller derives them (:mod:`mcproof.kubeapi.endpoints`): selector -> Ready,
non-terminating pods -> pod IP + the Service port's target port. That is the same answer as the
EndpointSlices on a real cluster, and the only answer on the embedded one (the API server refuses
loopback pod IPs in EndpointSlices). A target is a pod IP, never a ClusterIP: nothing routes
ClusterIPs without kube-proxy, and the sandbox allows loopback only.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from mcproof.config import Environment, KubernetesSettings
from mcproof.kubeapi import KubeApi, connect
from mcproof.kubeapi.endpoints import endpoint_target, service_endpoint_map
from mcproof.target import Target

__all__ = [
    "apiserver_args",
    "apiserver_audit_log",
    "applied_manifests_dir",
    "endpoint_target",
    "kube_api",
    "kubernetes_targets",
    "minecraft_services",
    "service_endpoint_map",
]


def kube_api(env: Environment) -> KubeApi:
    """A client for the environment's cluster (KubeError when there is none or it cannot be loaded)."""
    settings = env.kubernetes
    assert settings is not None
    return connect(env.kubeconfig_path, settings.context, timeout=settings.request_timeout_s)


def minecraft_services(api: KubeApi, settings: KubernetesSettings) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(Services, Pods) matching the label selector in the configured namespaces (raw JSON)."""
    services: list[dict[str, Any]] = []
    pods: list[dict[str, Any]] = []
    scopes: list[str | None] = list(settings.namespaces) or [None]
    for ns in scopes:
        services += api.objects("services", ns, label_selector=settings.label_selector)
        pods += api.objects("pods", ns)  # a Service's selector may pick pods without the Minecraft label
    return services, pods


def kubernetes_targets(env: Environment, port_name: str = "minecraft") -> list[Target]:
    """Every ready endpoint of every Minecraft Service, one Target per pod (deduplicated)."""
    settings = env.kubernetes
    assert settings is not None
    services, pods = minecraft_services(kube_api(env), settings)
    seen: dict[str, Target] = {}
    for endpoints in service_endpoint_map(services, pods, port_name).values():
        for endpoint in endpoints:
            target = endpoint_target(endpoint)
            seen.setdefault(f"{target.id}:{target.port}", target)
    return sorted(seen.values(), key=lambda t: t.id)


# --- facts about the cluster's control plane, for the compliance and security checks --------------


def apiserver_audit_log(env: Environment, configured: Path | None) -> Path | None:
    """The kube-apiserver audit log: ``configured`` (resolved), else the embedded cluster's, else None."""
    if configured is not None:
        return env.resolve_path(configured)
    kube_dir = env.kube_state_dir
    if kube_dir is None:
        return None
    from mcproof.connect.sandbox import apiserver_audit_log as embedded_log

    return embedded_log(kube_dir)


def apiserver_args(env: Environment, configured: Path | None) -> tuple[list[str], str] | None:
    """The kube-apiserver's flags and where they came from: ``configured`` (a static pod manifest or any
    text holding the flags), else the embedded cluster's; None when nothing declares them."""
    if configured is not None:
        path = env.resolve_path(configured)
        return shlex.split(path.read_text(encoding="utf-8"), comments=True), str(path)
    kube_dir = env.kube_state_dir
    if kube_dir is None:
        return None
    from mcproof.connect.sandbox import apiserver_args as embedded_args

    return embedded_args(kube_dir)


def applied_manifests_dir(env: Environment, configured: Path | None = None) -> Path | None:
    """Where the manifests applied to the cluster are kept for scanning: ``configured``, else the
    embedded cluster's record of what it applied, else None."""
    if configured is not None:
        return env.resolve_path(configured)
    kube_dir = env.kube_state_dir
    if kube_dir is None:
        return None
    from mcproof.connect.sandbox import applied_manifests_dir as embedded_applied

    return embedded_applied(kube_dir)
