"""The player Locust user: ``MinecraftPlayerUser``, a module-level abstract ``User`` (like
:class:`mcproof.load.users.MinecraftServerUser`): subclass it with a ``config``, or let
:func:`mcproof.load.locust_process.build_user_classes` bind it to a run's config.

Importing this module imports Locust (gevent monkey-patching): import it only in a Locust process.

One user is one player. On start it picks its target the way the server user does (users interleave
across workers and targets), waits for its first join time (`PlayerPlan.join_at_s`: population players
at once, rush players on an even schedule), then loops until the run ends: join with the player
client's **blocking** driver (plain sockets, which gevent patches, so a wait on the socket yields to
the other users), hold the session for ``session_s`` answering keep-alives, leave cleanly, pause
``rejoin_pause_s``, join again. A dropped session is followed by the next join at once (time to rejoin);
a failed join by the next one after 1 s.

Every join fires a Locust request event ``PLAYER``/``join`` (response time = time to join; a failed
join is a failure with its error kind), every session end ``PLAYER``/``session`` (response time = the
session's length; a drop is a failure named by its reason), so Locust's table and web UI show them. The
raw samples travel in the events' context to `mcproof.load.player_collector.PlayerCollector`: the
`JoinAttempt` dict (plus the schedule lag of a scheduled join) and the `SessionEnd` dict with the
session's world-time updates, thinned to one per second (and at most ``tps_updates_per_server``).
A join cut short by the run's end is no sample (the server did not fail it).
"""

from __future__ import annotations

import itertools
import time
from typing import ClassVar

import gevent
from locust import User, constant, task
from locust.exception import StopUser

from mcproof.load.locust_process import LoadRequestError
from mcproof.load.plan import LoadConfig, TargetRef, target_index
from mcproof.load.player_collector import thin_series
from mcproof.load.shapes import PlayerPlan, player_name
from mcproof.minecraft.player.blocking import BlockingSession, join
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd
from mcproof.target import Target

__all__ = ["JOIN_NAME", "PLAYER_REQUEST", "SESSION_NAME", "MinecraftPlayerUser"]

PLAYER_REQUEST = "PLAYER"
JOIN_NAME = "join"
SESSION_NAME = "session"
RETRY_AFTER_FAILED_JOIN_S = 1.0


class PlayerJoinFailed(LoadRequestError):
    """A join that did not reach play; ``kind`` is the JoinAttempt's error kind."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SessionDropped(LoadRequestError):
    """A session the player did not end; ``kind`` is the SessionEnd's reason."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class MinecraftPlayerUser(User):
    """One player: join, stay `session_s` answering keep-alives, leave, join again until the run ends."""

    abstract = True
    config: ClassVar[LoadConfig]
    wait_time = constant(0)  # pacing is the session length itself
    _sequence: ClassVar[itertools.count[int]]
    _t0: ClassVar[list[float]]  # monotonic run start in this process (the first player's start)

    @classmethod
    def for_config(cls, config: LoadConfig) -> type[MinecraftPlayerUser]:
        """A concrete subclass for ``config`` (which must have players); ``fixed_count`` = its players."""
        if config.players is None:
            raise ValueError("this load config has no players (load.players.population and rush.joins are 0)")
        attrs = {
            "abstract": False,
            "config": config,
            "fixed_count": config.players.players,
            "_sequence": itertools.count(),
            "_t0": [],
            "__doc__": cls.__doc__,
            "__module__": cls.__module__,
        }  # fmt: skip  (one mapping)
        return type(cls.__name__, (cls,), attrs)

    def on_start(self) -> None:
        config = self.config
        assert config.players is not None
        self.plan: PlayerPlan = config.players
        if not self._t0:
            self._t0.append(time.monotonic())
        runner = self.environment.runner
        worker_index = max(0, int(getattr(runner, "worker_index", 0) or 0))
        workers = max(1, config.workers)
        seq = next(self._sequence)
        index = seq * workers + worker_index % workers  # this player's index in the whole run
        ref: TargetRef = config.targets[target_index(seq, worker_index, workers, len(config.targets))]
        self.target = Target(ref.id, ref.host, ref.port)
        # a mixed fleet: each server's own expected protocol, else the plan's (the environment's expectation)
        fallback = self.plan.protocol if self.plan.protocol is not None else config.expect_protocol
        self.protocol = ref.expect_protocol if ref.expect_protocol is not None else fallback
        self.name = player_name(self.plan.name_prefix, worker_index, seq)
        self.due: float | None = None
        if index >= self.plan.population and self.plan.rush_joins:  # a rush player: its slot in the rush
            self.due = self._t0[0] + self.plan.join_at_s(index % self.plan.players)
        self.session: BlockingSession | None = None
        self.fire = self.environment.events.request.fire

    @task
    def play(self) -> None:
        plan = self.plan
        if self.protocol is None:
            raise StopUser  # no protocol to speak: the environment's minecraft.expect.protocol is unset
        lag_ms: float | None = None
        if self.due is not None:
            wait = self.due - time.monotonic()
            if wait > 0:
                gevent.sleep(wait)
            lag_ms = (time.monotonic() - self.due) * 1000
            self.due = None
        attempt, session = self._join()
        self._fire_join(attempt, lag_ms)
        if session is None:
            gevent.sleep(RETRY_AFTER_FAILED_JOIN_S)  # a refusing server is not hammered (nor the generator)
            return
        self.session = session
        end = session.pump(time.monotonic() + plan.session_s)  # answers keep-alives; recv yields to gevent
        if end is None:
            end = session.leave()
        self.session = None
        self._fire_session(end, session)
        if not end.dropped and plan.rejoin_pause_s > 0:
            gevent.sleep(plan.rejoin_pause_s)

    def _join(self) -> tuple[JoinAttempt, BlockingSession | None]:
        plan = self.plan
        assert self.protocol is not None
        return join(
            self.target,
            self.protocol,
            self.name,
            phase_timeout_s=plan.join_timeout_s,
            connect_timeout_s=plan.join_timeout_s,
            keepalive_timeout_s=plan.keepalive_timeout_s,
        )

    def on_stop(self) -> None:
        session, self.session = self.session, None
        if session is not None:  # the run ended mid-session: leave cleanly, the session is a sample
            end = session.leave()
            self._fire_session(end, session)

    def _fire_join(self, attempt: JoinAttempt, lag_ms: float | None) -> None:
        error = None if attempt.ok else PlayerJoinFailed(str(attempt.error_kind or "error"), str(attempt.error))
        elapsed_s = (
            attempt.join_s if attempt.ok and attempt.join_s is not None else time.monotonic() - attempt.started_mono
        )
        self.fire(
            request_type=PLAYER_REQUEST,
            name=JOIN_NAME,
            response_time=elapsed_s * 1000,
            response_length=0,
            exception=error,
            context={
                "target": self.target.id,
                "kind": error.kind if error else None,
                "join": attempt.as_dict(),
                "lag_ms": lag_ms,
            },
        )  # fmt: skip  (one event)

    def _fire_session(self, end: SessionEnd, session: BlockingSession) -> None:
        series: dict[int, tuple[int, float]] = {}
        step = 1.0
        for update in session.time_updates:
            series, step = thin_series(
                series, step, self.plan.tps_updates_per_server, (update.world_age, update.received_mono)
            )
        updates = [list(v) for v in sorted(series.values(), key=lambda v: v[1])]
        error = SessionDropped(end.reason, end.detail) if end.dropped else None
        self.fire(
            request_type=PLAYER_REQUEST,
            name=SESSION_NAME,
            response_time=end.duration_s * 1000,
            response_length=0,
            exception=error,
            context={
                "target": self.target.id,
                "kind": end.reason if end.dropped else None,
                "dropped": end.dropped,
                "reason": end.reason,
                "session": end.as_dict(),
                "time_updates": updates,
            },
        )  # fmt: skip  (one event)
