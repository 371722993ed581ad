"""Minecraft tenants on a cluster: namespace (PodSecurity restricted), ResourceQuota,
NetworkPolicies, and per release a StatefulSet + Service (see :mod:`mcproof_sandbox.kube.manifests`).

:func:`tenant_manifests` renders everything a tenant gets, in apply order; :func:`deploy_tenant`
applies exactly that list and :func:`write_manifests` writes it out (the sandbox writes what it applied
to ``<kube state dir>/applied/``, which the security suite's manifest checks scan).

Used by the sandbox (its tenants), the integration tests (a namespace per test) and the scale bench.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mcproof.kubeapi import KubeApi, KubeError
from mcproof_sandbox.kube.cluster import create_or_keep
from mcproof_sandbox.kube.manifests import (
    PROXY_COMPONENT,
    minecraft_hpa,
    minecraft_pdb,
    minecraft_proxy_deployment,
    minecraft_service,
    minecraft_statefulset,
    network_policies,
    static_pv,
    static_storage_class,
    tenant_namespace,
    tenant_quota,
)

__all__ = ["Tenant", "delete_namespace", "deploy_tenant", "tenant_manifests", "wait_workloads_ready", "write_manifests"]


@dataclass(frozen=True)
class Tenant:
    """A tenant namespace holding ``releases`` Minecraft servers of ``replicas`` pods each."""

    namespace: str
    releases: int = 2
    replicas: int = 1
    persistence: bool = False
    cpu: str = "100m"
    memory: str = "256Mi"
    version_name: str = "1.21.4"
    motd: str = "mcproof sandbox"
    proxy_replicas: int = 0  # > 0: a proxy/lobby Deployment "proxy" of that many pods (rolls without downtime)
    # A PodDisruptionBudget (maxUnavailable 1) per release and for the proxy, and an HPA (CPU, min
    # proxy_replicas, max proxy_max_replicas) for the proxy: what docs/autoscaling.md checks.
    autoscaling: bool = False
    proxy_max_replicas: int = 6

    @property
    def release_names(self) -> list[str]:
        return [f"mc-{i:03d}" for i in range(self.releases)]

    @property
    def pods(self) -> int:
        return self.releases * self.replicas + self.proxy_replicas


def tenant_manifests(tenant: Tenant, *, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Everything the tenant needs, in apply order (static PVs before the claims when persistence is on).

    >>> [m["kind"] for m in tenant_manifests(Tenant("t1", releases=1))]
    ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'NetworkPolicy', 'Service', 'StatefulSet']
    """
    ns = tenant.namespace
    out: list[dict[str, Any]] = [tenant_namespace(ns, labels=labels), tenant_quota(ns, pods=max(100, tenant.pods * 2))]
    out += network_policies(ns)
    if tenant.persistence:
        out.append(static_storage_class())
        for release in tenant.release_names:
            for ordinal in range(tenant.replicas):
                out.append(static_pv(ns, f"data-{release}-{ordinal}"))
    for release in tenant.release_names:
        out.append(minecraft_service(ns, release))
        out.append(
            minecraft_statefulset(
                ns,
                release,
                replicas=tenant.replicas,
                version=tenant.version_name,
                motd=tenant.motd,
                cpu=tenant.cpu,
                memory=tenant.memory,
                persistence=tenant.persistence,
            )
        )
        if tenant.autoscaling:
            out.append(minecraft_pdb(ns, release, {"app.kubernetes.io/instance": release}))
    if tenant.proxy_replicas > 0:
        out.append(minecraft_service(ns, "proxy"))
        out.append(minecraft_proxy_deployment(ns, replicas=tenant.proxy_replicas, version=tenant.version_name))
        if tenant.autoscaling:
            selector = {"app.kubernetes.io/instance": "proxy", PROXY_COMPONENT[0]: PROXY_COMPONENT[1]}
            out.append(minecraft_pdb(ns, "proxy", selector))
            low = max(2, tenant.proxy_replicas)  # one pod under a PDB of maxUnavailable 1 could all go
            top = max(tenant.proxy_max_replicas, low)
            out.append(minecraft_hpa(ns, "proxy", min_replicas=low, max_replicas=top))
    return out


def deploy_tenant(api: KubeApi, tenant: Tenant, *, labels: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Create (or keep) everything :func:`tenant_manifests` renders; returns the manifests applied."""
    manifests = tenant_manifests(tenant, labels=labels)
    for manifest in manifests:
        create_or_keep(api, manifest)
    return manifests


def write_manifests(directory: Path, by_file: dict[str, list[dict[str, Any]]]) -> list[Path]:
    """Write ``{file stem: manifests}`` as multi-document YAML under ``directory`` (each file replaced
    atomically; other ``*.yaml`` there removed, so the directory holds exactly what was applied)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for stem, manifests in by_file.items():
        path = directory / f"{stem}.yaml"
        tmp = path.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump_all(manifests, sort_keys=False), encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    for stale in set(directory.glob("*.yaml")) - set(written):
        stale.unlink(missing_ok=True)
    return written


def _lagging(namespace: str, objects: Iterable[dict[str, Any]]) -> list[str]:
    out = []
    for obj in objects:
        want = int((obj.get("spec") or {}).get("replicas", 1))
        have = int((obj.get("status") or {}).get("readyReplicas", 0) or 0)
        if have < want:
            out.append(f"{namespace}/{obj['metadata']['name']} ({have}/{want})")
    return out


def wait_workloads_ready(api: KubeApi, namespaces: Iterable[str], timeout: float = 60.0) -> None:
    """Wait until every StatefulSet and Deployment in ``namespaces`` has readyReplicas == replicas
    (one list, then a watch, per namespace and kind: no polling of whole lists)."""
    from mcproof.kubeapi.listwatch import ListWatch

    deadline = time.monotonic() + timeout
    for ns in namespaces:
        for kind in ("statefulsets", "deployments"):
            lw = ListWatch(api, kind, ns, watch_timeout_s=30)

            def ready(objs: dict[str, dict[str, Any]], ns: str = ns) -> bool:
                return not _lagging(ns, objs.values())

            try:
                lw.wait_for(ready, timeout=max(0.0, deadline - time.monotonic()), what=f"{kind} ready in {ns}")
            except KubeError:
                lagging = _lagging(ns, lw.objects.values())
                if not lagging:
                    raise
                raise KubeError(f"workloads not ready after {timeout:g}s: {', '.join(lagging[:10])}") from None


def delete_namespace(api: KubeApi, namespace: str, *, wait_s: float = 30.0) -> None:
    """Delete a namespace (and the static PVs made for it); wait up to ``wait_s`` until it is gone."""
    from kubernetes.client.exceptions import ApiException

    try:
        api.core.delete_namespace(namespace, _request_timeout=api.timeout)
    except ApiException as err:
        if err.status != 404:
            raise KubeError(f"cannot delete namespace {namespace}: HTTP {err.status} {err.reason}") from None
    for pv in api.objects("persistentvolumes"):
        claim: dict[str, Any] = (pv.get("spec") or {}).get("claimRef") or {}
        if claim.get("namespace") == namespace:
            try:
                api.core.delete_persistent_volume(pv["metadata"]["name"], _request_timeout=api.timeout)
            except ApiException as err:
                if err.status != 404:
                    raise KubeError(f"cannot delete PV {pv['metadata']['name']}: HTTP {err.status}") from None
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if not any(n["metadata"]["name"] == namespace for n in api.objects("namespaces")):
            return
        time.sleep(0.25)
