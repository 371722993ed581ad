"""Every state file of a running sandbox, read in one place.

``<state_dir>/state.json`` (the fleet, :mod:`mcproof_sandbox.fleet.state`), ``rcon.password``,
``platform/platform.json`` (the platform API, :mod:`mcproof_sandbox.platform.control`),
``monitoring/monitoring.json`` (Prometheus + exporter) and ``<kube dir>/cluster.json`` (the embedded
cluster). The harness reaches these only through :mod:`mcproof.connect.sandbox`; the daemons that write
them read them back through here too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet.state import STATE_FILE, read_rcon_password, read_state
from mcproof_sandbox.processes import alive

__all__ = [
    "APPLIED_DIR",
    "FLEET_POOL_FILE",
    "MONITORING_INFO_FILE",
    "PLATFORM_INFO_FILE",
    "MonitoringInfo",
    "PlatformInfo",
    "apiserver_args",
    "applied_manifests_dir",
    "cluster_audit_log",
    "cluster_record",
    "fleet_pool",
    "fleet_servers",
    "read_cluster_file",
    "read_monitoring_info",
    "read_platform_info",
    "read_rcon_password",
    "read_state",
]

PLATFORM_INFO_FILE = "platform.json"
MONITORING_INFO_FILE = "monitoring.json"
CLUSTER_FILE = "cluster.json"
FLEET_POOL_FILE = "platform/fleet-pool.json"  # the servers the platform's fleet autoscaler holds
APPLIED_DIR = "applied"  # <kube dir>/applied/<namespace>.yaml: the manifests the sandbox applied


def fleet_servers(state_dir: Path) -> list[dict[str, Any]]:
    """The address records of the running fleet (``state.json`` ``servers``); SandboxError says what to do.

    The servers of the platform's game-server fleet (``FLEET_POOL_FILE``) are left out: they come and go
    with its autoscaler, and are reached through its fleet API, as an Agones fleet's game servers are.
    """
    state_file = Path(state_dir) / STATE_FILE
    state = read_state(Path(state_dir))
    if state is None:
        raise SandboxError(f"no sandbox state in {state_dir}; start it with 'mcproof sandbox up' (or 'make signoff')")
    try:
        servers = [dict(s) for s in state["servers"]]
        for s in servers:
            s["id"], s["host"], s["port"] = str(s["id"]), str(s["host"]), int(s["port"])
    except (KeyError, TypeError, ValueError) as err:
        raise SandboxError(
            f"sandbox state {state_file} is unreadable ({err!r}); run 'mcproof sandbox down' then 'up'"
        ) from None
    pool = fleet_pool(Path(state_dir))
    return [s for s in servers if s["id"] not in pool]


def fleet_pool(state_dir: Path) -> set[str]:
    """The ids the platform's fleet autoscaler holds (empty when it runs none)."""
    try:
        data = json.loads((state_dir / FLEET_POOL_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {str(i) for i in data.get("servers", [])} if isinstance(data, dict) else set()


@dataclass(frozen=True)
class PlatformInfo:
    """What ``platform.json`` says about a running platform API."""

    url: str
    ca_file: Path
    tokens: dict[str, Path]
    pid: int
    platform_dir: Path
    audit_log: Path
    environment: str
    config: dict[str, Any]
    extra: dict[str, Any]
    api_keys: dict[str, Path]  # the Pterodactyl face's ``ptlc_`` key files per tenant

    def token_file(self, tenant: str) -> Path:
        if tenant not in self.tokens:
            raise SandboxError(f"no tenant {tenant!r} in the sandbox platform; tenants: {', '.join(self.tokens)}")
        return self.tokens[tenant]

    def api_key_file(self, tenant: str) -> Path:
        """The Pterodactyl client-API key file of ``tenant`` (the sandbox serves that face too)."""
        if tenant not in self.api_keys:
            raise SandboxError(
                f"no Pterodactyl API key for tenant {tenant!r} in the sandbox platform; "
                f"tenants: {', '.join(self.api_keys) or 'none (restart the platform API)'}"
            )
        return self.api_keys[tenant]

    @property
    def running(self) -> bool:
        return alive(self.pid)


_PLATFORM_KEYS = {"url", "ca_file", "tokens", "pid", "platform_dir", "audit_log", "environment", "config"}


def read_platform_info(state_dir: Path) -> PlatformInfo | None:
    """The platform API's info, or None when ``<state_dir>/platform/platform.json`` is absent or unreadable."""
    try:
        data: dict[str, Any] = json.loads(
            (Path(state_dir) / "platform" / PLATFORM_INFO_FILE).read_text(encoding="utf-8")
        )
        return PlatformInfo(
            url=str(data["url"]),
            ca_file=Path(data["ca_file"]),
            tokens={k: Path(v) for k, v in dict(data["tokens"]).items()},
            pid=int(data["pid"]),
            platform_dir=Path(data["platform_dir"]),
            audit_log=Path(data["audit_log"]),
            environment=str(data["environment"]),
            config=dict(data.get("config") or {}),
            extra={k: v for k, v in data.items() if k not in _PLATFORM_KEYS},
            api_keys={k: Path(v) for k, v in dict((data.get("pterodactyl") or {}).get("api_keys") or {}).items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


@dataclass(frozen=True)
class MonitoringInfo:
    """What ``monitoring.json`` says about a running monitoring stack."""

    prometheus_url: str
    prometheus_pid: int
    exporter_address: str
    exporter_pid: int
    directory: Path
    scrape_jobs: list[str]
    started_at: float


def read_monitoring_info(state_dir: Path) -> MonitoringInfo | None:
    """The stack's info, or None when ``<state_dir>/monitoring/monitoring.json`` is absent or unreadable."""
    try:
        data: dict[str, Any] = json.loads(
            (Path(state_dir) / "monitoring" / MONITORING_INFO_FILE).read_text(encoding="utf-8")
        )
        return MonitoringInfo(
            prometheus_url=str(data["prometheus_url"]),
            prometheus_pid=int(data["prometheus_pid"]),
            exporter_address=str(data["exporter_address"]),
            exporter_pid=int(data["exporter_pid"]),
            directory=Path(data["directory"]),
            scrape_jobs=list(data["scrape_jobs"]),
            started_at=float(data["started_at"]),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def read_cluster_file(kube_dir: Path) -> dict[str, Any] | None:
    """``<kube_dir>/cluster.json``: None when absent, ``{}`` when unreadable (a cluster left half-written)."""
    try:
        data = json.loads((Path(kube_dir) / CLUSTER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def cluster_record(kube_dir: Path) -> dict[str, Any] | None:
    """``<kube_dir>/cluster.json`` (name, kubeconfig, apiserver, pids, audit log), or None."""
    return read_cluster_file(kube_dir) or None


def cluster_audit_log(kube_dir: Path) -> Path | None:
    """The embedded kube-apiserver's audit log, or None when no cluster was started here."""
    record = cluster_record(kube_dir)
    path = record.get("audit_log") if record else None
    return Path(path) if path else None


def applied_manifests_dir(kube_dir: Path) -> Path:
    """Where the sandbox writes the manifests it applied (the security suite scans them)."""
    return Path(kube_dir) / APPLIED_DIR


def apiserver_args(kube_dir: Path) -> tuple[list[str], str] | None:
    """The embedded kube-apiserver's command line (its running process, else its recorded kwok config)
    and where it came from; None when no cluster was started here."""
    import psutil

    record = cluster_record(kube_dir)
    if record is None:
        return None
    cluster_dir = Path(kube_dir) / "kwok" / "clusters" / str(record.get("name", "mcproof"))
    try:
        pid = int((cluster_dir / "pids" / "kube-apiserver.pid").read_text(encoding="utf-8").strip())
        cmdline = psutil.Process(pid).cmdline()
        if any("kube-apiserver" in part for part in cmdline[:1]):
            return list(cmdline), f"kube-apiserver process {pid}"
    except (OSError, ValueError, psutil.Error):
        pass  # not running (or not ours): fall back to the recorded config
    config = cluster_dir / "kwok.yaml"
    if config.is_file():
        text = config.read_text(encoding="utf-8")
        flags = [m.strip() for m in re.findall(r"^\s*-\s*(--audit-log-[\w-]+=\S+)", text, re.M)]
        return flags, str(config)
    return None
