"""HTTP layer of the sandbox platform API (stdlib ``http.server`` over TLS); the contract is
``docs/platform-api.openapi.yaml``.

Why stdlib: a dozen JSON routes need no framework, and the harness venv stays small. Every request gets a
correlation id (``X-Correlation-ID``: the caller's when it is a sane token, else a new one) echoed in the
response; every mutating call (POST/DELETE), allowed or not, is written to the audit log.

Security controls (``EngineConfig``): security headers on every response (HSTS, nosniff, no-store, a
deny-all CSP); a client address with repeated 401s is locked out (429 + ``Retry-After``, see ratelimit.py).
"""

from __future__ import annotations

import json
import logging
import math
import re
import ssl
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from mcproof_sandbox.platform.audit import AuditLog
from mcproof_sandbox.platform.engine import ApiError, PlatformEngine
from mcproof_sandbox.platform.pterodactyl_face import PterodactylFace
from mcproof_sandbox.platform.ratelimit import AuthFailureLimiter

__all__ = ["PlatformHttpServer", "make_server"]

log = logging.getLogger("mcproof_sandbox.platform.api")

_MAX_BODY = 64 * 1024
_CID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_SID = r"(?P<sid>[A-Za-z0-9_-]{1,64})"
_BID = r"(?P<bid>[A-Za-z0-9_-]{1,64})"
SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}

Handler = Callable[[PlatformEngine, str, dict[str, str], dict[str, Any]], tuple[int, Any]]


def _delete(engine: PlatformEngine, tenant: str, server_id: str) -> dict[str, str]:
    engine.delete_server(tenant, server_id)
    return {}


def _release(engine: PlatformEngine, tenant: str, server_id: str) -> dict[str, str]:
    engine.release(tenant, server_id)
    return {}


def _routes() -> list[tuple[str, re.Pattern[str], str, Handler]]:
    """(method, path regex, route name, handler(engine, tenant, path params, body) -> (status, json))."""
    r: list[tuple[str, str, str, Handler]] = [
        ("GET", r"/v1/servers", "servers", lambda e, t, p, b: (200, {"data": e.list_servers(t)})),
        ("POST", r"/v1/servers", "servers", lambda e, t, p, b: (201, e.create_server(t, str(b.get("name", ""))))),
        ("GET", rf"/v1/servers/{_SID}", "server", lambda e, t, p, b: (200, e.view(e.owned(t, p["sid"])))),
        ("DELETE", rf"/v1/servers/{_SID}", "server", lambda e, t, p, b: (204, _delete(e, t, p["sid"]))),
        (
            "POST",
            rf"/v1/servers/{_SID}/power",
            "power",
            lambda e, t, p, b: (202, e.power(t, p["sid"], str(b.get("signal", "")))),
        ),
        (
            "GET",
            rf"/v1/servers/{_SID}/backups",
            "backups",
            lambda e, t, p, b: (200, {"data": e.list_backups(t, p["sid"])}),
        ),
        ("POST", rf"/v1/servers/{_SID}/backups", "backups", lambda e, t, p, b: (201, e.create_backup(t, p["sid"]))),
        (
            "POST",
            rf"/v1/servers/{_SID}/backups/{_BID}/restore",
            "restore",
            lambda e, t, p, b: (200, e.restore_backup(t, p["sid"], p["bid"])),
        ),
        (
            "POST",
            rf"/v1/servers/{_SID}/command",
            "command",
            lambda e, t, p, b: (200, e.command(t, p["sid"], str(b.get("command", "")))),
        ),
        ("GET", rf"/v1/servers/{_SID}/world", "world", lambda e, t, p, b: (200, e.world_info(t, p["sid"]))),
        (
            "GET",
            rf"/v1/servers/{_SID}/files/list",
            "files",
            lambda e, t, p, b: (200, {"data": e.list_files(t, p["sid"], str(b.get("directory", "/")))}),
        ),
        (
            "POST",
            rf"/v1/servers/{_SID}/files/delete",
            "files",
            lambda e, t, p, b: (200, e.delete_files(t, p["sid"], str(b.get("root", "/")), b.get("files"))),
        ),
        (
            "POST",
            rf"/v1/servers/{_SID}/files/write",
            "files",
            lambda e, t, p, b: (200, e.write_file(t, p["sid"], str(b.get("file", "")), str(b.get("content", "")))),
        ),
        ("GET", r"/v1/fleet", "fleet", lambda e, t, p, b: (200, e.fleet_status(t))),
        ("POST", r"/v1/fleet/allocations", "allocations", lambda e, t, p, b: (201, e.allocate(t))),
        ("DELETE", rf"/v1/fleet/allocations/{_SID}", "allocation", lambda e, t, p, b: (204, _release(e, t, p["sid"]))),
        ("GET", r"/v1/backups/policy", "backup_policy", lambda e, t, p, b: (200, e.backup_policy())),
        ("GET", r"/v1/audit/policy", "audit_policy", lambda e, t, p, b: (200, e.audit_policy())),
        ("POST", r"/v1/backups/check", "check", lambda e, t, p, b: (200, e.check_repository())),
    ]
    return [(m, re.compile(f"^{rx}$"), name, fn) for m, rx, name, fn in r]


ROUTES = _routes()


class PlatformHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], engine: PlatformEngine, audit: AuditLog, ctx: ssl.SSLContext) -> None:
        super().__init__(address, _RequestHandler)
        self.engine = engine
        self.audit = audit
        c = engine.config
        self.limiter = AuthFailureLimiter(c.auth_failures_max, c.auth_failures_window_s, c.auth_lockout_s)
        self.socket = ctx.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)
        self.pterodactyl: PterodactylFace | None = None  # the /api/client face, set by the service


class _RequestHandler(BaseHTTPRequestHandler):
    server: PlatformHttpServer
    timeout = 15.0
    protocol_version = "HTTP/1.1"
    server_version = "mcproof-platform/1"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    def _send(
        self, status: int, body: Any, cid: str, content_type: str = "application/json", retry_after: float = 0.0
    ) -> None:
        data = b"" if status == 204 else (body if isinstance(body, bytes) else json.dumps(body).encode("utf-8"))
        self.send_response(status)
        self.send_header("X-Correlation-ID", cid)
        if self.server.engine.config.security_headers:
            for name, value in SECURITY_HEADERS.items():
                self.send_header(name, value)
        if retry_after > 0:
            self.send_header("Retry-After", str(math.ceil(retry_after)))
        if self.headers.get("Content-Length", "0").strip() not in ("", "0") and not getattr(self, "_body_read", False):
            self.close_connection = True  # unread body (refused early): the connection cannot be reused
            self.send_header("Connection", "close")
        if status != 204:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer realm="mcproof"')
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        self._body_read = False
        engine = self.server.engine
        incoming = self.headers.get("X-Correlation-ID", "")
        cid = incoming if _CID.match(incoming) else uuid.uuid4().hex
        path = self.path.split("?", 1)[0]
        if self.server.pterodactyl is not None and path.startswith(("/api/client", "/api/servers/")):
            self.server.pterodactyl.handle(self, method, cid)
            return
        if method == "GET" and path in ("/healthz", "/readyz", "/metrics"):
            self._public(path, cid)
            return
        route, status, body, tenant = "unknown", 404, {"error": "not found"}, None
        client = self.client_address[0]
        limiter = self.server.limiter if engine.config.rate_limit else None
        retry_after = limiter.retry_after(client) if limiter else 0.0
        try:
            if retry_after > 0:
                raise ApiError(
                    429, f"too many authentication failures from this address; retry in {math.ceil(retry_after)}s"
                )
            status, body, route, tenant = self._dispatch(method, path, cid)
        except ApiError as err:
            status, body = err.status, {"error": err.message, "correlation_id": cid}
        except Exception:
            log.exception("unhandled error on %s %s", method, path)
            status, body = 500, {"error": "internal error; see the platform log", "correlation_id": cid}
        if status == 401 and limiter is not None:
            limiter.failed(client)
        engine.count(route, method, status)
        if method in ("POST", "DELETE"):
            self.server.audit.record_request(
                actor=f"token:{tenant}" if tenant else "anonymous",
                tenant=tenant,
                method=method,
                route=route,
                path=path,
                correlation_id=cid,
                status=status,
            )
        self._send(status, body, cid, retry_after=retry_after)

    def _public(self, path: str, cid: str) -> None:
        engine = self.server.engine
        if path == "/healthz":
            self._send(200, {"status": "ok"}, cid)
        elif path == "/readyz":
            ready = engine.readiness()
            self._send(200 if ready["ready"] else 503, ready, cid)
        else:
            self._send(200, engine.metrics().encode(), cid, "text/plain; version=0.0.4")
        engine.count(path.strip("/"), "GET", 200)

    def _dispatch(self, method: str, path: str, cid: str) -> tuple[int, Any, str, str | None]:
        engine = self.server.engine
        auth = self.headers.get("Authorization", "")
        token = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        tenant = engine.store.tenant_for(token) if token else None
        matches = [(m, rx.match(path), name, fn) for m, rx, name, fn in ROUTES]
        hits = [(m, mt, name, fn) for m, mt, name, fn in matches if mt]
        if tenant is None and engine.config.weak_unauthenticated_route and (method, path) == ("GET", "/v1/servers"):
            return 200, {"data": [engine.view(r) for r in engine.store.servers()]}, "servers", None  # WEAK: tests only
        if tenant is None:
            raise ApiError(401, "missing or invalid bearer token; send 'Authorization: Bearer <tenant token>'")
        if not hits:
            raise ApiError(404, f"no route {path}")
        chosen = next(((mt, name, fn) for m, mt, name, fn in hits if m == method), None)
        if chosen is None:
            raise ApiError(405, f"{method} not allowed on {path}")
        match, name, fn = chosen
        if engine.config.weak_crash_route and (method, name) == ("GET", "backups"):
            int(match["sid"].rsplit("-", 1)[-1])  # WEAK (tests only): unchecked parse, ValueError -> 500
        body = self._body()
        if method == "GET" and "?" in self.path:  # query parameters of a GET arrive like a body's fields
            body = {k: v[-1] for k, v in parse_qs(self.path.split("?", 1)[1]).items()}
        status, payload = fn(engine, tenant, match.groupdict(), body)
        return status, payload, name, tenant

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise ApiError(400, "Content-Length is not a number") from None
        if length > _MAX_BODY:
            raise ApiError(413, f"body over {_MAX_BODY} bytes")
        self._body_read = True
        if length == 0:
            return {}
        try:
            data = json.loads(self.rfile.read(length))
        except ValueError:
            raise ApiError(400, "body is not JSON") from None
        if not isinstance(data, dict):
            raise ApiError(400, "body must be a JSON object")
        return data


def make_server(
    host: str, port: int, engine: PlatformEngine, audit: AuditLog, cert: str, key: str
) -> PlatformHttpServer:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return PlatformHttpServer((host, port), engine, audit, ctx)
