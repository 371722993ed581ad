"""What a player client observes, as frozen samples: one join attempt, one session's end, one world-time update.

These are the raw observations every player figure (join ratio, join time, drops, rejoin time, TPS) is
computed from (:mod:`mcproof.players.slis`). A failed or timed-out join is a sample too: ``ok`` False with
the phase it stopped in, never a missing row.

Times: ``*_at`` fields are wall-clock UTC ISO-8601 strings (for the evidence and the report);
``*_mono`` fields are ``time.monotonic()`` seconds (for durations; wall clocks step on these VMs).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["JOIN_ERROR_KINDS", "PHASES", "SESSION_END_REASONS", "JoinAttempt", "SessionEnd", "TimeUpdate"]

PHASES = ("connect", "handshake", "login", "configuration", "play")
"""The phases of a join, in order; ``JoinAttempt.phase`` names the last one entered."""

JOIN_ERROR_KINDS = (
    "refused",  # TCP connect refused / reset before the handshake
    "timeout",  # a phase's deadline passed (the message names the phase and the deadline)
    "disconnected",  # the server sent a disconnect (the message carries its reason as plain text)
    "closed",  # the server closed the connection without a disconnect packet
    "online_mode",  # the server asked for encryption: an authenticated server; never attacked, reported
    "unsupported_version",  # the server's protocol is one the client has no packet table for
    "protocol",  # the server sent bytes that are not the protocol (oversized frame, bad compression...)
    "unreachable",  # DNS/route errors
)

SESSION_END_REASONS = (
    "left",  # the client disconnected on purpose (the session length was reached)
    "kicked",  # the server sent a play-phase disconnect (e.g. "Server closed")
    # The server kicked us for not answering (vanilla's disconnect.timeout, "Timed out"): the server says
    # WE stopped answering keep-alives, so it is evidence about the harness (a stalled client loop), not
    # about the server. Still a drop (``dropped`` is True) but SLIs/chaos treat it as a measurement gap.
    "client_timeout",
    "closed",  # the connection closed/reset without a disconnect packet (the server died)
    "keepalive_timeout",  # no packet from the server for longer than the keep-alive deadline
    "protocol",  # the server sent bytes the client could not parse
)


@dataclass(frozen=True)
class JoinAttempt:
    """One login attempt: connect -> handshake -> login -> configuration -> play, or where it stopped."""

    server: str  # Target.id
    address: str  # host:port
    player: str  # the offline-mode user name used
    ok: bool
    phase: str  # the last phase entered (PHASES); "play" when ok
    started_at: str
    started_mono: float
    join_s: float | None  # connect start -> the first play-phase packet (login/"join game"); None unless ok
    error_kind: str | None = None  # JOIN_ERROR_KINDS
    error: str | None = None  # one line, e.g. "configuration phase timed out after 5 s"
    protocol: int | None = None  # the protocol version spoken

    def describe(self) -> str:
        """``"mc-00042: configuration phase timed out after 5 s"`` (or ``"mc-00042: joined in 0.041 s"``)."""
        if self.ok:
            return f"{self.server}: joined in {self.join_s:.3f} s"
        return f"{self.server}: {self.error}"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SessionEnd:
    """How one play session ended (a session starts at its ``JoinAttempt`` with ``ok`` True)."""

    server: str
    player: str
    reason: str  # SESSION_END_REASONS; anything but "left" is a drop
    detail: str  # e.g. the kick message, or "connection reset"
    joined_mono: float
    ended_mono: float
    ended_at: str

    @property
    def dropped(self) -> bool:
        return self.reason != "left"

    @property
    def duration_s(self) -> float:
        return self.ended_mono - self.joined_mono

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"dropped": self.dropped, "duration_s": self.duration_s}


@dataclass(frozen=True)
class TimeUpdate:
    """One world-time ("update time" / "set time") packet: the server's game time in ticks, when it arrived."""

    server: str
    world_age: int  # game ticks since the world was created (the packet's first field)
    received_mono: float
    day_time: int | None = None  # the time of day (1.21.4's second field; 26.x: the first clock's total ticks)
    player: str = ""  # the player (user name) whose connection received it; "" when not known (older samples)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
