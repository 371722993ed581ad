"""The player client over asyncio: `join` a server, keep the `PlaySession` alive, `leave`.

Every phase has its own deadline (``phase_timeout_s`` from the moment the phase is entered; the
connect has ``connect_timeout_s``), so a server that trickles bytes costs at most that timeout per
phase. Only the `Target` given is ever connected to, and only protocol traffic is sent.

Example (a running offline-mode 1.21.4 server on loopback)::

    attempt, session = await join(Target("mc-1", "127.0.0.1", 25565), 769, "mcproof_1")
    if session is not None:
        await session.wait(30.0)   # answering keep-alives meanwhile; returns early if dropped
        await session.leave()
"""

from __future__ import annotations

import asyncio
import contextlib
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

__all__ = ["PlaySession", "join"]


async def join(
    target: Target,
    protocol: int,
    name: str,
    *,
    phase_timeout_s: float = 5.0,
    connect_timeout_s: float = 5.0,
    keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
) -> tuple[JoinAttempt, PlaySession | None]:
    """Log `name` in to `target` speaking `protocol`; the attempt, and the open session when it joined."""
    progress = JoinProgress(
        target, name, protocol, phase_timeout_s=phase_timeout_s, connect_timeout_s=connect_timeout_s
    )
    conn = progress.connection()
    if conn is None:
        assert progress.attempt is not None
        return progress.attempt, None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(target.host, target.port), max(progress.remaining(), 0.0)
        )
    except TimeoutError:
        return progress.timed_out(), None
    except OSError as err:
        return progress.os_error(err), None
    try:
        await _login(progress, conn, reader, writer)
    except BaseException:
        writer.close()
        raise
    assert progress.attempt is not None
    if not progress.attempt.ok or progress.joined_mono is None:
        writer.close()
        return progress.attempt, None
    session = PlaySession(
        target, conn, reader, writer, joined_mono=progress.joined_mono, keepalive_timeout_s=keepalive_timeout_s
    )
    session.core.apply(progress.leftover)
    session.start()
    return progress.attempt, session


async def _login(
    progress: JoinProgress, conn: PlayerConnection, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    progress.enter("handshake")
    try:
        writer.write(conn.initial_bytes())
        await asyncio.wait_for(writer.drain(), max(progress.remaining(), 0.0))
        progress.enter("login")
        while not progress.done:
            remaining = progress.remaining()
            if remaining <= 0:
                progress.timed_out()
                return
            out = progress.step(await asyncio.wait_for(reader.read(READ_SIZE), remaining))
            if out:
                writer.write(out)
                await asyncio.wait_for(writer.drain(), max(progress.remaining(), 0.001))
    except Exception as err:  # a hostile server ends the attempt, never the caller
        progress.on_error(err)


class PlaySession:
    """An open play session: a reader task answers the server (keep-alives, pings, teleports, chunk
    batches) and records world-time updates until the session ends (`end`, `ended`)."""

    def __init__(
        self,
        target: Target,
        connection: PlayerConnection,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        joined_mono: float,
        keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
    ) -> None:
        self.core = SessionCore(target, connection, joined_mono=joined_mono, keepalive_timeout_s=keepalive_timeout_s)
        self._reader, self._writer = reader, writer
        self.ended = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"player {self.core.player}@{self.core.target.id}")

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

    async def _run(self) -> None:
        core = self.core
        try:
            while not core.check_keepalive(self._readable):
                try:
                    data = await asyncio.wait_for(self._reader.read(READ_SIZE), core.read_timeout())
                except TimeoutError:
                    continue
                if not data:
                    core.finish("closed", "connection closed by the server")
                    break
                out = core.feed(data)
                if out and core.end is None:
                    self._writer.write(out)
                    await asyncio.wait_for(self._writer.drain(), max(core.keepalive_remaining(), 0.001))
        except Exception as err:  # whatever the server did, the session ends with a reason
            core.on_error(err)
        finally:
            self._close()
            self.ended.set()

    def _readable(self) -> bool:
        """Bytes already waiting: in the StreamReader's buffer (our loop was late to read them) or the socket."""
        if getattr(self._reader, "_buffer", None) or self._reader.at_eof():
            return True
        return socket_readable(self._writer.get_extra_info("socket"))

    def _close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError):
            self._writer.close()

    async def wait(self, timeout_s: float) -> SessionEnd | None:
        """Wait up to `timeout_s` for the session to end; its end, or None while it is still open."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.ended.wait(), timeout_s)
        return self.core.end

    async def leave(self) -> SessionEnd:
        """A clean leave (close the connection: the Java protocol has no serverbound disconnect)."""
        if self.core.end is not None:
            return self.core.end
        pending = self.core.connection.disconnect_bytes()
        end = self.core.finish("left", f"left after {time.monotonic() - self.core.joined_mono:.1f} s")
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(OSError, RuntimeError):
            if pending:
                self._writer.write(pending)
            self._writer.close()
            await asyncio.wait_for(self._writer.wait_closed(), 1.0)
        self.ended.set()
        return end
