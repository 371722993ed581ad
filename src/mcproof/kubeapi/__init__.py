"""The `kubernetes` client, configured from a kubeconfig, plus raw-JSON reads.

Reads return the API's JSON as dicts (``_preload_content=False``): the pure checks and the endpoint
derivation work on dicts, and parsing 10,000 pods as JSON is ~20x faster than the client's models.
Every request carries a timeout.

Every list is paginated as kubectl does (:func:`list_pages`: ``limit`` 500, follow ``continue``; a
continue token that expired mid-list (HTTP 410) restarts the list, bounded; a page whose stream broke
is fetched again, bounded). Whatever still fails -- HTTP errors, a broken or refused connection, a
timeout -- becomes one :class:`KubeError` line naming the call and the fix, never a traceback.
Watches live in :mod:`mcproof.kubeapi.listwatch`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import KubeError

__all__ = [
    "PAGE_LIMIT",
    "SERVICE_ACCOUNT_TOKEN",
    "KubeApi",
    "KubeError",
    "api_error",
    "config_source",
    "connect",
    "list_pages",
]

PAGE_LIMIT = 500  # kubectl's --chunk-size default
_LIST_RESTARTS = 3  # a list whose continue token expired (410) starts over at most this often
_PAGE_ATTEMPTS = 3  # a page whose response broke off (ProtocolError, reset, timeout) is asked for again

# kind -> (API group, method stem, cluster-scoped)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "pods": ("core", "pod", False),
    "services": ("core", "service", False),
    "persistentvolumeclaims": ("core", "persistent_volume_claim", False),
    "events": ("core", "event", False),
    "configmaps": ("core", "config_map", False),
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
    page_limit: int = PAGE_LIMIT

    def objects(self, kind: str, namespace: str | None = None, **query: Any) -> list[dict[str, Any]]:
        """Items of ``kind`` (pods, services, persistentvolumeclaims, nodes, statefulsets, deployments,
        replicasets, daemonsets, namespaces, configmaps) in one namespace or all; raw JSON dicts, paginated."""
        return list(self.objects_with_version(kind, namespace, **query)[0])

    def objects_with_version(self, kind: str, namespace: str | None = None, **query: Any) -> tuple[list[Any], str]:
        """Like :meth:`objects`, plus the list's resourceVersion (to start a watch from)."""
        method, args = self.list_call(kind, namespace)
        return list_pages(method, *args, timeout=self.timeout, limit=self.page_limit, **query)

    def list_call(self, kind: str, namespace: str | None = None) -> tuple[Any, tuple[Any, ...]]:
        """The client's list method for ``kind`` (in ``namespace``, or all) and its positional args."""
        if kind not in _KINDS:
            raise KubeError(f"unsupported kind {kind!r}; use one of {', '.join(sorted(_KINDS))}")
        group, singular, cluster_scoped = _KINDS[kind]
        api = self.apps if group == "apps" else self.core
        if cluster_scoped:
            return getattr(api, f"list_{singular}"), ()
        if namespace is None:
            return getattr(api, f"list_{singular}_for_all_namespaces"), ()
        return getattr(api, f"list_namespaced_{singular}"), (namespace,)

    def get_raw(self, path: str) -> str:
        """GET ``path`` (e.g. ``/readyz``) and return the body text."""
        from kubernetes.client.exceptions import ApiException

        try:
            request = self.client.param_serialize("GET", path, auth_settings=["BearerToken"])
            resp = self.client.call_api(*request, _request_timeout=self.timeout)
            resp.read()
            if not 200 <= resp.status <= 299:
                raise ApiException(status=resp.status, reason=resp.reason, body=resp.data)
        except Exception as err:
            raise api_error(f"GET {path}", err, str(self.client.configuration.host)) from None
        return bytes(resp.data).decode("utf-8", "replace")


def _host(method: Any) -> str:
    api = getattr(getattr(method, "__self__", None), "api_client", None)
    return str(getattr(getattr(api, "configuration", None), "host", "") or "the Kubernetes API")


def _status_message(body: Any) -> str:
    try:
        return str(json.loads(body).get("message", ""))[:200]
    except (TypeError, ValueError, AttributeError):
        return ""


def api_error(call: str, err: BaseException, host: str = "the Kubernetes API") -> KubeError:
    """One-line :class:`KubeError` for ``err`` raised by ``call``, with what to do next.

    >>> from kubernetes.client.exceptions import ApiException
    >>> str(api_error("list_namespaced_pod(t1)", ApiException(status=403, reason="Forbidden")))[:60]
    'list_namespaced_pod(t1) on the Kubernetes API: HTTP 403 Forb'
    """
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError
    from urllib3.exceptions import TimeoutError as Urllib3Timeout

    where = f"{call} on {host}"
    if isinstance(err, ApiException):
        detail = _status_message(err.body)
        head = f"{where}: HTTP {err.status} {err.reason}" + (f" ({detail})" if detail else "")
        if err.status in (401, 403):
            fix = "check kubernetes.kubeconfig/context (credentials) and the harness's RBAC (deploy/rbac)"
        elif err.status == 404:
            fix = "check the namespace/name exists and kubernetes.namespaces in the environment file"
        elif err.status == 410:
            fix = "the API server's history moved on (etcd compaction) while listing; run again"
        elif err.status == 429 or (err.status or 0) >= 500:
            fix = "the API server is overloaded or failing; check its health (kubectl get --raw /readyz) and run again"
        else:
            fix = "check the request and the API server's version"
        return KubeError(f"{head}; {fix}")
    reason = err.reason if isinstance(err, MaxRetryError) and err.reason is not None else err
    text = str(reason).splitlines()[0][:200] if str(reason) else ""
    kind = type(reason).__name__
    if isinstance(reason, NewConnectionError):  # (a subclass of urllib3's TimeoutError)
        fix = "nothing answers there: check the cluster is up (kubectl get --raw /readyz) and kubernetes.kubeconfig"
    elif isinstance(reason, (Urllib3Timeout, TimeoutError)):
        fix = "the API server did not answer in time; check its load, or raise kubernetes.request_timeout_s"
    elif isinstance(reason, ProtocolError):
        fix = "the API server closed the connection mid-response; check its health and memory, then run again"
    else:
        fix = "check the cluster is up (kubectl get --raw /readyz) and kubernetes.kubeconfig points at it"
    return KubeError(f"{where} failed ({kind}: {text}); {fix}")


def _retryable(err: BaseException) -> bool:
    from urllib3.exceptions import HTTPError, MaxRetryError

    if isinstance(err, MaxRetryError):  # nothing answered at all: retrying the page will not help
        return False
    return isinstance(err, (HTTPError, ConnectionError, TimeoutError, ValueError))


def list_pages(
    method: Any, *args: Any, timeout: float | tuple[float, float], limit: int = PAGE_LIMIT, **query: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every item of a ``kubernetes`` client list call (``CoreV1Api.list_namespaced_pod`` & co) as raw
    JSON dicts, fetched ``limit`` at a time, plus the list's resourceVersion (to start a watch from).

    Pages follow ``metadata.continue`` from one consistent snapshot. A 410 Gone (the continue token
    expired: the list outlived etcd's compaction) restarts the list, at most 3 times; a page whose
    response broke off is asked for again, at most 3 times. Anything else raises one-line KubeError.
    """
    from kubernetes.client.exceptions import ApiException

    call = f"{getattr(method, '__name__', 'list')}({', '.join(map(str, args))})"
    restarts = 0
    items: list[dict[str, Any]] = []
    token: str | None = None
    version = ""
    attempt = 0
    while True:
        try:
            resp = method(
                *args, limit=limit, _continue=token, _preload_content=False, _request_timeout=timeout, **query
            )
            data: dict[str, Any] = json.loads(resp.data)
        except ApiException as err:
            if err.status == 410 and token is not None and restarts < _LIST_RESTARTS:
                restarts += 1
                items, token, attempt = [], None, 0
                continue
            raise api_error(call, err, _host(method)) from None
        except Exception as err:
            attempt += 1
            if _retryable(err) and attempt < _PAGE_ATTEMPTS:
                continue
            raise api_error(call, err, _host(method)) from None
        attempt = 0
        items += data.get("items") or []
        meta = data.get("metadata") or {}
        version = str(meta.get("resourceVersion", "")) if token is None else version
        token = meta.get("continue") or None
        if token is None:
            return items, version


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
