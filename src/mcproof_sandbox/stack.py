"""Start the embedded sandbox for a run when the environment needs it, and stop it afterwards.

Only the CLI uses this: suites never know whether they talk to the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from mcproof.config import Environment, SandboxFleetBuffer
from mcproof.monitoring.settings import SANDBOX
from mcproof_sandbox.fleet.control import Sandbox
from mcproof_sandbox.fleet.spec import SandboxSpec
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.monitoring.services import MonitoringServices, PrometheusSpec
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig


def sandbox_spec(env: Environment) -> SandboxSpec:
    """The SandboxSpec an environment's `sandbox` section describes."""
    settings = env.sandbox
    assert settings is not None
    return SandboxSpec(
        servers=settings.servers,
        version_name=settings.version_name,
        protocol=settings.protocol,
        motd=settings.motd,
        max_players=settings.max_players,
        tick_rate=settings.tick_rate,
        boot_delay_s=settings.boot_delay_s,
        base_address=settings.base_address,
        query_enabled=env.minecraft.query_enabled,
    )


@contextmanager
def sandbox_for_run(env: Environment, *, keep: bool, echo: Callable[[str], None]) -> Iterator[None]:
    """Ensure the environment's sandbox runs for the duration; stop it if we started it (unless keep)."""
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        yield
        return
    sandbox = Sandbox(state_dir)
    started = False
    if sandbox.status() is None:
        spec = sandbox_spec(env)
        echo(f"mcproof: starting the sandbox ({spec.servers} servers) in {state_dir} ...")
        status = sandbox.up(spec)
        started = True
        echo(f"mcproof: sandbox ready: {len(status.servers)} servers")
    kube_started: Path | None = None
    platform: PlatformServices | None = None
    monitoring: MonitoringServices | None = None
    try:
        kube_started = _start_cluster(env, echo)
        platform = _start_platform(env, state_dir, echo)
        monitoring = _start_monitoring(env, state_dir, echo)
        yield
    finally:
        if monitoring is not None and not keep:
            echo("mcproof: stopping the sandbox Prometheus")
            monitoring.down()
        if platform is not None and not keep:
            echo("mcproof: stopping the sandbox platform API")
            platform.down()
        if kube_started and not keep:
            echo("mcproof: stopping the embedded Kubernetes cluster")
            EmbeddedCluster(kube_started).down()
        if started and not keep:
            echo("mcproof: stopping the sandbox")
            sandbox.down()


def _start_cluster(env: Environment, echo: Callable[[str], None]) -> Path | None:
    """Start the environment's embedded cluster unless it runs; its state dir if we started it."""
    from mcproof_sandbox.kube.embedded import start_embedded

    kube_dir = env.kube_state_dir
    if kube_dir is None or env.kubernetes is None or env.kubernetes.embedded is None:
        return None
    if EmbeddedCluster(kube_dir).status() is not None:
        return None
    start_embedded(kube_dir, env, env.kubernetes.embedded, echo=echo)
    return kube_dir


def _fleet_buffer(buffer: SandboxFleetBuffer | None) -> dict[str, Any]:
    if buffer is None:
        return {}
    return {"fleet_buffer_size": buffer.size, "fleet_pool_size": buffer.pool, "fleet_boot_s": buffer.boot_s}


def _start_platform(env: Environment, state_dir: Path, echo: Callable[[str], None]) -> PlatformServices | None:
    """Start the sandbox's platform API (servers, power, backups) unless the environment names its own
    or it already runs; the handle if we started it."""
    if env.platform_api is not None:
        return None
    services = PlatformServices(state_dir)
    if services.info() is not None:
        return None
    sandbox = env.sandbox
    tenant = env.dr.tenant if env.dr is not None else "alpha"
    config = EngineConfig(
        environment=env.name,
        backup_interval_s=sandbox.backup_interval_s if sandbox is not None else 0.0,
        provision_tenant=tenant if sandbox is not None and sandbox.provision_server else "",
        **_fleet_buffer(sandbox.fleet_buffer if sandbox is not None else None),
    )
    info = services.up(config, timeout=60.0)
    echo(f"mcproof: sandbox platform API at {info.url}")
    return services


def _start_monitoring(env: Environment, state_dir: Path, echo: Callable[[str], None]) -> MonitoringServices | None:
    """Start the sandbox's Prometheus + fleet exporter when the environment asks for the sandbox's own
    (``monitoring.prometheus_url: sandbox``) and it does not run yet; the handle if we started it."""
    if env.monitoring is None or env.monitoring.prometheus_url != SANDBOX:
        return None
    services = MonitoringServices(state_dir)
    if services.info() is not None:
        return None
    spec = PrometheusSpec.from_settings(env.monitoring, env.name, env.slo.rpo_s)
    info = services.up(spec, kube_dir=env.kube_state_dir)
    echo(f"mcproof: sandbox Prometheus at {info.prometheus_url}")
    return services


def stop_platform_services(state_dir: Path) -> None:
    """Stop the sandbox's Prometheus and platform API if they run (idempotent; before the fleet goes)."""
    MonitoringServices(state_dir).down()
    PlatformServices(state_dir).down()
