"""Which platform API an environment offers: its ``platform_api`` section, or the sandbox's own API."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcproof.errors import McproofError, NoPlatformApi
from mcproof.platform.adapter import PlatformAdapter
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef

if TYPE_CHECKING:
    from mcproof.config import Environment
    from mcproof.platform.pterodactyl import PterodactylAdapter

__all__ = [
    "NoPlatformApi",
    "PlatformEndpoint",
    "platform_client",
    "platform_endpoint",
    "platform_source",
    "second_tenant_token",
]


@dataclass(frozen=True)
class PlatformEndpoint:
    """Where an environment's platform API is and how to authenticate (the token as a reference, unread)."""

    base_url: str
    token: SecretRef | None
    ca_file: Path | None
    source: str  # "environment" (its platform_api section) or "sandbox"


def platform_endpoint(env: Environment, tenant: str = "alpha") -> PlatformEndpoint:
    """The environment's platform API (``platform_api``, else the sandbox's own); NoPlatformApi names what to
    configure or start."""
    api = env.platform_api
    if api is not None:
        token = api.token
        if token is not None and token.file is not None:
            token = SecretRef(file=env.resolve_path(token.file))
        ca = env.resolve_path(api.ca_file) if api.ca_file is not None else None
        return PlatformEndpoint(api.base_url, token, ca, "environment")
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        raise NoPlatformApi(f"environment '{env.name}' has no platform_api section; add base_url and token")
    from mcproof.connect.sandbox import platform_endpoint as sandbox_endpoint

    found = sandbox_endpoint(state_dir, tenant)
    if found is None:
        raise NoPlatformApi(
            f"no sandbox platform API runs in {state_dir}; start the sandbox with `mcproof sandbox up --env {env.name}`"
        )
    url, token_file, ca_file = found
    return PlatformEndpoint(url, SecretRef(file=token_file), ca_file, "sandbox")


def platform_source(env: Environment) -> str | None:
    """Where the environment's platform API comes from: ``"environment"`` (its ``platform_api`` section),
    ``"sandbox"`` (the sandbox's own, whether it runs now or not) or None (it has none)."""
    if env.platform_api is not None:
        return "environment"
    return "sandbox" if env.sandbox_state_dir is not None else None


def second_tenant_token(env: Environment) -> SecretRef | None:
    """A second tenant's token for the cross-tenant checks: ``platform_api.second_tenant_token``, else the
    sandbox's tenant ``beta``; None when the environment has no second tenant."""
    if env.platform_api is not None:
        ref = env.platform_api.second_tenant_token
        if ref is not None and ref.file is not None:
            ref = SecretRef(file=env.resolve_path(ref.file))
        return ref
    try:
        return platform_endpoint(env, "beta").token
    except McproofError:  # no sandbox API, or it runs without a second tenant
        return None


def platform_client(env: Environment, tenant: str = "alpha") -> PlatformClient:
    """A client for the environment's platform API; NoPlatformApi names what to configure."""
    endpoint = platform_endpoint(env, tenant)
    token = endpoint.token.resolve(env.base_dir) if endpoint.token is not None else None
    return PlatformClient(endpoint.base_url, token, ca_file=endpoint.ca_file)


def platform_adapter(env: Environment, tenant: str = "alpha") -> PlatformAdapter:
    """The adapter the DR drill, provisioning and panel chaos use: ``platform`` when set (a panel's own
    API, e.g. Pterodactyl), else the mcproof platform API (``platform_api``, or the sandbox's)."""
    if env.platform is not None:
        return pterodactyl_adapter(env)
    return platform_client(env, tenant)


def panel_server(env: Environment) -> str | None:
    """The server the environment lets mcproof disrupt on a panel that cannot create servers (``platform.server``)."""
    return env.platform.server if env.platform is not None else None


def pterodactyl_adapter(env: Environment) -> PterodactylAdapter:
    """The Pterodactyl client-API adapter of ``platform: {kind: pterodactyl}`` (a real panel, or the sandbox's face)."""
    from mcproof.platform.pterodactyl import PterodactylAdapter

    cfg = env.platform
    if cfg is None:
        raise NoPlatformApi(f"environment '{env.name}' has no platform section; add platform: {{kind: pterodactyl}}")
    knobs: dict[str, Any] = {
        "timeout": cfg.request_timeout_s,
        "backup_timeout_s": cfg.backup_timeout_s,
        "restore_timeout_s": cfg.restore_timeout_s,
        "console_timeout_s": cfg.console_timeout_s,
        "poll_s": cfg.poll_s,
        "world_dir": cfg.world_dir,
    }
    if cfg.url is not None:
        assert cfg.api_key is not None  # the model requires it with a url
        ca = env.resolve_path(cfg.ca_file) if cfg.ca_file is not None else None
        return PterodactylAdapter(cfg.url, cfg.api_key.resolve(env.base_dir), ca_file=ca, **knobs)
    state_dir = env.sandbox_state_dir
    from mcproof.connect.sandbox import panel_endpoint

    found = panel_endpoint(state_dir, cfg.tenant) if state_dir is not None else None
    if found is None:
        raise NoPlatformApi(
            f"no sandbox platform API runs in {state_dir}; start the sandbox with `mcproof sandbox up --env {env.name}`"
        )
    url, key_file, ca_file = found
    return PterodactylAdapter(url, SecretRef(file=key_file).resolve(), ca_file=ca_file, **knobs)
