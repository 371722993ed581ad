"""Chaos through a hosting panel's own API: what a platform lets its operators do, nothing more.

Faults a Pterodactyl/Pelican panel offers through its client API (``platform: {kind: pterodactyl}``, via
:func:`mcproof.connect.platform.platform_adapter`): power ``kill`` (a crash: unsaved world data lost), ``stop``
and ``restart``; the rollback powers the server on and waits until the panel says ``running``. Each acts
on the environment's ``platform.server`` (or the ``server`` argument), and names what it hit in
``servers`` as the observer's target id (the discovered target at the panel server's allocation
``ip:port``), so the runner's fault-effect check sees it. Without a ``platform`` section they refuse
with the reason. Chaos Toolkit calls them by module path (``mcproof.chaos.panel``).
"""

from __future__ import annotations

import time
from typing import Any

from mcproof.chaos.scope import environment_from, targets_of
from mcproof.config import Environment
from mcproof.errors import GuardError

__all__ = [
    "panel_kill_server",
    "panel_restart_server",
    "panel_server_running",
    "panel_start_server",
    "panel_stop_server",
]

Configuration = dict[str, Any] | None


def _panel(env: Environment, server: str | None) -> tuple[Any, str]:
    from mcproof.connect.platform import pterodactyl_adapter

    if env.platform is None:
        raise GuardError(
            f"environment '{env.name}' has no platform section; panel faults need "
            "platform: {kind: pterodactyl, server: ...}"
        )
    ident = server or env.platform.server
    if not ident:
        raise GuardError(f"environment '{env.name}': name the server panel faults may hit in platform.server")
    return pterodactyl_adapter(env), ident


def _target_id(env: Environment, host: str, port: int) -> str:
    """The observer's id of the target at ``host:port`` (``host:port`` itself when discovery lists none)."""
    found = next((t.id for t in targets_of(env) if (t.host, t.port) == (host, port)), None)
    return found or f"{host}:{port}"


def _signal(signal: str, server: str | None, configuration: Configuration) -> dict[str, Any]:
    env = environment_from(configuration)
    adapter, ident = _panel(env, server)
    record = adapter.get_server(ident)
    adapter.power(ident, signal)
    return {
        "server": ident,
        "signal": signal,
        "at": time.time(),
        "servers": [_target_id(env, record.host, record.port)],
    }


def panel_kill_server(server: str | None = None, configuration: Configuration = None) -> dict[str, Any]:
    """Power ``kill`` through the panel: the server process dies at once, unsaved world data is lost."""
    return _signal("kill", server, configuration)


def panel_stop_server(server: str | None = None, configuration: Configuration = None) -> dict[str, Any]:
    """Power ``stop`` through the panel: the server saves and shuts down."""
    return _signal("stop", server, configuration)


def panel_restart_server(server: str | None = None, configuration: Configuration = None) -> dict[str, Any]:
    """Power ``restart`` through the panel."""
    return _signal("restart", server, configuration)


def panel_start_server(
    server: str | None = None, timeout_s: float = 60.0, configuration: Configuration = None
) -> dict[str, Any]:
    """Rollback: power ``start`` unless running, and wait (bounded) until the panel says ``running``."""
    env = environment_from(configuration)
    adapter, ident = _panel(env, server)
    started = time.monotonic()
    if adapter.state(ident) != "running":
        adapter.power(ident, "start")
    state = adapter.wait_state(ident, {"running"}, timeout_s)
    return {"server": ident, "state": state, "waited_s": round(time.monotonic() - started, 3)}


def panel_server_running(server: str | None = None, configuration: Configuration = None) -> bool:
    """Probe: the panel reports the server ``running``."""
    env = environment_from(configuration)
    adapter, ident = _panel(env, server)
    return bool(adapter.state(ident) == "running")
