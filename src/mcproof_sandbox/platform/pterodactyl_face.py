"""The sandbox platform's second face: the Pterodactyl/Pelican *client API* (``/api/client/...``), served by
the same daemon, over the same TLS, on the same engine and data as the native ``/v1`` face (target side).

Routes, JSON shapes and status codes follow pterodactyl/panel (``routes/api-client.php``, the Client
controllers and transformers; docs/platform-adapters.md has the mapping): the fractal envelope
``{"object": "list", "data": [{"object": "server", "attributes": {...}}], "meta": {"pagination": ...}}``,
errors ``{"errors": [{"code", "status", "detail"}]}``, Bearer API keys ``ptlc_...`` (one per tenant,
generated at start into ``<platform dir>/pterodactyl/<tenant>.key``, kept here as sha256 hashes only), a
per-key request budget (``pterodactyl_rate_limit`` per ``pterodactyl_rate_period_s``, 429 + Retry-After; the
panel's default is 720 a minute). What the real panel does asynchronously is asynchronous here too:

- ``POST .../backups`` answers at once with ``is_successful: false, completed_at: null``; restic runs in a
  thread and the backup completes later (``weak_backup_never_completes``: it never does, for tests);
- ``POST .../backups/{uuid}/restore {"truncate": bool}`` answers 204, the server's ``status`` is
  ``restoring_backup`` until it is done, then ``null``; like Wings, the server is left offline afterwards;
  the outcome is the activity event ``server:backup.restore-complete`` (or the panel's own spelling of the
  failure, ``server.backup.restore-failed``);
- console output comes over the node's websocket (``GET .../websocket`` gives a token and a ``wss://`` URL
  ``/api/servers/{uuid}/ws``, Wings' protocol: ``auth``, ``auth success``, ``send command``, ``console
  output``); ``POST .../command`` answers 204 without output, 502 when the server is offline.

Power ``kill`` is a crash (the engine drops unsaved world data), ``stop`` saves first; ``files/delete``
really deletes world files, ``files/write`` really overwrites them. The server root holds one folder,
``world`` (the engine's world directory). Why stdlib + wsproto: the native face is stdlib ``http.server``;
wsproto is the maintained sans-IO websocket protocol implementation (no framing written here).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import math
import re
import secrets
import shutil
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from mcproof_sandbox.platform.engine import ApiError, PlatformEngine
from mcproof_sandbox.platform.pterodactyl_ws import ConsoleSession, serve_websocket

if TYPE_CHECKING:
    from mcproof_sandbox.platform.api import _RequestHandler

__all__ = ["PterodactylFace", "atom", "identifier_for"]

log = logging.getLogger("mcproof.platform.pterodactyl")

KEY_DIR = "pterodactyl"
_MAX_BODY = 64 * 1024
_WS_TOKEN_S = 600.0  # the panel's websocket JWT lives 10 minutes
_IDENT = r"(?P<sid>[a-f0-9]{8}|[a-f0-9-]{36})"
_UUID = r"(?P<bid>[a-f0-9-]{36})"
_CODES = {
    400: "BadRequestHttpException",
    401: "AuthenticationException",
    403: "AccessDeniedHttpException",
    404: "NotFoundHttpException",
    405: "MethodNotAllowedHttpException",
    409: "ConflictHttpException",
    413: "PayloadTooLargeHttpException",
    422: "ValidationException",
    429: "TooManyRequestsHttpException",
    500: "HttpException",
    502: "HttpException",
}
_NOT_FOUND = "The requested resource could not be found on the server."
RESTORE_FAILED = "server.backup.restore-failed"  # sic: the panel's BackupStatusController spells it so


class PanelError(Exception):
    def __init__(self, status: int, detail: str, retry_after: float = 0.0) -> None:
        super().__init__(detail)
        self.status, self.detail, self.retry_after = status, detail, retry_after


def atom(ts: float) -> str:
    """Carbon's ``toAtomString()`` (second precision, offset), as the panel's transformers write times.

    >>> atom(0.9)
    '1970-01-01T00:00:00+00:00'
    """
    return dt.datetime.fromtimestamp(math.floor(ts), dt.UTC).isoformat(timespec="seconds")


def identifier_for(server_id: str) -> tuple[str, str]:
    """(identifier, uuid) of a sandbox server: the panel's 8-character ``uuidShort`` and its ``uuid``.

    >>> identifier_for("mc-00001")[0] == identifier_for("mc-00001")[1][:8]
    True
    """
    full = str(uuid.UUID(hashlib.sha256(f"mcproof:{server_id}".encode()).hexdigest()[:32]))
    return full[:8], full


def errors_body(status: int, detail: str) -> dict[str, Any]:
    return {"errors": [{"code": _CODES.get(status, "HttpException"), "status": str(status), "detail": detail}]}


def _paginate(items: list[dict[str, Any]], query: dict[str, str], default: int, cap: int, path: str) -> dict[str, Any]:
    """The fractal collection envelope for one page of ``items`` (already in ``{object, attributes}`` form)."""
    try:
        per_page = max(1, min(int(query.get("per_page", default)), cap))
        page = max(1, int(query.get("page", 1)))
    except ValueError:
        raise PanelError(422, "The page and per_page fields must be integers.") from None
    total_pages = max(1, math.ceil(len(items) / per_page))
    chunk = items[(page - 1) * per_page : page * per_page]
    links = {"next": f"{path}?page={page + 1}&per_page={per_page}"} if page < total_pages else {}
    pagination = {
        "total": len(items),
        "count": len(chunk),
        "per_page": per_page,
        "current_page": page,
        "total_pages": total_pages,
        "links": links,
    }
    return {"object": "list", "data": chunk, "meta": {"pagination": pagination}}


class PterodactylFace:
    """State the panel face keeps beside the engine: API keys, in-flight backups, restores, activity, websockets."""

    def __init__(self, engine: PlatformEngine, base_url: str) -> None:
        self.engine = engine
        self.base_url = base_url.rstrip("/")
        self._keys: dict[str, str] = {}  # sha256(key) -> tenant
        self._lock = threading.Lock()
        self._backups: dict[str, dict[str, Any]] = {}  # uuid -> face backup (in flight, failed, or made here)
        self._by_engine: dict[str, str] = {}  # engine backup id -> uuid handed out
        self._restoring: set[str] = set()
        self._activity: dict[str, list[dict[str, Any]]] = {}
        self._ws_tokens: dict[str, tuple[str, str, float]] = {}  # token -> (tenant, server id, expiry)
        self._budget: dict[str, tuple[float, int]] = {}  # key hash -> (window start, requests)
        self._consoles: dict[str, list[ConsoleSession]] = {}  # server id -> authenticated websockets

    # --- keys ------------------------------------------------------------------------------------

    def start(self, platform_dir: Path) -> dict[str, Path]:
        """A fresh ``ptlc_`` client API key per tenant in ``<platform_dir>/pterodactyl/<tenant>.key`` (0600)."""
        directory = platform_dir / KEY_DIR
        directory.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for tenant in self.engine.config.tenants:
            key = "ptlc_" + secrets.token_urlsafe(32)[:43]
            path = directory / f"{tenant}.key"
            path.touch(mode=0o600)
            path.write_text(key + "\n", encoding="utf-8")
            self._keys[hashlib.sha256(key.encode()).hexdigest()] = tenant
            paths[tenant] = path
        return paths

    def _tenant(self, handler: _RequestHandler) -> tuple[str, str]:
        auth = handler.headers.get("Authorization", "")
        key = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        digest = hashlib.sha256(key.encode()).hexdigest() if key else ""
        tenant = self._keys.get(digest) if digest else None
        if tenant is None:
            raise PanelError(401, "Unauthenticated.")
        return tenant, digest

    def _spend(self, digest: str) -> None:
        c = self.engine.config
        now = time.monotonic()
        with self._lock:
            start, used = self._budget.get(digest, (now, 0))
            if now - start >= c.pterodactyl_rate_period_s:
                start, used = now, 0
            if used >= c.pterodactyl_rate_limit:
                raise PanelError(429, "Too Many Attempts.", retry_after=c.pterodactyl_rate_period_s - (now - start))
            self._budget[digest] = (start, used + 1)

    # --- HTTP entry point ------------------------------------------------------------------------

    def handle(self, handler: _RequestHandler, method: str, cid: str) -> None:
        """Answer one request under ``/api/client`` or a websocket under ``/api/servers/{uuid}/ws``."""
        parts = urlsplit(handler.path)
        path = parts.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        ws = re.match(r"^/api/servers/(?P<uuid>[a-f0-9-]{36})/ws$", path)
        if ws is not None and method == "GET":
            self._websocket(handler, ws["uuid"])
            return
        status, body, retry_after, route, tenant = 500, errors_body(500, "Server Error"), 0.0, "ptero:unknown", None
        try:
            tenant, digest = self._tenant(handler)
            self._spend(digest)
            status, body, route = self._route(handler, method, path, query, tenant)
        except PanelError as err:
            status, body, retry_after = err.status, errors_body(err.status, err.detail), err.retry_after
        except ApiError as err:
            code = {400: 422}.get(err.status, err.status)
            status, body = code, errors_body(code, err.message)
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
        self.engine.count(route, method, status)
        if method in ("POST", "DELETE", "PUT"):
            handler.server.audit.record_request(
                actor=f"api-key:{tenant}" if tenant else "anonymous",
                tenant=tenant,
                method=method,
                route=route,
                path=path,
                correlation_id=cid,
                status=status,
            )
        handler._send(status, body, cid, retry_after=retry_after)

    def _body(self, handler: _RequestHandler, raw: bool = False) -> Any:
        try:
            length = int(handler.headers.get("Content-Length") or 0)
        except ValueError:
            raise PanelError(400, "Content-Length is not a number.") from None
        if length > _MAX_BODY:
            raise PanelError(413, f"The request body is larger than {_MAX_BODY} bytes.")
        handler._body_read = True
        data = handler.rfile.read(length) if length else b""
        if raw:
            return data
        try:
            body = json.loads(data) if data else {}
        except ValueError:
            raise PanelError(400, "The request body is not valid JSON.") from None
        if not isinstance(body, dict):
            raise PanelError(422, "The request body must be a JSON object.")
        return body

    def _route(
        self, handler: _RequestHandler, method: str, path: str, query: dict[str, str], tenant: str
    ) -> tuple[int, Any, str]:
        e = self.engine
        if path == "/api/client" and method == "GET":
            servers = [self._server_object(tenant, r) for r in e.store.servers(tenant)]
            return 200, _paginate(servers, query, 50, 100, "/api/client"), "ptero:servers"
        m = re.match(rf"^/api/client/servers/{_IDENT}(?P<rest>/.*)?$", path)
        if m is None:
            raise PanelError(404, _NOT_FOUND)
        row = self._row(tenant, m["sid"])
        sid, rest = row["id"], m["rest"] or ""
        routes: dict[tuple[str, str], Any] = {
            ("GET", ""): lambda: (200, self._server_object(tenant, row), "ptero:server"),
            ("GET", "/resources"): lambda: (200, self._resources(sid), "ptero:resources"),
            ("POST", "/power"): lambda: (204, self._power(tenant, sid, self._body(handler)), "ptero:power"),
            ("POST", "/command"): lambda: (204, self._command(tenant, sid, self._body(handler)), "ptero:command"),
            ("GET", "/websocket"): lambda: (200, self._ws_token(tenant, sid), "ptero:websocket"),
            ("GET", "/activity"): lambda: (200, self._activity_list(sid, query, path), "ptero:activity"),
            ("GET", "/backups"): lambda: (200, self._backup_list(tenant, sid, query, path), "ptero:backups"),
            ("POST", "/backups"): lambda: (200, self._backup_create(tenant, sid, self._body(handler)), "ptero:backups"),
            ("GET", "/files/list"): lambda: (200, self._files_list(sid, query), "ptero:files"),
            ("POST", "/files/delete"): lambda: (204, self._files_delete(sid, self._body(handler)), "ptero:files"),
            ("POST", "/files/write"): lambda: (
                204,
                self._files_write(sid, query, self._body(handler, True)),
                "ptero:files",
            ),
        }
        fn = routes.get((method, rest))
        if fn is not None:
            status, body, route = fn()
            return status, body, route
        b = re.match(rf"^/backups/{_UUID}(?P<op>/restore)?$", rest)
        if b is not None and method == "GET" and not b["op"]:
            return 200, self._backup_object(self._find_backup(tenant, sid, b["bid"])), "ptero:backup"
        if b is not None and method == "POST" and b["op"]:
            self._restore(tenant, sid, b["bid"], self._body(handler))
            return 204, {}, "ptero:restore"
        raise PanelError(404, _NOT_FOUND)

    # --- servers ---------------------------------------------------------------------------------

    def _row(self, tenant: str, ident: str) -> dict[str, Any]:
        for row in self.engine.store.servers(tenant):
            short, full = identifier_for(row["id"])
            if ident in (short, full):
                return row
        raise PanelError(404, _NOT_FOUND)

    def _state(self, server_id: str, row: dict[str, Any]) -> str:
        if row["power"] != "running":
            return "offline"
        return "running" if server_id in self.engine._serving_ids() else "starting"

    def _server_object(self, tenant: str, row: dict[str, Any]) -> dict[str, Any]:
        short, full = identifier_for(row["id"])
        alloc = {
            "object": "allocation",
            "attributes": {
                "id": int(row["port"]),
                "ip": row["host"],
                "ip_alias": None,
                "port": int(row["port"]),
                "notes": None,
                "is_default": True,
            },
        }
        attributes = {
            "server_owner": True,
            "identifier": short,
            "internal_id": int(row["port"]),
            "uuid": full,
            "name": row["name"],
            "node": "mcproof-sandbox",
            "is_node_under_maintenance": False,
            "sftp_details": {"ip": "127.0.0.1", "port": 2022},
            "description": f"sandbox server {row['id']}",
            "limits": {
                "memory": 1024,
                "swap": 0,
                "disk": 4096,
                "io": 500,
                "cpu": 100,
                "threads": None,
                "oom_disabled": True,
            },
            "invocation": "java -jar server.jar",
            "docker_image": "ghcr.io/pterodactyl/yolks:java_21",
            "egg_features": ["eula", "java_version"],
            "feature_limits": {"databases": 0, "allocations": 1, "backups": 10},
            "status": "restoring_backup" if row["id"] in self._restoring else None,
            "is_suspended": False,
            "is_installing": False,
            "is_transferring": False,
            "relationships": {
                "allocations": {"object": "list", "data": [alloc]},
                "variables": {"object": "list", "data": []},
            },
        }
        return {"object": "server", "attributes": attributes}

    def _resources(self, server_id: str) -> dict[str, Any]:
        row = self.engine.store.server(server_id) or {"power": "stopped"}
        state = self._state(server_id, row)
        disk = sum(p.stat().st_size for p in self.engine.world.world_dir(server_id).rglob("*") if p.is_file())
        return {
            "object": "stats",
            "attributes": {
                "current_state": state,
                "is_suspended": False,
                "resources": {
                    "memory_bytes": 0,
                    "cpu_absolute": 0,
                    "disk_bytes": disk,
                    "network_rx_bytes": 0,
                    "network_tx_bytes": 0,
                    "uptime": 0,
                },
            },
        }

    def _event(self, server_id: str, event: str, **properties: Any) -> None:
        entry = {
            "id": uuid.uuid4().hex,
            "batch": None,
            "event": event,
            "is_api": True,
            "ip": "127.0.0.1",
            "description": None,
            "properties": properties,
            "has_additional_metadata": False,
            "timestamp": atom(time.time()),
        }
        with self._lock:
            self._activity.setdefault(server_id, []).insert(0, {"object": "activity_log", "attributes": entry})

    def _activity_list(self, server_id: str, query: dict[str, str], path: str) -> dict[str, Any]:
        with self._lock:
            items = list(self._activity.get(server_id, []))
        return _paginate(items, query, 25, 100, path)

    def _conflict_if_restoring(self, server_id: str) -> None:
        if server_id in self._restoring:
            raise PanelError(409, "This server is currently restoring from a backup, please try again later.")

    def _power(self, tenant: str, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
        signal = body.get("signal")
        if signal not in ("start", "stop", "restart", "kill"):
            raise PanelError(422, "The selected signal is invalid.")
        self._conflict_if_restoring(server_id)
        self.engine.power(tenant, server_id, str(signal))
        self._event(server_id, f"server:power.{signal}")
        return {}

    def _command(self, tenant: str, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
        command = body.get("command")
        if not isinstance(command, str) or not command.strip():
            raise PanelError(422, "The command field is required.")
        self._conflict_if_restoring(server_id)
        try:
            reply = self.engine.command(tenant, server_id, command)
        except ApiError as err:
            if err.status == 409:
                raise PanelError(502, "Server must be online in order to send commands.") from None
            raise
        self._event(server_id, "server:console.command", command=command)
        self.publish(server_id, str(reply.get("reply", "")))
        return {}

    # --- backups ---------------------------------------------------------------------------------

    def _backup_object(self, b: dict[str, Any]) -> dict[str, Any]:
        return {
            "object": "backup",
            "attributes": {
                "uuid": b["uuid"],
                "is_successful": b["is_successful"],
                "is_locked": False,
                "name": b["name"],
                "ignored_files": [],
                "checksum": b["checksum"],
                "bytes": b["bytes"],
                "created_at": atom(b["created_at"]),
                "completed_at": atom(b["completed_at"]) if b["completed_at"] is not None else None,
            },
        }

    def _all_backups(self, tenant: str, server_id: str) -> list[dict[str, Any]]:
        """Completed backups the engine holds (scheduled or made here) plus those in flight or failed."""
        out: dict[str, dict[str, Any]] = {}
        for row in self.engine.list_backups(tenant, server_id):
            with self._lock:
                ident = self._by_engine.get(row["id"]) or str(uuid.uuid5(uuid.NAMESPACE_URL, f"mcproof:{row['id']}"))
                mine = self._backups.get(ident)
            created = float(mine["created_at"]) if mine else float(row["created_at"])
            out[ident] = {
                "uuid": ident,
                "engine_id": row["id"],
                "is_successful": True,
                "name": mine["name"]
                if mine
                else dt.datetime.fromtimestamp(created, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "checksum": f"restic:{row['snapshot']}",
                "bytes": int(row["bytes"]),
                "created_at": created,
                "completed_at": float(row["created_at"]),
            }
        with self._lock:
            for ident, b in self._backups.items():
                if b["server_id"] == server_id and ident not in out and b["engine_id"] is None:
                    out[ident] = dict(b)
        return sorted(out.values(), key=lambda b: float(b["created_at"]))

    def _find_backup(self, tenant: str, server_id: str, ident: str) -> dict[str, Any]:
        found = next((b for b in self._all_backups(tenant, server_id) if b["uuid"] == ident), None)
        if found is None:
            raise PanelError(404, _NOT_FOUND)
        return found

    def _backup_list(self, tenant: str, server_id: str, query: dict[str, str], path: str) -> dict[str, Any]:
        items = self._all_backups(tenant, server_id)
        page = _paginate([self._backup_object(b) for b in items], query, 20, 50, path)
        page["meta"]["backup_count"] = len([b for b in items if b["is_successful"] or b["completed_at"] is None])
        return page

    def _backup_create(self, tenant: str, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
        self._conflict_if_restoring(server_id)
        now = time.time()
        with self._lock:
            if any(b["server_id"] == server_id and b["completed_at"] is None for b in self._backups.values()):
                raise PanelError(409, "Another backup is already in progress for this server.")
            ident = str(uuid.uuid4())
            name = str(body.get("name") or dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M:%S"))
            backup = {
                "uuid": ident,
                "server_id": server_id,
                "engine_id": None,
                "is_successful": False,
                "name": name[:191],
                "checksum": None,
                "bytes": 0,
                "created_at": now,
                "completed_at": None,
            }
            self._backups[ident] = backup
        self._event(server_id, "server:backup.start", name=backup["name"])
        if not self.engine.config.weak_backup_never_completes:
            threading.Thread(target=self._run_backup, args=(tenant, server_id, ident), daemon=True).start()
        return self._backup_object(backup)

    def _run_backup(self, tenant: str, server_id: str, ident: str) -> None:
        try:
            made = self.engine.create_backup(tenant, server_id)
        except (ApiError, KeyError) as err:
            log.warning("backup %s of %s failed: %s", ident, server_id, err)
            with self._lock:
                self._backups[ident].update(completed_at=time.time(), is_successful=False)
            self._event(server_id, "server:backup.fail", name=self._backups[ident]["name"])
            return
        with self._lock:
            self._by_engine[made["id"]] = ident
            self._backups[ident].update(
                engine_id=made["id"],
                is_successful=True,
                completed_at=time.time(),
                bytes=int(made["bytes"]),
                checksum=f"restic:{made['snapshot']}",
            )
        self._event(server_id, "server:backup.complete", name=self._backups[ident]["name"])

    def _restore(self, tenant: str, server_id: str, ident: str, body: dict[str, Any]) -> None:
        if not isinstance(body.get("truncate"), bool):
            raise PanelError(422, "The truncate field is required.")
        backup = self._find_backup(tenant, server_id, ident)
        with self._lock:
            if server_id in self._restoring:
                raise PanelError(
                    400, "This server is not currently in a state that allows for a backup to be restored."
                )
            if not backup["is_successful"] or backup.get("engine_id") is None:
                raise PanelError(400, "This backup cannot be restored at this time: not completed or failed.")
            self._restoring.add(server_id)
        self._event(server_id, "server:backup.restore", name=backup["name"], truncate=body["truncate"])
        threading.Thread(target=self._run_restore, args=(tenant, server_id, backup), daemon=True).start()

    def _run_restore(self, tenant: str, server_id: str, backup: dict[str, Any]) -> None:
        ok = True
        try:
            self.engine.restore_backup(tenant, server_id, str(backup["engine_id"]))
            self.engine.power(tenant, server_id, "kill")  # Wings leaves the server offline after a restore
        except (ApiError, KeyError) as err:
            ok = False
            log.warning("restore of %s on %s failed: %s", backup["uuid"], server_id, err)
        with self._lock:
            self._restoring.discard(server_id)
        self._event(server_id, "server:backup.restore-complete" if ok else RESTORE_FAILED, name=backup["name"])

    # --- files -----------------------------------------------------------------------------------

    def _resolve(self, server_id: str, path: str) -> Path:
        """A panel path (root ``/`` holds ``world``) to the engine's world directory; 404 outside it."""
        parts = [p for p in path.replace("\\", "/").split("/") if p not in ("", ".")]
        if ".." in parts or not parts or parts[0] != "world":
            raise PanelError(404, _NOT_FOUND)
        return self.engine.world.world_dir(server_id).joinpath(*parts[1:])

    def _files_list(self, server_id: str, query: dict[str, str]) -> dict[str, Any]:
        directory = query.get("directory", "/")
        if directory.strip("/") == "":
            world = self.engine.world.world_dir(server_id)
            entries = [world] if world.is_dir() else []
        else:
            target = self._resolve(server_id, directory)
            if not target.is_dir():
                raise PanelError(404, _NOT_FOUND)
            entries = sorted(target.iterdir())
        data = []
        for p in entries:
            st = p.stat()
            data.append(
                {
                    "object": "file_object",
                    "attributes": {
                        "name": "world" if directory.strip("/") == "" else p.name,
                        "mode": "drwxr-xr-x" if p.is_dir() else "-rw-r--r--",
                        "mode_bits": "755" if p.is_dir() else "644",
                        "size": st.st_size,
                        "is_file": p.is_file(),
                        "is_symlink": p.is_symlink(),
                        "mimetype": "inode/directory" if p.is_dir() else "application/octet-stream",
                        "created_at": atom(st.st_ctime),
                        "modified_at": atom(st.st_mtime),
                    },
                }
            )
        return {"object": "list", "data": data}

    def _files_delete(self, server_id: str, body: dict[str, Any]) -> dict[str, Any]:
        root, files = body.get("root"), body.get("files")
        if not isinstance(files, list) or not files or not all(isinstance(f, str) for f in files):
            raise PanelError(422, "The files field is required.")
        for name in files:
            target = self._resolve(server_id, f"{root or '/'}/{name}")
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        self._event(server_id, "server:file.delete", directory=root, files=files)
        return {}

    def _files_write(self, server_id: str, query: dict[str, str], data: bytes) -> dict[str, Any]:
        target = self._resolve(server_id, query.get("file", ""))
        if not target.parent.is_dir():
            raise PanelError(404, _NOT_FOUND)
        target.write_bytes(data)
        self._event(server_id, "server:file.write", file=query.get("file", ""))
        return {}

    # --- websocket (Wings' protocol) -------------------------------------------------------------

    def _ws_token(self, tenant: str, server_id: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        with self._lock:
            now = time.time()
            self._ws_tokens = {t: v for t, v in self._ws_tokens.items() if v[2] > now}
            self._ws_tokens[token] = (tenant, server_id, now + _WS_TOKEN_S)
        ws_base = self.base_url.replace("https://", "wss://", 1)
        return {"data": {"token": token, "socket": f"{ws_base}/api/servers/{identifier_for(server_id)[1]}/ws"}}

    def _websocket(self, handler: _RequestHandler, server_uuid: str) -> None:
        serve_websocket(handler, self, server_uuid)

    def ws_auth(self, token: str, server_uuid: str) -> tuple[str, str] | None:
        """(tenant, server id) for a valid websocket token of that server, else None."""
        with self._lock:
            found = self._ws_tokens.get(token)
        if found is None or found[2] < time.time() or identifier_for(found[1])[1] != server_uuid:
            return None
        return found[0], found[1]

    def subscribe(self, session: ConsoleSession) -> None:
        with self._lock:
            self._consoles.setdefault(session.server_id, []).append(session)

    def unsubscribe(self, session: ConsoleSession) -> None:
        with self._lock:
            if session in self._consoles.get(session.server_id, []):
                self._consoles[session.server_id].remove(session)

    def publish(self, server_id: str, line: str) -> None:
        """One console line to every websocket of that server (Wings' ``console output``)."""
        with self._lock:
            sessions = list(self._consoles.get(server_id, []))
        for session in sessions:
            session.emit("console output", line)

    def ws_command(self, tenant: str, server_id: str, command: str) -> None:
        """A command sent over the websocket; ignored when the server takes none (as Wings does)."""
        if server_id in self._restoring:
            return
        try:
            reply = self.engine.command(tenant, server_id, command)
        except ApiError:
            return
        self.publish(server_id, str(reply.get("reply", "")))

    def ws_state(self, server_id: str) -> str:
        row = self.engine.store.server(server_id) or {"power": "stopped"}
        return self._state(server_id, row)
