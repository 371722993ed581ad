"""Player SLIs as pure functions: samples (:mod:`mcproof.minecraft.player.samples`) -> figures.

Every figure is a frozen dataclass naming its ``method``, its window (``window_start``/``window_end``,
``time.monotonic()`` seconds, the clock of the samples' ``*_mono`` fields), its sample count and value(s).
A window is closed: a sample belongs to it when its time lies in ``[start, end]``.

- **join success ratio** (:func:`join_success_ratio`): ok / all join attempts *started* in the window; a
  failed or timed-out attempt is a sample (a failure), never dropped.
- **join time** (:func:`join_time`): p50/p95 of connect -> first play packet of the successful joins
  started in the window (linear-interpolated percentile, :func:`mcproof.stats.percentile`).
- **session drop ratio** (:func:`session_drops`): dropped / judged sessions, where judged = the sessions
  that *ended* in the window (reason "left" = not dropped, anything else = dropped) plus the sessions still
  open at the end that the caller *observed alive at the window end* (``alive_at_end``: (server, player)
  pairs, e.g. a keep-alive answered in the last seconds), counted as not dropped so far. Sessions open at
  the end but not observed alive are neither: they are counted as ``unaccounted`` and the judge makes the
  SLO inconclusive when they could change its verdict.
- **time to rejoin** (:func:`rejoin_times`): per drop ending in the window, drop -> back in play
  (``started_mono + join_s`` of an ok join on the same server started at or after the drop): the same
  player's first such join, else a replacement (another player's join on that server not used for any
  other drop). A drop with no rejoin inside the window is *unrecovered* (``rejoin_s`` None): it stays in
  the figure, never left out.
- **tick rate** (:func:`tick_rates`): per server, from its world-time updates sorted by receipt:
  TPS = Δworld_age / Δreceived_mono over spans of consecutive updates at least ``span_s`` long (0: each
  consecutive pair; a longer span bounds the error one late packet causes). A world age that goes
  *backwards* is a world restart: the series is cut into segments there (no span crosses it, so no
  negative TPS); a repeated age (the same broadcast seen by a second player) is skipped. Per server:
  min and p5 of its spans. A server with fewer than ``min_updates`` updates (at least 2) gets no figure
  (``tps`` None, inconclusive for that server, named).

>>> from mcproof.minecraft.player.samples import JoinAttempt
>>> a = [JoinAttempt("s1", "h:1", "p1", True, "play", "t", 1.0, 0.2),
...      JoinAttempt("s1", "h:1", "p2", False, "login", "t", 2.0, None, "timeout", "login phase timed out after 5 s")]
>>> join_success_ratio(a, window=(0.0, 10.0)).value
0.5
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.stats import percentile

__all__ = [
    "DropRatioFigure",
    "JoinRatioFigure",
    "JoinTimeFigure",
    "PlayerFigures",
    "Rejoin",
    "RejoinFigure",
    "ServerTps",
    "TpsFigure",
    "compute_figures",
    "downsample",
    "join_success_ratio",
    "join_time",
    "rejoin_times",
    "session_drops",
    "tick_rates",
]

Window = tuple[float, float]
_EPS = 1e-9
_QUANTILES = 101  # join time quantiles kept (0..100 %): a bounded CDF of any number of joins


def _inside(t: float, window: Window) -> bool:
    return window[0] - _EPS <= t <= window[1] + _EPS


@dataclass(frozen=True)
class _Figure:
    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class JoinRatioFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # join attempts started in the window
    ok: int
    value: float | None  # ok / samples; None without samples
    failed_by_kind: dict[str, int] = field(default_factory=dict)
    failed_by_server: dict[str, int] = field(default_factory=dict)  # worst first
    failures: tuple[str, ...] = ()  # JoinAttempt.describe() of the failures (capped)


@dataclass(frozen=True)
class JoinTimeFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # successful joins in the window
    p50_s: float | None
    p95_s: float | None
    max_s: float | None
    quantiles_s: tuple[float, ...] = ()  # the 0, 1, ..., 100 % percentiles (a CDF), empty without samples
    p95_by_server: dict[str, float] = field(default_factory=dict)  # worst first


@dataclass(frozen=True)
class DropRatioFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # judged sessions: ended in the window + observed alive at its end
    ended: int
    alive_at_end: int
    dropped: int
    unaccounted: int  # open at the end, not observed alive: not judged
    value: float | None  # dropped / samples
    dropped_by_server: dict[str, int] = field(default_factory=dict)  # worst first
    dropped_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Rejoin(_Figure):
    """One drop and how long until a player was back in play on that server (None: unrecovered)."""

    server: str
    player: str
    reason: str
    dropped_mono: float
    dropped_at: str
    rejoined_by: str | None  # the player back in play (the same one, or a replacement)
    rejoin_s: float | None
    remaining_s: float  # window end - drop: how long a rejoin could have been seen


@dataclass(frozen=True)
class RejoinFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # drops in the window
    recovered: int
    unrecovered: int
    max_s: float | None  # of the recovered ones
    p50_s: float | None
    rejoins: tuple[Rejoin, ...] = ()


@dataclass(frozen=True)
class ServerTps(_Figure):
    server: str
    updates: int
    spans: int
    segments: int  # 1 + world restarts seen
    restarts: int
    tps_min: float | None  # None: fewer than min_updates updates, or no span
    tps_p5: float | None
    tps_mean: float | None
    series: tuple[tuple[float, float], ...] = ()  # (span end, received_mono; TPS) per span, all of them


@dataclass(frozen=True)
class TpsFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # world-time updates in the window, all servers
    servers: tuple[ServerTps, ...] = ()  # worst (lowest p5) first; servers without a figure last
    unmeasured: tuple[str, ...] = ()  # servers with too few updates for a figure

    @property
    def measured(self) -> tuple[ServerTps, ...]:
        return tuple(s for s in self.servers if s.tps_min is not None)


@dataclass(frozen=True)
class PlayerFigures(_Figure):
    join_ratio: JoinRatioFigure
    join_time: JoinTimeFigure
    drops: DropRatioFigure
    rejoin: RejoinFigure
    tps: TpsFigure


def _worst(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def join_success_ratio(attempts: Iterable[JoinAttempt], *, window: Window, keep: int = 50) -> JoinRatioFigure:
    """ok / all attempts started in the window (a failed or timed-out attempt counts as a failure)."""
    inside = [a for a in attempts if _inside(a.started_mono, window)]
    failed = [a for a in inside if not a.ok]
    ok = len(inside) - len(failed)
    return JoinRatioFigure(
        method="successful joins (reached the play phase) / join attempts started in the window; a refused, "
        "failed or timed-out attempt counts as a failure",
        window_start=window[0],
        window_end=window[1],
        samples=len(inside),
        ok=ok,
        value=ok / len(inside) if inside else None,
        failed_by_kind=_worst(Counter(a.error_kind or "error" for a in failed)),
        failed_by_server=_worst(Counter(a.server for a in failed)),
        failures=tuple(a.describe() for a in sorted(failed, key=lambda a: a.started_mono)[:keep]),
    )


def join_time(attempts: Iterable[JoinAttempt], *, window: Window) -> JoinTimeFigure:
    """p50/p95/max of connect -> first play packet of the successful joins started in the window."""
    ok = [a for a in attempts if a.ok and a.join_s is not None and _inside(a.started_mono, window)]
    values = sorted(float(a.join_s) for a in ok if a.join_s is not None)
    per_server: dict[str, list[float]] = defaultdict(list)
    for a in ok:
        if a.join_s is not None:
            per_server[a.server].append(float(a.join_s))
    p95s = {s: percentile(v, 95) for s, v in per_server.items()}
    return JoinTimeFigure(
        method="connect start -> first play-phase packet of each successful join started in the window; "
        "linear-interpolated percentiles (mcproof.stats.percentile)",
        window_start=window[0],
        window_end=window[1],
        samples=len(values),
        p50_s=percentile(values, 50) if values else None,
        p95_s=percentile(values, 95) if values else None,
        max_s=values[-1] if values else None,
        quantiles_s=tuple(round(percentile(values, q), 6) for q in range(_QUANTILES)) if values else (),
        p95_by_server=dict(sorted(p95s.items(), key=lambda kv: (-kv[1], kv[0]))),
    )


def _open_sessions(attempts: Sequence[JoinAttempt], ends: Sequence[SessionEnd], end: float) -> Counter[tuple[str, str]]:
    """(server, player) -> sessions begun (ok joins started by ``end``) and not ended by ``end``."""
    begun = Counter((a.server, a.player) for a in attempts if a.ok and a.started_mono <= end + _EPS)
    ended = Counter((e.server, e.player) for e in ends if e.ended_mono <= end + _EPS)
    return Counter({k: n - ended.get(k, 0) for k, n in begun.items() if n > ended.get(k, 0)})


def session_drops(
    attempts: Sequence[JoinAttempt],
    ends: Sequence[SessionEnd],
    *,
    window: Window,
    alive_at_end: Iterable[tuple[str, str]] = (),
) -> DropRatioFigure:
    """dropped / (sessions ended in the window + open sessions observed alive at its end)."""
    ended = [e for e in ends if _inside(e.ended_mono, window)]
    dropped = [e for e in ended if e.dropped]
    still_open = _open_sessions(attempts, ends, window[1])
    alive_keys = set(alive_at_end)
    alive = sum(n for k, n in still_open.items() if k in alive_keys)
    unaccounted = sum(n for k, n in still_open.items() if k not in alive_keys)
    judged = len(ended) + alive
    return DropRatioFigure(
        method="dropped sessions (ended other than by the client leaving: kicked, closed, keep-alive timeout, "
        "protocol) / sessions judged; judged = sessions that ended in the window + sessions still open at its end "
        "that were observed alive at the end (counted as not dropped so far); open sessions not observed alive "
        "are unaccounted, not judged",
        window_start=window[0],
        window_end=window[1],
        samples=judged,
        ended=len(ended),
        alive_at_end=alive,
        dropped=len(dropped),
        unaccounted=unaccounted,
        value=len(dropped) / judged if judged else None,
        dropped_by_server=_worst(Counter(e.server for e in dropped)),
        dropped_by_reason=_worst(Counter(e.reason for e in dropped)),
    )


def rejoin_times(attempts: Sequence[JoinAttempt], ends: Sequence[SessionEnd], *, window: Window) -> RejoinFigure:
    """Per drop ending in the window: drop -> the same player (else a replacement) back in play on that server."""
    drops = sorted((e for e in ends if e.dropped and _inside(e.ended_mono, window)), key=lambda e: e.ended_mono)
    joins = sorted(
        (a for a in attempts if a.ok and a.join_s is not None and a.started_mono + a.join_s <= window[1] + _EPS),
        key=lambda a: a.started_mono + (a.join_s or 0.0),
    )
    used: set[int] = set()
    matched: dict[int, JoinAttempt] = {}
    by_server: dict[str, list[int]] = defaultdict(list)
    for i, a in enumerate(joins):
        by_server[a.server].append(i)

    def pick(drop: SessionEnd, same_player: bool) -> int | None:
        for i in by_server.get(drop.server, ()):
            a = joins[i]
            if i in used or a.started_mono < drop.ended_mono - _EPS:
                continue
            if not same_player or a.player == drop.player:
                return i
        return None

    for same in (True, False):  # the player's own rejoin first, then replacements for the rest
        for n, drop in enumerate(drops):
            if n in matched:
                continue
            chosen = pick(drop, same)
            if chosen is not None:
                used.add(chosen)
                matched[n] = joins[chosen]
    rejoins = []
    for n, drop in enumerate(drops):
        j = matched.get(n)
        back = j.started_mono + (j.join_s or 0.0) if j is not None else None
        rejoins.append(
            Rejoin(
                server=drop.server,
                player=drop.player,
                reason=drop.reason,
                dropped_mono=drop.ended_mono,
                dropped_at=drop.ended_at,
                rejoined_by=j.player if j is not None else None,
                rejoin_s=round(back - drop.ended_mono, 6) if back is not None else None,
                remaining_s=round(window[1] - drop.ended_mono, 6),
            )
        )
    times = sorted(r.rejoin_s for r in rejoins if r.rejoin_s is not None)
    return RejoinFigure(
        method="per drop in the window: drop -> back in play (join start + join time) of the same player's first "
        "later successful join on that server, else a replacement player's (each join serves one drop); a drop "
        "with no rejoin inside the window is unrecovered and stays in the figure",
        window_start=window[0],
        window_end=window[1],
        samples=len(drops),
        recovered=len(times),
        unrecovered=len(drops) - len(times),
        max_s=times[-1] if times else None,
        p50_s=percentile(times, 50) if times else None,
        rejoins=tuple(rejoins),
    )


def _segments(updates: Sequence[TimeUpdate]) -> list[list[TimeUpdate]]:
    """Updates of one server by receipt, cut where the world age goes backwards; repeated ages skipped."""
    segments: list[list[TimeUpdate]] = []
    for u in sorted(updates, key=lambda u: u.received_mono):
        if segments and u.world_age == segments[-1][-1].world_age:
            continue  # the same broadcast seen again (another player): adds nothing
        if not segments or u.world_age < segments[-1][-1].world_age:
            segments.append([u])
        else:
            segments[-1].append(u)
    return segments


def _spans(segment: Sequence[TimeUpdate], span_s: float) -> list[tuple[float, float]]:
    """(end time, TPS) of consecutive non-overlapping spans of at least span_s (the tail joins the last)."""
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(segment) - 1:
        j = i + 1
        while j < len(segment) - 1 and segment[j].received_mono - segment[i].received_mono < span_s:
            j += 1
        if span_s > 0 and segment[-1].received_mono - segment[j].received_mono < span_s:
            j = len(segment) - 1  # a tail shorter than a span would be a noisy span of its own
        dt = segment[j].received_mono - segment[i].received_mono
        if dt > _EPS:
            out.append((segment[j].received_mono, (segment[j].world_age - segment[i].world_age) / dt))
        i = j
    return out


def tick_rates(
    updates: Iterable[TimeUpdate], *, window: Window, span_s: float = 5.0, min_updates: int = 2
) -> TpsFigure:
    """Per server: min and p5 of TPS = Δworld_age / Δreceived_mono over spans of >= span_s (see module doc)."""
    by_server: dict[str, list[TimeUpdate]] = defaultdict(list)
    inside = [u for u in updates if _inside(u.received_mono, window)]
    for u in inside:
        by_server[u.server].append(u)
    floor = max(2, min_updates)
    servers: list[ServerTps] = []
    for server, mine in sorted(by_server.items()):
        segments = _segments(mine)
        spans = [s for seg in segments for s in _spans(seg, span_s)] if len(mine) >= floor else []
        rates = sorted(r for _, r in spans)
        servers.append(
            ServerTps(
                server=server,
                updates=len(mine),
                spans=len(spans),
                segments=len(segments),
                restarts=len(segments) - 1,
                tps_min=round(rates[0], 4) if rates else None,
                tps_p5=round(percentile(rates, 5), 4) if rates else None,
                tps_mean=round(sum(rates) / len(rates), 4) if rates else None,
                series=tuple((round(t, 6), round(r, 4)) for t, r in spans),
            )
        )
    servers.sort(key=lambda s: (s.tps_p5 is None, s.tps_p5 or 0.0, s.server))
    how = (
        f"spans of consecutive updates at least {span_s:g} s long" if span_s > 0 else "each pair of consecutive updates"
    )
    return TpsFigure(
        method=f"per server, TPS = Δworld_age / Δreceived_mono of its world-time updates over {how}; a world age "
        "going backwards (restart) starts a new segment, a repeated age is skipped; min and p5 "
        f"(linear-interpolated) of the spans; fewer than {floor} updates: no figure",
        window_start=window[0],
        window_end=window[1],
        samples=len(inside),
        servers=tuple(servers),
        unmeasured=tuple(s.server for s in servers if s.tps_min is None),
    )


def compute_figures(
    attempts: Sequence[JoinAttempt],
    ends: Sequence[SessionEnd],
    updates: Sequence[TimeUpdate],
    *,
    window: Window,
    alive_at_end: Iterable[tuple[str, str]] = (),
    tps_span_s: float = 5.0,
    min_tps_updates: int = 2,
) -> PlayerFigures:
    """Every player figure over one window."""
    return PlayerFigures(
        join_ratio=join_success_ratio(attempts, window=window),
        join_time=join_time(attempts, window=window),
        drops=session_drops(attempts, ends, window=window, alive_at_end=alive_at_end),
        rejoin=rejoin_times(attempts, ends, window=window),
        tps=tick_rates(updates, window=window, span_s=tps_span_s, min_updates=min_tps_updates),
    )


def downsample(points: Sequence[tuple[float, float]], limit: int) -> tuple[tuple[float, float], ...]:
    """At most ``limit`` points: buckets of consecutive points, each kept as its *lowest* value (a lag dip
    must survive downsampling) at the bucket's mean time.

    >>> downsample([(1, 20.0), (2, 5.0), (3, 20.0), (4, 20.0)], 2)
    ((1.5, 5.0), (3.5, 20.0))
    """
    if len(points) <= limit:
        return tuple((float(t), float(v)) for t, v in points)
    size = -(-len(points) // max(1, limit))
    out = []
    for i in range(0, len(points), size):
        chunk = points[i : i + size]
        out.append((round(sum(t for t, _ in chunk) / len(chunk), 6), float(min(v for _, v in chunk))))
    return tuple(out)
