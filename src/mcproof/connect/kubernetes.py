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

from typing import Any

from mcproof.config import Environment, KubernetesSettings
from mcproof.kubeapi import KubeApi, connect
from mcproof.kubeapi.endpoints import Endpoint, service_endpoints
from mcproof.target import Target

__all__ = ["endpoint_target", "kube_api", "kubernetes_targets", "minecraft_services", "service_endpoint_map"]


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


def service_endpoint_map(
    services: list[dict[str, Any]], pods: list[dict[str, Any]], port_name: str = "minecraft"
) -> dict[str, list[Endpoint]]:
    """``namespace/service`` -> its ready endpoints for ``port_name`` (first TCP port if absent)."""
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for pod in pods:
        by_ns.setdefault(str(pod["metadata"].get("namespace")), []).append(pod)
    result: dict[str, list[Endpoint]] = {}
    for svc in services:
        meta = svc["metadata"]
        names = {p.get("name") for p in (svc.get("spec") or {}).get("ports") or []}
        chosen = port_name if port_name in names else None
        result[f"{meta['namespace']}/{meta['name']}"] = service_endpoints(
            svc, by_ns.get(str(meta["namespace"]), []), port_name=chosen
        )
    return dict(sorted(result.items()))


def endpoint_target(endpoint: Endpoint) -> Target:
    """A Target for one endpoint: id ``namespace/pod``, the pod IP, its query and RCON ports."""
    ports = endpoint.container_ports
    return Target(
        id=f"{endpoint.namespace}/{endpoint.pod}",
        host=endpoint.ip,
        port=endpoint.port,
        query_port=ports.get("query/UDP"),
        rcon_port=ports.get("rcon/TCP"),
        source="kubernetes",
        namespace=endpoint.namespace,
        pod=endpoint.pod,
        labels={**endpoint.labels, "mcproof.io/service": endpoint.service},
    )


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
