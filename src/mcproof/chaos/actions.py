"""Chaos Toolkit actions: process faults through the environment's fault injector, network faults on the fault path.

Plain typed functions (``"module": "mcproof.chaos.actions"``), JSON-safe results. Victims are chosen by
:func:`mcproof.chaos.scope.select_victims` with the run's seed, so the runner knows them in advance.
Each action re-checks the blast radius and namespace before touching anything. Every fault action's
output names what it affected (``servers``: observer target ids), so the runner can check the observer
saw exactly those degrade (:mod:`mcproof.chaos.effect`). Kubernetes faults are
not here: experiments call ``chaosk8s`` (``chaosk8s.pod.actions.terminate_pods`` ...) directly.
"""

from __future__ import annotations

from typing import Any

from mcproof.chaos.guard import check_blast_radius, check_namespace
from mcproof.chaos.netfault import FaultProxy, active_proxy
from mcproof.chaos.scope import environment_from, seed_from, select_victims, targets_of
from mcproof.connect import fault_injector
from mcproof.errors import GuardError

__all__ = [
    "add_network_latency",
    "add_network_loss",
    "clear_faults",
    "hang_servers",
    "heal_network",
    "kill_servers",
    "lag_servers",
    "partition_network",
    "refuse_servers",
    "slow_servers",
    "start_platform_api",
    "stop_platform_api",
    "stop_servers",
    "wait_for_recovery",
]

Configuration = dict[str, Any] | None


def _fault(
    kind: str,
    count: int | None,
    share: float | None,
    namespace: str | None,
    label_selector: str | None,
    configuration: Configuration,
    **params: Any,
) -> dict[str, Any]:
    env = environment_from(configuration)
    check_namespace(env, namespace, f"{kind}_servers")
    targets = targets_of(env)
    victims = select_victims(
        targets,
        count=count,
        share=share,
        seed=seed_from(configuration),
        namespace=namespace,
        label_selector=label_selector,
    )
    check_blast_radius(env, len(victims), len(targets), f"{kind}_servers")
    ids = [t.id for t in victims]
    done = fault_injector(env).inject(kind, ids, **params)
    return {**done.as_dict(), "fleet": len(targets)}


def kill_servers(
    count: int | None = None,
    share: float | None = None,
    restart: bool = True,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Kill ``count`` servers (or a ``share`` of the fleet); the platform restarts them when ``restart``."""
    return _fault("kill", count, share, namespace, label_selector, configuration, restart=restart)


def stop_servers(
    count: int | None = None,
    share: float | None = None,
    restart: bool = True,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Stop servers cleanly (their players are kicked "Server closed"); restarted when ``restart``."""
    return _fault("stop", count, share, namespace, label_selector, configuration, restart=restart)


def lag_servers(
    tps: float = 5.0,
    count: int | None = None,
    share: float | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Make servers lag: they tick at ``tps`` (world time advances that fast) until ``clear_faults``."""
    return _fault("lag", count, share, namespace, label_selector, configuration, tps=tps)


def hang_servers(
    count: int | None = None,
    share: float | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Make servers accept connections and never answer (until ``clear_faults``)."""
    return _fault("hang", count, share, namespace, label_selector, configuration)


def slow_servers(
    delay_s: float = 1.0,
    count: int | None = None,
    share: float | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Delay every status reply of the chosen servers by ``delay_s``."""
    return _fault("slow", count, share, namespace, label_selector, configuration, delay_s=delay_s)


def refuse_servers(
    count: int | None = None,
    share: float | None = None,
    namespace: str | None = None,
    label_selector: str | None = None,
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Close the chosen servers' ports (connection refused) until ``clear_faults``."""
    return _fault("refuse", count, share, namespace, label_selector, configuration)


def clear_faults(configuration: Configuration = None) -> dict[str, Any]:
    """Rollback: undo every process fault (killed and refused servers come back) and heal the fault path."""
    env = environment_from(configuration)
    healed = heal_network()
    cleared = fault_injector(env).clear(None)
    return {"cleared": cleared, "network": healed}


def _proxy() -> FaultProxy:
    proxy = active_proxy()
    if proxy is None:
        raise GuardError(
            "no fault proxy runs in this process; network experiments run through `mcproof chaos run` "
            "(or the chaos suite), which fronts the chosen targets with one"
        )
    return proxy


def _on_path(proxy: FaultProxy, **fault: Any) -> dict[str, Any]:
    """Set ``fault`` on the path; the output names the servers behind it (the runner checks it was seen)."""
    return {"path": proxy.set_fault(**fault).as_dict(), "servers": [t.id for t in proxy.front_list]}


def add_network_latency(latency_ms: float = 200.0, configuration: Configuration = None) -> dict[str, Any]:
    """Hold every chunk on the fault path ``latency_ms`` before forwarding it."""
    return _on_path(_proxy(), latency_ms=latency_ms)


def add_network_loss(loss: float = 0.5, configuration: Configuration = None) -> dict[str, Any]:
    """Blackhole a share ``loss`` of new connections on the fault path."""
    return _on_path(_proxy(), loss=loss)


def partition_network(mode: str = "drop", configuration: Configuration = None) -> dict[str, Any]:
    """Cut the fault path: ``drop`` (blackhole, clients time out) or ``reject`` (reset at once)."""
    return _on_path(_proxy(), partition=mode)


def heal_network(configuration: Configuration = None) -> dict[str, Any]:
    """Rollback: remove the fault on the path (no-op without a proxy)."""
    proxy = active_proxy()
    return {"path": proxy.heal().as_dict()} if proxy is not None else {"path": None}


def wait_for_recovery(
    timeout_s: float | None = None, source: str = "environment", configuration: Configuration = None
) -> dict[str, Any]:
    """Rollback for faults the platform heals itself (pod kill): wait, bounded, until the fleet serves.

    ``source="kubernetes"`` waits for the environment's Minecraft pods (see :mod:`mcproof.chaos.probes`)."""
    from mcproof.chaos.probes import wait_until_fleet_serving

    return wait_until_fleet_serving(timeout_s=timeout_s, source=source, configuration=configuration)


def stop_platform_api(configuration: Configuration = None) -> dict[str, Any]:
    """Stop the sandbox's platform API daemon (an outage: clients get connection refused)."""
    from mcproof.chaos.platform_api import API_TARGET, stop_platform

    result = stop_platform(environment_from(configuration))
    return {**result, "servers": [API_TARGET] if result.get("stopped") else []}


def start_platform_api(timeout_s: float = 30.0, configuration: Configuration = None) -> dict[str, Any]:
    """Start the sandbox's platform API daemon again on its old port (no-op when it runs): the platform's
    restart in the method, and the rollback."""
    from mcproof.chaos.platform_api import restart_platform

    return restart_platform(environment_from(configuration), timeout_s)
