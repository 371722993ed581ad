"""The node websocket of the sandbox's Pterodactyl face (Wings' console protocol), over the platform's TLS.

Handshake (RFC 6455) on the already-parsed HTTP request, then frames through wsproto's sans-IO
``Connection``. Wings' JSON events: the client sends ``{"event": "auth", "args": [token]}`` and gets
``auth success`` and ``status``; console output of the server, whoever sent the command (this socket's
``{"event": "send command", "args": [line]}`` or ``POST .../command``), reaches every authenticated socket of
that server as ``{"event": "console output", "args": [line]}`` (nothing while it is offline, as in Wings);
a bad token gets ``jwt error``. Bounded: the socket idles out after the handler's timeout, the session
ends when its token would expire, and at most ``_MAX_MESSAGES`` client messages are read.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from typing import TYPE_CHECKING, Any

from wsproto.connection import Connection, ConnectionType
from wsproto.events import CloseConnection, Ping, TextMessage
from wsproto.utilities import LocalProtocolError, generate_accept_token

if TYPE_CHECKING:
    from mcproof_sandbox.platform.api import _RequestHandler
    from mcproof_sandbox.platform.pterodactyl_face import PterodactylFace

__all__ = ["ConsoleSession", "serve_websocket"]

_MAX_MESSAGES = 10_000
_SESSION_S = 600.0
_MAX_MESSAGE_BYTES = 64 * 1024


class ConsoleSession:
    """One authenticated websocket: frames go out under a lock (the reader thread and publishers share it)."""

    def __init__(self, conn: Connection, wfile: Any) -> None:
        self.conn = conn
        self.wfile = wfile
        self.lock = threading.Lock()
        self.server_id = ""
        self.tenant = ""

    def emit(self, name: str, *args: str) -> None:
        doc = {"event": name, "args": list(args)} if args else {"event": name}
        with self.lock, contextlib.suppress(OSError, LocalProtocolError):  # gone: its reader ends the session
            self.wfile.write(self.conn.send(TextMessage(data=json.dumps(doc))))

    def send_raw(self, event: Any) -> None:
        with self.lock, contextlib.suppress(OSError, LocalProtocolError):
            self.wfile.write(self.conn.send(event))


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
    session = ConsoleSession(Connection(ConnectionType.SERVER), handler.wfile)
    try:
        _read_loop(handler, face, server_uuid, session)
    finally:
        face.unsubscribe(session)


def _read_loop(handler: _RequestHandler, face: PterodactylFace, server_uuid: str, session: ConsoleSession) -> None:
    ends = time.monotonic() + _SESSION_S
    buffer: list[str] = []
    messages = 0
    while time.monotonic() < ends and messages < _MAX_MESSAGES:
        try:
            data = handler.rfile.read1(65536)
        except OSError:
            return
        with session.lock:
            session.conn.receive_data(data or None)
            events = list(session.conn.events())
        for ev in events:
            if isinstance(ev, CloseConnection):
                session.send_raw(ev.response())
                return
            if isinstance(ev, Ping):
                session.send_raw(ev.response())
            elif isinstance(ev, TextMessage):
                buffer.append(ev.data)
                if sum(len(b) for b in buffer) > _MAX_MESSAGE_BYTES:
                    return
                if not ev.message_finished:
                    continue
                text, buffer = "".join(buffer), []
                messages += 1
                _on_message(face, server_uuid, session, text)
        if not data:
            return


def _on_message(face: PterodactylFace, server_uuid: str, session: ConsoleSession, text: str) -> None:
    try:
        message: Any = json.loads(text)
        event, args = str(message["event"]), [str(a) for a in message.get("args") or []]
    except (ValueError, KeyError, TypeError, AttributeError):
        return
    if event == "auth":
        found = face.ws_auth(args[0] if args else "", server_uuid)
        if found is None:
            session.emit("jwt error", "jwt: invalid or expired token")
            return
        session.tenant, session.server_id = found
        face.subscribe(session)  # before "auth success": output of a command sent right after it must arrive
        session.emit("auth success")
        session.emit("status", face.ws_state(session.server_id))
    elif not session.server_id:
        return
    elif event == "send command" and args:
        face.ws_command(session.tenant, session.server_id, args[0])  # the output reaches every subscriber
    elif event == "send stats":
        session.emit("status", face.ws_state(session.server_id))
