"""A Service's endpoints, derived from its Pods the way the endpoints controller derives them.

Why our own: the embedded cluster gives pods loopback IPs (127.64.0.0/16), and the API server
refuses loopback addresses in Endpoints/EndpointSlices, so there the controller-published slices
are empty. mcproof therefore applies the controller's rule itself, which gives the same answer on a
real cluster: a pod backs a Service when it is in the Service's namespace, matches every key of
``spec.selector``, is not terminating (no ``deletionTimestamp``), has a pod IP, and is Ready
(condition ``Ready=True``); the endpoint port is the Service port's ``targetPort`` (a number, or a
container port name looked up in that pod). A Service without a selector has no derived endpoints.

Works on raw API JSON (dicts), so it is tested with recorded objects. Never returns a ClusterIP.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.target import Target

__all__ = [
    "Endpoint",
    "endpoint_target",
    "pod_is_ready",
    "pod_problem",
    "resolve_target_port",
    "selector_matches",
    "service_endpoint_map",
    "service_endpoints",
]

Obj = Mapping[str, Any]


@dataclass(frozen=True)
class Endpoint:
    """One ready backend of one Service port."""

    namespace: str
    service: str
    pod: str
    ip: str
    port: int
    port_name: str
    protocol: str
    labels: dict[str, str] = field(default_factory=dict)
    container_ports: dict[str, int] = field(default_factory=dict)  # name/protocol -> port, e.g. "rcon/TCP"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def selector_matches(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Equality-based selector as Services use it; an empty selector selects nothing here.

    >>> selector_matches({"app": "mc"}, {"app": "mc", "x": "1"}), selector_matches({}, {"app": "mc"})
    (True, False)
    """
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def pod_is_ready(pod: Obj) -> bool:
    """Ready condition True, phase Running, not terminating, with an IP."""
    status = pod.get("status") or {}
    if pod.get("metadata", {}).get("deletionTimestamp") or not status.get("podIP"):
        return False
    if status.get("phase") != "Running":
        return False
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


def pod_problem(pod: Obj) -> str:
    """Why a pod is not a ready endpoint, in one phrase (for failure messages).

    >>> pod_problem({"metadata": {}, "status": {"phase": "Pending", "conditions": [
    ...     {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}]}})
    'Pending: Unschedulable: 0/3 nodes'
    """
    status = pod.get("status") or {}
    if pod.get("metadata", {}).get("deletionTimestamp"):
        return "terminating"
    phase = str(status.get("phase", "Unknown"))
    for cond in status.get("conditions") or []:
        if cond.get("status") != "True" and cond.get("type") in ("PodScheduled", "Ready"):
            detail = ": ".join(str(x) for x in (cond.get("reason"), cond.get("message")) if x)
            return f"{phase}: {detail}" if detail else f"{phase}: {cond.get('type')} is {cond.get('status')}"
    return phase if phase != "Running" else "Running but not Ready"


def _container_ports(pod: Obj) -> dict[str, int]:
    ports: dict[str, int] = {}
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            proto = str(port.get("protocol", "TCP"))
            number = int(port["containerPort"])
            if port.get("name"):
                ports.setdefault(f"{port['name']}/{proto}", number)
            ports.setdefault(f"{number}/{proto}", number)
    return ports


def resolve_target_port(service_port: Obj, pod: Obj) -> int | None:
    """The pod port a Service port sends to (None: a named port the pod does not declare).

    >>> pod = {"spec": {"containers": [{"ports": [{"name": "minecraft", "containerPort": 25565}]}]}}
    >>> resolve_target_port({"port": 80, "targetPort": "minecraft"}, pod), resolve_target_port({"port": 80}, pod)
    (25565, 80)
    """
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    proto = str(service_port.get("protocol", "TCP"))
    for container in (pod.get("spec") or {}).get("containers") or []:
        for port in container.get("ports") or []:
            if port.get("name") == target and str(port.get("protocol", "TCP")) == proto:
                return int(port["containerPort"])
    return None


def service_endpoints(service: Obj, pods: Iterable[Obj], *, port_name: str | None = None) -> list[Endpoint]:
    """Ready endpoints of ``service`` among ``pods`` (pods of any namespace; others are ignored).

    ``port_name`` picks one Service port by name; None takes the first TCP port. Sorted by pod name.
    """
    meta = service.get("metadata") or {}
    namespace, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
    spec = service.get("spec") or {}
    selector: Mapping[str, str] = spec.get("selector") or {}
    ports = list(spec.get("ports") or [])
    if port_name is not None:
        ports = [p for p in ports if p.get("name") == port_name]
    else:
        ports = [p for p in ports if p.get("protocol", "TCP") == "TCP"][:1]
    if not ports or not selector:
        return []
    svc_port = ports[0]
    found: list[Endpoint] = []
    for pod in pods:
        pmeta = pod.get("metadata") or {}
        if pmeta.get("namespace") != namespace or not selector_matches(selector, pmeta.get("labels") or {}):
            continue
        if not pod_is_ready(pod):
            continue
        target = resolve_target_port(svc_port, pod)
        if target is None:
            continue
        found.append(
            Endpoint(
                namespace=namespace,
                service=name,
                pod=str(pmeta.get("name", "")),
                ip=str(pod["status"]["podIP"]),
                port=target,
                port_name=str(svc_port.get("name", "")),
                protocol=str(svc_port.get("protocol", "TCP")),
                labels=dict(pmeta.get("labels") or {}),
                container_ports=_container_ports(pod),
            )
        )
    return sorted(found, key=lambda e: e.pod)


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
