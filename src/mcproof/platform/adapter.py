"""The contract the harness needs from a hosting panel, independent of its HTTP API.

:class:`PlatformAdapter` is what DR drills, smoke checks and provisioning load call. The mcproof
sandbox API implements it in :mod:`mcproof.platform.client`; a panel such as Pterodactyl gets its own
adapter (mapping in ``docs/platform-adapters.md``). Methods a panel cannot offer raise :class:`Unsupported`, and
checks that need them are skipped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from mcproof.errors import ApiCallError, ConflictError, CredentialsError, NotFoundError, RateLimitedError, Unsupported

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
    def list_files(self, server_id: str, directory: str = "/") -> list[dict[str, Any]]: ...
    def delete_files(self, server_id: str, files: list[str], root: str = "/") -> dict[str, Any]: ...
    def write_file(self, server_id: str, file: str, content: str) -> dict[str, Any]: ...

    @property
    def world_root(self) -> str:
        """The world's directory in the file manager ("/": the server's files are its world)."""
        ...
