"""The node websocket of the sandbox's Pterodactyl face (Wings' console protocol), over the platform's TLS.

Handshake (RFC 6455) on the already-parsed HTTP request, then frames through wsproto's sans-IO
``Connection``. Wings' JSON events: the client sends ``{"event": "auth", "args": [token]}`` and gets
``auth success`` and ``status``; ``{"event": "send command", "args": [line]}`` is answered with
``{"event": "console output", "args": [reply]}`` (nothing when the server is offline, as Wings ignores it);
a bad token gets ``jwt error``. Bounded: the socket idles out after the handler's timeout, the session
ends when its token would expire, and at most ``_MAX_MESSAGES`` client messages are read.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.utilities import generate_accept_token

if TYPE_CHECKING:
    from mcproof.platform.api import _RequestHandler
    from mcproof.platform.pterodactyl_face import PterodactylFace

__all__ = ["serve_websocket"]

_MAX_MESSAGES = 10_000
_SESSION_S = 600.0
_MAX_MESSAGE_BYTES = 64 * 1024


def _event(conn: Connection, name: str, *args: str) -> bytes:
    return conn.send(TextMessage(data=json.dumps({"event": name, "args": list(args)} if args else {"event": name})))


def serve_websocket(handler: _RequestHandler, face: PterodactylFace, server_uuid: str) -> None:
    key = handler.headers.get("Sec-WebSocket-Key", "")
    if handler.headers.get("Upgrade", "").lower() != "websocket" or not key:
        handler._send(400, {"error": "websocket upgrade expected"}, "-")
        return
    handler.send_response(101)
    handler.send_header("Upgrade", "websocket")
    handler.send_header("Connection", "Upgrade")
    handler.send_header("Sec-WebSocket-Accept", generate_accept_token(key.encode("ascii")).decode("ascii"))
    handler.end_headers()
    handler.wfile.flush()
    handler.close_connection = True
    conn = Connection(ConnectionType.SERVER)
    session: tuple[str, str] | None = None
    ends = time.monotonic() + _SESSION_S
    buffer: list[str] = []
    messages = 0
    while time.monotonic() < ends and messages < _MAX_MESSAGES:
        try:
            data = handler.rfile.read1(65536)
        except OSError:
            return
        conn.receive_data(data or None)
        out = b""
        for ev in conn.events():
            if isinstance(ev, CloseConnection):
                out += conn.send(ev.response())
                handler.wfile.write(out)
                return
            if isinstance(ev, Ping):
                out += conn.send(ev.response())
            elif isinstance(ev, TextMessage):
                buffer.append(ev.data)
                if sum(len(b) for b in buffer) > _MAX_MESSAGE_BYTES:
                    return
                if not ev.message_finished:
                    continue
                text, buffer = "".join(buffer), []
                messages += 1
                reply, session = _on_message(conn, face, server_uuid, session, text)
                out += reply
        if out:
            handler.wfile.write(out)
        if not data:
            return


def _on_message(
    conn: Connection, face: PterodactylFace, server_uuid: str, session: tuple[str, str] | None, text: str
) -> tuple[bytes, tuple[str, str] | None]:
    try:
        message: Any = json.loads(text)
        event, args = str(message["event"]), [str(a) for a in message.get("args") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        return b"", session
    if event == "auth":
        found = face.ws_auth(args[0] if args else "", server_uuid)
        if found is None:
            return _event(conn, "jwt error", "jwt: invalid or expired token"), session
        return _event(conn, "auth success") + _event(conn, "status", face.ws_state(found[1])), found
    if session is None:
        return b"", session
    if event == "send command" and args:
        reply = face.ws_command(session[0], session[1], args[0])
        return (_event(conn, "console output", reply) if reply is not None else b""), session
    if event == "send stats":
        return _event(conn, "status", face.ws_state(session[1])), session
    return b"", session
