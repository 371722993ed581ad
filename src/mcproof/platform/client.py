"""Typed client for the mcproof platform API contract (``docs/platform-api.openapi.yaml``).

Every call has a timeout, sends a fresh ``X-Correlation-ID`` and raises :class:`ApiCallError` carrying the
status and correlation id; the token is never part of an error message or repr.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests

from mcproof.platform.adapter import ApiCallError, ServerRecord
from mcproof.secrets import Secret

__all__ = ["PlatformClient"]


class PlatformClient:
    """``PlatformClient("https://127.0.0.1:8443", token, ca_file=Path("ca.pem"))``; implements PlatformAdapter."""

    def __init__(
        self, base_url: str, token: Secret | None, *, ca_file: Path | None = None, timeout: float = 30.0
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.verify: str | bool = str(ca_file) if ca_file else True
        self.timeout = timeout
        self.session = requests.Session()
        self.session.trust_env = False  # never route loopback calls through a proxy from the environment
        self.last_correlation_id = ""

    def __repr__(self) -> str:
        return f"PlatformClient({self.base_url!r})"

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True
    ) -> requests.Response:
        """Raw call (negative tests use it); raises ApiCallError only when no answer came."""
        headers = {"X-Correlation-ID": uuid.uuid4().hex}
        if auth and self._token is not None:
            headers["Authorization"] = f"Bearer {self._token.reveal()}"
        try:
            resp = self.session.request(
                method,
                self.base_url + path,
                json=body,
                headers=headers,
                timeout=self.timeout,
                verify=self.verify,
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            raise ApiCallError(f"{method} {path}: no answer from {self.base_url} ({type(exc).__name__})") from None
        self.last_correlation_id = resp.headers.get("X-Correlation-ID", "")
        return resp

    def _json(self, method: str, path: str, body: dict[str, Any] | None = None, auth: bool = True) -> Any:
        resp = self.request(method, path, body, auth)
        cid = resp.headers.get("X-Correlation-ID", "")
        if resp.status_code >= 400:
            try:
                detail = str(resp.json().get("error", ""))
            except ValueError:
                detail = resp.text[:200]
            raise ApiCallError(
                f"{method} {path} -> {resp.status_code}: {detail} (correlation id {cid})", resp.status_code, cid
            )
        return None if resp.status_code == 204 else resp.json()

    def health(self) -> dict[str, Any]:
        return {
            "healthz": self._json("GET", "/healthz", auth=False),
            "readyz": self._json("GET", "/readyz", auth=False),
        }

    def metrics(self) -> str:
        return self.request("GET", "/metrics", auth=False).text

    @staticmethod
    def _server(data: dict[str, Any]) -> ServerRecord:
        return ServerRecord(
            str(data["id"]), str(data["name"]), str(data["host"]), int(data["port"]), str(data["power"])
        )

    def list_servers(self) -> list[ServerRecord]:
        return [self._server(s) for s in self._json("GET", "/v1/servers")["data"]]

    def create_server(self, name: str = "") -> ServerRecord:
        return self._server(self._json("POST", "/v1/servers", {"name": name}))

    def get_server(self, server_id: str) -> ServerRecord:
        return self._server(self._json("GET", f"/v1/servers/{server_id}"))

    def delete_server(self, server_id: str) -> None:
        self._json("DELETE", f"/v1/servers/{server_id}")

    def power(self, server_id: str, signal: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/servers/{server_id}/power", {"signal": signal}))

    def list_backups(self, server_id: str) -> list[dict[str, Any]]:
        return list(self._json("GET", f"/v1/servers/{server_id}/backups")["data"])

    def create_backup(self, server_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/servers/{server_id}/backups"))

    def restore_backup(self, server_id: str, backup_id: str) -> dict[str, Any]:
        return dict(self._json("POST", f"/v1/servers/{server_id}/backups/{backup_id}/restore"))

    def command(self, server_id: str, command: str) -> dict[str, Any]:
        """A console command (Pterodactyl: ``POST /api/client/servers/{id}/command``); ``reply`` is its output."""
        return dict(self._json("POST", f"/v1/servers/{server_id}/command", {"command": command}))

    def world(self, server_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/v1/servers/{server_id}/world"))

    @property
    def world_root(self) -> str:
        """The mcproof API's file manager is rooted in the server's world."""
        return "/"

    def list_files(self, server_id: str, directory: str = "/") -> list[dict[str, Any]]:
        """The server's files in ``directory`` (Pterodactyl: ``GET .../files/list?directory=``)."""
        query = urlencode({"directory": directory})
        return list(self._json("GET", f"/v1/servers/{server_id}/files/list?{query}")["data"])

    def delete_files(self, server_id: str, files: list[str], root: str = "/") -> dict[str, Any]:
        """Delete ``files`` under ``root`` (Pterodactyl: ``POST .../files/delete {root, files}``)."""
        return dict(self._json("POST", f"/v1/servers/{server_id}/files/delete", {"root": root, "files": files}))

    def write_file(self, server_id: str, file: str, content: str) -> dict[str, Any]:
        """Overwrite ``file`` (Pterodactyl: ``POST .../files/write?file=`` with the raw body)."""
        return dict(self._json("POST", f"/v1/servers/{server_id}/files/write", {"file": file, "content": content}))

    def backup_policy(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/backups/policy"))

    def audit_policy(self) -> dict[str, Any]:
        return dict(self._json("GET", "/v1/audit/policy"))

    def check_repository(self) -> dict[str, Any]:
        return dict(self._json("POST", "/v1/backups/check"))

    # --- the game-server fleet autoscaler (sandbox extension; 404: the platform runs none) ----------------

    def fleet(self) -> dict[str, Any]:
        """The fleet's policy (``buffer_size``...), a count per state and every pool server with its state."""
        return dict(self._json("GET", "/v1/fleet"))

    def allocate(self) -> dict[str, Any]:
        """A ready server of the buffer, allocated to this tenant (ApiCallError 409: none is ready)."""
        return dict(self._json("POST", "/v1/fleet/allocations", {}))

    def release(self, server_id: str) -> None:
        """Give an allocated server back to the buffer."""
        self._json("DELETE", f"/v1/fleet/allocations/{server_id}")
