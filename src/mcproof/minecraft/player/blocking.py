"""The player client over a blocking socket (plain threads, or gevent greenlets: Locust patches `socket`).

Same state machine and samples as :mod:`.aio`; every socket operation gets only the time left before
the current phase's deadline (the pattern of :mod:`mcproof.minecraft.deadline`), so a server that
trickles bytes costs at most the phase timeout. A session does nothing between calls: `pump` answers
the server until a given monotonic time (or until the session ends), which a greenlet runs in a loop.

Example (a running offline-mode 26.2 server on loopback)::

    attempt, session = join(Target("mc-1", "127.0.0.1", 25565), 776, "mcproof_1")
    if session is not None:
        session.pump(time.monotonic() + 30.0)   # None while it is still open, else its SessionEnd
        session.leave()
"""

from __future__ import annotations

import contextlib
import socket
import time

from mcproof.minecraft.player._common import (
    DEFAULT_KEEPALIVE_TIMEOUT_S,
    READ_SIZE,
    JoinProgress,
    SessionCore,
    socket_readable,
)
from mcproof.minecraft.player.connection import PlayerConnection
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.target import Target

__all__ = ["BlockingSession", "join", "join_and_stay"]


def join(
    target: Target,
    protocol: int,
    name: str,
    *,
    phase_timeout_s: float = 5.0,
    connect_timeout_s: float = 5.0,
    keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
) -> tuple[JoinAttempt, BlockingSession | None]:
    """Log `name` in to `target` speaking `protocol`; the attempt, and the open session when it joined."""
    progress = JoinProgress(
        target, name, protocol, phase_timeout_s=phase_timeout_s, connect_timeout_s=connect_timeout_s
    )
    conn = progress.connection()
    if conn is None:
        assert progress.attempt is not None
        return progress.attempt, None
    try:
        sock = socket.create_connection((target.host, target.port), timeout=max(progress.remaining(), 0.001))
    except OSError as err:
        return progress.os_error(err), None
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        _login(progress, conn, sock)
    except BaseException:
        sock.close()
        raise
    assert progress.attempt is not None
    if not progress.attempt.ok or progress.joined_mono is None:
        sock.close()
        return progress.attempt, None
    session = BlockingSession(
        target, conn, sock, joined_mono=progress.joined_mono, keepalive_timeout_s=keepalive_timeout_s
    )
    session.core.apply(progress.leftover)
    return progress.attempt, session


def _send(sock: socket.socket, data: bytes, remaining: float) -> None:
    if remaining <= 0:
        raise TimeoutError
    sock.settimeout(remaining)
    sock.sendall(data)


def _login(progress: JoinProgress, conn: PlayerConnection, sock: socket.socket) -> None:
    progress.enter("handshake")
    try:
        _send(sock, conn.initial_bytes(), progress.remaining())
        progress.enter("login")
        while not progress.done:
            remaining = progress.remaining()
            if remaining <= 0:
                progress.timed_out()
                return
            sock.settimeout(remaining)
            out = progress.step(sock.recv(READ_SIZE))
            if out:
                _send(sock, out, max(progress.remaining(), 0.001))
    except Exception as err:  # a hostile server ends the attempt, never the caller
        progress.on_error(err)


class BlockingSession:
    """An open play session on a blocking socket; `pump` keeps it alive, `leave` ends it."""

    def __init__(
        self,
        target: Target,
        connection: PlayerConnection,
        sock: socket.socket,
        *,
        joined_mono: float,
        keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
    ) -> None:
        self.core = SessionCore(target, connection, joined_mono=joined_mono, keepalive_timeout_s=keepalive_timeout_s)
        self._sock = sock

    @property
    def end(self) -> SessionEnd | None:
        return self.core.end

    @property
    def time_updates(self) -> list[TimeUpdate]:
        return self.core.time_updates

    @property
    def keepalives_answered(self) -> int:
        return self.core.keepalives_answered

    @property
    def joined_mono(self) -> float:
        return self.core.joined_mono

    def pump(self, until_mono: float) -> SessionEnd | None:
        """Answer the server until `until_mono` (time.monotonic()); the session's end if it ended, else None."""
        core = self.core
        try:
            while not core.check_keepalive(lambda: socket_readable(self._sock)):
                wait = min(until_mono - time.monotonic(), core.read_timeout())
                if until_mono - time.monotonic() <= 0:
                    return None
                if wait <= 0:
                    continue  # the keep-alive deadline passed: check_keepalive ends the session
                self._sock.settimeout(wait)
                try:
                    data = self._sock.recv(READ_SIZE)
                except TimeoutError:
                    continue
                if not data:
                    core.finish("closed", "connection closed by the server")
                    break
                out = core.feed(data)
                if out and core.end is None:
                    _send(self._sock, out, max(core.keepalive_remaining(), 0.001))
        except Exception as err:  # whatever the server did, the session ends with a reason
            core.on_error(err)
        self._close()
        return core.end

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.close()

    def leave(self) -> SessionEnd:
        """A clean leave (close the connection: the Java protocol has no serverbound disconnect)."""
        if self.core.end is not None:
            self._close()
            return self.core.end
        pending = self.core.connection.disconnect_bytes()
        end = self.core.finish("left", f"left after {time.monotonic() - self.core.joined_mono:.1f} s")
        with contextlib.suppress(OSError):
            if pending:
                _send(self._sock, pending, 1.0)
        self._close()
        return end


def join_and_stay(
    target: Target,
    protocol: int,
    name: str,
    *,
    stay_s: float,
    phase_timeout_s: float = 5.0,
    connect_timeout_s: float = 5.0,
) -> tuple[JoinAttempt, SessionEnd | None]:
    """Join, stay `stay_s` answering the server, leave: the attempt and how the session ended (None if
    it never joined). A session that ends on its own before `stay_s` is a drop (reason != "left")."""
    attempt, session = join(
        target, protocol, name, phase_timeout_s=phase_timeout_s, connect_timeout_s=connect_timeout_s
    )
    if session is None:
        return attempt, None
    end = session.pump(time.monotonic() + stay_s)
    return attempt, end if end is not None else session.leave()
