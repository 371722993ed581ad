"""What the asyncio and blocking drivers share: phase deadlines, join outcomes, session bookkeeping.

No I/O here either: the drivers read and write, these classes decide what the bytes mean for the
samples (:mod:`.samples`).
"""

from __future__ import annotations

import errno
import select
import socket
import time
from collections import deque
from collections.abc import Callable

from mcproof.clock import utc_now
from mcproof.minecraft.player.connection import (
    ConfigurationEntered,
    Disconnected,
    Event,
    JoinedGame,
    OnlineMode,
    PlayEntered,
    PlayerConnection,
    ProtocolViolation,
    WorldTime,
)
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.minecraft.player.versions import UnsupportedVersion
from mcproof.target import Target

__all__ = [
    "DEFAULT_KEEPALIVE_TIMEOUT_S",
    "MAX_TIME_UPDATES",
    "READ_SIZE",
    "JoinProgress",
    "SessionCore",
    "is_timeout_kick",
    "socket_readable",
]

DEFAULT_KEEPALIVE_TIMEOUT_S = 30.0  # vanilla's client-side read timeout; servers send a keep-alive every 15 s
MAX_TIME_UPDATES = 100_000  # kept per session (vanilla sends one a second: over a day of samples)
READ_SIZE = 65_536
_UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL}


_TIMEOUT_KICKS = {"timed out", "disconnect.timeout"}  # vanilla's translate key, and its English text


def is_timeout_kick(reason: str) -> bool:
    """A kick for not answering (vanilla's disconnect.timeout): the server says WE went silent."""
    return reason.strip().casefold() in _TIMEOUT_KICKS


def socket_readable(sock: socket.socket | None) -> bool:
    """Bytes (or EOF) waiting on `sock` right now (a zero-timeout select; False when it cannot tell)."""
    if sock is None:
        return False
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return bool(ready)


class JoinProgress:
    """One join attempt's phase, its deadline and its outcome (a `JoinAttempt`) once there is one."""

    def __init__(self, target: Target, name: str, protocol: int, *, phase_timeout_s: float, connect_timeout_s: float):
        self.target, self.name, self.protocol = target, name, protocol
        self.phase_timeout_s = phase_timeout_s
        self.started_at = utc_now()
        self.started_mono = time.monotonic()
        self.phase = "connect"
        self.timeout_s = connect_timeout_s
        self.deadline = self.started_mono + connect_timeout_s
        self.attempt: JoinAttempt | None = None
        self.joined_mono: float | None = None
        self.leftover: list[Event] = []  # events after Join Game in the same read: the session's
        self.conn: PlayerConnection | None = None

    def connection(self) -> PlayerConnection | None:
        """The state machine for this attempt, or None (and a failed attempt) when it cannot be spoken."""
        if self.target.edition != "java":
            self.fail(
                "unsupported_version",
                f"{self.target.edition} server: the player client speaks Java Edition only",
            )
            return None
        try:
            self.conn = PlayerConnection(self.name, self.target.host, self.target.port, self.protocol)
        except UnsupportedVersion as err:
            self.fail("unsupported_version", str(err))
            return None
        return self.conn

    def step(self, data: bytes) -> bytes:
        """One read during the join (b"" = the server closed): the bytes to answer with (b"" once the
        attempt failed: nothing more is sent to a server that refused us)."""
        assert self.conn is not None, "step() before connection()"
        if not data:
            self.closed()
            return b""
        self.apply(self.conn.receive(data))
        out = self.conn.bytes_to_send()
        return b"" if self.attempt is not None and not self.attempt.ok else out

    def on_error(self, err: Exception) -> JoinAttempt:
        """A driver's exception during the join, as the attempt's outcome (never a traceback)."""
        if isinstance(err, OSError):
            return self.os_error(err)  # TimeoutError included: the phase timed out
        return self.fail("protocol", f"protocol error in the {self.phase} phase: {type(err).__name__}: {err}")

    def enter(self, phase: str) -> None:
        self.phase = phase
        self.timeout_s = self.phase_timeout_s
        self.deadline = time.monotonic() + self.phase_timeout_s

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    @property
    def done(self) -> bool:
        return self.attempt is not None

    def fail(self, kind: str, error: str) -> JoinAttempt:
        self.attempt = JoinAttempt(
            server=self.target.id,
            address=self.target.address,
            player=self.name,
            ok=False,
            phase=self.phase,
            started_at=self.started_at,
            started_mono=self.started_mono,
            join_s=None,
            error_kind=kind,
            error=error,
            protocol=self.protocol,
        )
        return self.attempt

    def timed_out(self) -> JoinAttempt:
        return self.fail("timeout", f"{self.phase} phase timed out after {self.timeout_s:g} s")

    def closed(self) -> JoinAttempt:
        return self.fail("closed", f"the server closed the connection in the {self.phase} phase")

    def os_error(self, err: OSError) -> JoinAttempt:
        """A socket error: refused/reset before the handshake, unreachable, or closed mid-login."""
        if isinstance(err, TimeoutError):
            return self.timed_out()
        if isinstance(err, socket.gaierror) or err.errno in _UNREACHABLE:
            return self.fail("unreachable", f"{self.target.address} is unreachable ({err.strerror or err})")
        if self.phase == "connect" and isinstance(err, ConnectionRefusedError | ConnectionResetError):
            return self.fail("refused", f"connection to {self.target.address} refused")
        return self.fail("closed", f"connection lost in the {self.phase} phase ({err.strerror or err})")

    def apply(self, events: list[Event]) -> None:
        """Move through the phases on the connection's events; sets `attempt` once joined or failed."""
        for i, event in enumerate(events):
            if isinstance(event, ConfigurationEntered):
                self.enter("configuration")
            elif isinstance(event, PlayEntered):
                self.enter("play")
            elif isinstance(event, JoinedGame):
                self.joined_mono = time.monotonic()
                self.attempt = JoinAttempt(
                    server=self.target.id,
                    address=self.target.address,
                    player=self.name,
                    ok=True,
                    phase="play",
                    started_at=self.started_at,
                    started_mono=self.started_mono,
                    join_s=self.joined_mono - self.started_mono,
                    protocol=self.protocol,
                )
                self.leftover = events[i + 1 :]
                return
            elif isinstance(event, Disconnected):
                self.fail("disconnected", f"disconnected in the {self.phase} phase: {event.reason or '(no reason)'}")
                return
            elif isinstance(event, OnlineMode):
                self.fail(
                    "online_mode",
                    "the server asked for encryption (online mode: players must authenticate with Mojang); "
                    "mcproof joins offline-mode servers only",
                )
                return
            elif isinstance(event, ProtocolViolation):
                self.fail("protocol", f"protocol error in the {self.phase} phase: {event.detail}")
                return


class SessionCore:
    """A play session's bookkeeping: time updates, the keep-alive deadline, how it ended."""

    def __init__(
        self,
        target: Target,
        connection: PlayerConnection,
        *,
        joined_mono: float,
        keepalive_timeout_s: float,
        max_time_updates: int = MAX_TIME_UPDATES,
    ) -> None:
        self.target = target
        self.connection = connection
        self.joined_mono = joined_mono
        self.keepalive_timeout_s = keepalive_timeout_s
        self.last_packet_mono = joined_mono
        self._time_updates: deque[TimeUpdate] = deque(maxlen=max_time_updates)
        self.end: SessionEnd | None = None
        self._grace_used = False  # the keep-alive deadline passed with bytes waiting: read them first, once

    @property
    def player(self) -> str:
        return self.connection.name

    @property
    def time_updates(self) -> list[TimeUpdate]:
        return list(self._time_updates)

    @property
    def keepalives_answered(self) -> int:
        return self.connection.keepalives_answered

    def keepalive_remaining(self) -> float:
        return self.last_packet_mono + self.keepalive_timeout_s - time.monotonic()

    def feed(self, data: bytes) -> bytes:
        """Bytes from the server -> the answer to send; ends the session on a disconnect or bad bytes."""
        before = self.connection.packets_received
        events = self.connection.receive(data)
        if self.connection.packets_received != before:
            self.last_packet_mono = time.monotonic()
            self._grace_used = False
        self.apply(events)
        return self.connection.bytes_to_send()

    def apply(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, WorldTime):
                self._time_updates.append(
                    TimeUpdate(self.target.id, event.world_age, time.monotonic(), event.day_time, player=self.player)
                )
            elif isinstance(event, Disconnected):
                reason = "client_timeout" if is_timeout_kick(event.reason) else "kicked"
                self.finish(reason, event.reason or "(no reason)")
            elif isinstance(event, ProtocolViolation):
                self.finish("protocol", event.detail)
            elif isinstance(event, OnlineMode):  # not sent after login; a server that does is not the protocol
                self.finish("protocol", "encryption request after login")

    def check_keepalive(self, readable: Callable[[], bool] | None = None) -> bool:
        """True (and the session ended) when no packet came for longer than the keep-alive deadline.

        `readable` says whether bytes are already waiting (in the kernel or the driver's buffer): then the
        silence is our own loop being late, not the server, and the bytes are read first (once per
        deadline: a server trickling bytes that never make a packet still times out)."""
        if self.end is None and self.keepalive_remaining() <= 0:
            if readable is not None and not self._grace_used and readable():
                self._grace_used = True
                return False
            self.finish("keepalive_timeout", f"no packet from the server for {self.keepalive_timeout_s:g} s")
        return self.end is not None

    def read_timeout(self) -> float:
        """How long the next read may wait: to the keep-alive deadline, or (bytes waiting past it) a
        whole keep-alive interval for the read that collects them."""
        remaining = self.keepalive_remaining()
        if remaining > 0:
            return remaining
        return self.keepalive_timeout_s if self._grace_used else 0.0

    def on_error(self, err: Exception) -> SessionEnd:
        """A driver's exception in the session loop, as the session's end (never a traceback)."""
        if isinstance(err, TimeoutError):
            return self.finish(
                "keepalive_timeout", f"the server did not read our answers for {self.keepalive_timeout_s:g} s"
            )
        if isinstance(err, OSError):
            return self.finish("closed", f"connection lost ({err.strerror or err})")
        return self.finish("protocol", f"session error ({type(err).__name__}: {err})")

    def finish(self, reason: str, detail: str) -> SessionEnd:
        if self.end is None:
            self.connection.state = "closed"
            self.end = SessionEnd(
                server=self.target.id,
                player=self.player,
                reason=reason,
                detail=detail,
                joined_mono=self.joined_mono,
                ended_mono=time.monotonic(),
                ended_at=utc_now(),
            )
        return self.end
