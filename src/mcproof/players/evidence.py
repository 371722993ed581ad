"""Building PlayerEvidence (defined with the other records in :mod:`mcproof.evidence.records`) from samples.

One call per measured window and context: the figures (:mod:`mcproof.players.slis`), the verdicts
(:mod:`mcproof.players.judge`), the raw sample counts and bounded raw detail — every drop and its rejoin
(capped at ``MAX_REJOINS``), failed joins (``MAX_FAILED_JOINS``), join time as 101 quantiles (a CDF of
any number of joins) and per-server TPS series downsampled to ``players.tps_series_points`` points for the
``players.tps_series_servers`` lowest servers (each point the lowest span of its bucket).

Example (a smoke check)::

    ev = player_evidence(attempts, ends, updates, window=(t0, t1), settings=env.players,
                         environment=env.name, check="smoke::test_player_join", context="smoke",
                         waiver_for=lambda slo: env.waiver_for(slo=slo))
    store.append(ev)
    for m in player_slo_records(ev): store.append(m)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from mcproof.clock import utc_now
from mcproof.evidence.records import PlayerEvidence, SloMeasurement
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.players.judge import (
    PlayerSloVerdict,
    WaiverLookup,
    combine_player_verdicts,
    judge_players,
    slo_measurements,
)
from mcproof.players.settings import PlayerSettings
from mcproof.players.slis import PlayerFigures, compute_figures, downsample

__all__ = [
    "CONTEXT_PATTERN",
    "MAX_FAILED_JOINS",
    "MAX_REJOINS",
    "PlayerEvidence",
    "player_evidence",
    "player_slo_records",
    "player_verdicts",
]

MAX_REJOINS = 1000
MAX_FAILED_JOINS = 200
CONTEXT_PATTERN = re.compile(r"^(smoke|load|dr|chaos:[A-Za-z0-9._:-]{1,128})$")

METHOD = (
    "mcproof player client (offline-mode login to play, keep-alives answered); figures over one window of "
    "monotonic time from the client's samples: join success ratio, time to join p50/p95, session drop ratio, "
    "time to rejoin per drop, TPS per server from world-time updates (mcproof.players.slis)"
)


def _figures_dict(figures: PlayerFigures) -> dict[str, object]:
    data = figures.as_dict()
    data["join_time"].pop("quantiles_s", None)
    data["rejoin"].pop("rejoins", None)
    data["join_ratio"].pop("failures", None)
    for server in data["tps"]["servers"]:
        server.pop("series", None)
    return data


def _series(figures: PlayerFigures, settings: PlayerSettings, start: float) -> tuple[dict[str, list[list[float]]], str]:
    measured = [s for s in figures.tps.servers if s.series]
    kept = measured[: settings.tps_series_servers]  # servers are sorted lowest p5 first
    series = {
        s.server: [[round(t - start, 3), v] for t, v in downsample(s.series, settings.tps_series_points)] for s in kept
    }
    cut = [s for s in kept if len(s.series) > settings.tps_series_points]
    notes = [f"{len(kept)} of {len(measured)} servers with a TPS series kept (lowest p5 first)"]
    if cut:
        notes.append(
            f"{len(cut)} downsampled to {settings.tps_series_points} points (each the lowest span of its bucket)"
        )
    return series, "; ".join(notes)


def player_evidence(
    attempts: Sequence[JoinAttempt],
    ends: Sequence[SessionEnd],
    updates: Sequence[TimeUpdate],
    *,
    window: tuple[float, float],
    settings: PlayerSettings,
    environment: str,
    check: str,
    context: str,
    alive_at_end: Iterable[tuple[str, str]] = (),
    only: Iterable[str] | None = None,
    waiver_for: WaiverLookup | None = None,
    started_at: str = "",
    ended_at: str = "",
    servers_expected: Iterable[str] | None = None,
) -> PlayerEvidence:
    """Figures, verdicts and bounded raw detail of one window (``context``: smoke | load | chaos:<name> | dr).

    ``window``: (start, end) in ``time.monotonic()`` seconds; ``started_at``/``ended_at``: its UTC ISO-8601
    ends (``ended_at`` defaults to now). ``alive_at_end``: (server, player) of open sessions observed alive
    at the end. ``only``: the SLOs this context judges (default: every declared one). ``servers_expected``:
    the servers that had players, each owed a TPS figure (one without is named unmeasured); default: the
    servers of the attempts whose players stayed long enough for one (:func:`mcproof.players.slis.tps_expected`).
    """
    if not CONTEXT_PATTERN.match(context):
        raise ValueError(f"player evidence context {context!r} is not smoke, load, dr or chaos:<experiment>")
    if window[1] < window[0]:
        raise ValueError(f"player window ends before it starts ({window[0]} > {window[1]})")
    figures = compute_figures(
        attempts,
        ends,
        updates,
        window=window,
        alive_at_end=alive_at_end,
        tps_span_s=settings.tps_window_s,
        min_tps_updates=settings.min_tps_updates,
        servers_expected=servers_expected,
    )
    verdicts = judge_players(figures, settings, only=only, waiver_for=waiver_for)
    outcome = combine_player_verdicts(verdicts)
    series, note = _series(figures, settings, window[0])
    failed = [a for a in attempts if not a.ok and window[0] <= a.started_mono <= window[1]]
    servers = {a.server for a in attempts} | {e.server for e in ends} | {u.server for u in updates}
    return PlayerEvidence(
        environment=environment,
        method=METHOD + f"; window {window[1] - window[0]:.1f} s, min samples {settings.min_samples}",
        check=check,
        context=context,
        started_at=started_at,
        ended_at=ended_at or utc_now(),
        window_start=window[0],
        window_end=window[1],
        verdict=outcome.verdict,
        reason=outcome.reason,
        fix=outcome.fix,
        samples={
            "join_attempts": len(attempts),
            "joins_ok": sum(1 for a in attempts if a.ok),
            "session_ends": len(ends),
            "time_updates": len(updates),
            "servers": len(servers),
        },
        figures=_figures_dict(figures),
        slos=[v.as_dict() for v in verdicts],
        join_time_quantiles_s=list(figures.join_time.quantiles_s),
        rejoins=[r.as_dict() for r in figures.rejoin.rejoins[:MAX_REJOINS]],
        failed_joins=[a.describe() for a in sorted(failed, key=lambda a: a.started_mono)[:MAX_FAILED_JOINS]],
        tps_series=series,
        tps_series_note=note,
    )


def player_verdicts(ev: PlayerEvidence) -> tuple[PlayerSloVerdict, ...]:
    """The verdicts stored in a PlayerEvidence record, as objects again."""
    return tuple(
        PlayerSloVerdict(**{**d, "worst": tuple(d.get("worst") or ())}) for d in ev.slos if isinstance(d, dict)
    )


def player_slo_records(ev: PlayerEvidence) -> list[SloMeasurement]:
    """SloMeasurement records (pass/fail verdicts only) for the report's SLO table."""
    return slo_measurements(player_verdicts(ev), environment=ev.environment, check=ev.check, context=ev.context)
