"""The `kubernetes` client, configured from a kubeconfig, plus raw-JSON reads.

Reads return the API's JSON as dicts (``_preload_content=False``): the pure checks and the endpoint
derivation work on dicts, and parsing 10,000 pods as JSON is ~20x faster than the client's models.
Every request carries a timeout.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import KubeError

__all__ = ["SERVICE_ACCOUNT_TOKEN", "KubeApi", "KubeError", "config_source", "connect"]

# kind -> (API group, method stem, cluster-scoped)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "pods": ("core", "pod", False),
    "services": ("core", "service", False),
    "persistentvolumeclaims": ("core", "persistent_volume_claim", False),
    "events": ("core", "event", False),
    "nodes": ("core", "node", True),
    "namespaces": ("core", "namespace", True),
    "persistentvolumes": ("core", "persistent_volume", True),
    "statefulsets": ("apps", "stateful_set", False),
    "deployments": ("apps", "deployment", False),
    "replicasets": ("apps", "replica_set", False),
    "daemonsets": ("apps", "daemon_set", False),
}


@dataclass(frozen=True)
class KubeApi:
    """An ApiClient and the typed APIs mcproof uses; ``timeout`` applies to every request."""

    client: Any  # kubernetes.client.ApiClient
    core: Any  # CoreV1Api
    apps: Any  # AppsV1Api
    timeout: float
    kubeconfig: str
    context: str | None

    def objects(self, kind: str, namespace: str | None = None, **query: Any) -> list[dict[str, Any]]:
        """Items of ``kind`` (pods, services, persistentvolumeclaims, nodes, statefulsets, deployments,
        replicasets, daemonsets, namespaces) in one namespace or all; raw JSON dicts."""
        return list(self.objects_with_version(kind, namespace, **query)[0])

    def objects_with_version(self, kind: str, namespace: str | None = None, **query: Any) -> tuple[list[Any], str]:
        """Like :meth:`objects`, plus the list's resourceVersion (to start a watch from)."""
        if kind not in _KINDS:
            raise KubeError(f"unsupported kind {kind!r}; use one of {', '.join(sorted(_KINDS))}")
        group, singular, cluster_scoped = _KINDS[kind]
        api = self.apps if group == "apps" else self.core
        args: tuple[Any, ...] = ()
        if cluster_scoped:
            method = getattr(api, f"list_{singular}")
        elif namespace is None:
            method = getattr(api, f"list_{singular}_for_all_namespaces")
        else:
            method = getattr(api, f"list_namespaced_{singular}")
            args = (namespace,)
        data = self._json(method, *args, **query)
        return list(data.get("items") or []), str((data.get("metadata") or {}).get("resourceVersion", ""))

    def get_raw(self, path: str) -> str:
        """GET ``path`` (e.g. ``/readyz``) and return the body text."""
        from kubernetes.client.exceptions import ApiException

        try:
            request = self.client.param_serialize("GET", path, auth_settings=["BearerToken"])
            resp = self.client.call_api(*request, _request_timeout=self.timeout)
            resp.read()
            if not 200 <= resp.status <= 299:
                raise ApiException(status=resp.status, reason=resp.reason, body=resp.data)
        except ApiException as err:
            raise KubeError(f"GET {path} on the Kubernetes API: HTTP {err.status} {err.reason}: {err.body!r}") from None
        except Exception as err:
            raise KubeError(f"GET {path} on the Kubernetes API failed ({type(err).__name__}: {err})") from None
        return bytes(resp.data).decode("utf-8", "replace")

    def _json(self, method: Any, *args: Any, **query: Any) -> dict[str, Any]:
        from kubernetes.client.exceptions import ApiException

        try:
            resp = method(*args, _preload_content=False, _request_timeout=self.timeout, **query)
        except ApiException as err:
            raise KubeError(
                f"{method.__name__} on the Kubernetes API: HTTP {err.status} {err.reason}; "
                f"check kubernetes.kubeconfig/context and RBAC"
            ) from None
        except Exception as err:
            raise KubeError(f"{method.__name__} on the Kubernetes API failed ({type(err).__name__}: {err})") from None
        data: dict[str, Any] = json.loads(resp.data)
        return data


SERVICE_ACCOUNT_TOKEN = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")


def config_source(
    kubeconfig: Path | str | None, environ: Mapping[str, str], token_file: Path = SERVICE_ACCOUNT_TOKEN
) -> str:
    """``"in-cluster"`` when nothing names a kubeconfig (argument, $KUBECONFIG) and the pod's
    service-account token exists, else ``"kubeconfig"``.

    >>> config_source(None, {}, Path("/nonexistent/token"))
    'kubeconfig'
    """
    if kubeconfig is not None or environ.get("KUBECONFIG"):
        return "kubeconfig"
    return "in-cluster" if token_file.is_file() else "kubeconfig"


def _in_cluster(client: Any, config: Any, cfg: Any) -> None:
    from kubernetes.config.config_exception import ConfigException

    try:
        config.load_incluster_config(client_configuration=cfg)
    except ConfigException as err:
        raise KubeError(
            f"in-cluster Kubernetes config failed ({err}); run in a pod with a service account "
            "or set kubernetes.kubeconfig in the environment file"
        ) from None


def connect(kubeconfig: Path | str | None, context: str | None = None, *, timeout: float = 10.0) -> KubeApi:
    """A KubeApi from ``kubeconfig`` (None: $KUBECONFIG or ~/.kube/config, or -- inside a pod with a
    service-account token and no $KUBECONFIG -- the in-cluster config) and ``context``."""
    import os

    from kubernetes import client, config
    from kubernetes.config.config_exception import ConfigException

    if config_source(kubeconfig, os.environ, SERVICE_ACCOUNT_TOKEN) == "in-cluster":
        cfg = client.Configuration()
        _in_cluster(client, config, cfg)
        return _api(client, cfg, timeout, "(in-cluster)", None)
    path = str(kubeconfig) if kubeconfig is not None else None
    if path is not None and not Path(path).is_file():
        raise KubeError(
            f"kubeconfig {path} does not exist; start the embedded cluster with `mcproof sandbox up --kubernetes` "
            f"or set kubernetes.kubeconfig in the environment file"
        )
    cfg = client.Configuration()
    try:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=path, context=context, client_configuration=cfg, persist_config=False
        )
    except ConfigException as err:
        contexts = ""
        try:
            names = [c["name"] for c in config.list_kube_config_contexts(config_file=path)[0]]  # type: ignore[no-untyped-call]
            contexts = f"; contexts: {', '.join(names)}"
        except Exception:  # noqa: S110 - only decorates the message
            pass
        raise KubeError(
            f"cannot load kubeconfig {path or '(default)'} context {context!r} ({err}){contexts}; "
            f"set kubernetes.context in the environment file"
        ) from None
    return _api(client, cfg, timeout, path or "(default)", context)


def _api(client: Any, cfg: Any, timeout: float, source: str, context: str | None) -> KubeApi:
    cfg.retries = 1
    api = client.ApiClient(configuration=cfg)
    return KubeApi(
        client=api,
        core=client.CoreV1Api(api),
        apps=client.AppsV1Api(api),
        timeout=timeout,
        kubeconfig=source,
        context=context,
    )
