"""Where targets come from: a static list in the environment file or the embedded sandbox.

Kubernetes services and the platform API are further sources (see the environment model's
`kubernetes` and `platform_api` sections).
"""

from __future__ import annotations

import json
from pathlib import Path

from mcproof.config import Environment, KubernetesDiscovery, SandboxDiscovery, StaticDiscovery
from mcproof.discovery.target import Target, ensure_loopback, is_loopback
from mcproof.errors import SandboxError

__all__ = ["Target", "discover_targets", "ensure_loopback", "is_loopback", "sandbox_targets"]


def sandbox_targets(state_dir: Path) -> list[Target]:
    """Targets from a running sandbox's state.json (format: mcproof.sandbox.state)."""
    state_file = state_dir / "state.json"
    try:
        state = json.loads(state_file.read_text(encoding="utf-8"))
        servers = state["servers"]
        return [
            Target(
                id=str(s["id"]),
                host=str(s["host"]),
                port=int(s["port"]),
                edition=str(s.get("edition", "java")),
                query_port=s.get("query_port"),
                rcon_port=s.get("rcon_port"),
                source="sandbox",
            )
            for s in servers
        ]
    except FileNotFoundError:
        raise SandboxError(
            f"no sandbox state in {state_dir}; start it with 'mcproof sandbox up' (or 'make signoff')"
        ) from None
    except (ValueError, KeyError, TypeError) as err:
        raise SandboxError(
            f"sandbox state {state_file} is unreadable ({err!r}); run 'mcproof sandbox down' then 'up'"
        ) from None


def _static_targets(discovery: StaticDiscovery) -> list[Target]:
    return [
        Target(
            id=server.target_id,
            host=server.host,
            port=server.effective_port,
            edition=server.edition,
            query_port=server.query_port,
            rcon_port=server.rcon_port,
            source="static",
        )
        for server in discovery.servers
    ]


def discover_targets(env: Environment) -> list[Target]:
    """All Minecraft targets of an environment, loopback-checked when the environment demands it."""
    discovery = env.minecraft.discovery
    if isinstance(discovery, SandboxDiscovery):
        state_dir = env.sandbox_state_dir
        assert state_dir is not None
        targets = sandbox_targets(state_dir)
    elif isinstance(discovery, KubernetesDiscovery):
        from mcproof.discovery.kubernetes import kubernetes_targets

        targets = kubernetes_targets(env, discovery.port_name)
    else:
        targets = _static_targets(discovery)
    if env.guards.loopback_only or env.uses_sandbox:
        ensure_loopback(targets, env.name)
    return targets
