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
- **tick rate** (:func:`tick_rates`): per server *and player* (``TimeUpdate.player``: each connection's
  own stream, sorted by receipt), TPS = the least-squares slope of world age against receipt time over
  spans of consecutive updates at least ``span_s`` long (0: each consecutive pair), after a late read between
  two on-time neighbours is moved back onto their line (:func:`_corrected`; a late read at a stream's very
  last update cannot be told from a stall and stays). A world age that goes *backwards* is a world restart:
  the stream is cut into segments there (no span crosses it); a repeated age is skipped. The spans of all
  its players are pooled per server: min and p5. No figure (``ServerTps.unmeasured`` says why, the server is
  named in ``TpsFigure.unmeasured``) for a server with fewer than ``min_updates`` *distinct* world ages (at
  least 2), one whose world age never advanced, or one ``expected`` (it had players) with no update at all;
  and no *passing* figure for one silent more than :data:`TAIL_INTERVALS` update intervals before its
  players' last moment in play (a tail gap: the rate over the tail is unknown; its figure is kept, and
  fails if already below the floor).
- session ends ``client_timeout`` / ``silent`` (:data:`HARNESS_GAPS`) are the harness's gaps: not drops in
  the drop ratio (counted as unaccounted); they stay in the rejoin figure (with their reason: chaos names
  them), where the judge holds them as a gap, never as a server's slow rejoin.

>>> from mcproof.minecraft.player.samples import JoinAttempt
>>> a = [JoinAttempt("s1", "h:1", "p1", True, "play", "t", 1.0, 0.2),
...      JoinAttempt("s1", "h:1", "p2", False, "login", "t", 2.0, None, "timeout", "login phase timed out after 5 s")]
>>> join_success_ratio(a, window=(0.0, 10.0)).value
0.5
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from typing import Any

from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.stats import percentile

__all__ = [
    "HARNESS_GAPS",
    "TAIL_INTERVALS",
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
    "in_play_until",
    "join_success_ratio",
    "join_time",
    "rejoin_times",
    "session_drops",
    "tick_rates",
    "tps_expected",
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
    players: int = 0  # the players whose updates it pooled
    unmeasured: str = ""  # why it has no passing figure ("" = measured); a figure below the floor still fails


@dataclass(frozen=True)
class TpsFigure(_Figure):
    method: str
    window_start: float
    window_end: float
    samples: int  # world-time updates in the window, all servers
    servers: tuple[ServerTps, ...] = ()  # worst (lowest p5) first; servers without a figure last
    unmeasured: tuple[str, ...] = ()  # servers that had players but no (passing) figure: ServerTps.unmeasured says why

    @property
    def measured(self) -> tuple[ServerTps, ...]:
        """Servers with a figure (including those with a tail gap: a figure below the floor still fails)."""
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


HARNESS_GAPS = ("client_timeout", "silent")
"""Session ends that are the harness's own gap, not a server's drop: ``client_timeout`` (the server kicked us
with vanilla's "Timed out": *we* stopped answering), ``silent`` (open at the stop with nothing heard for
long). Never counted as drops in the drop ratio; counted as *unaccounted*, so they make the drop SLO
inconclusive when they could change its verdict. The rejoin figure keeps them (reason shown); the judge
treats them as a gap there."""


def _server_drop(e: SessionEnd) -> bool:
    return e.dropped and e.reason not in HARNESS_GAPS


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
    inside = [e for e in ends if _inside(e.ended_mono, window)]
    ended = [e for e in inside if e.reason not in HARNESS_GAPS]
    gaps = len(inside) - len(ended)
    dropped = [e for e in ended if _server_drop(e)]
    still_open = _open_sessions(attempts, ends, window[1])
    alive_keys = set(alive_at_end)
    alive = sum(n for k, n in still_open.items() if k in alive_keys)
    unaccounted = sum(n for k, n in still_open.items() if k not in alive_keys) + gaps
    judged = len(ended) + alive
    return DropRatioFigure(
        method="dropped sessions (ended other than by the client leaving: kicked, closed, keep-alive timeout, "
        "protocol) / sessions judged; judged = sessions that ended in the window + sessions still open at its end "
        "that were observed alive at the end (counted as not dropped so far); open sessions not observed alive, "
        "and sessions the harness lost (client_timeout: the server timed *us* out; silent), are unaccounted, "
        "not judged",
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
    """One player's updates of one server by receipt, cut where the world age goes backwards; repeated ages
    skipped (a repeated age adds nothing)."""
    segments: list[list[TimeUpdate]] = []
    for u in sorted(updates, key=lambda u: u.received_mono):
        if segments and u.world_age == segments[-1][-1].world_age:
            continue
        if not segments or u.world_age < segments[-1][-1].world_age:
            segments.append([u])
        else:
            segments[-1].append(u)
    return segments


def _interval(segments: Sequence[Sequence[TimeUpdate]]) -> float | None:
    """The median time between consecutive updates (s), None with fewer than two."""
    gaps = [b.received_mono - a.received_mono for seg in segments for a, b in pairwise(seg)]
    return percentile(sorted(gaps), 50) if gaps else None


def _corrected(segment: Sequence[TimeUpdate]) -> list[tuple[float, int]]:
    """(receipt time, world age) with *late reads* pulled back: an update can reach us late, never early, so
    one received later than the line between its two neighbours (by world age) is moved onto that line.
    Computed from the received times (never from corrected ones: nothing cascades), at most onto the line.
    A late read between on-time neighbours is undone; a server that really stalled delays every later
    update, so the stall stays in every span that covers it (vanilla catching up after a short stall looks
    like a late read, and its average rate over a span is indeed unchanged). The segment's end points are
    kept as received."""
    points = [(u.received_mono, u.world_age) for u in segment]
    out = list(points)
    for k in range(1, len(points) - 1):
        (t0, a0), (t, a), (t1, a1) = points[k - 1], points[k], points[k + 1]
        line = t0 + (t1 - t0) * (a - a0) / (a1 - a0)
        if t > line:
            out[k] = (line, a)
    return out


def _slope(points: Sequence[tuple[float, int]]) -> float | None:
    """Least-squares slope of world age against receipt time (ticks per second)."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    ma = sum(a for _, a in points) / n
    sxx = sum((t - mt) ** 2 for t, _ in points)
    if sxx <= _EPS:
        return None
    return sum((t - mt) * (a - ma) for t, a in points) / sxx


def _spans(segment: Sequence[TimeUpdate], span_s: float) -> list[tuple[float, float]]:
    """(end time, TPS) of consecutive spans of at least span_s sharing their boundary update (the tail joins
    the last); TPS = least-squares slope of age against receipt over the span's updates, late reads
    corrected (:func:`_corrected`): one late read moves it little (two end points alone: ~delay / span)."""
    points = _corrected(segment)
    out: list[tuple[float, float]] = []
    i = 0
    while i < len(points) - 1:
        j = i + 1
        while j < len(points) - 1 and points[j][0] - points[i][0] < span_s:
            j += 1
        if span_s > 0 and points[-1][0] - points[j][0] < span_s:
            j = len(points) - 1  # a tail shorter than a span would be a noisy span of its own
        rate = _slope(points[i : j + 1])
        if rate is not None:
            out.append((segment[j].received_mono, rate))
        i = j
    return out


TAIL_INTERVALS = 3.0
"""A server silent for more than this many of its update intervals before its players' last moment in play
has a *tail gap*: its rate over the tail is unknown, so it gets no passing figure (unmeasured, named)."""


def _tail_gap(server: str, last: float | None, interval: float | None, until: Mapping[str, float] | None) -> str:
    if until is None or server not in until or last is None or interval is None:
        return ""
    silent = until[server] - last
    if silent > TAIL_INTERVALS * interval + _EPS:
        return (
            f"no world-time update for the last {silent:.1f} s its players were in play ({silent / interval:.0f} "
            "update intervals): its tick rate over that tail is unknown (the server may have stopped ticking)"
        )
    return ""


def tick_rates(
    updates: Iterable[TimeUpdate],
    *,
    window: Window,
    span_s: float = 5.0,
    min_updates: int = 2,
    expected: Iterable[str] = (),
    observed_until: Mapping[str, float] | None = None,
) -> TpsFigure:
    """Per server: min and p5 of TPS over spans of >= span_s of each player's updates (see module doc).

    ``expected``: servers that had players in the window; one without a figure is named unmeasured.
    ``observed_until``: server -> the last moment a player was in play on it in the window; silence from the
    server's last update to then longer than :data:`TAIL_INTERVALS` update intervals is a tail gap.
    """
    by_server: dict[str, list[TimeUpdate]] = defaultdict(list)
    inside = [u for u in updates if _inside(u.received_mono, window)]
    for u in inside:
        by_server[u.server].append(u)
    floor = max(2, min_updates)
    servers: list[ServerTps] = []
    for server in sorted(set(by_server) | set(expected)):
        mine = by_server.get(server, [])
        streams: dict[str, list[TimeUpdate]] = defaultdict(list)
        for u in mine:
            streams[u.player].append(u)
        segments = [seg for _, stream in sorted(streams.items()) for seg in _segments(stream)]
        ages = len({u.world_age for u in mine})
        spans = sorted(
            (s for seg in segments for s in _spans(seg, span_s)) if ages >= floor else [], key=lambda s: s[0]
        )
        rates = sorted(r for _, r in spans)
        if not mine:
            reason = "no world-time update while players were in play"
        elif ages == 1 and len(mine) > 1:
            reason = f"world age did not advance over {len(mine)} updates (the server does not report world age)"
        elif ages < floor:
            reason = (
                f"only {ages} distinct world ages in {len(mine)} updates, fewer than {floor} (players.min_tps_updates)"
            )
        elif not rates:
            reason = "no span of updates to estimate a rate over"
        else:
            last = max(u.received_mono for u in mine)
            reason = _tail_gap(server, last, _interval(segments), observed_until)
        restarts = sum(max(0, len(_segments(stream)) - 1) for stream in streams.values())
        servers.append(
            ServerTps(
                server=server,
                updates=len(mine),
                spans=len(spans),
                segments=len(segments),
                restarts=restarts,
                tps_min=round(rates[0], 4) if rates else None,
                tps_p5=round(percentile(rates, 5), 4) if rates else None,
                tps_mean=round(sum(rates) / len(rates), 4) if rates else None,
                series=tuple((round(t, 6), round(r, 4)) for t, r in spans),
                players=len(streams),
                unmeasured=reason,
            )
        )
    servers.sort(key=lambda s: (s.tps_p5 is None, s.tps_p5 or 0.0, s.server))
    how = (
        f"spans of consecutive updates at least {span_s:g} s long" if span_s > 0 else "each pair of consecutive updates"
    )
    return TpsFigure(
        method=f"per server and player, TPS = least-squares slope of world age against receipt time of the "
        f"world-time updates over {how} (a late read followed by an on-time one corrected); a world age "
        "going backwards (restart) starts a new segment, a repeated age is skipped; the spans of all its players "
        f"pooled per server: min and p5 (linear-interpolated); fewer than {floor} distinct world ages, a world "
        f"age that never advanced, or silence for more than {TAIL_INTERVALS:g} update intervals before its "
        "players' last moment in play: no passing figure (unmeasured, named)",
        window_start=window[0],
        window_end=window[1],
        samples=len(inside),
        servers=tuple(servers),
        unmeasured=tuple(s.server for s in servers if s.unmeasured),
    )


def in_play_until(
    attempts: Sequence[JoinAttempt], ends: Sequence[SessionEnd], *, window: Window
) -> dict[str, tuple[float, float]]:
    """Server -> (longest single time in play, last moment in play) of its sessions within the window: a
    session runs from its ok join (start + join time) to its end, else to the window end."""
    ended: dict[tuple[str, str], list[float]] = defaultdict(list)
    for e in sorted(ends, key=lambda e: e.ended_mono):
        ended[(e.server, e.player)].append(e.ended_mono)
    out: dict[str, tuple[float, float]] = {}
    for a in sorted((a for a in attempts if a.ok), key=lambda a: a.started_mono):
        began = a.started_mono + (a.join_s or 0.0)
        if began > window[1] + _EPS:
            continue
        later = [t for t in ended.get((a.server, a.player), []) if t >= began - _EPS]
        stop = min(later[0] if later else window[1], window[1])
        if later:
            ended[(a.server, a.player)].remove(later[0])
        length = max(0.0, stop - max(began, window[0]))
        longest, last = out.get(a.server, (0.0, -math.inf))
        out[a.server] = (max(longest, length), max(last, stop))
    return out


def tps_expected(
    attempts: Sequence[JoinAttempt], ends: Sequence[SessionEnd], *, window: Window, span_s: float, min_updates: int
) -> tuple[str, ...]:
    """The servers a TPS figure is owed for: a player was in play on it, in one session, for at least
    ``max(span_s, min_updates)`` seconds of the window (vanilla sends a world-time update every 20 ticks, one a
    second at 20 TPS: a shorter stay cannot give a figure, so it is not counted as a gap)."""
    need = max(span_s, float(max(2, min_updates)))
    return tuple(
        sorted(s for s, (longest, _) in in_play_until(attempts, ends, window=window).items() if longest >= need - _EPS)
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
    servers_expected: Iterable[str] | None = None,
) -> PlayerFigures:
    """Every player figure over one window.

    ``servers_expected``: the servers that had players (a TPS figure is owed for each); default
    :func:`tps_expected` of the attempts and session ends.
    """
    if servers_expected is None:
        servers_expected = tps_expected(attempts, ends, window=window, span_s=tps_span_s, min_updates=min_tps_updates)
    until = {s: last for s, (_, last) in in_play_until(attempts, ends, window=window).items()}
    return PlayerFigures(
        join_ratio=join_success_ratio(attempts, window=window),
        join_time=join_time(attempts, window=window),
        drops=session_drops(attempts, ends, window=window, alive_at_end=alive_at_end),
        rejoin=rejoin_times(attempts, ends, window=window),
        tps=tick_rates(
            updates,
            window=window,
            span_s=tps_span_s,
            min_updates=min_tps_updates,
            expected=servers_expected,
            observed_until=until,
        ),
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
