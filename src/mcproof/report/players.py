"""The report's player panel, from ``players`` evidence records only (:class:`~mcproof.evidence.records.PlayerEvidence`).

- one row per record (context ``smoke`` | ``load`` | ``chaos:<experiment>`` | ``dr``): its verdict, joins,
  time to join p50/p95, sessions judged, dropped, where (servers), every drop's time to rejoin (``None``:
  never back), and the lowest server tick rate;
- ``player_join_time``: time to join as a CDF per context (from the 101 stored quantiles), 95 % marked;
- ``player_tps``: TPS over time per server (the stored, bounded series: at most
  ``players.tps_series_servers`` servers x ``players.tps_series_points`` points; the chart draws the
  ``TPS_CHART_SERVERS`` lowest), with the ``tps_min`` objective and every drop marked.

No player evidence -> ``measured`` False and a note saying "not measured": never an empty panel that
looks fine.

>>> build_player_panel([]).note
'not measured: no player evidence in this run (the player checks, player load or players-in-chaos did not run)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.evidence.records import PlayerEvidence, Record
from mcproof.report.plots import Plot, Series, _num
from mcproof.report.record_summary import is_raw

__all__ = ["NOT_MEASURED", "TPS_CHART_SERVERS", "PlayerPanel", "PlayerRow", "build_player_panel"]

NOT_MEASURED = (
    "not measured: no player evidence in this run (the player checks, player load or players-in-chaos did not run)"
)
TPS_CHART_SERVERS = 5
MAX_MARKED_DROPS = 20


@dataclass(frozen=True)
class PlayerRow:
    """One PlayerEvidence record as the panel shows it."""

    anchor: str
    context: str
    check: str
    verdict: str
    reason: str
    fix: str
    window_s: float
    join_attempts: int
    joins_ok: int
    join_ratio: float | None
    join_p50_s: float | None
    join_p95_s: float | None
    sessions: int
    dropped: int
    unaccounted: int
    dropped_where: dict[str, int]
    rejoin_s: tuple[float | None, ...]  # per drop, in order; None: never back in the window
    unrecovered: int
    tps_min: float | None  # the lowest server's
    tps_p5: float | None
    tps_lowest_server: str | None
    tps_unmeasured: tuple[str, ...]
    slos: tuple[dict[str, Any], ...]  # judged ones: slo, verdict, reason, fix


@dataclass(frozen=True)
class PlayerPanel:
    measured: bool
    note: str
    rows: tuple[PlayerRow, ...] = ()
    plots: tuple[Plot, ...] = ()
    evidence: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _row(anchor: str, ev: PlayerEvidence) -> PlayerRow:
    figures = _dict(ev.figures)
    ratio, time_, drops, tps = (_dict(figures.get(k)) for k in ("join_ratio", "join_time", "drops", "tps"))
    rejoin = _dict(figures.get("rejoin"))
    servers = [s for s in tps.get("servers") or [] if isinstance(s, Mapping) and _num(s.get("tps_p5")) is not None]
    lowest = min(servers, key=lambda s: float(s["tps_p5"]), default=None)
    tps_min = min((v for s in servers if (v := _num(s.get("tps_min"))) is not None), default=None)
    judged = tuple(
        {k: s.get(k) for k in ("slo", "verdict", "reason", "fix")}
        for s in ev.slos
        if isinstance(s, Mapping) and s.get("verdict") != "not judged"
    )
    return PlayerRow(
        anchor=anchor,
        context=ev.context,
        check=ev.check,
        verdict=ev.verdict,
        reason=ev.reason,
        fix=ev.fix,
        window_s=round(ev.window_end - ev.window_start, 3),
        join_attempts=int(ratio.get("samples") or 0),
        joins_ok=int(ratio.get("ok") or 0),
        join_ratio=_num(ratio.get("value")),
        join_p50_s=_num(time_.get("p50_s")),
        join_p95_s=_num(time_.get("p95_s")),
        sessions=int(drops.get("samples") or 0),
        dropped=int(drops.get("dropped") or 0),
        unaccounted=int(drops.get("unaccounted") or 0),
        dropped_where={str(k): int(v) for k, v in _dict(drops.get("dropped_by_server")).items()},
        rejoin_s=tuple(_num(r.get("rejoin_s")) for r in ev.rejoins if isinstance(r, Mapping)),
        unrecovered=int(rejoin.get("unrecovered") or 0),
        tps_min=tps_min,
        tps_p5=_num(lowest.get("tps_p5")) if lowest else None,
        tps_lowest_server=str(lowest.get("server")) if lowest else None,
        tps_unmeasured=tuple(map(str, tps.get("unmeasured") or ())),
        slos=judged,
    )


def _objective(ev: PlayerEvidence, slo: str) -> float | None:
    for s in ev.slos:
        if isinstance(s, Mapping) and s.get("slo") == slo:
            return _num(s.get("objective"))
    return None


def _join_cdf(items: Sequence[tuple[str, PlayerEvidence]]) -> Plot | None:
    curves = [
        (ev.context, tuple((x, float(p)) for p, q in enumerate(ev.join_time_quantiles_s) if (x := _num(q)) is not None))
        for _, ev in items
    ]
    series = tuple(Series(name, points) for name, points in curves if len(points) >= 2)
    if not series:
        return None
    objectives = {o for _, ev in items if (o := _objective(ev, "players.join_time_p95_s")) is not None}
    slo = f"; p95 SLO ≤ {min(objectives):g} s" if objectives else ""
    return Plot(
        "plot-players-join",
        "player_join_time",
        f"Time to join (connect -> in play): share of joins within x seconds{slo}",
        "seconds, connect -> in play",
        "% of successful joins",
        tuple(a for a, _ in items),
        series=series,
        lines=(("p95", 95.0),),
    )


def _tps(anchor: str, ev: PlayerEvidence) -> Plot | None:
    if not ev.tps_series:
        return None

    def points(raw: Any) -> tuple[tuple[float, float], ...]:
        pairs = [(_num(p[0]), _num(p[1])) for p in raw or [] if isinstance(p, list | tuple) and len(p) == 2]
        return tuple((x, y) for x, y in pairs if x is not None and y is not None)

    clean = {str(server): pts for server, raw in ev.tps_series.items() if (pts := points(raw))}
    ranked = sorted(clean.items(), key=lambda item: min(y for _, y in item[1]))[:TPS_CHART_SERVERS]
    series = tuple(Series(server, pts) for server, pts in ranked)
    if not series:
        return None
    objective = _objective(ev, "players.tps_min")
    drops = [
        round(t - ev.window_start, 3)
        for r in ev.rejoins
        if isinstance(r, Mapping) and (t := _num(r.get("dropped_mono"))) is not None
    ][:MAX_MARKED_DROPS]
    shown = f"{len(ranked)} lowest of {len(ev.tps_series)} servers kept" if len(ev.tps_series) > len(ranked) else ""
    note = "; ".join(x for x in (shown, ev.tps_series_note) if x)
    return Plot(
        f"plot-{anchor}-tps",
        "player_tps",
        f"Server tick rate over time ({ev.context}){': ' + note if note else ''}",
        "seconds since the window start",
        "TPS",
        (anchor,),
        series=series,
        lines=(("tps_min SLO", objective),) if objective is not None else (),
        windows=tuple((t, t, "session dropped") for t in drops),
    )


def build_player_panel(records: Iterable[Record]) -> PlayerPanel:
    """The player panel, anchors numbered as :func:`mcproof.report.evidence_index.index_evidence` numbers records."""
    items = [
        (f"ev-{n}", r)
        for n, r in enumerate((r for r in records if is_raw(r)), start=1)
        if isinstance(r, PlayerEvidence)
    ]
    if not items:
        return PlayerPanel(False, NOT_MEASURED)
    plots = [p for p in [_join_cdf(items), *(_tps(a, ev) for a, ev in items)] if p is not None]
    rows = tuple(_row(a, ev) for a, ev in items)
    contexts = ", ".join(dict.fromkeys(ev.context for _, ev in items))
    return PlayerPanel(
        True, f"{len(rows)} player measurement(s): {contexts}", rows, tuple(plots), tuple(a for a, _ in items)
    )
