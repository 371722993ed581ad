"""A join rush against the platform's game-server fleet autoscaler (an Agones-style buffer of ready servers).

What it does, bounded by ``load.fleet_buffer`` (:class:`FleetBufferSettings`):

1. Waits until the buffer is full: ``buffer_size`` servers listed ready that *answer a status ping*.
2. A sampler observes the buffer every ``interval_s``: the fleet listing, then a ping (its own deadline) of
   every server listed ready and of every server the rush holds. A failed listing is a sample of zero.
3. The rush: ``rush`` allocations at once; each is retried while the buffer is dry, and its latency runs
   from the request to the allocated server's first answer (an allocation that never came is a sample
   at its deadline).
4. A player joins each of the first ``keep`` allocated servers; the other allocations are released, which
   leaves a surplus the autoscaler must scale in. The run waits until the listing is back to the buffer's
   size, then checks that no held server missed a ping and no player was dropped meanwhile.

The figures come from the sampler's own observations (:func:`judge_fleet_buffer`); the platform's counts
are never taken as figures. Every allocation is released at the end, also after a failure.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcproof.errors import ApiCallError, McproofError
from mcproof.evidence.records import SloMeasurement
from mcproof.load.settings import FleetBufferSettings
from mcproof.minecraft.status import StatusResult, status_ping
from mcproof.stats import percentile
from mcproof.target import Target

__all__ = [
    "SLO_ROWS",
    "BufferNeverFull",
    "BufferSample",
    "FleetBufferFigures",
    "FleetBufferRun",
    "FleetClient",
    "FleetUnsupported",
    "fleet_buffer_slos",
    "judge_fleet_buffer",
    "run_fleet_buffer",
]

Ping = Callable[[str, int, float], StatusResult]


class FleetClient(Protocol):
    def fleet(self) -> dict[str, Any]: ...
    def allocate(self) -> dict[str, Any]: ...
    def release(self, server_id: str) -> None: ...


class FleetUnsupported(McproofError):
    """The platform runs no fleet autoscaler the harness can observe (its API has no fleet route)."""


class BufferNeverFull(McproofError):
    """The buffer never had its ready servers answering before the rush: nothing could be judged."""


@dataclass(frozen=True)
class BufferSample:
    """One observation (monotonic s): servers listed ready, of them answering, listed ready or starting, and
    the held servers that did not answer. A sample whose listing failed has ``error`` set: its held servers
    were still pinged, but it says nothing about the buffer."""

    at: float
    listed_ready: int
    answering_ready: int
    held_down: tuple[str, ...] = ()
    error: str = ""
    listed_warm: int = 0  # ready + starting: what the autoscaler counts against its buffer

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": round(self.at, 3),
            "listed_ready": self.listed_ready,
            "answering_ready": self.answering_ready,
            "listed_warm": self.listed_warm,
            "held_down": list(self.held_down),
            "error": self.error,
        }


@dataclass(frozen=True)
class FleetBufferRun:
    """What one rush observed (monotonic times); :func:`judge_fleet_buffer` turns it into figures."""

    buffer_size: int
    samples: tuple[BufferSample, ...]
    allocation_latencies_s: tuple[float, ...]  # the deadline for an allocation that never answered
    allocation_failures: tuple[str, ...]
    rush_at: float
    released_at: float | None  # the surplus was given back (scale-in window starts)
    scaled_in_at: float | None  # a surplus seen after the releases was gone (None: no scale-in observed)
    held: tuple[str, ...]  # servers held with a player through the scale-in
    players_dropped: tuple[str, ...]  # "server: reason (detail)": drops of a held server's player after the releases
    players_joined: int
    notes: tuple[str, ...] = field(default_factory=tuple)
    surplus: int = 0  # servers listed ready or starting just after the releases (> buffer_size: a surplus)
    sampler_error: str = ""  # the sampler stopped on an error: the samples are incomplete

    def as_dict(self) -> dict[str, Any]:
        return {
            "buffer_size": self.buffer_size,
            "samples": [s.as_dict() for s in self.samples],
            "allocation_latencies_s": [round(x, 3) for x in self.allocation_latencies_s],
            "allocation_failures": list(self.allocation_failures),
            "held": list(self.held),
            "players_joined": self.players_joined,
            "players_dropped": list(self.players_dropped),
            "surplus_after_releases": self.surplus,
            "scale_in_observed": self.scaled_in_at is not None,
            "sampler_error": self.sampler_error,
            "notes": list(self.notes),
        }


def _ping(host: str, port: int, timeout: float) -> StatusResult:
    return status_ping(host, port, timeout=timeout)


def _listing(fleet: Any) -> list[dict[str, Any]]:
    """The pool servers of a fleet reply, each with a state, host and port; McproofError when malformed."""
    servers = fleet.get("servers") if isinstance(fleet, dict) else None
    if not isinstance(servers, list):
        raise McproofError(f"the fleet listing has no servers list: {str(fleet)[:200]}")
    try:
        return [{**s, "host": str(s["host"]), "port": int(s["port"]), "state": str(s["state"])} for s in servers]
    except (KeyError, TypeError, ValueError) as err:
        raise McproofError(f"a fleet listing entry lacks host, port or state ({err!r})") from None


class _Sampler:
    """Observes the buffer every ``interval_s`` in its own thread; ``close`` after ``stop``."""

    def __init__(self, client: FleetClient, settings: FleetBufferSettings, ping: Ping) -> None:
        self.client, self.settings, self.ping = client, settings, ping
        self.samples: list[BufferSample] = []
        self.held: dict[str, tuple[str, int]] = {}
        self.error = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="mcproof-fleet-ping")
        self._thread = threading.Thread(target=self._run, name="mcproof-fleet-sampler", daemon=True)

    def _pings(self, probes: list[tuple[str, int]]) -> list[bool]:
        timeout = self.settings.ping_timeout_s
        return [r.ok for r in self._pool.map(lambda hp: self.ping(hp[0], hp[1], timeout), probes)]

    def observe(self) -> BufferSample:
        at = time.monotonic()
        with self._lock:
            held = dict(self.held)
        try:
            servers = _listing(self.client.fleet())
        except McproofError as err:  # the listing failed: the held servers are still pinged, for real
            up = self._pings(list(held.values()))
            down = tuple(sorted(sid for sid, ok in zip(held, up, strict=True) if not ok))
            return BufferSample(at, 0, 0, down, error=str(err)[:300])
        ready = [(s["host"], s["port"]) for s in servers if s["state"] == "ready"]
        warm = sum(s["state"] in ("ready", "starting") for s in servers)
        up = self._pings(ready + list(held.values()))
        down = tuple(sorted(sid for sid, ok in zip(held, up[len(ready) :], strict=True) if not ok))
        return BufferSample(at, len(ready), sum(up[: len(ready)]), down, listed_warm=warm)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                started = time.monotonic()
                sample = self.observe()
                with self._lock:
                    self.samples.append(sample)
                self._stop.wait(max(0.0, self.settings.interval_s - (time.monotonic() - started)))
        except Exception as exc:  # recorded: a run whose sampler died is not judged on what it left
            self.error = f"{type(exc).__name__}: {exc}"[:300]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> tuple[BufferSample, ...]:
        self._stop.set()
        if self._thread.ident is not None:
            self._thread.join(self.settings.ping_timeout_s * 4 + 30.0)
            if self._thread.is_alive() and not self.error:
                self.error = "the sampler did not finish within its deadline"
        with self._lock:
            return tuple(self.samples)

    def close(self) -> None:
        self._pool.shutdown(wait=not self._thread.is_alive(), cancel_futures=True)

    def hold(self, server_id: str, host: str, port: int) -> None:
        with self._lock:
            self.held[server_id] = (host, port)

    def after(self, at: float) -> list[BufferSample]:
        """Samples taken from ``at`` on whose listing answered."""
        with self._lock:
            return [s for s in self.samples if s.at > at and not s.error]

    def alive(self) -> bool:
        return self._thread.is_alive()


def _buffer_size(client: FleetClient) -> int:
    try:
        fleet = client.fleet()
    except ApiCallError as err:
        if err.status == 404:
            raise FleetUnsupported(f"the platform API has no fleet autoscaler to observe: {err}") from None
        raise
    size = fleet.get("policy", {}).get("buffer_size") if isinstance(fleet, dict) else None
    if not isinstance(size, int) or size < 1:
        raise FleetUnsupported(f"the platform's fleet policy names no buffer size: {str(fleet)[:200]}")
    return size


def _wait(condition: Callable[[], bool], deadline_s: float, step_s: float) -> bool:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step_s)
    return condition()


_RETRIED = {0, 409, 429, 503}  # dry buffer (409; Agones: ResourceExhausted/429), busy, or no answer


def _allocate(
    client: FleetClient, settings: FleetBufferSettings, ping: Ping
) -> tuple[dict[str, Any] | None, float, str]:
    """One allocation, retried while the buffer is dry or the API busy, timed to the allocated server's first
    answer: (server or None, latency or the deadline, what went wrong or "")."""
    start = time.monotonic()
    end = start + settings.allocation_deadline_s
    server: dict[str, Any] | None = None
    last = "no allocation within the deadline"
    while server is None and time.monotonic() < end:
        try:
            server = client.allocate()
        except ApiCallError as err:
            last = str(err)[:200]
            if (err.status or 0) not in _RETRIED:
                return None, settings.allocation_deadline_s, last
            time.sleep(min(0.1, settings.interval_s))
    if server is None:
        return None, settings.allocation_deadline_s, last
    try:
        host, port = str(server["host"]), int(server["port"])
    except (KeyError, TypeError, ValueError):
        return server, settings.allocation_deadline_s, f"the allocation names no address: {str(server)[:200]}"
    while time.monotonic() < end:
        if ping(host, port, settings.ping_timeout_s).ok:
            return server, time.monotonic() - start, ""
        time.sleep(0.05)
    return server, settings.allocation_deadline_s, f"allocated {server.get('id')} never answered"


def _release_all(client: FleetClient, ids: list[str], notes: list[str]) -> None:
    """Give back ``ids`` and every allocation the listing still shows as this tenant's."""
    try:
        mine = {str(s.get("id")) for s in _listing(client.fleet()) if s.get("mine")}
    except McproofError as err:
        notes.append(f"could not list the allocations left: {err}")
        mine = set()
    for server_id in sorted(set(ids) | mine):
        try:
            client.release(server_id)
        except ApiCallError as err:
            if err.status != 404:  # 404: not (or no longer) allocated to us
                notes.append(f"could not release {server_id}: {err}")


def _surplus(client: FleetClient) -> int:
    """Servers listed ready or starting now (0 when the listing failed)."""
    try:
        return sum(s["state"] in ("ready", "starting") for s in _listing(client.fleet()))
    except McproofError:
        return 0


def run_fleet_buffer(
    client: FleetClient,
    settings: FleetBufferSettings,
    *,
    join_players: Callable[[list[Target]], Any],
    ping: Ping = _ping,
    echo: Callable[[str], None] = lambda _: None,
) -> FleetBufferRun:
    """The rush described in the module docstring. ``join_players(targets)`` returns a started
    :class:`~mcproof.players.population.Population` (anything with ``wait_all_in_play`` and ``stop``)."""
    size = _buffer_size(client)
    sampler = _Sampler(client, settings, ping)
    try:
        return _rush(client, settings, sampler, size, join_players, ping, echo)
    finally:
        sampler.stop()
        sampler.close()


def _rush(
    client: FleetClient,
    settings: FleetBufferSettings,
    sampler: _Sampler,
    size: int,
    join_players: Callable[[list[Target]], Any],
    ping: Ping,
    echo: Callable[[str], None],
) -> FleetBufferRun:
    if not _wait(lambda: sampler.observe().answering_ready >= size, settings.refill_deadline_s, settings.interval_s):
        raise BufferNeverFull(
            f"the fleet buffer never had its {size} ready servers answering within {settings.refill_deadline_s:g}s "
            "before the rush; nothing was judged"
        )
    notes: list[str] = []
    allocated: list[dict[str, Any]] = []
    latencies: list[float] = []
    failures: list[str] = []
    population: Any = None
    player_samples: Any = None
    released_at = scaled_in_at = None
    surplus = 0
    held: list[dict[str, Any]] = []
    sampler.start()
    rush_at = time.monotonic()
    try:
        echo(f"mcproof: fleet rush: {settings.rush} allocations against a buffer of {size}")
        with ThreadPoolExecutor(max_workers=settings.rush) as pool:
            for n, (server, latency, error) in enumerate(
                pool.map(lambda _: _allocate(client, settings, ping), range(settings.rush)), 1
            ):
                latencies.append(latency)
                if server is not None:
                    allocated.append(server)
                if error:
                    failures.append(f"allocation {n}: {error}")
        answering = [s for s in allocated if "host" in s and "port" in s]
        held = answering[: settings.keep]
        for server in held:
            sampler.hold(str(server["id"]), str(server["host"]), int(server["port"]))
        targets = [Target(id=str(s["id"]), host=str(s["host"]), port=int(s["port"]), source="fleet") for s in held]
        population = join_players(targets) if targets else None
        if population is not None and not population.wait_all_in_play(settings.allocation_deadline_s):
            notes.append("not every held server's player was in play before the releases")
        if not _wait(
            lambda: any(s.answering_ready >= size for s in sampler.after(rush_at)) or not sampler.alive(),
            settings.refill_deadline_s,
            settings.interval_s,
        ):
            notes.append(f"the buffer was not full again within {settings.refill_deadline_s:g}s of the rush")
        held_ids = {str(s["id"]) for s in held}
        for server in allocated:
            if str(server.get("id")) not in held_ids:
                client.release(str(server["id"]))
        released_at = time.monotonic()
        surplus = _surplus(client)
        echo(f"mcproof: fleet rush: released {len(allocated) - len(held)}, holding {len(held)} with players")
        if surplus <= size:
            notes.append(
                f"no surplus after the releases ({surplus} ready or starting, buffer {size}): no scale-in to judge"
            )
        elif (
            _wait(
                lambda: any(s.listed_warm <= size for s in sampler.after(released_at)) or not sampler.alive(),
                settings.scale_in_deadline_s,
                settings.interval_s,
            )
            and sampler.alive()
        ):
            scaled_in_at = next(s.at for s in sampler.after(released_at) if s.listed_warm <= size)
            # keep observing the held servers (and their players) a while after the scale-in
            settle_end = time.monotonic() + settings.settle_s
            _wait(
                lambda: time.monotonic() >= settle_end and len(sampler.after(scaled_in_at)) >= 2,
                settings.settle_s + settings.ping_timeout_s * 4 + 10.0,
                settings.interval_s,
            )
    finally:
        samples = sampler.stop()
        if population is not None:
            player_samples = population.stop()
        _release_all(client, [str(s["id"]) for s in allocated if "id" in s], notes)
    ends = player_samples.ends if player_samples is not None else ()
    window = released_at if released_at is not None else float("inf")
    drops = tuple(f"{e.server}: {e.reason} ({e.detail})" for e in ends if e.dropped and e.ended_mono >= window)
    early = [f"{e.server}: {e.reason}" for e in ends if e.dropped and e.ended_mono < window]
    if early:
        notes.append("players dropped before the releases (not judged as scale-in): " + "; ".join(early[:5]))
    joined = len({j.player for j in player_samples.joins if j.ok}) if player_samples is not None else 0
    return FleetBufferRun(
        buffer_size=size,
        samples=samples,
        allocation_latencies_s=tuple(latencies),
        allocation_failures=tuple(failures),
        rush_at=rush_at,
        released_at=released_at,
        scaled_in_at=scaled_in_at,
        held=tuple(str(s["id"]) for s in held),
        players_dropped=drops,
        players_joined=joined,
        notes=tuple(notes),
        surplus=surplus,
        sampler_error=sampler.error,
    )


@dataclass(frozen=True)
class FleetBufferFigures:
    """The figures of a rush, each from the sampler's observations, with the samples behind each."""

    ready_min: int
    allocation_p95_s: float
    scale_out_s: float  # the longest below-size -> full-again episode of the rush (0.0: never seen below)
    refilled: bool  # every episode ended full again
    occupied_stopped: tuple[str, ...]  # held servers down twice running, or whose player dropped, after the releases
    scale_in_observed: bool  # a surplus was seen gone, and observed at least twice more after that
    samples: int
    rush_samples: int  # samples of the rush whose listing answered
    window_samples: int  # samples from the releases on

    def as_dict(self) -> dict[str, Any]:
        return {
            "ready_min": self.ready_min,
            "allocation_p95_s": round(self.allocation_p95_s, 3),
            "scale_out_s": round(self.scale_out_s, 3),
            "refilled": self.refilled,
            "occupied_stopped": list(self.occupied_stopped),
            "scale_in_observed": self.scale_in_observed,
            "samples": self.samples,
            "rush_samples": self.rush_samples,
            "window_samples": self.window_samples,
        }


def _episodes(samples: list[BufferSample], size: int) -> tuple[float, bool]:
    """The longest stretch from a sample below ``size`` to the next one at it (an open one runs to the last
    sample) and whether every stretch closed.

    >>> S = BufferSample
    >>> _episodes([S(0, 3, 3), S(1, 1, 1), S(2, 3, 3), S(3, 2, 2), S(7, 3, 3)], 3)
    (4, True)
    >>> _episodes([S(0, 1, 1), S(5, 2, 2)], 3)
    (5, False)
    """
    longest, dipped = 0.0, None
    for s in samples:
        if s.answering_ready < size and dipped is None:
            dipped = s.at
        elif s.answering_ready >= size and dipped is not None:
            longest, dipped = max(longest, s.at - dipped), None
    if dipped is not None:
        return max(longest, samples[-1].at - dipped), False
    return longest, True


def _stopped(window: list[BufferSample], held: tuple[str, ...]) -> set[str]:
    """Held servers that missed two pings running (one miss may be a slow reply, two is a stop).

    >>> S = BufferSample
    >>> sorted(_stopped([S(0, 0, 0, ("a", "b")), S(1, 0, 0, ("a",)), S(2, 0, 0, ("b",))], ("a", "b")))
    ['a']
    """
    out = set()
    for sid in held:
        run = 0
        for s in window:
            run = run + 1 if sid in s.held_down else 0
            if run >= 2:
                out.add(sid)
                break
    return out


def judge_fleet_buffer(run: FleetBufferRun) -> FleetBufferFigures:
    """Figures from a run's samples (samples whose listing failed say nothing about the buffer).

    >>> s = [BufferSample(0.0, 3, 3), BufferSample(1.0, 1, 1), BufferSample(2.0, 2, 1), BufferSample(4.5, 3, 3),
    ...      BufferSample(5.0, 5, 5, listed_warm=5), BufferSample(6.0, 3, 3, ("mc-9",), listed_warm=3),
    ...      BufferSample(6.5, 3, 3, ("mc-9",), listed_warm=3)]
    >>> run = FleetBufferRun(3, tuple(s), (0.1, 0.2, 0.3), (), 0.5, 4.8, 6.0, ("mc-9",), (), 1, surplus=5)
    >>> f = judge_fleet_buffer(run)
    >>> f.ready_min, f.scale_out_s, f.occupied_stopped, f.scale_in_observed
    (1, 3.5, ('mc-9',), True)
    """
    end = run.released_at if run.released_at is not None else float("inf")
    rush = [s for s in run.samples if run.rush_at <= s.at <= end and not s.error]
    longest, closed = _episodes(rush, run.buffer_size) if rush else (0.0, False)
    window = [s for s in run.samples if run.released_at is not None and s.at >= run.released_at]
    stopped = _stopped(window, run.held) | {d.split(":", 1)[0] for d in run.players_dropped}
    after = sum(1 for s in window if run.scaled_in_at is not None and s.at >= run.scaled_in_at)
    return FleetBufferFigures(
        ready_min=min((s.answering_ready for s in rush), default=0),
        allocation_p95_s=percentile(list(run.allocation_latencies_s), 95) if run.allocation_latencies_s else 0.0,
        scale_out_s=longest,
        refilled=closed,
        occupied_stopped=tuple(sorted(stopped)),
        scale_in_observed=run.scaled_in_at is not None and run.surplus > run.buffer_size and after >= 2,
        samples=len(run.samples),
        rush_samples=len(rush),
        window_samples=len(window),
    )


SLO_ROWS = (
    "fleet_buffer.ready_min",
    "fleet_buffer.allocation_p95_s",
    "fleet_buffer.scale_out_s",
    "fleet_buffer.occupied_stopped",
)


def fleet_buffer_slos(
    run: FleetBufferRun, figures: FleetBufferFigures, settings: FleetBufferSettings, *, environment: str, check: str
) -> list[SloMeasurement]:
    """The SLO rows of a rush that were measured. No rush sample that listed the fleet: no ready-minimum
    or scale-out row. The occupied-server row needs an observed scale-in, unless a held server was stopped
    anyway (a failure is never left out). A missing row is not a pass: see :data:`SLO_ROWS`."""
    method = (
        f"sampler every {settings.interval_s:g}s: GET fleet, then a status ping ({settings.ping_timeout_s:g}s deadline) "
        f"of every server listed ready and every held one; rush of {settings.rush} against a buffer of {run.buffer_size}"
    )

    def row(slo: str, objective: str, target: float, measured: float, unit: str, ok: bool, n: int) -> SloMeasurement:
        cmp = ">=" if slo == "fleet_buffer.ready_min" else "<="
        return SloMeasurement(environment, slo, objective, target, round(measured, 3), unit, cmp, ok, method, check, n)

    rows = [
        row(
            "fleet_buffer.allocation_p95_s",
            f"allocation request -> allocated server answering, p95 <= {settings.allocation_p95_s:g}s",
            settings.allocation_p95_s,
            figures.allocation_p95_s,
            "s",
            not run.allocation_failures and figures.allocation_p95_s <= settings.allocation_p95_s,
            len(run.allocation_latencies_s),
        )
    ]
    if figures.rush_samples:
        rows.append(
            row(
                "fleet_buffer.ready_min",
                f">= {settings.ready_min} ready servers answering throughout the rush",
                settings.ready_min,
                figures.ready_min,
                "servers",
                figures.ready_min >= settings.ready_min,
                figures.rush_samples,
            )
        )
        rows.append(
            row(
                "fleet_buffer.scale_out_s",
                f"buffer below its size -> full again (answering), longest episode <= {settings.scale_out_s:g}s",
                settings.scale_out_s,
                figures.scale_out_s,
                "s",
                figures.refilled and figures.scale_out_s <= settings.scale_out_s,
                figures.rush_samples,
            )
        )
    if figures.scale_in_observed or figures.occupied_stopped:
        rows.append(
            row(
                "fleet_buffer.occupied_stopped",
                f"scale-in stops no server with players ({len(run.held)} held, {run.players_joined} players)",
                0,
                len(figures.occupied_stopped),
                "servers",
                not figures.occupied_stopped,
                figures.window_samples,
            )
        )
    return rows
