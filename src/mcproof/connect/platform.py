"""Which platform API an environment offers: its ``platform_api`` section, or the sandbox's own API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcproof.errors import McproofError
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.platform.control import read_platform_info

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["NoPlatformApi", "platform_client"]


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
