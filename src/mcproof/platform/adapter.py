"""The contract the harness needs from a hosting panel, independent of its HTTP API.

:class:`PlatformAdapter` is what DR drills, smoke checks and provisioning load call. The mcproof
sandbox API implements it in :mod:`mcproof.platform.client`; a panel such as Pterodactyl gets its own
adapter (mapping in ``docs/platform-adapters.md``). Methods a panel cannot offer raise :class:`Unsupported`, and
checks that need them are skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mcproof.errors import McproofError

__all__ = [
    "ApiCallError",
    "ConflictError",
    "CredentialsError",
    "NotFoundError",
    "PlatformAdapter",
    "RateLimitedError",
    "ServerRecord",
    "Unsupported",
]


class ApiCallError(McproofError):
    """The platform API answered with an error (status, message, correlation id) or not at all."""

    def __init__(self, message: str, status: int = 0, correlation_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.correlation_id = correlation_id


class CredentialsError(ApiCallError):
    """401/403: the API refused the key or token (or its user lacks the permission)."""


class NotFoundError(ApiCallError):
    """404: no such server (identifier) or backup for these credentials."""


class ConflictError(ApiCallError):
    """409: the server's state conflicts (restoring a backup, a backup already in progress, installing)."""


class RateLimitedError(ApiCallError):
    """429 with a Retry-After longer than the call's deadline allows."""


class Unsupported(McproofError):
    """The panel behind this adapter has no equivalent of the requested operation."""


@dataclass(frozen=True)
class ServerRecord:
    id: str
    name: str
    host: str
    port: int
    power: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "host": self.host, "port": self.port, "power": self.power}


@runtime_checkable
class PlatformAdapter(Protocol):
    def health(self) -> dict[str, Any]: ...
    def list_servers(self) -> list[ServerRecord]: ...
    def create_server(self, name: str = "") -> ServerRecord: ...
    def get_server(self, server_id: str) -> ServerRecord: ...
    def delete_server(self, server_id: str) -> None: ...
    def power(self, server_id: str, signal: str) -> dict[str, Any]: ...
    def list_backups(self, server_id: str) -> list[dict[str, Any]]: ...
    def create_backup(self, server_id: str) -> dict[str, Any]: ...
    def restore_backup(self, server_id: str, backup_id: str) -> dict[str, Any]: ...
    def command(self, server_id: str, command: str) -> dict[str, Any]: ...
    def world(self, server_id: str) -> dict[str, Any]: ...
    def inject_disaster(self, server_id: str, kind: str) -> dict[str, Any]: ...
