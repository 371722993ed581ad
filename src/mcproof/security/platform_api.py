"""Which platform API the security checks talk to, and with which tokens.

Found by :mod:`mcproof.connect.platform` like every platform endpoint: the environment's ``platform_api``
section (its ``token`` and, for the cross-tenant check, its ``second_tenant_token``), else the sandbox's
own API (its tenants' tokens). Raw requests go through :class:`PlatformClient`
(timeouts, no proxies, the CA file, no redirects), so an invalid token is just another client.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mcproof.connect.platform import platform_endpoint, second_tenant_token
from mcproof.platform.client import PlatformClient
from mcproof.secrets import Secret

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["ApiTarget", "api_target", "hsts_max_age"]

_MAX_AGE = re.compile(r"max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class ApiTarget:
    """The API under test: its URL, how to verify TLS, and clients for up to two tenants."""

    base_url: str
    ca_file: Path | None
    tenant_a: PlatformClient | None
    tenant_b: PlatformClient | None
    secrets: tuple[Secret, ...]

    def client(self, token: Secret | None) -> PlatformClient:
        """A client with any token (None: anonymous), e.g. a deliberately invalid one."""
        return PlatformClient(self.base_url, token, ca_file=self.ca_file, timeout=10.0)


def api_target(env: Environment) -> ApiTarget:
    """The environment's API target; raises ``NoPlatformApi`` (the reason to skip) when it has none."""
    endpoint = platform_endpoint(env, "alpha")
    tokens = [
        ref.resolve(env.base_dir) if ref is not None else None for ref in (endpoint.token, second_tenant_token(env))
    ]
    clients = [
        PlatformClient(endpoint.base_url, t, ca_file=endpoint.ca_file) if t is not None else None for t in tokens
    ]
    found = tuple(t for t in tokens if t is not None)
    return ApiTarget(endpoint.base_url.rstrip("/"), endpoint.ca_file, clients[0], clients[1], found)


def hsts_max_age(value: str) -> int:
    """``max-age`` of a Strict-Transport-Security header, 0 when absent.

    >>> hsts_max_age("max-age=31536000; includeSubDomains")
    31536000
    """
    m = _MAX_AGE.search(value)
    return int(m.group(1)) if m else 0
