"""Chaos Toolkit probes that speak Minecraft: plain typed functions, JSON-safe results.

Call them from an experiment by module path (``"module": "mcproof.chaos.probes"``) or directly from
pytest. ``configuration`` is chaoslib's (it names the environment, see :mod:`mcproof.chaos.scope`).

``source`` picks the fleet: ``"environment"`` (default: the environment's discovered targets) or
``"kubernetes"`` (the environment's Minecraft pods, re-read on every poll; a pod the workloads want
but that has no ready endpoint counts as not serving), for experiments that act through chaosk8s.

Example::

    {"type": "probe", "name": "fleet-serves", "tolerance": true,
     "provider": {"type": "python", "module": "mcproof.chaos.probes", "func": "fleet_meets_serving_slo"}}
"""

from __future__ import annotations

import time
from typing import Any

from mcproof.chaos.netfault import active_proxy
from mcproof.chaos.scope import environment_from, matches_labels, parse_selector, targets_of
from mcproof.config import Environment
from mcproof.errors import ConfigError
from mcproof.minecraft.status import status_ping
from mcproof.minecraft.sweep import sweep_fleet
from mcproof.stats import percentile
from mcproof.target import Target

__all__ = [
    "fault_path_serving",
    "fleet_meets_serving_slo",
    "fleet_serving_ratio",
    "platform_api_ready",
    "selector_targets_serving",
    "server_answers_status",
    "status_latency_p95_below",
    "wait_until_fleet_serving",
    "wait_until_platform_api_ready",
]

Configuration = dict[str, Any] | None
SOURCES = ("environment", "kubernetes")


def server_answers_status(host: str, port: int = 25565, timeout: float = 3.0) -> bool:
    """True when ``host:port`` answers a Server List Ping within ``timeout``."""
    return status_ping(host, port, timeout=timeout).ok


def _ratio(targets: list[Target], timeout: float, concurrency: int) -> float:
    if not targets:
        return 0.0
    return sweep_fleet(targets, timeout=timeout, concurrency=concurrency).serving_ratio


class _Fleet:
    """The targets a probe sweeps, and how many it expects to serve (``source`` above)."""

    def __init__(self, env: Environment, source: str, *, watch: bool = False) -> None:
        if source not in SOURCES:
            raise ConfigError(f"source must be one of {', '.join(SOURCES)}, got {source!r}; fix the experiment")
        self.env = env
        self._kube = None
        if source == "kubernetes":
            from mcproof.chaos.kube import KubeFleet

            self._kube = KubeFleet(env, watch=watch)

    def ratio(self, timeout: float) -> float:
        if self._kube is None:
            return _ratio(targets_of(self.env), timeout, self.env.minecraft.sweep_concurrency)
        targets = self._kube.targets()
        want = max(self._kube.expected(), len(targets))
        if want == 0:
            return 0.0
        serving = sweep_fleet(targets, timeout=timeout, concurrency=self.env.minecraft.sweep_concurrency).serving
        return serving / want

    def close(self) -> None:
        if self._kube is not None:
            self._kube.close()


def fleet_serving_ratio(
    timeout: float | None = None, source: str = "environment", configuration: Configuration = None
) -> float:
    """Share of the fleet (``source``) answering a status ping now (one concurrent sweep)."""
    env = environment_from(configuration)
    limit = timeout or env.minecraft.status_timeout_s
    return round(_Fleet(env, source).ratio(limit), 6)


def fleet_meets_serving_slo(
    min_ratio: float | None = None, source: str = "environment", configuration: Configuration = None
) -> bool:
    """True when the fleet's serving ratio is at least ``min_ratio`` (default: the environment's SLO)."""
    env = environment_from(configuration)
    floor = env.slo.serving_ratio if min_ratio is None else min_ratio
    return fleet_serving_ratio(source=source, configuration=configuration) >= floor


def status_latency_p95_below(
    bound_ms: float | None = None,
    servers: int = 20,
    rounds: int = 3,
    via_fault_proxy: bool = False,
    configuration: Configuration = None,
) -> bool:
    """True when sequential status pings of up to ``servers`` targets have p95 latency under ``bound_ms``.

    ``via_fault_proxy`` measures through the running fault proxy's fronts (the faulted path).
    A failed ping counts as infinitely slow.
    """
    env = environment_from(configuration)
    bound = env.slo.status_latency_p95_ms if bound_ms is None else bound_ms
    proxy = active_proxy()
    targets = proxy.front_list if via_fault_proxy and proxy is not None else targets_of(env)
    if via_fault_proxy and proxy is None:
        return False
    chosen = targets[: max(1, servers)]
    samples: list[float] = []
    for _ in range(max(1, min(rounds, 20))):
        for target in chosen:
            result = status_ping(target.host, target.port, timeout=env.minecraft.status_timeout_s)
            samples.append(result.latency_ms if result.ok and result.latency_ms is not None else float("inf"))
    return percentile(samples, 95) <= bound


def selector_targets_serving(
    label_selector: str, namespace: str | None = None, configuration: Configuration = None
) -> bool:
    """True when every target matching ``label_selector`` (and ``namespace``) answers; False if none match."""
    env = environment_from(configuration)
    selector = parse_selector(label_selector)
    chosen = [t for t in targets_of(env) if matches_labels(t, selector) and (namespace in (None, t.namespace))]
    return bool(chosen) and _ratio(chosen, env.minecraft.status_timeout_s, env.minecraft.sweep_concurrency) == 1.0


def fault_path_serving(configuration: Configuration = None) -> bool:
    """True when every front of the running fault proxy answers (False when no proxy runs)."""
    env = environment_from(configuration)
    proxy = active_proxy()
    if proxy is None:
        return False
    return _ratio(proxy.front_list, env.minecraft.status_timeout_s, env.minecraft.sweep_concurrency) == 1.0


def wait_until_fleet_serving(
    timeout_s: float | None = None,
    poll_s: float = 0.25,
    via_fault_proxy: bool = False,
    source: str = "environment",
    configuration: Configuration = None,
) -> dict[str, Any]:
    """Poll until the fleet (``source``, or the fault path) fully serves or ``timeout_s`` passes (default:
    ``chaos.recovery_window_s``); never fails, returns ``{"serving": bool, "waited_s": float, "polls": int}``."""
    from mcproof.chaos.scope import chaos_settings

    env = environment_from(configuration)
    window = min(timeout_s or chaos_settings(env).recovery_window_s, chaos_settings(env).recovery_window_s)
    proxy = active_proxy()
    fleet = _Fleet(env, source, watch=True)  # pods watched, not listed again at every poll
    targets = proxy.front_list if via_fault_proxy and proxy is not None else None
    timeout = min(env.minecraft.status_timeout_s, 1.0)
    start = time.monotonic()
    polls = 0
    serving = False
    try:
        while polls < 100_000:
            polls += 1
            if targets is not None:
                serving = _ratio(targets, timeout, env.minecraft.sweep_concurrency) == 1.0
            else:
                serving = fleet.ratio(timeout) == 1.0
            if serving or time.monotonic() - start >= window:
                break
            time.sleep(poll_s)
    finally:
        fleet.close()
    return {"serving": serving, "waited_s": round(time.monotonic() - start, 3), "polls": polls}


def platform_api_ready(timeout: float = 2.0, configuration: Configuration = None) -> bool:
    """True when the environment's platform API answers ``GET /readyz`` with 2xx (TLS, its CA) within ``timeout``."""
    import asyncio

    from mcproof.chaos.platform_api import check_ready

    return asyncio.run(check_ready(environment_from(configuration), timeout)).ok


def wait_until_platform_api_ready(
    timeout_s: float | None = None, poll_s: float = 0.25, configuration: Configuration = None
) -> dict[str, Any]:
    """Poll ``/readyz`` until it answers or ``timeout_s`` passes (default and cap: ``chaos.recovery_window_s``);
    never fails, returns ``{"ready": bool, "waited_s": float, "polls": int}``."""
    from mcproof.chaos.scope import chaos_settings

    env = environment_from(configuration)
    window = min(timeout_s or chaos_settings(env).recovery_window_s, chaos_settings(env).recovery_window_s)
    start = time.monotonic()
    polls, ready = 0, False
    while polls < 100_000:
        polls += 1
        ready = platform_api_ready(timeout=min(2.0, env.minecraft.status_timeout_s), configuration=configuration)
        if ready or time.monotonic() - start >= window:
            break
        time.sleep(poll_s)
    return {"ready": ready, "waited_s": round(time.monotonic() - start, 3), "polls": polls}
