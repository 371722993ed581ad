"""Where targets come from: a static list in the environment file, Kubernetes Services, or the embedded sandbox.

Kubernetes services and the platform API are further sources (see the environment model's
`kubernetes` and `platform_api` sections).
"""

from __future__ import annotations

from mcproof.config import Environment, KubernetesDiscovery, SandboxDiscovery, StaticDiscovery
from mcproof.target import Target, ensure_loopback, is_loopback

__all__ = ["Target", "discover_targets", "ensure_loopback", "is_loopback"]


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
        from mcproof.connect.sandbox import sandbox_targets

        targets = sandbox_targets(state_dir)
    elif isinstance(discovery, KubernetesDiscovery):
        from mcproof.connect.kubernetes import kubernetes_targets

        targets = kubernetes_targets(env, discovery.port_name)
    else:
        targets = _static_targets(discovery)
    if env.guards.loopback_only or env.uses_sandbox:
        ensure_loopback(targets, env.name)
    return targets
