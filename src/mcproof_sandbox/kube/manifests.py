"""Manifests (plain dicts) for the embedded cluster: fake nodes and Minecraft tenants.

The Minecraft workload follows the itzg ``minecraft-server`` Helm chart's conventions: labels
``app.kubernetes.io/name=minecraft`` / ``app.kubernetes.io/instance=<release>``, container ports
``minecraft`` 25565/TCP, ``rcon`` 25575/TCP and ``query`` 25565/UDP, the ``EULA``/``VERSION``/
``MOTD`` environment, a ``/data`` volume and a non-root security context. One release is one
StatefulSet with its own Service (one server per release, as a hosting platform runs them).

The workloads are hardened to what the security suite scans them for (Checkov's Kubernetes policies,
:mod:`mcproof.security.kube_policy`), since that suite scans exactly these manifests as applied: image
pinned by digest and always pulled, readiness and liveness probes, requests = limits, a non-root UID
above 10000, read-only root filesystem, no privilege escalation, all capabilities dropped, seccomp
RuntimeDefault, no service account token.

Each tenant namespace also gets: PodSecurity ``restricted`` labels (enforce, audit, warn), a
ResourceQuota, and NetworkPolicies (default-deny ingress+egress, then allow the game ports).
Nothing enforces NetworkPolicies here (there is no CNI on kwok nodes); they are admitted and checked.
Pure functions, no I/O.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "MINECRAFT_LABEL",
    "STATIC_STORAGE_CLASS",
    "kwok_node",
    "minecraft_hpa",
    "minecraft_pdb",
    "minecraft_proxy_deployment",
    "minecraft_service",
    "minecraft_statefulset",
    "network_policies",
    "static_pv",
    "static_storage_class",
    "tenant_namespace",
    "tenant_quota",
]

Manifest = dict[str, Any]

MINECRAFT_LABEL = ("app.kubernetes.io/name", "minecraft")
MANAGED_BY = ("app.kubernetes.io/managed-by", "mcproof")
STATIC_STORAGE_CLASS = "mcproof-static"
KWOK_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}
# A published itzg/minecraft-server build, pinned by digest (docker image inspect ... RepoDigests,
# captured 2026-05-03). kwok runs no containers, so the sandbox never pulls it; pin the build you run.
MINECRAFT_IMAGE = "itzg/minecraft-server@sha256:629762aaf864e109a35e00b11d701cfc6b2bddca4331944aefde0a352ebb9fd4"
RUN_AS = 10001  # non-root, above the host's UID range (Checkov CKV_K8S_40)


DRAINABLE = ("mcproof.io/chaos", "drainable")  # nodes chaos may drain (suites/chaos/experiments/k8s-node-drain)


def kwok_node(name: str, *, pods: int = 1000, cpu: str = "256", memory: str = "1Ti") -> Manifest:
    """A fake node kwok manages: tainted so only pods tolerating kwok land there, no podCIDR
    (so kwok hands out pod IPs from its loopback ``--cidr``), labelled ``mcproof.io/chaos=drainable``
    (the node-drain experiment may pick it).

    >>> kwok_node("kwok-node-0")["status"]["allocatable"]["pods"]
    '1000'
    >>> kwok_node("kwok-node-0")["metadata"]["labels"][DRAINABLE[0]]
    'drainable'
    """
    resources = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "type": "kwok",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                DRAINABLE[0]: DRAINABLE[1],
            },
            "annotations": {"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
        },
        "spec": {"taints": [dict(KWOK_TAINT)]},
        "status": {"allocatable": dict(resources), "capacity": dict(resources)},
    }


def tenant_namespace(name: str, *, labels: dict[str, str] | None = None) -> Manifest:
    """A tenant namespace with PodSecurity ``restricted`` enforced, audited and warned.

    >>> tenant_namespace("t1")["metadata"]["labels"]["pod-security.kubernetes.io/enforce"]
    'restricted'
    """
    pss = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {**pss, "mcproof.io/tenant": name, MANAGED_BY[0]: MANAGED_BY[1], **(labels or {})},
        },
    }


def tenant_quota(namespace: str, *, pods: int = 100, cpu: str = "64", memory: str = "256Gi") -> Manifest:
    """The tenant's ResourceQuota (pods, requested CPU and memory, PVCs)."""
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {"name": "tenant-quota", "namespace": namespace},
        "spec": {
            "hard": {
                "pods": str(pods),
                "requests.cpu": cpu,
                "requests.memory": memory,
                "persistentvolumeclaims": str(pods),
                "services": str(pods),
            }
        },
    }


def network_policies(namespace: str) -> list[Manifest]:
    """Default-deny (ingress and egress) plus: anyone may reach the Minecraft pods' game ports."""
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    allow = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-minecraft-game-ports", "namespace": namespace},
        "spec": {
            "podSelector": {"matchLabels": {MINECRAFT_LABEL[0]: MINECRAFT_LABEL[1]}},
            "policyTypes": ["Ingress"],
            "ingress": [
                {"ports": [{"protocol": "TCP", "port": 25565}, {"protocol": "UDP", "port": 25565}]},
            ],
        },
    }
    return [deny, allow]


def _labels(release: str) -> dict[str, str]:
    return {MINECRAFT_LABEL[0]: MINECRAFT_LABEL[1], "app.kubernetes.io/instance": release}


def minecraft_statefulset(
    namespace: str,
    release: str,
    *,
    replicas: int = 1,
    version: str = "1.21.4",
    motd: str = "mcproof sandbox",
    cpu: str = "100m",
    memory: str = "256Mi",
    persistence: bool = False,
    node_selector: dict[str, str] | None = None,
) -> Manifest:
    """An itzg-style Minecraft StatefulSet that schedules onto kwok nodes.

    ``persistence`` adds a ``data`` volumeClaimTemplate (storage class :data:`STATIC_STORAGE_CLASS`);
    otherwise ``/data`` is an emptyDir (the chart's default). ``podManagementPolicy: Parallel`` so
    a large StatefulSet does not start its pods one by one.

    >>> sts = minecraft_statefulset("t1", "survival")
    >>> [p["name"] for p in sts["spec"]["template"]["spec"]["containers"][0]["ports"]]
    ['minecraft', 'rcon', 'query']
    """
    labels = _labels(release)
    container: Manifest = {
        "name": "minecraft",
        "image": MINECRAFT_IMAGE,
        "imagePullPolicy": "Always",
        "env": [
            {"name": "EULA", "value": "TRUE"},
            {"name": "VERSION", "value": version},
            {"name": "MOTD", "value": motd},
            {"name": "ENABLE_RCON", "value": "true"},
        ],
        "ports": [
            {"name": "minecraft", "containerPort": 25565, "protocol": "TCP"},
            {"name": "rcon", "containerPort": 25575, "protocol": "TCP"},
            {"name": "query", "containerPort": 25565, "protocol": "UDP"},
        ],
        "readinessProbe": {"tcpSocket": {"port": "minecraft"}, "periodSeconds": 5},
        "livenessProbe": {"tcpSocket": {"port": "minecraft"}, "initialDelaySeconds": 60, "periodSeconds": 20},
        "resources": {"requests": {"cpu": cpu, "memory": memory}, "limits": {"cpu": cpu, "memory": memory}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "volumeMounts": [{"name": "data", "mountPath": "/data"}, {"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108
    }
    pod_spec: Manifest = {
        "nodeSelector": node_selector if node_selector is not None else {"type": "kwok"},
        "tolerations": [{"key": KWOK_TAINT["key"], "operator": "Exists", "effect": "NoSchedule"}],
        "securityContext": {
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "fsGroup": RUN_AS,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 30,
        # Spread a tenant's servers over the nodes (soft: a drained node never blocks rescheduling), so
        # losing one node costs a small share of the fleet -- what the chaos blast-radius guard sizes.
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "kubernetes.io/hostname",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": {MINECRAFT_LABEL[0]: MINECRAFT_LABEL[1]}},
            }
        ],
        # ... and one release's replicas onto different nodes where possible: with a PodDisruptionBudget of
        # maxUnavailable 1, a drain of one node then needs no two evictions of one release at once.
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": dict(labels)},
                        },
                    }
                ]
            }
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {}}],
    }
    spec: Manifest = {
        "serviceName": release,
        "replicas": replicas,
        "podManagementPolicy": "Parallel",
        "selector": {"matchLabels": labels},
        "template": {"metadata": {"labels": dict(labels)}, "spec": pod_spec},
    }
    if persistence:
        spec["volumeClaimTemplates"] = [
            {
                "metadata": {"name": "data"},
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": STATIC_STORAGE_CLASS,
                    "resources": {"requests": {"storage": "1Gi"}},
                },
            }
        ]
    else:
        pod_spec["volumes"].append({"name": "data", "emptyDir": {}})
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)},
        "spec": spec,
    }


PROXY_COMPONENT = ("app.kubernetes.io/component", "proxy")


def minecraft_proxy_deployment(
    namespace: str,
    name: str = "proxy",
    *,
    replicas: int = 2,
    strategy: str = "RollingUpdate",
    min_ready_s: int = 2,
    version: str = "1.21.4",
    motd: str = "mcproof lobby",
) -> Manifest:
    """The tenant's proxy/lobby tier: a stateless Deployment of ``replicas`` Minecraft pods (labels
    ``app.kubernetes.io/name=minecraft``, ``app.kubernetes.io/component=proxy``) that rolls without
    downtime: RollingUpdate with maxUnavailable 0 / maxSurge 1, a readiness probe, and ``minReadySeconds``
    so a new pod must stay Ready that long (its server answering) before an old one goes.
    ``strategy="Recreate"`` gives the broken variant (every old pod goes before any new one).

    >>> d = minecraft_proxy_deployment("t1")
    >>> d["spec"]["strategy"]["rollingUpdate"], d["spec"]["replicas"]
    ({'maxUnavailable': 0, 'maxSurge': 1}, 2)
    """
    sts = minecraft_statefulset(namespace, name, replicas=replicas, version=version, motd=motd)
    labels = {**_labels(name), PROXY_COMPONENT[0]: PROXY_COMPONENT[1]}
    template = sts["spec"]["template"]
    template["metadata"]["labels"] = dict(labels)
    rolling: Manifest = {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "replicas": replicas,
            "minReadySeconds": min_ready_s,
            "revisionHistoryLimit": 3,
            "strategy": rolling if strategy == "RollingUpdate" else {"type": strategy},
            "selector": {"matchLabels": dict(labels)},
            "template": template,
        },
    }


def minecraft_hpa(
    namespace: str, name: str = "proxy", *, min_replicas: int = 2, max_replicas: int = 6, cpu_utilization: int = 70
) -> Manifest:
    """An autoscaling/v2 HPA scaling the Deployment ``name`` on average CPU utilization (of the pods' CPU
    requests). The embedded cluster serves no metrics.k8s.io, so its controller holds the bounds only.

    >>> minecraft_hpa("t1")["spec"]["metrics"][0]["resource"]
    {'name': 'cpu', 'target': {'type': 'Utilization', 'averageUtilization': 70}}
    """
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY[0]: MANAGED_BY[1]}},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": cpu_utilization},
                    },
                }
            ],
        },
    }


def minecraft_pdb(namespace: str, name: str, selector: dict[str, str], *, max_unavailable: int = 1) -> Manifest:
    """A policy/v1 PodDisruptionBudget: at most ``max_unavailable`` of the selected pods go at once on a
    voluntary disruption (a drain's evictions beyond it are refused until the evicted pod serves again)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name, "namespace": namespace, "labels": {MANAGED_BY[0]: MANAGED_BY[1]}},
        "spec": {"maxUnavailable": max_unavailable, "selector": {"matchLabels": dict(selector)}},
    }


def minecraft_service(namespace: str, release: str, *, selector: dict[str, str] | None = None) -> Manifest:
    """The release's Service: game port (named target port ``minecraft``), query (UDP) and RCON."""
    labels = _labels(release)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": release, "namespace": namespace, "labels": dict(labels)},
        "spec": {
            "type": "ClusterIP",
            "selector": selector if selector is not None else dict(labels),
            "ports": [
                {"name": "minecraft", "port": 25565, "targetPort": "minecraft", "protocol": "TCP"},
                {"name": "query", "port": 25565, "targetPort": "query", "protocol": "UDP"},
                {"name": "rcon", "port": 25575, "targetPort": "rcon", "protocol": "TCP"},
            ],
        },
    }


def static_storage_class() -> Manifest:
    """A StorageClass with no provisioner: claims bind only to pre-created (static) PVs."""
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": STATIC_STORAGE_CLASS},
        "provisioner": "kubernetes.io/no-provisioner",
        "volumeBindingMode": "Immediate",
        "reclaimPolicy": "Retain",
    }


def static_pv(namespace: str, claim: str, *, size: str = "1Gi") -> Manifest:
    """A static PV pre-bound (claimRef) to ``namespace/claim``, so the PV controller binds it
    without a provisioner. Its hostPath is never mounted: kwok runs no containers."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"pv-{namespace}-{claim}"[:253], "labels": {MANAGED_BY[0]: MANAGED_BY[1]}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STATIC_STORAGE_CLASS,
            "claimRef": {"namespace": namespace, "name": claim},
            "hostPath": {"path": f"/var/lib/mcproof/{namespace}/{claim}"},
        },
    }
