"""What the sandbox Prometheus needs to scrape the embedded Kubernetes cluster, when one runs.

- **kube-apiserver** ``/metrics`` over TLS, verified with the cluster's CA, authenticated with a bound
  ServiceAccount token (TokenRequest, ``token_ttl_s``) whose only right is ``get`` on the non-resource
  URL ``/metrics`` (ServiceAccount ``mcproof-prometheus`` in namespace ``mcproof-monitoring``,
  ClusterRole + ClusterRoleBinding ``mcproof:prometheus-metrics``). The token file is 0600.
- **kube-controller-manager / kube-scheduler** ``/metrics`` on their loopback secure ports: kwokctl
  runs them with ``--authorization-always-allow-paths=...,/metrics`` and a self-signed serving cert
  (CN ``localhost@...``, SAN 127.0.0.1) issued by an in-memory CA. We pin that CA (trust on first use
  over loopback, fetched once when Prometheus starts) rather than skip verification; no credential is
  sent to them.
- **etcd** ``/metrics`` on its loopback client URL (plain HTTP, as kwokctl runs it).

Ports come from ``kwok/clusters/<name>/kwok.yaml`` (each component's ``metric`` block):
:func:`metric_endpoints` parses it (pure).

>>> text = "components:\\n- name: kube-scheduler\\n  metric: {host: 127.0.0.1:5, path: /metrics, scheme: https}\\n"
>>> metric_endpoints(text)
[MetricEndpoint(component='kube-scheduler', address='127.0.0.1:5', path='/metrics', scheme='https')]
"""

from __future__ import annotations

import os
import socket
import ssl
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from mcproof.errors import SandboxError
from mcproof.target import is_loopback

__all__ = [
    "CLUSTER_ROLE",
    "KUBE_JOBS",
    "METRICS_NAMESPACE",
    "METRICS_SERVICE_ACCOUNT",
    "KubeScrapeTarget",
    "MetricEndpoint",
    "metric_endpoints",
    "metrics_rbac",
    "prepare_kube_scrape",
]

METRICS_NAMESPACE = "mcproof-monitoring"
METRICS_SERVICE_ACCOUNT = "mcproof-prometheus"
CLUSTER_ROLE = "mcproof:prometheus-metrics"
# kwok component name -> Prometheus job name
KUBE_JOBS = {
    "kube-apiserver": "kube-apiserver",
    "kube-controller-manager": "kube-controller-manager",
    "kube-scheduler": "kube-scheduler",
    "etcd": "etcd",
}


@dataclass(frozen=True)
class MetricEndpoint:
    """Where a control-plane component serves ``/metrics`` (from kwok.yaml)."""

    component: str
    address: str
    path: str
    scheme: str


@dataclass(frozen=True)
class KubeScrapeTarget:
    """One scrape job for the cluster: address, scheme, CA to verify with, token file (apiserver only)."""

    job: str
    address: str
    scheme: str = "https"
    path: str = "/metrics"
    ca_file: str | None = None
    token_file: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def metric_endpoints(kwok_yaml: str) -> list[MetricEndpoint]:
    """Components with a ``metric`` block in kwokctl's cluster config (loopback hosts only)."""
    found: list[MetricEndpoint] = []
    for doc in yaml.safe_load_all(kwok_yaml):
        if not isinstance(doc, dict):
            continue
        for comp in doc.get("components") or []:
            metric = comp.get("metric") if isinstance(comp, dict) else None
            if not isinstance(metric, dict) or comp.get("name") not in KUBE_JOBS or not metric.get("host"):
                continue
            host = str(metric["host"])
            if not is_loopback(host.rsplit(":", 1)[0].strip("[]")):
                raise SandboxError(f"{comp['name']} serves metrics on {host}, not loopback; the sandbox scrapes 127/8")
            found.append(
                MetricEndpoint(
                    str(comp["name"]), host, str(metric.get("path", "/metrics")), str(metric.get("scheme", "https"))
                )
            )
    return found


def metrics_rbac(ttl_hint: str = "") -> list[dict[str, Any]]:
    """Namespace, ServiceAccount, ClusterRole (``get`` on ``/metrics`` only) and its binding.

    >>> [m["kind"] for m in metrics_rbac()]
    ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding']
    >>> metrics_rbac()[2]["rules"]
    [{'nonResourceURLs': ['/metrics'], 'verbs': ['get']}]
    """
    labels = {"app.kubernetes.io/managed-by": "mcproof", "app.kubernetes.io/component": "monitoring"}
    pss = {f"pod-security.kubernetes.io/{m}": "restricted" for m in ("enforce", "audit", "warn")}
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": METRICS_NAMESPACE, "labels": {**labels, **pss}}},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "automountServiceAccountToken": False,
            "metadata": {"name": METRICS_SERVICE_ACCOUNT, "namespace": METRICS_NAMESPACE, "labels": labels},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": CLUSTER_ROLE, "labels": labels},
            "rules": [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": CLUSTER_ROLE, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": CLUSTER_ROLE},
            "subjects": [{"kind": "ServiceAccount", "name": METRICS_SERVICE_ACCOUNT, "namespace": METRICS_NAMESPACE}],
        },
    ]


def _pin_ca(address: str, out: Path, timeout: float) -> None:
    """Write the CA of the chain a loopback TLS server presents (its last certificate) to ``out``."""
    host, port = address.rsplit(":", 1)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # only to read the chain; Prometheus verifies against what we pin
    try:
        with (
            socket.create_connection((host.strip("[]"), int(port)), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=host.strip("[]")) as tls,
        ):
            chain = _unverified_chain(tls)
    except (OSError, ssl.SSLError) as err:
        raise SandboxError(f"cannot read the TLS chain of {address} to pin its CA: {err}") from None
    if not chain:
        raise SandboxError(f"{address} presented no certificate chain")
    out.write_text(ssl.DER_cert_to_PEM_cert(chain[-1]), encoding="utf-8")


def _unverified_chain(tls: ssl.SSLSocket) -> list[bytes]:
    """The peer's chain as DER (public API from Python 3.13; the same method on the C object before)."""
    getter = getattr(tls, "get_unverified_chain", None)
    if getter is None:
        getter = tls._sslobj.get_unverified_chain  # type: ignore[attr-defined]
    items = getter() or []
    der = ssl._ssl.ENCODING_DER  # type: ignore[attr-defined]
    return [c if isinstance(c, bytes) else bytes(c.public_bytes(der)) for c in items]


def _apply_rbac_and_token(kube_dir: Path, token_file: Path, ttl_s: int, timeout: float) -> None:
    from kubernetes.client.exceptions import ApiException

    from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep

    api = EmbeddedCluster(kube_dir).api(timeout=timeout)
    for manifest in metrics_rbac():
        create_or_keep(api, manifest)
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": ttl_s}}
    try:
        resp = api.core.create_namespaced_service_account_token(
            METRICS_SERVICE_ACCOUNT, METRICS_NAMESPACE, body, _request_timeout=timeout
        )
    except ApiException as err:
        raise SandboxError(
            f"TokenRequest for {METRICS_NAMESPACE}/{METRICS_SERVICE_ACCOUNT} refused: HTTP {err.status} {err.reason}"
        ) from None
    token = str(resp.status.token)
    fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(token)


def prepare_kube_scrape(
    kube_dir: Path, out_dir: Path, *, token_ttl_s: int = 7 * 86400, timeout: float = 10.0
) -> list[KubeScrapeTarget]:
    """Scrape jobs for the embedded cluster in ``kube_dir``; [] when none runs there.

    Creates the metrics-only RBAC and a token (``out_dir/kube-token``, 0600), pins the controller-manager
    and scheduler CAs (``out_dir/<component>-ca.crt``).
    """
    from mcproof_sandbox.kube.cluster import EmbeddedCluster

    cluster = EmbeddedCluster(kube_dir)
    status = cluster.status()
    if status is None:
        return []
    cluster_dir = cluster.workdir / "clusters" / status.name
    try:
        endpoints = metric_endpoints((cluster_dir / "kwok.yaml").read_text(encoding="utf-8"))
    except OSError as err:
        raise SandboxError(f"cannot read the cluster's kwok.yaml in {cluster_dir}: {err}") from None
    out_dir.mkdir(parents=True, exist_ok=True)
    token_file = out_dir / "kube-token"
    _apply_rbac_and_token(cluster.state_dir, token_file, token_ttl_s, timeout)
    ca = cluster_dir / "pki" / "ca.crt"
    targets: list[KubeScrapeTarget] = []
    for ep in endpoints:
        job = KUBE_JOBS[ep.component]
        if ep.component == "kube-apiserver":
            targets.append(KubeScrapeTarget(job, ep.address, ep.scheme, ep.path, str(ca), str(token_file)))
        elif ep.scheme == "https":
            pinned = out_dir / f"{ep.component}-ca.crt"
            _pin_ca(ep.address, pinned, timeout)
            targets.append(KubeScrapeTarget(job, ep.address, ep.scheme, ep.path, str(pinned)))
        else:
            targets.append(KubeScrapeTarget(job, ep.address, ep.scheme, ep.path))
    return targets
