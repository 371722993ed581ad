"""The embedded sandbox as an environment's endpoints: the only harness module that imports it.

Every answer here has a real-environment twin in the environment file (``minecraft.discovery``,
``platform_api``, ``monitoring.prometheus_url``, ``minecraft.rcon.password``, ``compliance`` paths,
``faults``); :mod:`mcproof.connect` picks this one only when the environment names the sandbox.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mcproof.connect.faults import FaultInjector, FaultResult
from mcproof.errors import SandboxError
from mcproof.secrets import Secret
from mcproof.target import Target

__all__ = [
    "SandboxFaults",
    "apiserver_args",
    "apiserver_audit_log",
    "applied_manifests_dir",
    "panel_endpoint",
    "platform_endpoint",
    "prometheus_url",
    "rcon_password",
    "sandbox_targets",
    "shard_pids",
]


def sandbox_targets(state_dir: Path) -> list[Target]:
    """Targets from a running sandbox's fleet state."""
    from mcproof_sandbox.state import fleet_servers

    return [
        Target(
            id=s["id"],
            host=s["host"],
            port=s["port"],
            edition=str(s.get("edition", "java")),
            query_port=s.get("query_port"),
            rcon_port=s.get("rcon_port"),
            source="sandbox",
        )
        for s in fleet_servers(state_dir)
    ]


def platform_endpoint(state_dir: Path, tenant: str) -> tuple[str, Path, Path] | None:
    """(base URL, token file of ``tenant``, CA file) of the sandbox's platform API, or None when it is down."""
    from mcproof_sandbox.state import read_platform_info

    info = read_platform_info(state_dir)
    if info is None:
        return None
    return info.url, info.token_file(tenant), info.ca_file


def panel_endpoint(state_dir: Path, tenant: str) -> tuple[str, Path, Path] | None:
    """(base URL, ``ptlc_`` key file of ``tenant``, CA file) of the sandbox's Pterodactyl face, or None when down."""
    from mcproof_sandbox.state import read_platform_info

    info = read_platform_info(state_dir)
    if info is None:
        return None
    return info.url, info.api_key_file(tenant), info.ca_file


def shard_pids(state_dir: Path) -> list[int]:
    """The fleet's shard processes (the load judge measures whether the sandbox kept up), or none."""
    from mcproof_sandbox.fleet import Sandbox

    status = Sandbox(state_dir).status()
    return list(status.shard_pids) if status is not None else []


def prometheus_url(state_dir: Path) -> str | None:
    """The sandbox Prometheus's URL, or None when it does not run."""
    from mcproof_sandbox.monitoring.services import MonitoringServices

    info = MonitoringServices(state_dir).info()
    return info.prometheus_url if info is not None else None


def rcon_password(state_dir: Path) -> Secret:
    """The sandbox fleet's generated RCON password (SandboxError when the sandbox never started)."""
    from mcproof_sandbox.state import read_rcon_password

    return Secret(read_rcon_password(state_dir), f"file:{state_dir}/rcon.password")


def apiserver_audit_log(kube_dir: Path) -> Path | None:
    from mcproof_sandbox.state import cluster_audit_log

    return cluster_audit_log(kube_dir)


def apiserver_args(kube_dir: Path) -> tuple[list[str], str] | None:
    from mcproof_sandbox.state import apiserver_args as args

    return args(kube_dir)


def applied_manifests_dir(kube_dir: Path) -> Path:
    from mcproof_sandbox.state import applied_manifests_dir as applied

    return applied(kube_dir)


class SandboxFaults(FaultInjector):
    """Faults the sandbox really suffers: its server processes (kill/stop/hang/slow/refuse/trickle/oversized/
    lag; the supervisor restarts a killed or stopped server unless told not to; ``kill`` drops the players'
    connections, ``stop`` kicks them with "Server closed", ``lag`` lowers the tick rate to ``tps``) and its
    platform API daemon (stopped and started again on its old port)."""

    name = "sandbox"
    capabilities = frozenset(
        {
            "process.kill",
            "process.stop",
            "process.lag",
            "process.restart",
            "process.hang",
            "process.slow",
            "process.refuse",
            "process.trickle",
            "process.oversized",
            "platform_api.outage",
        }
    )

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir

    def _fleet(self) -> Any:
        from mcproof_sandbox.fleet import Sandbox

        return Sandbox(self.state_dir)

    def inject(self, kind: str, server_ids: list[str], **params: Any) -> FaultResult:
        self.require(f"process.{kind}", f"{kind}_servers")
        self._fleet().inject(server_ids, kind, **params)
        return FaultResult(kind, tuple(server_ids), dict(params), self.name)

    def clear(self, server_ids: list[str] | None = None) -> list[str]:
        fleet = self._fleet()
        status = fleet.status()
        faulted = sorted(status.faults) if status is not None else []
        chosen = faulted if server_ids is None else [i for i in faulted if i in set(server_ids)]
        fleet.clear(None if server_ids is None else chosen)
        return chosen

    def faulted(self) -> list[str]:
        status = self._fleet().status()
        return sorted(status.faults) if status is not None else []

    def stop_platform_api(self) -> dict[str, Any]:
        from mcproof_sandbox.platform.control import PlatformServices

        return PlatformServices(self.state_dir).stop_for_restart()

    def start_platform_api(self, timeout_s: float) -> dict[str, Any]:
        from mcproof_sandbox.platform.control import PlatformServices

        try:
            return PlatformServices(self.state_dir).restart(timeout_s)
        except SandboxError:
            raise
