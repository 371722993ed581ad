"""Player SLO verdicts (pure): figures (:mod:`mcproof.players.slis`) + ``players.slo`` -> pass / fail / inconclusive.

Per SLO (names ``players.<field>``, :data:`mcproof.players.settings.PLAYER_SLO_NAMES`):

- not set in the environment file -> ``not judged`` (shown, never counted as pass);
- fewer samples than ``players.min_samples`` behind the figure -> ``inconclusive`` (reason + fix);
- the figure misses the objective -> ``fail``, naming the worst servers;
- ratio SLOs (join success, session drops) pass only when the samples resolve the objective: ``n`` samples
  resolve a ratio to ``1/n``, so a pass needs ``n >= 1 / (1 - join_success_ratio)`` join attempts
  (100 for 0.99) and ``n >= 1 / session_drop_ratio`` sessions; fewer -> inconclusive (with no failure
  seen, they cannot tell 99 % from 100 %). A ratio that misses the objective fails at any ``n >=
  min_samples``: those failures happened;
- session drops: sessions open at the window end but not observed alive are *unaccounted*; when counting
  them as drops would turn a pass into a fail -> inconclusive;
- time to rejoin: every drop is judged. A rejoin slower than the objective fails; an unrecovered drop that
  had at least the objective left in the window fails (it was not back in time); one dropped closer to the
  window end than the objective -> inconclusive (nobody can say yet), never left out. No drop at all ->
  inconclusive (not exercised: judge it in a chaos experiment);
- tick rate: every server with a figure is held to ``tps_min`` (its worst span) and ``tps_p5``; a server
  below -> fail (named, worst first); a server that had players but no figure (no update, too few distinct
  world ages, a world age that never advanced, silence at the tail) -> inconclusive, named with the reason.

An inconclusive verdict standing on evidence that could hide a miss is flagged ``gap`` (unaccounted sessions
that could turn the drop ratio, a drop not back yet, a server without a tick-rate figure); the report holds
such an SLO inconclusive even when another context measured a pass (:mod:`mcproof.report.model`).

A waiver (``waivers: [{slo: players.tps_min, reason, owner}]``, ``Environment.waiver_for``) turns an
``inconclusive`` verdict into ``waived``; it never hides a fail.

>>> combine_player_verdicts([]).verdict
'inconclusive'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.evidence.records import SloMeasurement
from mcproof.players.settings import PlayerSettings, PlayerSlo, player_slo_name
from mcproof.players.slis import HARNESS_GAPS, PlayerFigures
from mcproof.verdict import Verdict, combine

__all__ = [
    "NOT_JUDGED",
    "SLO_UNITS",
    "WAIVED",
    "Outcome",
    "PlayerSloVerdict",
    "combine_player_verdicts",
    "judge_players",
    "slo_measurements",
]

NOT_JUDGED = "not judged"
WAIVED = "waived"
FEW_FIX = "raise players.population_per_server or players.session_s (more joins and sessions in the window)"
_EPS = 1e-9
_SHOWN = 5

# field -> (comparator, unit, what it is)
SLO_UNITS: dict[str, tuple[str, str, str]] = {
    "join_success_ratio": (">=", "ratio", "successful joins / join attempts"),
    "join_time_p50_s": ("<=", "s", "time to join (connect -> in play) p50"),
    "join_time_p95_s": ("<=", "s", "time to join (connect -> in play) p95"),
    "session_drop_ratio": ("<=", "ratio", "dropped sessions / sessions"),
    "rejoin_time_max_s": ("<=", "s", "time to rejoin after a drop, every drop"),
    "tps_min": (">=", "tps", "server tick rate, worst span, every server"),
    "tps_p5": (">=", "tps", "server tick rate p5 of spans, every server"),
}

WaiverLookup = Callable[[str], Any]  # slo name -> a Waiver (reason, owner) or None; e.g. Environment.waiver_for


@dataclass(frozen=True)
class PlayerSloVerdict:
    """One player SLO as judged over one window."""

    slo: str  # players.<field>
    verdict: str  # pass | fail | inconclusive | waived | not judged
    objective: float | None
    comparator: str
    unit: str
    measured: float | None
    samples: int
    method: str
    reason: str
    fix: str = ""
    worst: tuple[str, ...] = ()  # the worst servers, e.g. "mc-00042 (tps_p5 9.8)"
    waiver: dict[str, str] | None = None
    # inconclusive over evidence that could hide a miss (unaccounted sessions that could turn it, a drop not
    # back yet, a server with players but no tick-rate figure): the report holds the SLO inconclusive even
    # when another context measured a pass. False for "not exercised" / too few samples (no information).
    gap: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    verdict: str  # pass | fail | inconclusive
    reason: str
    fix: str


def _needed(budget: float) -> int:
    """Samples that resolve a ratio's budget to 1/n <= budget (budget 0: any count, a single miss fails)."""
    return 0 if budget <= _EPS else math.ceil(1 / budget - _EPS)


def _shown(items: Sequence[str]) -> str:
    extra = f" (+{len(items) - _SHOWN} more)" if len(items) > _SHOWN else ""
    return ", ".join(items[:_SHOWN]) + extra


def _few(what: str, n: int, minimum: int) -> tuple[str, str, str]:
    return (
        Verdict.INCONCLUSIVE.value,
        f"only {n} {what} in the window, fewer than players.min_samples ({minimum})",
        FEW_FIX,
    )


def _join_ratio(f: PlayerFigures, objective: float, s: PlayerSettings) -> tuple[str, str, str, tuple[str, ...]]:
    fig = f.join_ratio
    worst = tuple(f"{srv} ({n} failed)" for srv, n in list(fig.failed_by_server.items())[:_SHOWN])
    if fig.samples < s.min_samples or fig.value is None:
        v, why, fix = _few("join attempts", fig.samples, s.min_samples)
        return v, why, fix, worst
    seen = f"{fig.ok} of {fig.samples} joins succeeded ({fig.value:.3%})"
    if fig.value < objective - _EPS:
        kinds = ", ".join(f"{k} {n}" for k, n in fig.failed_by_kind.items())
        why = f"{seen}, below {objective:.3%}; failures: {kinds}; worst servers: {_shown(worst)}"
        return Verdict.FAIL.value, why, "see the failed joins (server and phase) in the evidence", worst
    needed = _needed(1 - objective)
    if fig.samples < needed:
        why = (
            f"{seen}, but {fig.samples} attempts resolve the ratio to {1 / fig.samples:.3%}, coarser than the "
            f"{1 - objective:.3%} budget of {objective:.3%}"
        )
        return Verdict.INCONCLUSIVE.value, why, f"make at least {needed} join attempts: {FEW_FIX}", worst
    return Verdict.PASS.value, f"{seen} >= {objective:.3%}", "", worst


def _join_time(
    f: PlayerFigures, q: int, objective: float, s: PlayerSettings
) -> tuple[str, str, str, tuple[str, ...], float | None]:
    fig = f.join_time
    value = fig.p50_s if q == 50 else fig.p95_s
    worst = tuple(f"{srv} (p95 {v:.3g} s)" for srv, v in list(fig.p95_by_server.items())[:_SHOWN])
    if fig.samples < s.min_samples or value is None:
        v, why, fix = _few("successful joins", fig.samples, s.min_samples)
        return v, why, fix, worst, value
    seen = f"time to join p{q} {value:.3g} s over {fig.samples} joins"
    if value > objective + _EPS:
        return Verdict.FAIL.value, f"{seen} > {objective:g} s; slowest servers: {_shown(worst)}", "", worst, value
    return Verdict.PASS.value, f"{seen} <= {objective:g} s", "", worst, value


def _drops(f: PlayerFigures, objective: float, s: PlayerSettings) -> tuple[str, str, str, tuple[str, ...]]:
    fig = f.drops
    worst = tuple(f"{srv} ({n} dropped)" for srv, n in list(fig.dropped_by_server.items())[:_SHOWN])
    if fig.samples < s.min_samples or fig.value is None:
        v, why, fix = _few("sessions judged (ended, or observed alive at the end)", fig.samples, s.min_samples)
        return v, why, fix, worst
    seen = f"{fig.dropped} of {fig.samples} sessions dropped ({fig.value:.3%})"
    if fig.value > objective + _EPS:
        reasons = ", ".join(f"{k} {n}" for k, n in fig.dropped_by_reason.items())
        why = f"{seen}, above {objective:.3%} ({reasons}); where: {_shown(worst)}"
        return Verdict.FAIL.value, why, "see the dropped sessions (server, reason) in the evidence", worst
    if fig.unaccounted:
        worst_case = (fig.dropped + fig.unaccounted) / (fig.samples + fig.unaccounted)
        if worst_case > objective + _EPS:
            why = (
                f"{seen}, but {fig.unaccounted} session(s) were not accounted for (open at the window end and not "
                "observed alive, or lost by the harness: client_timeout, silent); "
                f"counted as drops they give {worst_case:.3%} > {objective:.3%}"
            )
            return Verdict.INCONCLUSIVE.value, why, "report every open session's last keep-alive at the end", worst
    needed = _needed(objective)
    if fig.samples < needed:
        why = (
            f"{seen}, but {fig.samples} sessions resolve the ratio to {1 / fig.samples:.3%}, coarser than "
            f"the objective {objective:.3%}"
        )
        return Verdict.INCONCLUSIVE.value, why, f"judge at least {needed} sessions: {FEW_FIX}", worst
    return Verdict.PASS.value, f"{seen} <= {objective:.3%}", "", worst


def _rejoin(f: PlayerFigures, objective: float) -> tuple[str, str, str, tuple[str, ...], float | None]:
    fig = f.rejoin
    if not fig.rejoins:
        why = "no session dropped in the window: time to rejoin was not exercised"
        fix = "judge it where players are dropped: a chaos experiment that kills a server with players on it"
        return Verdict.INCONCLUSIVE.value, why, fix, (), None
    ours = [r for r in fig.rejoins if r.reason in HARNESS_GAPS]  # the harness lost them: a gap, never a fail
    judged = [r for r in fig.rejoins if r.reason not in HARNESS_GAPS]
    slow = [r for r in judged if r.rejoin_s is not None and r.rejoin_s > objective + _EPS]
    late = [r for r in judged if r.rejoin_s is None and r.remaining_s >= objective - _EPS]
    cut = [r for r in judged if r.rejoin_s is None and r.remaining_s < objective - _EPS]
    bounds = [r.rejoin_s if r.rejoin_s is not None else r.remaining_s for r in (judged or fig.rejoins)]
    measured = max(bounds)
    bad = sorted(slow + late, key=lambda r: -(r.rejoin_s if r.rejoin_s is not None else r.remaining_s))
    worst = tuple(
        f"{r.server}/{r.player} ({f'{r.rejoin_s:.3g} s' if r.rejoin_s is not None else 'never back'})" for r in bad
    )
    seen = f"{fig.recovered} of {fig.samples} drops rejoined" + (
        f", slowest {fig.max_s:.3g} s" if fig.max_s is not None else ""
    )
    if bad:
        parts = [f"{len(slow)} rejoin(s) slower than {objective:g} s"] if slow else []
        if late:
            parts.append(f"{len(late)} unrecovered drop(s) not back within {objective:g} s")
        why = f"{seen}; {' and '.join(parts)}: {_shown(worst)}"
        return Verdict.FAIL.value, why, "see the drops and rejoins in the evidence", worst, measured
    if cut:
        names = tuple(f"{r.server}/{r.player} ({r.remaining_s:.3g} s before the end)" for r in cut)
        why = (
            f"{seen}; {len(cut)} drop(s) came less than {objective:g} s before the window ended and were not "
            f"back yet: {_shown(names)}"
        )
        fix = f"keep observing at least {objective:g} s after the last fault (players.rejoin_time_max_s)"
        return Verdict.INCONCLUSIVE.value, why, fix, names, measured
    if ours:
        names = tuple(f"{r.server}/{r.player} ({r.reason})" for r in ours)
        why = (
            f"{seen}; {len(ours)} session(s) ended on the harness's side (the server timed the client out, or "
            f"it went silent), not by a server drop: {_shown(names)}"
        )
        fix = "give the player population more CPU (fewer players per generator, players.population_per_server)"
        return Verdict.INCONCLUSIVE.value, why, fix, names, measured
    return Verdict.PASS.value, f"{seen}, every one within {objective:g} s", "", (), measured


def _tps(f: PlayerFigures, field: str, objective: float) -> tuple[str, str, str, tuple[str, ...], float | None, int]:
    fig = f.tps
    key = "tps_min" if field == "tps_min" else "tps_p5"
    measured = [(getattr(s, key), s.server) for s in fig.measured]
    value = min((v for v, _ in measured), default=None)
    low = sorted((v, srv) for v, srv in measured if v < objective - _EPS)
    worst = tuple(f"{srv} ({key} {v:.3g})" for v, srv in low)
    if low:
        why = f"{len(low)} of {len(measured)} servers below {key} {objective:g}: {_shown(worst)}" + (
            f"; {len(fig.unmeasured)} more not measured" if fig.unmeasured else ""
        )
        return Verdict.FAIL.value, why, "find why those servers lag (CPU, GC, a lag fault)", worst, value, fig.samples
    if not fig.servers:
        why = "no world-time update in the window: the tick rate was not measured"
        fix = f"keep players in play longer (players.session_s); {FEW_FIX}"
        return Verdict.INCONCLUSIVE.value, why, fix, (), None, 0
    if fig.unmeasured:
        by_name = {s.server: s for s in fig.servers}
        names = tuple(f"{n}: {by_name[n].unmeasured}" for n in fig.unmeasured if n in by_name)
        why = f"{len(fig.unmeasured)} server(s) that had players have no tick-rate figure: {_shown(names)}"
        fix = (
            "keep players in play longer (players.session_s, or lower players.min_tps_updates, at least 2); a "
            "server that never advances its world age cannot be measured this way (waive players."
            f"{field} for it)"
        )
        return Verdict.INCONCLUSIVE.value, why, fix, fig.unmeasured, value, fig.samples
    seen = f"{len(measured)} servers, lowest {key} {value:.3g}" if value is not None else ""
    return Verdict.PASS.value, f"{seen} >= {objective:g}", "", (), value, fig.samples


def _method(figures: PlayerFigures, field: str) -> str:
    if field == "join_success_ratio":
        return figures.join_ratio.method
    if field.startswith("join_time"):
        return figures.join_time.method
    if field == "session_drop_ratio":
        return figures.drops.method
    if field == "rejoin_time_max_s":
        return figures.rejoin.method
    return figures.tps.method


def _judge_one(figures: PlayerFigures, field: str, objective: float, s: PlayerSettings) -> PlayerSloVerdict:
    comparator, unit, _ = SLO_UNITS[field]
    worst: tuple[str, ...] = ()
    if field == "join_success_ratio":
        v, why, fix, worst = _join_ratio(figures, objective, s)
        measured, samples = figures.join_ratio.value, figures.join_ratio.samples
    elif field in ("join_time_p50_s", "join_time_p95_s"):
        v, why, fix, worst, measured = _join_time(figures, 50 if "p50" in field else 95, objective, s)
        samples = figures.join_time.samples
    elif field == "session_drop_ratio":
        v, why, fix, worst = _drops(figures, objective, s)
        measured, samples = figures.drops.value, figures.drops.samples
    elif field == "rejoin_time_max_s":
        v, why, fix, worst, measured = _rejoin(figures, objective)
        samples = figures.rejoin.samples
    else:
        v, why, fix, worst, measured, samples = _tps(figures, field, objective)
    return PlayerSloVerdict(
        slo=player_slo_name(field),
        verdict=v,
        objective=objective,
        comparator=comparator,
        unit=unit,
        measured=measured,
        samples=samples,
        method=_method(figures, field),
        reason=why,
        fix=fix,
        worst=worst,
        gap=v == Verdict.INCONCLUSIVE.value and _gap(figures, field, objective),
    )


def _gap(figures: PlayerFigures, field: str, objective: float) -> bool:
    """Whether an inconclusive verdict stands on evidence that could hide a miss (see PlayerSloVerdict.gap)."""
    if field == "session_drop_ratio":
        d = figures.drops
        if not d.unaccounted:
            return False
        return (d.dropped + d.unaccounted) / (d.samples + d.unaccounted) > objective + _EPS
    if field == "rejoin_time_max_s":
        return any(
            r.reason in HARNESS_GAPS or (r.rejoin_s is None and r.remaining_s < objective - _EPS)
            for r in figures.rejoin.rejoins
        )
    if field in ("tps_min", "tps_p5"):
        return bool(figures.tps.unmeasured)
    return False


def judge_players(
    figures: PlayerFigures,
    settings: PlayerSettings,
    *,
    only: Iterable[str] | None = None,
    waiver_for: WaiverLookup | None = None,
) -> tuple[PlayerSloVerdict, ...]:
    """One verdict per player SLO (``only``: fields or ``players.`` names to judge; the rest are not judged).

    ``waiver_for``: e.g. ``lambda slo: env.waiver_for(slo=slo)``.
    """
    wanted = None if only is None else {o.removeprefix("players.") for o in only}
    out = []
    for field in PlayerSlo.model_fields:
        comparator, unit, what = SLO_UNITS[field]
        objective = getattr(settings.slo, field)
        if objective is None or (wanted is not None and field not in wanted):
            why = (
                f"players.slo.{field} is not set in the environment file"
                if objective is None
                else "not judged in this context"
            )
            out.append(
                PlayerSloVerdict(player_slo_name(field), NOT_JUDGED, objective, comparator, unit, None, 0, what, why)
            )
            continue
        verdict = _judge_one(figures, field, float(objective), settings)
        if verdict.verdict == Verdict.INCONCLUSIVE.value and waiver_for is not None:
            waiver = waiver_for(verdict.slo)
            if waiver is not None:
                shown = {"reason": str(waiver.reason), "owner": str(waiver.owner)}
                verdict = PlayerSloVerdict(
                    **{**verdict.as_dict(), "verdict": WAIVED, "waiver": shown, "worst": verdict.worst}
                )
        out.append(verdict)
    return tuple(out)


def combine_player_verdicts(verdicts: Iterable[PlayerSloVerdict]) -> Outcome:
    """Fail if any failed; else inconclusive if any was (or none was judged); waived and not judged count as neither.

    The reason lists the failed (else inconclusive) SLOs with theirs; the fix, their fixes.
    """
    judged = [v for v in verdicts if v.verdict in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE)]
    if not judged:
        return Outcome(
            Verdict.INCONCLUSIVE.value,
            "no player SLO was judged",
            "declare players.slo objectives in the environment file (players: slo: join_success_ratio: ...)",
        )
    overall = combine(v.verdict for v in judged)
    if overall is Verdict.PASS:
        return Outcome(overall.value, "; ".join(f"{v.slo}: {v.reason}" for v in judged), "")
    mine = [v for v in judged if v.verdict == overall.value]
    return Outcome(
        overall.value,
        "; ".join(f"{v.slo}: {v.reason}" for v in mine),
        "; ".join(dict.fromkeys(v.fix for v in mine if v.fix)),
    )


def slo_measurements(
    verdicts: Iterable[PlayerSloVerdict], *, environment: str, check: str, context: str
) -> list[SloMeasurement]:
    """SloMeasurement records for the report's SLO table: judged pass/fail verdicts only (an inconclusive
    one records nothing that could be read as a pass)."""
    out = []
    for v in verdicts:
        if v.verdict not in (Verdict.PASS.value, Verdict.FAIL.value) or v.measured is None or v.objective is None:
            continue
        out.append(
            SloMeasurement(
                environment=environment,
                slo=v.slo,
                objective=f"{SLO_UNITS[v.slo.removeprefix('players.')][2]} {v.comparator} {v.objective:g} ({context})",
                target=v.objective,
                measured=v.measured,
                unit=v.unit,
                comparator=v.comparator,
                passed=v.verdict == Verdict.PASS.value,
                method=v.method,
                check=check,
                samples=v.samples,
            )
        )
    return out
