"""The embedded Kubernetes cluster: a real control plane (etcd, kube-apiserver, controller-manager,
scheduler) with kwok faking the nodes, started by ``kwokctl --runtime binary`` from the binaries
``tools/kube/build.sh`` builds, plus the pod bridge (:mod:`mcproof_sandbox.kube.bridge`).

Loopback only (see tools/kube/README.md): every component binds 127.0.0.1, pod IPs come from a
127.x range (kwok ``--cidr``), Service ClusterIPs from 127.96.0.0/16 (nothing routes them: never
connect to one). API server: TLS, RBAC (``Node,RBAC``), PodSecurity + ResourceQuota admission
(named explicitly), an audit policy with the log in the state dir. Controller-manager and scheduler
run with ``--kube-api-qps=5000 --kube-api-burst=10000`` (kwokctl ``--disable-qps-limits``); the
controller-manager without the endpoint controllers (they cannot publish loopback IPs) and with 10
StatefulSet workers; kwok plays 16 pod stages at once; pod/node status writes are not audited.

State dir layout (``<sandbox state dir>/kube`` for the sandbox)::

    cluster.json     what runs: name, kubeconfig, apiserver, component and bridge pids
    kubeconfig       admin kubeconfig (client certificate in kwok/clusters/<name>/pki)
    audit-policy.yaml, kwokctl.yaml   generated inputs
    kwok/            KWOK_WORKDIR: clusters/<name>/{logs/{audit.log,kube-apiserver.log,...},pids,etcd}
    bridge-<i>.log   pod bridge logs;  rcon.password  the bridged servers' RCON password (0600)
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from mcproof.kubeapi import KubeApi, KubeError, connect
from mcproof.paths import project_root
from mcproof_sandbox.kube.manifests import kwok_node
from mcproof_sandbox.processes import alive, process_start
from mcproof_sandbox.state import CLUSTER_FILE, read_cluster_file

__all__ = ["ClusterSpec", "ClusterStatus", "EmbeddedCluster", "kube_bin_dir"]

Echo = Callable[[str], None]
_NO_CONTROLLERS = ("endpoints-controller", "endpointslice-controller", "endpointslice-mirroring-controller")
_COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok-controller")

AUDIT_POLICY = {
    "apiVersion": "audit.k8s.io/v1",
    "kind": "Policy",
    "omitStages": ["RequestReceived"],
    "rules": [
        # Who read secrets, never their content.
        {"level": "Metadata", "resources": [{"group": "", "resources": ["secrets", "configmaps"]}]},
        # Writes to workloads and pods (chaos actions, scaling) with the request body.
        {
            "level": "Request",
            "verbs": ["create", "update", "patch", "delete", "deletecollection"],
            "resources": [
                {"group": "", "resources": ["pods", "services", "namespaces", "resourcequotas"]},
                {"group": "apps", "resources": ["statefulsets", "deployments"]},
                {"group": "networking.k8s.io", "resources": ["networkpolicies"]},
            ],
        },
        # High-volume status traffic from the node emulator and controllers: not logged (a kubelet's
        # pod/node status writes, excluded as GKE's default policy excludes them).
        {
            "level": "None",
            "verbs": ["update", "patch"],
            "resources": [{"group": "", "resources": ["pods/status", "nodes/status"]}],
        },
        {"level": "None", "users": ["system:kube-scheduler", "system:kube-controller-manager"], "verbs": ["get"]},
        {"level": "None", "resources": [{"group": "coordination.k8s.io", "resources": ["leases"]}]},
        {"level": "None", "nonResourceURLs": ["/healthz*", "/readyz*", "/livez*", "/version"]},
        {"level": "Metadata", "verbs": ["create", "update", "patch", "delete", "deletecollection"]},
    ],
}


def kube_bin_dir(echo: Echo | None = None, timeout: float = 1800.0) -> Path:
    """The directory holding kube-apiserver & co: ``$MCPROOF_KUBE_BIN``, else ``tools/kube/build.sh``
    (builds on first use, ~6 min cold; 0.02 s when cached)."""
    override = os.environ.get("MCPROOF_KUBE_BIN")
    if override:
        return Path(override)
    script = project_root() / "tools" / "kube" / "build.sh"
    if not script.is_file():
        raise KubeError(f"no {script}; set MCPROOF_KUBE_BIN to a directory with kube-apiserver, kwokctl, etcd ...")
    if echo is not None:
        echo(f"mcproof: building or reusing the Kubernetes binaries ({script}) ...")
    try:
        done = subprocess.run([str(script)], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise KubeError(f"{script} did not finish within {timeout:g}s; run it by hand to see progress") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-5:])
        raise KubeError(f"{script} failed (exit {done.returncode}): {tail}")
    lines = done.stdout.strip().splitlines()
    if not lines:
        raise KubeError(f"{script} printed no bin dir on stdout")
    return Path(lines[-1])


@dataclass(frozen=True)
class ClusterSpec:
    """Shape of the embedded cluster and of the servers the bridge runs for its pods."""

    name: str = "mcproof"
    nodes: int = 3
    node_pods: int = 1000
    pod_cidr: str = "127.64.0.0/16"
    service_cidr: str = "127.96.0.0/16"
    bridge_shards: int = 1
    bridge_selector: str = "app.kubernetes.io/name=minecraft"
    version_name: str = "1.21.4"
    protocol: int = 769
    motd: str = "mcproof sandbox"
    max_players: int = 20
    query_enabled: bool = True
    tick_rate: float = 20.0  # the bridged servers' ticks per second (world age in Update Time)
    server_boot_s: float = 0.5  # the bridge opens a pod's server this long after the pod turns Running
    ready_timeout_s: float = 120.0
    # kube-apiserver --audit-log-maxage (days): meets the catalog's retention.logs_days (compliance suite)
    audit_log_maxage_days: int = 90

    def __post_init__(self) -> None:
        import ipaddress

        net = ipaddress.ip_network(self.pod_cidr)
        svc = ipaddress.ip_network(self.service_cidr)
        if not (net.is_loopback and svc.is_loopback):
            raise KubeError(f"pod_cidr {net} and service_cidr {svc} must be inside 127.0.0.0/8 (network rule)")
        if not 1 <= self.nodes <= 1000 or not 1 <= self.bridge_shards <= 16:
            raise KubeError(f"nodes must be 1..1000 and bridge_shards 1..16, got {self.nodes}, {self.bridge_shards}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ClusterStatus:
    """What runs: the kubeconfig to use, the audit log, processes and their memory."""

    running: bool
    name: str
    state_dir: str
    kubeconfig: str
    audit_log: str
    apiserver: str
    started_at: str
    components: dict[str, int] = field(default_factory=dict)
    bridge_pids: list[int] = field(default_factory=list)
    rss_bytes: dict[str, int] = field(default_factory=dict)
    spec: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class EmbeddedCluster:
    """Handle on the embedded cluster whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir).resolve()

    @property
    def kubeconfig(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def workdir(self) -> Path:
        return self.state_dir / "kwok"

    def _cluster_dir(self, name: str) -> Path:
        return self.workdir / "clusters" / name

    def audit_log(self, name: str = "mcproof") -> Path:
        return self._cluster_dir(name) / "logs" / "audit.log"

    def _env(self, bin_dir: Path) -> dict[str, str]:
        return {
            **os.environ,
            "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
            "KWOK_WORKDIR": str(self.workdir),
            "KUBECONFIG": str(self.kubeconfig),
            "KUBECACHEDIR": str(self.state_dir / "kube-cache"),
            "KWOK_KUBECTL_BINARY": str(bin_dir / "kubectl"),
        }

    def _read(self) -> dict[str, Any] | None:
        return read_cluster_file(self.state_dir)

    # --- lifecycle -------------------------------------------------------------------------------

    def up(self, spec: ClusterSpec | None = None, *, echo: Echo | None = None) -> ClusterStatus:
        """Start the cluster (or return the running one), add kwok nodes, start the bridge."""
        spec = spec or ClusterSpec()
        say = echo or (lambda _line: None)
        current = self.status()
        if current is not None:
            return current
        self.down(quiet=True)  # leftovers of a crashed run
        bin_dir = kube_bin_dir(say)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        (self.state_dir / "audit-policy.yaml").write_text(yaml.safe_dump(AUDIT_POLICY), encoding="utf-8")
        (self.state_dir / "kwokctl.yaml").write_text(
            yaml.safe_dump_all([kwokctl_config(spec), kwok_config(spec)]), encoding="utf-8"
        )
        t0 = time.monotonic()
        cmd = [
            str(bin_dir / "kwokctl"),
            "--config",
            str(self.state_dir / "kwokctl.yaml"),
            "--name",
            spec.name,
            "create",
            "cluster",
            "--runtime",
            "binary",
            "--kubeconfig",
            str(self.kubeconfig),
            "--kube-audit-policy",
            str(self.state_dir / "audit-policy.yaml"),
            "--disable-qps-limits",
            "--kube-apiserver-binary",
            str(bin_dir / "kube-apiserver"),
            "--kube-controller-manager-binary",
            str(bin_dir / "kube-controller-manager"),
            "--kube-scheduler-binary",
            str(bin_dir / "kube-scheduler"),
            "--kwok-controller-binary",
            str(bin_dir / "kwok"),
            "--etcd-binary",
            str(bin_dir / "etcd"),
        ]
        say(f"mcproof: starting the embedded Kubernetes cluster '{spec.name}' in {self.state_dir} ...")
        log = self.state_dir / "kwokctl-create.log"
        with open(log, "wb") as out:
            try:
                done = subprocess.run(cmd, env=self._env(bin_dir), stdout=out, stderr=out, timeout=120, check=False)
            except subprocess.TimeoutExpired:
                self.down(quiet=True)
                raise KubeError(f"kwokctl create cluster took over 120 s; see {log}") from None
        text = log.read_text(encoding="utf-8", errors="replace")
        if done.returncode != 0 or '"Cluster is started"' not in text:
            self.down(quiet=True)
            raise KubeError(f"kwokctl create cluster failed (exit {done.returncode}); see {log}")
        record: dict[str, Any] = {
            "name": spec.name,
            "spec": spec.as_dict(),
            "bin_dir": str(bin_dir),
            "started_at": dt.datetime.now(dt.UTC).isoformat(),
            "kubeconfig": str(self.kubeconfig),
            "audit_log": str(self.audit_log(spec.name)),
            "bridge": [],
        }
        self._write(record)
        try:
            api = connect(self.kubeconfig, timeout=10.0)
            wait_readyz(api, spec.ready_timeout_s)
            say(f"mcproof: kube-apiserver ready after {time.monotonic() - t0:.1f} s; adding {spec.nodes} kwok nodes")
            for i in range(spec.nodes):
                create_or_keep(api, kwok_node(f"kwok-node-{i}", pods=spec.node_pods))
            wait_nodes_ready(api, spec.nodes, spec.ready_timeout_s)
            record["bridge"] = self._start_bridge(spec)
            self._write(record)
        except BaseException:
            self.down(quiet=True)
            raise
        status = self.status()
        if status is None:
            raise KubeError(f"the cluster stopped right after start-up; see {self._cluster_dir(spec.name) / 'logs'}")
        say(f"mcproof: cluster ready after {time.monotonic() - t0:.1f} s; kubeconfig {self.kubeconfig}")
        return status

    def _write(self, record: dict[str, Any]) -> None:
        tmp = self.state_dir / f".{CLUSTER_FILE}.tmp"
        tmp.write_text(json.dumps(record, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_dir / CLUSTER_FILE)

    def _start_bridge(self, spec: ClusterSpec) -> list[dict[str, Any]]:

        from mcproof_sandbox.fleet.state import write_rcon_password

        if not (self.state_dir / "rcon.password").exists():
            write_rcon_password(self.state_dir, None)
        procs = []
        for shard in range(spec.bridge_shards):
            with open(self.state_dir / f"bridge-{shard}.log", "ab") as log:
                proc = subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "mcproof_sandbox.kube.bridge",
                        "--kubeconfig",
                        str(self.kubeconfig),
                        "--state-dir",
                        str(self.state_dir),
                        "--shard",
                        str(shard),
                        "--shards",
                        str(spec.bridge_shards),
                        "--spec",
                        json.dumps(spec.as_dict()),
                    ],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                    close_fds=True,
                )
            procs.append({"pid": proc.pid, "started": process_start(proc.pid), "shard": shard})
        deadline = time.monotonic() + 30
        for p in procs:  # each shard writes bridge-<i>.ready once its first list is served
            ready = self.state_dir / f"bridge-{p['shard']}.ready"
            while not ready.exists():
                if not alive(p["pid"], p["started"]) or time.monotonic() > deadline:
                    raise KubeError(f"pod bridge shard {p['shard']} did not start; see bridge-{p['shard']}.log")
                time.sleep(0.05)
        return procs

    def status(self) -> ClusterStatus | None:
        """Live status, or None when no cluster runs here (its apiserver process is gone)."""
        record = self._read()
        if not record:
            return None
        name = str(record.get("name", "mcproof"))
        pids = _component_pids(self._cluster_dir(name))
        if not alive(pids.get("kube-apiserver")):
            return None
        bridges = [int(b["pid"]) for b in record.get("bridge", []) if alive(b.get("pid"), b.get("started"))]
        rss = {n: _rss(p) for n, p in pids.items()}
        rss["bridge"] = sum(_rss(p) for p in bridges)
        return ClusterStatus(
            running=True,
            name=name,
            state_dir=str(self.state_dir),
            kubeconfig=str(record.get("kubeconfig", self.kubeconfig)),
            audit_log=str(record.get("audit_log", self.audit_log(name))),
            apiserver=_apiserver_url(self.kubeconfig),
            started_at=str(record.get("started_at", "")),
            components=pids,
            bridge_pids=bridges,
            rss_bytes=rss,
            spec=dict(record.get("spec", {})),
        )

    def api(self, timeout: float = 10.0) -> KubeApi:
        return connect(self.kubeconfig, timeout=timeout)

    def down(self, timeout: float = 15.0, *, quiet: bool = False) -> None:
        """Stop the bridge and every component; idempotent; leaves no processes. Logs are kept in
        ``last-logs/`` (kwokctl deletes the cluster dir)."""
        import shutil

        record = self._read() or {}
        for b in record.get("bridge", []):
            _terminate(int(b["pid"]), b.get("started"), timeout)
        name = str(record.get("name", "mcproof"))
        cdir = self._cluster_dir(name)
        pids = _component_pids(cdir)
        if (cdir / "logs").is_dir():
            shutil.rmtree(self.state_dir / "last-logs", ignore_errors=True)
            with contextlib.suppress(OSError):
                shutil.copytree(cdir / "logs", self.state_dir / "last-logs")
        bin_dir = Path(str(record.get("bin_dir", "")))
        if cdir.is_dir() and (bin_dir / "kwokctl").is_file():
            with contextlib.suppress(subprocess.TimeoutExpired, OSError):
                subprocess.run(
                    [
                        str(bin_dir / "kwokctl"),
                        "--name",
                        name,
                        "delete",
                        "cluster",
                        "--kubeconfig",
                        str(self.kubeconfig),
                    ],
                    env=self._env(bin_dir),
                    capture_output=True,
                    timeout=60,
                    check=False,
                )
        for pid in pids.values():  # whatever kwokctl left behind
            if alive(pid) and _is_component(pid):
                _terminate(pid, None, 5.0)
        shutil.rmtree(cdir, ignore_errors=True)
        for stale in (CLUSTER_FILE, "kubeconfig"):
            (self.state_dir / stale).unlink(missing_ok=True)
        for ready in self.state_dir.glob("bridge-*.ready") if self.state_dir.is_dir() else ():
            ready.unlink(missing_ok=True)


def kwokctl_config(spec: ClusterSpec) -> dict[str, Any]:
    """The KwokctlConfiguration (same settings as tools/kube/kwokctl-config.yaml, plus admission)."""
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokctlConfiguration",
        "options": {"runtime": "binary", "bindAddress": "127.0.0.1", "quietPull": True},
        "componentsPatches": [
            {"name": "etcd", "extraArgs": [{"key": "unsafe-no-fsync", "value": "true"}]},
            {
                "name": "kube-apiserver",
                "extraArgs": [
                    {"key": "service-cluster-ip-range", "value": spec.service_cidr},
                    {"key": "advertise-address", "value": "127.0.0.1"},
                    {"key": "endpoint-reconciler-type", "value": "none"},
                    # audit log retention: rotated files kept by age (>= catalog retention.logs_days), not count
                    {"key": "audit-log-maxage", "value": str(spec.audit_log_maxage_days)},
                    {"key": "audit-log-maxbackup", "value": "0"},
                    {
                        "key": "enable-admission-plugins",
                        "value": "NamespaceLifecycle,ServiceAccount,LimitRanger,PodSecurity,ResourceQuota",
                    },
                ],
            },
            {
                "name": "kube-controller-manager",
                "extraArgs": [
                    # The endpoint controllers cannot publish loopback pod IPs (the API server refuses them)
                    # and retry every pod change forever; mcproof derives endpoints from Ready pods.
                    {"key": "controllers", "value": ",".join(("*", *(f"-{c}" for c in _NO_CONTROLLERS)))},
                    {"key": "concurrent-statefulset-syncs", "value": "10"},
                ],
            },
            {
                "name": "kwok-controller",
                "extraArgs": [
                    {"key": "cidr", "value": spec.pod_cidr},
                    {"key": "node-ip", "value": "127.0.0.1", "override": True},
                ],
            },
        ],
    }


def kwok_config(spec: ClusterSpec) -> dict[str, Any]:
    """The KwokConfiguration kwokctl hands to the kwok controller: more pod stages played at once
    (default 4), so 10,000 pods turn Running at the rate the scheduler binds them."""
    return {
        "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
        "kind": "KwokConfiguration",
        # kwokctl does not default a KwokConfiguration it is given: every option kwok needs, with
        # kwok 0.8's defaults except podPlayStageParallelism (4)
        "options": {
            "cidr": spec.pod_cidr,
            "podPlayStageParallelism": 16,
            "nodePlayStageParallelism": 4,
            "nodeLeaseParallelism": 4,
            "podsOnNodeSyncParallelism": 1,
            "enableDebuggingHandlers": True,
            "enableContentionProfiling": False,
            "enableProfilingHandler": True,
            "enablePodsOnNodeSyncListPager": True,
            "enablePodsOnNodeSyncStreamWatch": False,
        },
    }


def create_or_keep(api: KubeApi, manifest: dict[str, Any]) -> None:
    """Create ``manifest``; an existing object of that name is kept as it is."""
    from kubernetes import utils

    try:
        utils.create_from_dict(api.client, manifest, _request_timeout=api.timeout)  # type: ignore[no-untyped-call]
    except utils.FailToCreateError as err:
        if any(getattr(e, "status", None) != 409 for e in err.api_exceptions):
            meta = manifest.get("metadata", {})
            reasons = "; ".join(str(getattr(e, "body", e))[:300] for e in err.api_exceptions)
            raise KubeError(
                f"cannot create {manifest.get('kind')} {meta.get('namespace', '')}/{meta.get('name')}: {reasons}"
            ) from None


def wait_readyz(api: KubeApi, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            if api.get_raw("/readyz").strip() == "ok":
                return
        except KubeError as err:
            last = str(err)
        time.sleep(0.2)
    raise KubeError(f"kube-apiserver /readyz not ok after {timeout:g}s ({last})")


def wait_nodes_ready(api: KubeApi, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    ready = 0
    while time.monotonic() < deadline:
        nodes = api.objects("nodes")
        ready = sum(
            any(
                c.get("type") == "Ready" and c.get("status") == "True"
                for c in (n.get("status") or {}).get("conditions") or []
            )
            for n in nodes
        )
        if ready >= count:
            return
        time.sleep(0.2)
    raise KubeError(f"only {ready} of {count} kwok nodes Ready after {timeout:g}s; see the kwok-controller log")


def _component_pids(cluster_dir: Path) -> dict[str, int]:
    pids: dict[str, int] = {}
    for name in _COMPONENTS:
        with contextlib.suppress(OSError, ValueError):
            pids[name] = int((cluster_dir / "pids" / f"{name}.pid").read_text().strip())
    return pids


def _apiserver_url(kubeconfig: Path) -> str:
    try:
        data = yaml.safe_load(kubeconfig.read_text(encoding="utf-8"))
        return str(data["clusters"][0]["cluster"]["server"])
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError):
        return ""


def _is_component(pid: int) -> bool:
    import psutil

    try:
        name = psutil.Process(pid).name()
    except psutil.Error:
        return False
    return name in (*_COMPONENTS, "kwok")


def _terminate(pid: int, started: Any, timeout: float) -> None:
    if not alive(pid, started):
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive(pid):
        time.sleep(0.05)
    if alive(pid):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _rss(pid: int) -> int:
    import psutil

    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0
