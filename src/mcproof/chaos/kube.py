"""Chaos on Kubernetes: point chaostoolkit-kubernetes at the environment's cluster, and see its servers.

chaosk8s builds its client with ``kubernetes.config.load_kube_config(context=...)`` and no file, so it
reads ``KUBE_CONFIG_DEFAULT_LOCATION``, which the ``kubernetes`` package computes from ``$KUBECONFIG``
once, at import; chaoslib ``secrets`` can name a context but not a file. :func:`chaosk8s_cluster`
therefore sets ``$KUBECONFIG`` (and ``$KUBERNETES_CONTEXT``) *and* that module constant to the
environment's kubeconfig for the length of one experiment, then restores all three and the client's
default configuration (chaosk8s replaces it). Without a kubeconfig in the environment nothing changes.

:class:`KubeFleet` is the Kubernetes side of the fleet for probes and the observer: the ready pod
endpoints of the Minecraft Services (pod IPs, re-read on every call, since a replaced pod comes back
at a new IP) and the number of servers the workloads ask for (``spec.replicas``), so a deleted pod
counts as down rather than as absent. A Deployment's pods are observed as stable slots (:func:`slot_ids`),
since their replacements come back under new names.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace

from mcproof.config import Environment
from mcproof.connect.kubernetes import endpoint_target, kube_api, minecraft_services, service_endpoint_map
from mcproof.errors import ConfigError
from mcproof.kubeapi import KubeApi
from mcproof.kubeapi.listwatch import ListWatch, WatchedList
from mcproof.target import Target, ensure_loopback

__all__ = ["KubeFleet", "chaosk8s_cluster", "slot_ids"]

_ENV_KEYS = ("KUBECONFIG", "KUBERNETES_CONTEXT")


@contextlib.contextmanager
def chaosk8s_cluster(env: Environment) -> Iterator[str | None]:
    """While open, chaosk8s talks to ``env``'s cluster; yields the kubeconfig path (None: untouched)."""
    path = env.kubeconfig_path
    if env.kubernetes is None or path is None:
        yield None
        return
    from kubernetes import client
    from kubernetes.config import kube_config

    saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
    saved_location = kube_config.KUBE_CONFIG_DEFAULT_LOCATION
    saved_default = client.Configuration.get_default_copy()
    os.environ["KUBECONFIG"] = str(path)
    if env.kubernetes.context:
        os.environ["KUBERNETES_CONTEXT"] = env.kubernetes.context
    else:
        os.environ.pop("KUBERNETES_CONTEXT", None)
    kube_config.KUBE_CONFIG_DEFAULT_LOCATION = str(path)
    try:
        yield str(path)
    finally:
        kube_config.KUBE_CONFIG_DEFAULT_LOCATION = saved_location
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        client.Configuration.set_default(saved_default)


def slot_ids(targets: Iterable[Target]) -> list[Target]:
    """Targets sorted by id, Deployment pods renamed to a stable slot ``namespace/<deployment>[i]``.

    A StatefulSet pod comes back under its own name; a Deployment's replacement gets a new random one, so
    the observer would see the old pod "never recover". Its replicas are interchangeable: slot ``i`` is
    the i-th ready pod of the Deployment (by name), and a slot without a pod counts as down.

    >>> mk = lambda pod: Target(id=f"ns/{pod}", host="127.0.0.1", port=25565, pod=pod,
    ...                         labels={"pod-template-hash": "5d9f"})
    >>> [t.id for t in slot_ids([mk("proxy-5d9f-zz"), mk("proxy-5d9f-aa")])]
    ['ns/proxy[0]', 'ns/proxy[1]']
    """
    slots: dict[str, int] = {}
    out: list[Target] = []
    for target in sorted(targets, key=lambda t: t.id):
        rs_hash = target.labels.get("pod-template-hash")
        pod = target.pod or ""
        if rs_hash and f"-{rs_hash}-" in pod:
            workload = f"{target.namespace or target.id.split('/', 1)[0]}/{pod.split(f'-{rs_hash}-', 1)[0]}"
            index = slots.get(workload, 0)
            slots[workload] = index + 1
            target = replace(target, id=f"{workload}[{index}]")
        out.append(target)
    return sorted(out, key=lambda t: t.id)


@dataclass
class KubeFleet:
    """The environment's Minecraft servers on Kubernetes; one API client reused across calls."""

    env: Environment
    port_name: str = "minecraft"
    _api: KubeApi | None = None
    # watch=True: pods come from one list + watch per namespace scope (kept in a thread), not a fresh
    # list of every pod per call -- for callers that ask every tick; close() ends the watches.
    watch: bool = False
    _pods: dict[str | None, WatchedList] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.env.kubernetes is None:
            raise ConfigError(f"environment '{self.env.name}' has no kubernetes section; Kubernetes targets need one")

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            self._api = kube_api(self.env)
        return self._api

    def targets(self) -> list[Target]:
        """Ready endpoints now, one Target per pod (id ``namespace/pod``), loopback-checked in the sandbox."""
        settings = self.env.kubernetes
        assert settings is not None
        if self.watch:
            scopes: list[str | None] = list(settings.namespaces) or [None]
            services = [
                svc for ns in scopes for svc in self.api.objects("services", ns, label_selector=settings.label_selector)
            ]
            pods = [pod for ns in scopes for pod in self._watched(ns).items(timeout=settings.request_timeout_s * 3)]
        else:
            services, pods = minecraft_services(self.api, settings)
        seen: dict[str, Target] = {}
        for endpoints in service_endpoint_map(services, pods, self.port_name).values():
            for endpoint in endpoints:
                target = endpoint_target(endpoint)
                seen.setdefault(target.id, target)
        found = slot_ids(seen.values())
        if self.env.guards.loopback_only or self.env.uses_sandbox:
            ensure_loopback(found, self.env.name)
        return found

    def _watched(self, namespace: str | None) -> WatchedList:
        if namespace not in self._pods:  # every pod: a Service's selector may pick pods without the label
            self._pods[namespace] = WatchedList(ListWatch(self.api, "pods", namespace, watch_timeout_s=30)).start()
        return self._pods[namespace]

    def close(self) -> None:
        """End the pod watches (watch=True); the fleet lists afresh if asked again."""
        for watched in self._pods.values():
            watched.close()
        self._pods.clear()

    def expected(self) -> int:
        """Servers the Minecraft StatefulSets and Deployments ask for (sum of ``spec.replicas``)."""
        settings = self.env.kubernetes
        assert settings is not None
        total = 0
        scopes: list[str | None] = list(settings.namespaces) or [None]
        for ns in scopes:
            for kind in ("statefulsets", "deployments"):
                for item in self.api.objects(kind, ns, label_selector=settings.label_selector):
                    total += int((item.get("spec") or {}).get("replicas", 1) or 0)
        return total
