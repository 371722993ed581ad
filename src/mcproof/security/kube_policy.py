"""Kubernetes hardening rules over plain object dicts, so the same rules judge manifest files and live
objects (``ApiClient().sanitize_for_serialization(obj)`` gives the same shape).

Every finding names the object (kind/namespace/name, container) and the fix. :func:`manifests_directory`
says which files to judge: ``security.manifests.directory``, else the manifests the environment's
embedded cluster applied (``<kube state dir>/applied``, written when it deploys its tenants).

>>> pod = {"kind": "Pod", "metadata": {"name": "p", "namespace": "t1"},
...        "spec": {"containers": [{"name": "mc", "image": "itzg/minecraft-server"}]}}
>>> sorted({f.rule for f in workload_findings([pod])})
['automount-token', 'image-not-pinned', 'no-limits', 'not-hardened']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from mcproof.config import Environment
from mcproof.security.settings import ManifestScanSettings

__all__ = [
    "PSA_ENFORCE",
    "Finding",
    "load_manifests",
    "manifests_directory",
    "namespace_findings",
    "rbac_findings",
    "workload_findings",
]

PSA_ENFORCE = "pod-security.kubernetes.io/enforce"
_SECRET_NAME = re.compile(r"(PASS(WORD)?|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.IGNORECASE)
_REFERENCE_SUFFIXES = ("_FILE", "_PATH", "_DIR")  # env vars naming where a secret is, not holding it
_WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


@dataclass(frozen=True)
class Finding:
    rule: str
    object: str
    problem: str
    fix: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.object}: {self.problem}; {self.fix}"


def load_manifests(directory: Path) -> list[dict[str, Any]]:
    """Every object in every *.yaml / *.yml under ``directory`` (multi-document files, List kinds)."""
    out: list[dict[str, Any]] = []
    for path in sorted([*directory.rglob("*.yaml"), *directory.rglob("*.yml")]):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if isinstance(doc, dict) and doc.get("kind") == "List":
                out.extend(i for i in doc.get("items", []) if isinstance(i, dict))
            elif isinstance(doc, dict) and "kind" in doc:
                out.append(doc)
    return out


def manifests_directory(env: Environment, settings: ManifestScanSettings) -> Path | None:
    """``settings.directory`` (resolved), else the embedded cluster's applied manifests, else None."""
    from mcproof.connect.kubernetes import applied_manifests_dir

    return applied_manifests_dir(env, settings.directory)


def _ref(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    ns = meta.get("namespace")
    return f"{obj.get('kind')}/{ns + '/' if ns else ''}{meta.get('name')}"


def _pod_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    kind = obj.get("kind")
    spec = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind in _WORKLOADS:
        return (spec.get("template") or {}).get("spec")
    if kind == "CronJob":
        return (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec")
    return None


def _containers(spec: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for key in ("initContainers", "containers"):
        yield from spec.get(key) or []


def _pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and not last.endswith(":latest")


def _container_findings(ref: str, spec: dict[str, Any]) -> Iterator[Finding]:
    pod_sc = spec.get("securityContext") or {}
    for c in _containers(spec):
        where = f"{ref} container {c.get('name')}"
        image = str(c.get("image", ""))
        if not _pinned(image):
            yield Finding(
                "image-not-pinned", where, f"image '{image}' is not pinned", "use a fixed tag or @sha256 digest"
            )
        limits = (c.get("resources") or {}).get("limits") or {}
        missing = [r for r in ("cpu", "memory") if r not in limits]
        if missing:
            yield Finding("no-limits", where, f"no {'/'.join(missing)} limit", "set resources.limits.cpu and .memory")
        for env in c.get("env") or []:
            name = str(env.get("name", ""))
            if "value" in env and _SECRET_NAME.search(name) and not name.upper().endswith(_REFERENCE_SUFFIXES):
                yield Finding(
                    "secret-in-env",
                    where,
                    f"env {env.get('name')} holds a literal secret value",
                    "use valueFrom.secretKeyRef (or a mounted Secret)",
                )
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            yield Finding("privileged", where, "runs privileged", "remove securityContext.privileged")
        non_root = sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot"))
        if sc.get("allowPrivilegeEscalation") is not False or non_root is not True:
            yield Finding(
                "not-hardened",
                where,
                "allowPrivilegeEscalation not false or runAsNonRoot not true",
                "set allowPrivilegeEscalation: false and runAsNonRoot: true",
            )


def workload_findings(objects: Iterable[dict[str, Any]]) -> list[Finding]:
    """Pinned images, limits, no literal secrets in env, hardened security contexts, no token automount."""
    out: list[Finding] = []
    for obj in objects:
        spec = _pod_spec(obj)
        if spec is None:
            continue
        ref = _ref(obj)
        if spec.get("automountServiceAccountToken") is not False:
            out.append(
                Finding(
                    "automount-token",
                    ref,
                    "the service account token is mounted",
                    "set automountServiceAccountToken: false",
                )
            )
        for key in ("hostNetwork", "hostPID", "hostIPC"):
            if spec.get(key):
                out.append(Finding("host-namespace", ref, f"{key} is true", f"remove {key}"))
        out.extend(_container_findings(ref, spec))
    return out


def _default_deny(policy: dict[str, Any]) -> bool:
    spec = policy.get("spec") or {}
    selector = spec.get("podSelector")
    if selector is None or any((selector or {}).values()):
        return False
    types = spec.get("policyTypes") or ["Ingress"]
    return "Ingress" in types and not spec.get("ingress")


def namespace_findings(
    objects: Iterable[dict[str, Any]], tenant_namespaces: Iterable[str] | None = None
) -> list[Finding]:
    """Tenant namespaces: PodSecurity enforce restricted/baseline, a default-deny NetworkPolicy, a ResourceQuota.

    Tenants are ``tenant_namespaces`` or else every Namespace labelled ``mcproof.io/tenant``.
    """
    objects = list(objects)
    namespaces = {str((o.get("metadata") or {}).get("name")): o for o in objects if o.get("kind") == "Namespace"}
    if tenant_namespaces is None:
        tenants = [
            n for n, o in namespaces.items() if "mcproof.io/tenant" in ((o.get("metadata") or {}).get("labels") or {})
        ]
    else:
        tenants = list(tenant_namespaces)
    out: list[Finding] = []
    for name in tenants:
        ref = f"Namespace/{name}"
        labels = ((namespaces.get(name) or {}).get("metadata") or {}).get("labels") or {}
        level = labels.get(PSA_ENFORCE)
        if level not in {"restricted", "baseline"}:
            out.append(
                Finding("pod-security", ref, f"label {PSA_ENFORCE} is {level!r}", f"label it {PSA_ENFORCE}=restricted")
            )
        in_ns = [o for o in objects if (o.get("metadata") or {}).get("namespace") == name]
        if not any(o.get("kind") == "NetworkPolicy" and _default_deny(o) for o in in_ns):
            out.append(
                Finding(
                    "default-deny",
                    ref,
                    "no default-deny NetworkPolicy",
                    "add a NetworkPolicy with podSelector: {} and policyTypes [Ingress, Egress] and no rules",
                )
            )
        if not any(o.get("kind") == "ResourceQuota" for o in in_ns):
            out.append(
                Finding("resource-quota", ref, "no ResourceQuota", "add a ResourceQuota capping cpu, memory, pods")
            )
    return out


def rbac_findings(objects: Iterable[dict[str, Any]]) -> list[Finding]:
    """Workload ServiceAccounts bound to cluster-admin (kube-system's own bindings are out of scope)."""
    out: list[Finding] = []
    for obj in objects:
        if obj.get("kind") not in {"ClusterRoleBinding", "RoleBinding"}:
            continue
        role = (obj.get("roleRef") or {}).get("name")
        if role != "cluster-admin":
            continue
        for s in obj.get("subjects") or []:
            ns = s.get("namespace") or (obj.get("metadata") or {}).get("namespace")
            if s.get("kind") == "ServiceAccount" and ns != "kube-system":
                out.append(
                    Finding(
                        "cluster-admin",
                        _ref(obj),
                        f"binds ServiceAccount {ns}/{s.get('name')} to cluster-admin",
                        "bind a namespaced Role with only the verbs the workload needs",
                    )
                )
    return out
