"""Which platform API an environment offers: its ``platform`` section (another panel's API, e.g. Pterodactyl),
its ``platform_api`` section, or the sandbox's own API (both of its faces)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcproof.errors import McproofError
from mcproof.platform.adapter import PlatformAdapter
from mcproof.platform.client import PlatformClient
from mcproof.platform.control import read_platform_info
from mcproof.secrets import SecretRef

if TYPE_CHECKING:
    from mcproof.config import Environment
    from mcproof.platform.pterodactyl import PterodactylAdapter

__all__ = ["NoPlatformApi", "panel_server", "platform_adapter", "platform_client", "pterodactyl_adapter"]


class NoPlatformApi(McproofError):
    """The environment has no platform API to talk to (checks that need one are skipped with this reason)."""


def platform_client(env: Environment, tenant: str = "alpha") -> PlatformClient:
    """A client for the environment's platform API; NoPlatformApi names what to configure."""
    api = env.platform_api
    if api is not None:
        token = api.token.resolve(env.base_dir) if api.token is not None else None
        ca = env.resolve_path(api.ca_file) if api.ca_file is not None else None
        return PlatformClient(api.base_url, token, ca_file=ca)
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        raise NoPlatformApi(f"environment '{env.name}' has no platform_api section; add base_url and token")
    info = read_platform_info(state_dir)
    if info is None:
        raise NoPlatformApi(
            f"no sandbox platform API runs in {state_dir}; start it with `mcproof dr drill --env {env.name}` "
            "or PlatformServices(state_dir).up()"
        )
    token = SecretRef(file=info.token_file(tenant)).resolve()
    return PlatformClient(info.url, token, ca_file=info.ca_file)


def platform_adapter(env: Environment, tenant: str = "alpha") -> PlatformAdapter:
    """The adapter the DR drill, provisioning and panel chaos use: ``platform`` when set, else the native API."""
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
        "timeout": cfg.request_timeout_s, "backup_timeout_s": cfg.backup_timeout_s,
        "restore_timeout_s": cfg.restore_timeout_s, "console_timeout_s": cfg.console_timeout_s,
        "poll_s": cfg.poll_s, "world_dir": cfg.world_dir,
    }  # fmt: skip
    if cfg.url is not None:
        assert cfg.api_key is not None  # the model requires it with a url
        ca = env.resolve_path(cfg.ca_file) if cfg.ca_file is not None else None
        return PterodactylAdapter(cfg.url, cfg.api_key.resolve(env.base_dir), ca_file=ca, **knobs)
    state_dir = env.sandbox_state_dir
    info = read_platform_info(state_dir) if state_dir is not None else None
    if info is None:
        raise NoPlatformApi(
            f"no sandbox platform API runs in {state_dir}; start it with `mcproof dr drill --env {env.name}`"
        )
    key = SecretRef(file=info.api_key_file(cfg.tenant)).resolve()
    return PterodactylAdapter(info.url, key, ca_file=info.ca_file, **knobs)
