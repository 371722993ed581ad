"""A player population: real players kept logged in on a list of servers for the length of an experiment.

Like the chaos observer (:mod:`mcproof.chaos.observer`) it runs in its own thread and event loop, so it
is independent of chaoslib's probes and of the caller's thread. For each of ``targets`` it keeps
``population_per_server`` players in play through the harness's asyncio player client
(:func:`mcproof.minecraft.player.aio.join`): every join attempt, every session end and every world-time
update is recorded as the samples of :mod:`mcproof.minecraft.player.samples`.

When a session drops (anything but a leave of ours: the server closed, kicked, went silent), the player
tries to join again every ``retry_interval_s`` until it is back in play, so the time from the drop to
being back in play is measured; it gives up ``rejoin_deadline_s`` after the drop (the next join attempts
are not made; the drop stays unrecovered in the samples). A player that never got in gives up
``in_play_timeout_s`` after its first attempt. Both are listed in ``gave_up``.

:meth:`Population.stop` leaves every open session. A session that heard from the server within
``silent_after_s`` (about two keep-alive intervals, below the keep-alive timeout: 24 s at 30 s) is ``left`` and listed in ``alive_at_end``; one that heard
nothing for longer is *silent*: its end is not recorded (it stays open, so the SLIs count it as
unaccounted, not as a healthy leave) and it is listed in ``silent`` with how long it was quiet.

Its own health is measured too: a 100 ms ticker records how late the population's event loop ran
(``loop_lags``: every lateness above ``lag_record_s``), so a stalled harness is not blamed on a server;
a player task that crashed and a thread that did not finish become ``notes`` (the chaos judge makes
every note a gap).

Bounded: at most ``max_players`` players (refused beyond it), every join phase bounded by ``phase_timeout_s``,
the whole population stops by itself after ``max_duration_s``; it connects to the given targets only.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mcproof.errors import ConfigError
from mcproof.minecraft.player._common import DEFAULT_KEEPALIVE_TIMEOUT_S
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.target import Target

__all__ = [
    "JoinFn",
    "PlayerSamples",
    "Population",
    "attempt_join",
    "default_join",
    "join_retrying",
    "player_name",
    "status_protocol",
]

JoinFn = Callable[..., Awaitable[tuple[JoinAttempt, Any]]]
"""``await join(target, protocol, name, phase_timeout_s=...) -> (JoinAttempt, PlaySession or None)``:
:func:`mcproof.minecraft.player.aio.join`."""
_PHASES = 5  # connect, handshake, login, configuration, play: each has its own deadline
KEEPALIVE_INTERVAL_S = 15.0  # vanilla (and the sandbox) send a keep-alive every 15 s
LAG_TICK_S = 0.1  # the loop-lag watchdog's period
LAG_RECORD_S = 0.05  # lateness above this is recorded (time, lateness)
_MAX_LAGS = 10_000  # bound on the recorded lateness events


def player_name(prefix: str, server_index: int, slot: int) -> str:
    """An offline-mode user name (at most 16 characters of ``[A-Za-z0-9_]``) for one player slot.

    >>> player_name("mcp", 3, 1)
    'mcp_s3_p1'
    """
    name = f"{prefix}_s{server_index}_p{slot}"
    if len(name) > 16 or not name.replace("_", "").isalnum():
        raise ConfigError(f"player name {name!r} is not an offline-mode user name; use a shorter prefix")
    return name


@dataclass(frozen=True)
class PlayerSamples:
    """What a population saw: every join attempt, session end and world-time update, and who played where."""

    joins: tuple[JoinAttempt, ...]
    ends: tuple[SessionEnd, ...]
    times: tuple[TimeUpdate, ...]
    players: dict[str, str]  # player -> server id
    started_mono: float
    stopped_mono: float
    retry_interval_s: float
    rejoin_deadline_s: float
    gave_up: tuple[str, ...] = ()  # players not back in play before their rejoin deadline, or never in
    notes: tuple[str, ...] = field(default_factory=tuple)  # population trouble: every note is a gap
    alive_at_end: tuple[tuple[str, str], ...] = ()  # (server, player): open at stop, heard from recently
    silent: tuple[tuple[str, str, float], ...] = ()  # (server, player, seconds quiet): open at stop, silent
    loop_lags: tuple[tuple[float, float], ...] = ()  # (monotonic time, lateness s) of the population's loop

    def loop_lag_max(self, start_mono: float, end_mono: float) -> float:
        """The worst lateness of the population's event loop that overlapped two monotonic times (0.0: none
        seen); a lateness ``lag`` noticed at ``t`` means the loop was stuck over ``[t - lag, t]``.

        >>> s = PlayerSamples((), (), (), {}, 0, 10, 0.5, 60, loop_lags=((2.0, 0.1), (5.0, 1.5), (9.5, 3.0)))
        >>> s.loop_lag_max(1.0, 6.0)
        1.5
        """
        return max((lag for t, lag in self.loop_lags if t >= start_mono and t - lag <= end_mono), default=0.0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "joins": [j.as_dict() for j in self.joins],
            "ends": [e.as_dict() for e in self.ends],
            "times": len(self.times),
            "players": dict(self.players),
            "duration_s": round(self.stopped_mono - self.started_mono, 3),
            "retry_interval_s": self.retry_interval_s,
            "rejoin_deadline_s": self.rejoin_deadline_s,
            "gave_up": list(self.gave_up),
            "notes": list(self.notes),
            "alive_at_end": [list(k) for k in self.alive_at_end],
            "silent": [list(k) for k in self.silent],
            "loop_lag_max_s": round(max((lag for _, lag in self.loop_lags), default=0.0), 3),
        }


class Population:
    """``pop = Population(targets).start(); pop.wait_all_in_play(30); ...; samples = pop.stop()``."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        protocols: Mapping[str, int] | None = None,
        population_per_server: int = 1,
        phase_timeout_s: float = 5.0,
        keepalive_timeout_s: float = DEFAULT_KEEPALIVE_TIMEOUT_S,
        retry_interval_s: float = 0.5,
        rejoin_deadline_s: float = 120.0,
        in_play_timeout_s: float | None = None,
        silent_after_s: float | None = None,
        max_duration_s: float = 1800.0,
        max_players: int = 1000,
        name_prefix: str = "mcp",
        join: JoinFn | None = None,
    ) -> None:
        if population_per_server < 1:
            raise ConfigError(f"population_per_server must be >= 1, got {population_per_server}")
        if len(targets) * population_per_server > max_players:
            raise ConfigError(
                f"{len(targets)} servers x {population_per_server} players exceeds the population bound "
                f"{max_players}; lower players.population_per_server or the servers given players"
            )
        self.targets = list(targets)
        self.per_server = population_per_server
        self.phase_timeout_s = phase_timeout_s
        self.keepalive_timeout_s = keepalive_timeout_s  # no packet from the server this long: a drop
        self.join_timeout_s = phase_timeout_s * _PHASES + 1.0  # the whole join, every phase at its deadline
        self.protocols: dict[str, int] = dict(protocols or {})  # the rest: the protocol their status reports
        self.retry_interval_s = retry_interval_s
        self.rejoin_deadline_s = rejoin_deadline_s
        # a player never in play stops trying after this (None: the rejoin deadline)
        self.in_play_timeout_s = in_play_timeout_s if in_play_timeout_s is not None else rejoin_deadline_s
        # silent at stop: about two keep-alive intervals, kept below the keep-alive timeout (a server that quiet
        # that long has already dropped us) so a hung server near the end is caught, not read as healthy
        self.silent_after_s = (
            silent_after_s
            if silent_after_s is not None
            else min(2 * KEEPALIVE_INTERVAL_S, max(KEEPALIVE_INTERVAL_S + 1.0, 0.8 * keepalive_timeout_s))
        )
        self.max_duration_s = max_duration_s
        self._join = join
        self.slots: list[tuple[str, Target]] = [
            (player_name(name_prefix, i, p), t)
            for i, t in enumerate(self.targets)
            for p in range(population_per_server)
        ]
        self._joins: list[JoinAttempt] = []
        self._ends: list[SessionEnd] = []
        self._times: list[TimeUpdate] = []
        self._in_play: dict[str, bool] = {name: False for name, _ in self.slots}
        self._gave_up: list[str] = []
        self._coming_back: set[str] = set()  # dropped, trying to get back in play (until back or given up)
        self._notes: list[str] = []
        self._alive: list[tuple[str, str]] = []
        self._silent: list[tuple[str, str, float]] = []
        self._lags: list[tuple[float, float]] = []
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self._stopped = 0.0

    # --- the caller's thread ---------------------------------------------------------------------

    def start(self) -> Population:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._main, name="mcproof-players", daemon=True)
        self._thread.start()
        return self

    def __enter__(self) -> Population:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def in_play(self) -> dict[str, bool]:
        """Player -> whether it is in play now."""
        with self._lock:
            return dict(self._in_play)

    def gave_up(self) -> list[str]:
        """The players that stopped trying (rejoin deadline after a drop, or never in play in time)."""
        with self._lock:
            return list(self._gave_up)

    def wait_all_in_play(self, timeout_s: float) -> bool:
        """Block until every player is in play, or a player gave up, or ``timeout_s`` passed."""
        with self._changed:
            return self._changed.wait_for(
                lambda: all(self._in_play.values()) or self._stop.is_set(), timeout=max(0.0, timeout_s)
            ) and all(self._in_play.values())

    def wait_settled(self, timeout_s: float) -> bool:
        """Block until no dropped player is still trying to get back (each is back in play or gave up at its
        rejoin deadline); players that never got in are not waited for."""
        with self._changed:
            return self._changed.wait_for(
                lambda: not self._coming_back or self._stop.is_set(), timeout=max(0.0, timeout_s)
            )

    def stop(self, timeout_s: float | None = None) -> PlayerSamples:
        """Leave every open session cleanly and return the samples (idempotent)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s if timeout_s is not None else self.join_timeout_s + 10.0)
            if self._thread.is_alive():
                with self._lock:
                    note = "the population thread did not finish leaving within its deadline"
                    if note not in self._notes:
                        self._notes.append(note)
        with self._lock:
            self._stopped = self._stopped or time.monotonic()
            return PlayerSamples(
                tuple(self._joins),
                tuple(self._ends),
                tuple(self._times),
                {name: t.id for name, t in self.slots},
                self._started,
                self._stopped,
                self.retry_interval_s,
                self.rejoin_deadline_s,
                tuple(self._gave_up),
                tuple(self._notes),
                tuple(self._alive),
                tuple(self._silent),
                tuple(self._lags),
            )

    # --- the population's own thread and loop ----------------------------------------------------

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except Exception as err:  # a broken population is a note in the evidence, never a dead harness
            with self._lock:
                self._notes.append(f"population stopped by {type(err).__name__}: {err}")
        finally:
            with self._changed:
                self._stopped = time.monotonic()
                self._stop.set()
                self._changed.notify_all()

    def _record(self, sample: JoinAttempt | SessionEnd | TimeUpdate) -> None:
        with self._changed:
            if isinstance(sample, JoinAttempt):
                self._joins.append(sample)
                if sample.ok:
                    self._in_play[sample.player] = True
                    self._coming_back.discard(sample.player)
            elif isinstance(sample, SessionEnd):
                self._ends.append(sample)
                self._in_play[sample.player] = False
                if sample.dropped and not self._stop.is_set():
                    self._coming_back.add(sample.player)
            else:
                self._times.append(sample)
                return
            self._changed.notify_all()

    async def _run(self) -> None:
        join = self._join or default_join()
        stop = asyncio.Event()
        deadline = self._started + self.max_duration_s

        async def watch_stop() -> None:
            while not self._stop.is_set() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            stop.set()

        watcher = asyncio.create_task(watch_stop())
        ticker = asyncio.create_task(self._watch_lag(stop))
        players = [asyncio.create_task(self._player(name, target, join, stop)) for name, target in self.slots]
        results = await asyncio.gather(*players, return_exceptions=True)
        for (name, _), result in zip(self.slots, results, strict=True):
            if isinstance(result, BaseException):  # never swallowed: a crashed player is a gap
                with self._changed:
                    self._notes.append(f"player {name} stopped by {type(result).__name__}: {str(result)[:160]}")
                    self._in_play[name] = False
                    self._coming_back.discard(name)
                    self._changed.notify_all()
        watcher.cancel()
        ticker.cancel()

    async def _watch_lag(self, stop: asyncio.Event) -> None:
        """Every LAG_TICK_S: how late the loop woke us (a loop busy elsewhere delays every reader too)."""
        due = time.monotonic() + LAG_TICK_S
        while not stop.is_set():
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic()
            late = now - due
            if late > LAG_RECORD_S:
                with self._lock:
                    if len(self._lags) < _MAX_LAGS:
                        self._lags.append((round(now, 6), round(late, 6)))
            due = max(due + LAG_TICK_S, now)

    def _give_up(self, name: str) -> None:
        with self._changed:
            self._gave_up.append(name)
            self._coming_back.discard(name)
            self._changed.notify_all()

    async def _player(self, name: str, target: Target, join: JoinFn, stop: asyncio.Event) -> None:
        give_up_at = time.monotonic() + self.in_play_timeout_s  # bounded: a player that never gets in stops
        while not stop.is_set():
            attempt, session = await join_retrying(
                join,
                target,
                name,
                protocols=self.protocols,
                phase_timeout_s=self.phase_timeout_s,
                keepalive_timeout_s=self.keepalive_timeout_s,
                join_timeout_s=self.join_timeout_s,
                retry_s=self.retry_interval_s,
                give_up_at=give_up_at,
                stop=stop,
                on_attempt=self._record,
            )
            if session is None or attempt is None:
                if not stop.is_set():  # its deadline passed: the drop (or the never-in) stays unrecovered
                    self._give_up(name)
                return
            give_up_at = float("inf")  # in play: no deadline until the next drop
            end, quiet = await _play_until(session, stop, target, name, attempt, self._record, self.silent_after_s)
            if quiet is not None:  # silent at stop: the end stays unrecorded (unaccounted), never "left"
                with self._changed:
                    self._silent.append((target.id, name, round(quiet, 3)))
                    self._in_play[name] = False
                    self._changed.notify_all()
                return
            if end.reason == "left" and stop.is_set():
                with self._lock:
                    self._alive.append((target.id, name))
            self._record(end)
            if end.dropped:
                give_up_at = end.ended_mono + self.rejoin_deadline_s


async def join_retrying(
    join: JoinFn,
    target: Target,
    name: str,
    *,
    protocols: dict[str, int],
    phase_timeout_s: float,
    join_timeout_s: float,
    retry_s: float,
    give_up_at: float,
    keepalive_timeout_s: float | None = None,
    stop: asyncio.Event | None = None,
    on_attempt: Callable[[JoinAttempt], None] | None = None,
    final: Callable[[JoinAttempt], bool] | None = None,
) -> tuple[JoinAttempt | None, Any]:
    """Join attempts (:func:`attempt_join`) every ``retry_s`` until one reaches play (its attempt and the
    session), or ``final`` says an attempt settles it, or an attempt ends at or after ``give_up_at``
    (monotonic), or ``stop`` is set (the last attempt and None). At least one attempt is made (``give_up_at``
    in the past: exactly one). The population and the DR first-join loop both retry through it."""
    last: JoinAttempt | None = None
    while stop is None or not stop.is_set():
        tried = time.monotonic()
        last, session = await attempt_join(
            join,
            target,
            name,
            protocols=protocols,
            phase_timeout_s=phase_timeout_s,
            join_timeout_s=join_timeout_s,
            keepalive_timeout_s=keepalive_timeout_s,
        )
        if on_attempt is not None:
            on_attempt(last)
        if session is not None or last.ok or (final is not None and final(last)):
            return last, session
        now = time.monotonic()
        if now >= give_up_at:
            break
        wait = max(0.0, min(retry_s - (now - tried), give_up_at - now))
        if stop is None:
            await asyncio.sleep(wait)
        else:
            with _suppress_timeout():
                await asyncio.wait_for(stop.wait(), timeout=wait)
    return last, None


async def status_protocol(target: Target, timeout_s: float) -> int | None:
    """The protocol ``target``'s status ping reports (None: no answer)."""
    from mcproof.minecraft.status import async_status_ping

    status = await async_status_ping(target.host, target.port, timeout=timeout_s, target=target.id)
    return int(status.protocol) if status.ok and status.protocol is not None else None


async def attempt_join(
    join: JoinFn,
    target: Target,
    name: str,
    *,
    protocols: dict[str, int],
    phase_timeout_s: float,
    join_timeout_s: float,
    keepalive_timeout_s: float | None = None,
) -> tuple[JoinAttempt, Any]:
    """One bounded join attempt (population and DR): the protocol from ``protocols`` (the environment's
    expectation), else the status ping's (cached there); a join that blew up or overran ``join_timeout_s``
    is a failed attempt, never an exception."""
    started, started_mono = _utc_now(), time.monotonic()
    try:
        protocol = protocols.get(target.id)
        if protocol is None:
            protocol = await status_protocol(target, phase_timeout_s)
            if protocol is None:
                return _failed(
                    target, name, started, started_mono, "refused", "no status answer to learn its protocol from"
                ), None
            protocols[target.id] = protocol
        extra = {} if keepalive_timeout_s is None else {"keepalive_timeout_s": keepalive_timeout_s}
        return await asyncio.wait_for(
            join(target, protocol, name, phase_timeout_s=phase_timeout_s, **extra), timeout=join_timeout_s
        )
    except Exception as err:  # a join that blew up is a failed attempt, never a dead player
        kind = "timeout" if isinstance(err, TimeoutError) else "protocol"
        return _failed(
            target, name, started, started_mono, kind, f"join raised {type(err).__name__}: {str(err)[:160]}"
        ), None


def _utc_now() -> str:
    from mcproof.minecraft.status import utc_now

    return utc_now()


def _failed(target: Target, name: str, at: str, mono: float, kind: str, error: str) -> JoinAttempt:
    return JoinAttempt(
        server=target.id,
        address=f"{target.host}:{target.port}",
        player=name,
        ok=False,
        phase="connect",
        started_at=at,
        started_mono=mono,
        join_s=None,
        error_kind=kind,
        error=error,
    )


class _suppress_timeout:
    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> bool:
        return kind is not None and issubclass(kind, TimeoutError)


async def _play_until(
    session: Any,
    stop: asyncio.Event,
    target: Target,
    name: str,
    attempt: JoinAttempt,
    record: Callable[[Any], None],
    silent_after_s: float = float("inf"),
) -> tuple[SessionEnd, float | None]:
    """Stay in play until the session ends by itself (a drop) or ``stop`` is set (we leave); the session's
    world-time updates are recorded when it ends. The second value: seconds the server had been silent
    when we left at ``stop`` (None: it was heard from within ``silent_after_s``, or the session dropped)."""
    ended = asyncio.ensure_future(session.ended.wait())
    stopping = asyncio.ensure_future(stop.wait())
    quiet: float | None = None
    try:
        await asyncio.wait({ended, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if session.end is None:
            core = getattr(session, "core", None)
            last = getattr(core, "last_packet_mono", None)
            if isinstance(last, int | float) and time.monotonic() - last > silent_after_s:
                quiet = time.monotonic() - last
            with contextlib.suppress(Exception):  # leave() records the end before it closes anything
                await asyncio.wait_for(session.leave(), 5.0)
    finally:
        ended.cancel()
        stopping.cancel()
    for update in list(session.time_updates):
        if getattr(update, "player", None) == "":  # the client's TimeUpdate names its player: fill it in
            update = replace(update, **{"player": name})
        record(update)
    end: SessionEnd | None = session.end
    if end is None:  # the leave itself failed: still ours, not a drop
        from mcproof.minecraft.status import utc_now

        end = SessionEnd(target.id, name, "left", "leave failed", attempt.started_mono, time.monotonic(), utc_now())
    return end, quiet if end.reason == "left" else None


def default_join() -> JoinFn:
    """The harness's asyncio player client."""
    from mcproof.minecraft.player import aio

    return aio.join
