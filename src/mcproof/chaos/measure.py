"""From observer samples and the chaoslib journal to evidence: RecoveryEvidence (verdict, error budget
burn) and the MTTR SLO measurement.

Verdict (pass | fail | inconclusive, :func:`judge`):

- **inconclusive** when the fault was not seen to take effect (:func:`mcproof.chaos.effect.effect_problems`:
  a method action failed, no fault action ran, the fault named no target, the observer did not see the
  named targets degrade, an invisible fault not proven), or when the experiment was interrupted from
  outside (Ctrl-C) before the recovery it measures was given its window. No ``mttr_s`` measurement is
  recorded then, and the record's MTTR figures are empty (the raw per-server rows and timeline stay): an
  MTTR of a fault that never happened is not a measurement.
- **fail** when the fault took effect and the journal deviated or did not complete, a target never
  recovered before the rollbacks, the fleet MTTR exceeds ``slo.mttr_s``, the fleet is not serving after
  the rollbacks, a rollback did not succeed, the abort floor was crossed, or the safety net had to clean up
  after the rollbacks.
- **pass** otherwise.

Availability: chaos does not measure the availability SLO (one incident projected over 30 days is not
an availability). It records the error budget the experiment burned: observed downtime in server-seconds
(unanswered pings after the injection, rollbacks included; a slow answer still serves) as a share of the budget
``(1 - slo.availability) x chaos.availability_window_s x servers``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcproof.chaos.effect import FleetSnapshot, activity_error, effect_problems, fault_effect
from mcproof.chaos.recovery import (
    RecoveryFigures,
    Sample,
    compute_recovery,
    epoch_to_iso,
    error_budget_burn,
    iso_to_epoch,
    observed_downtime,
)
from mcproof.chaos.scope import chaos_settings
from mcproof.config import Environment
from mcproof.evidence.records import PlayerEvidence, RecoveryEvidence, SloMeasurement
from mcproof.evidence.store import RunStore
from mcproof.players.settings import PlayerSettings
from mcproof.verdict import Verdict

if TYPE_CHECKING:
    from mcproof.chaos.experiment import ChaosOutcome, PlannedRun
    from mcproof.chaos.players import PlayerJudgement, PlayerPlan
    from mcproof.players.population import PlayerSamples

__all__ = ["METHOD", "Judgement", "injection_time", "judge", "measure"]

METHOD = (
    "independent observer: mcstatus status ping of every target the fault may hit (plus a sample of the rest) "
    "each interval; injection = start of the first method action in the chaoslib journal; a target recovers at "
    "the midpoint between its last failed and first answered sample; figures use samples before the rollbacks; "
    "the fault counts only if every method action succeeded and the observer saw the targets it named degrade"
)
BUDGET_METHOD = (
    "error budget burn: server-seconds the observer saw down after the injection (each unanswered ping stands "
    "for the time to the midpoints with its neighbours; rollbacks included) over (1 - availability) x period x "
    "servers; one experiment's burn, not a measured availability"
)


def injection_time(journal: dict[str, Any]) -> float | None:
    """Epoch start of the first method action in a chaoslib journal (None when no action ran)."""
    for run in journal.get("run", []):
        if run.get("activity", {}).get("type") == "action" and run.get("start"):
            return iso_to_epoch(str(run["start"]))
    return None


def _rollback_start(journal: dict[str, Any]) -> float | None:
    starts = [iso_to_epoch(str(r["start"])) for r in journal.get("rollbacks", []) if r.get("start")]
    return min(starts) if starts else None


class Judgement:
    """The verdict with every reason behind it and, when inconclusive, the fix."""

    def __init__(self, verdict: Verdict, reasons: list[str], fix: str = "") -> None:
        self.verdict, self.reasons, self.fix = verdict, reasons, fix

    def __repr__(self) -> str:
        return f"Judgement({self.verdict.value!r}, {self.reasons!r}, {self.fix!r})"


def _fix(problem: str, interval_s: float) -> str:
    if problem.startswith("fault action failed"):
        return "fix what the fault action reported (see the journal); the fault must be applied to measure recovery"
    if problem.startswith("the steady-state hypothesis was not met before"):
        return "bring the fleet to its steady state first (run the smoke suite), then re-run the experiment"
    if problem.startswith("players:") and ("event loop lagged" in problem or "harness itself" in problem):
        return (
            "the harness's own player loop stalled: rerun on a less loaded runner, or lower "
            "players.population_per_server / players.unaffected so the population keeps up"
        )
    if problem.startswith("players:") and ("TPS figure" in problem or "heard nothing" in problem):
        return (
            "a server outside the blast radius went unmeasured: check it sends world-time updates (a server whose "
            "world age never advances cannot be judged against players.tps_min) and that it still answers players"
        )
    if problem.startswith("players:") and "too close to the end" in problem:
        return (
            "give the experiment a longer tail (rollbacks/cooldown) so dropped players have players.rejoin_deadline_s"
        )
    if problem.startswith("too few players") or problem.startswith("players:"):
        return (
            "check that players can join these servers (smoke suite's player join check) and that the experiment's "
            "players section gives enough of them (players.population_per_server, players.unaffected)"
        )
    if problem.startswith("interrupted"):
        return "re-run the experiment without interrupting it"
    if "serve throughout" in problem or problem.startswith("fault not seen"):
        return (
            f"check the fault applies to these servers; if they recover faster than the observer's {interval_s:g}s "
            "interval, lower chaos.observer_interval_s"
        )
    return "fix the experiment so its fault actions act on observed Minecraft servers and name them in their output"


def judge(
    journal: dict[str, Any],
    figures: RecoveryFigures,
    *,
    effect_issues: Sequence[str],
    prior: Sequence[str],
    aborted: bool,
    serving_after: bool,
    last_down: Sequence[str],
    mttr_slo_s: float,
    interval_s: float,
) -> Judgement:
    """Pass, fail or inconclusive from the journal, the recovery figures and the fault's effect.

    ``prior``: reasons found while running (abort floor, safety net); ``aborted``: our abort floor
    interrupted the experiment (a fail: the fleet fell below it), as opposed to an outside interruption.

    >>> from mcproof.chaos.recovery import compute_recovery
    >>> ok = {"status": "completed", "deviated": False}
    >>> judge(ok, compute_recovery([], 0.0), effect_issues=["no fault action ran"], prior=[], aborted=False,
    ...       serving_after=True, last_down=[], mttr_slo_s=60, interval_s=0.5).verdict.value
    'inconclusive'
    """
    status = str(journal.get("status", "missing"))
    before = (journal.get("steady_states") or {}).get("before") or {}
    outside = status == "interrupted" and not aborted  # Ctrl-C / SIGTERM, not our abort floor
    worst = max((s.downtime_s for s in figures.per_server), default=0.0)
    failures = list(prior)
    gaps: list[str] = []  # the fault was not seen to take effect: inconclusive whatever else happened
    if before.get("steady_state_met") is False:
        gaps.append("the steady-state hypothesis was not met before the method: no fault was injected")
    gaps += list(effect_issues)
    cut: list[str] = []  # interrupted from outside before recovery was given its window
    if journal.get("deviated"):
        failures.append("the steady-state hypothesis deviated (journal deviated: true)")
    if figures.unrecovered and outside and worst <= mttr_slo_s:
        cut.append(
            f"interrupted from outside (journal status interrupted) {worst:.1f}s after the fault, before "
            f"{len(figures.unrecovered)} server(s) could recover: {', '.join(figures.unrecovered[:20])}"
        )
    elif figures.unrecovered:
        failures.append(
            f"{len(figures.unrecovered)} server(s) never recovered before the rollbacks: "
            + ", ".join(figures.unrecovered[:20])
        )
    if figures.fleet_mttr_s is not None and figures.fleet_mttr_s > mttr_slo_s:
        failures.append(f"fleet MTTR {figures.fleet_mttr_s:.2f}s exceeds the SLO {mttr_slo_s:g}s")
    elif figures.unrecovered and worst > mttr_slo_s:
        failures.append(f"a server was down {worst:.1f}s, beyond the MTTR SLO {mttr_slo_s:g}s")
    if not serving_after:
        failures.append(f"not serving after the rollbacks: {', '.join(last_down[:20]) or 'no samples'}")
    for run in journal.get("rollbacks") or []:
        if run.get("status") != "succeeded":
            failures.append(
                f"rollback {(run.get('activity') or {}).get('name', '?')} did not succeed: {activity_error(run)}"
            )
    if outside and not cut:
        cut.append("interrupted from outside (journal status interrupted) before the experiment completed")
    elif status != "completed" and not outside:
        failures.append(f"the journal status is {status!r}, not 'completed'")
    if gaps:
        notes = [f"not judged, the fault was not seen to take effect: {f}" for f in failures]
        return Judgement(Verdict.INCONCLUSIVE, [*gaps, *notes], _fix(gaps[0], interval_s))
    if failures:
        return Judgement(Verdict.FAIL, failures)
    if cut:
        return Judgement(Verdict.INCONCLUSIVE, cut, _fix(cut[0], interval_s))
    return Judgement(Verdict.PASS, [])


def _deadline_note(env: Environment, interval: float) -> str:
    """The observer's real per-ping deadline: its timeout, held under 4 intervals so ticks never overlap."""
    from mcproof.chaos.scope import chaos_settings

    asked = chaos_settings(env).observer_timeout_s
    used = min(asked, max(interval * 4, 0.2))
    held = f" (observer_timeout_s {asked:g} s held to 4 intervals)" if used < asked else ""
    return f"; a ping unanswered within {used:g} s counts as down{held}"


def measure(
    env: Environment,
    planned: PlannedRun,
    journal: dict[str, Any],
    samples: list[Sample],
    interval: float,
    outcome: ChaosOutcome,
    store: RunStore,
    check: str,
    *,
    snapshot: FleetSnapshot | None = None,
    observed: Sequence[str] = (),
    proof: tuple[bool, str] | None = None,
    aborted: bool = False,
    players: tuple[PlayerPlan, PlayerSamples] | None = None,
    player_clock: tuple[float | None, float | None] = (None, None),
) -> None:
    injected = injection_time(journal)
    marked = journal.get("mcproof_rollbacks_cutoff")
    cutoff = iso_to_epoch(str(marked)) if marked else _rollback_start(journal)
    before = [s for s in samples if cutoff is None or s.t < cutoff]
    after = [s for s in samples if cutoff is not None and s.t >= cutoff]
    slow_ms = env.slo.status_latency_p95_ms if planned.plan.fault_path else None  # path faults: slow is down
    since = injected if injected is not None else time.time()
    figures = compute_recovery(before, since, slow_ms)
    last_tick: dict[str, bool] = {}
    for s in sorted(after or samples, key=lambda s: s.t):
        last_tick[s.target] = s.ok
    serving_after = bool(last_tick) and all(last_tick.values())
    deviated = bool(journal.get("deviated", False))
    status = str(journal.get("status", "missing"))
    slo = env.slo.mttr_s
    snap = snapshot or FleetSnapshot(tuple(observed))
    effect = fault_effect(journal, snap)
    player_view = _players(env, planned, players, player_clock)
    issues = effect_problems(
        effect,
        set(observed),
        set(figures.affected) | set(player_view.degraded if player_view else ()),
        visible=planned.plan.fault_visible,
        proof=proof,
        interval_s=interval,
    )
    if player_view is not None:
        issues = [*issues, *player_view.gaps]
    verdict = judge(
        journal,
        figures,
        effect_issues=issues,
        prior=[*outcome.reasons, *(player_view.failures if player_view else [])],
        aborted=aborted,
        serving_after=serving_after,
        last_down=sorted(k for k, v in last_tick.items() if not v),
        mttr_slo_s=slo,
        interval_s=interval,
    )
    fleet_ids = {t.id for t in planned.targets}
    down = observed_downtime(samples, since) if injected is not None else {}  # unanswered pings; slow still serves
    burned = sum(v for k, v in down.items() if k in fleet_ids)
    settings = chaos_settings(env)
    budget = error_budget_burn(
        burned, max(len(planned.targets), 1), env.slo.availability, settings.availability_window_s
    ).as_dict()
    budget["method"] = BUDGET_METHOD
    budget["downtime_by_target_s"] = down
    measured = verdict.verdict is not Verdict.INCONCLUSIVE  # no MTTR figures for a fault not seen to happen
    summary = figures.mttr_summary if measured else {}
    record = RecoveryEvidence(
        environment=env.name,
        method=METHOD + _deadline_note(env, interval),
        check=check,
        experiment=planned.plan.name,
        journal=outcome.journal_path.name if outcome.journal_path else "",
        journal_status=status,
        deviated=deviated,
        passed=verdict.verdict is Verdict.PASS,
        reasons=verdict.reasons,
        seed=planned.seed,
        injected_at=epoch_to_iso(injected) if injected is not None else None,
        observed_from=epoch_to_iso(figures.observed_from),
        observed_to=epoch_to_iso(figures.observed_to),
        interval_s=interval,
        targets_observed=figures.targets_observed,
        affected=figures.affected,
        unrecovered=list(figures.unrecovered),
        per_server=[s.as_dict() for s in figures.per_server],
        mttr_p50_s=summary.get("p50"),
        mttr_p95_s=summary.get("p95"),
        mttr_max_s=summary.get("max"),
        fleet_mttr_s=figures.fleet_mttr_s if measured else None,
        mttr_slo_s=slo,
        good_sample_ratio=figures.good_ratio,
        downtime_server_s=figures.downtime_server_s,
        serving_after_rollback=serving_after,
        timeline=[s.as_dict() for s in samples],
        verdict=verdict.verdict.value,
        fix=verdict.fix,
        fault_targets=list(effect.targets),
        error_budget=budget,
        players=player_view.evidence if player_view is not None else {},
    )
    store.append(record)
    if players is not None and measured:
        player_record, player_slos = _player_records(env, planned, players[1], check)
        store.append(player_record)
        for slo_record in player_slos:
            store.append(slo_record)
    if measured and (figures.affected or player_view is None):  # a fault only players saw is no MTTR figure
        worst = max((s.downtime_s for s in figures.per_server), default=0.0)
        measured_mttr = figures.fleet_mttr_s if figures.fleet_mttr_s is not None else worst
        store.append(
            SloMeasurement(
                environment=env.name,
                slo="mttr_s",
                objective=f"fleet recovers within {slo:g}s of a fault",
                target=slo,
                measured=round(measured_mttr, 3),
                unit="s",
                comparator="<=",
                passed=figures.fleet_mttr_s is not None and figures.fleet_mttr_s <= slo and not figures.unrecovered,
                method=f"{planned.plan.name}: {METHOD}"
                + ("" if figures.fleet_mttr_s is not None else "; unrecovered: measured is the downtime seen so far"),
                check=check,
                samples=figures.samples,
            )
        )
    outcome.verdict = verdict.verdict.value
    outcome.reasons = verdict.reasons
    outcome.fix = verdict.fix
    outcome.evidence = record
    if measured and figures.fleet_mttr_s is not None:
        outcome.lines.append(
            f"  fleet MTTR {figures.fleet_mttr_s:.2f}s (p50 {summary.get('p50')}, p95 {summary.get('p95')}, "
            f"max {summary.get('max')}) over {len(figures.per_server)} affected server(s); SLO {slo:g}s"
        )
    outcome.lines.append(
        f"  error budget: {budget['burned_server_s']:.2f} server-s of downtime observed = "
        f"{budget['burned_share']:.4%} of the {settings.availability_window_s / 86400:g}-day budget "
        f"({budget['budget_server_s']:g} server-s at availability {env.slo.availability} x {budget['servers']} servers)"
    )
    if player_view is not None:
        outcome.lines.append(_players_line(player_view.evidence))
    outcome.lines.append(f"  journal: status {status}, deviated {deviated}; verdict {verdict.verdict.value.upper()}")
    outcome.lines.extend(f"  - {r}" for r in verdict.reasons)
    if verdict.fix:
        outcome.lines.append(f"  fix: {verdict.fix}")


def _players(
    env: Environment,
    planned: PlannedRun,
    players: tuple[PlayerPlan, PlayerSamples] | None,
    clock: tuple[float | None, float | None],
) -> PlayerJudgement | None:
    """The player-level judgement; ``clock``: the injection and the rollbacks' start on the monotonic clock,
    taken during the run (:class:`mcproof.chaos.experiment.RunClock`), never mapped from the journal's epoch
    times (a wall-clock step during the run would shift them)."""
    if players is None:
        return None
    from mcproof.chaos.players import judge_players

    plan, samples = players
    injected_mono, cutoff_mono = clock
    declared = {t.id for t in [*planned.victims, *planned.reach]}
    settings = env.players or PlayerSettings()
    return judge_players(
        samples,
        plan,
        declared,
        injected_mono=injected_mono,
        cutoff_mono=cutoff_mono,
        tps_span_s=settings.tps_window_s,
        min_tps_updates=settings.min_tps_updates,
    )


def _player_records(
    env: Environment, planned: PlannedRun, samples: PlayerSamples, check: str
) -> tuple[PlayerEvidence, list[SloMeasurement]]:
    """The experiment's players as a PlayerEvidence record (context ``chaos:<experiment>``, the whole
    population window), judging only the rejoin SLO (drops are what chaos provokes; TPS is judged per server
    in RecoveryEvidence.players); its SLO measurement when judged."""
    from mcproof.players.evidence import player_evidence, player_slo_records

    ev = player_evidence(
        samples.joins,
        samples.ends,
        samples.times,
        window=(samples.started_mono, max(samples.stopped_mono, samples.started_mono)),
        settings=env.players or PlayerSettings(),
        environment=env.name,
        check=check,
        context=f"chaos:{planned.plan.name}",
        alive_at_end=samples.alive_at_end,
        only=("rejoin_time_max_s",),
        waiver_for=lambda slo: env.waiver_for(slo=slo),
    )
    return ev, player_slo_records(ev)


def _players_line(ev: dict[str, Any]) -> str:
    drops = sum(len(v) for v in ev["dropped_by_server"].values())
    where = ", ".join(f"{s} {len(p)}" for s, p in sorted(ev["dropped_by_server"].items())[:10]) or "none"
    back = f"; back in play within {ev['rejoin_s_max']:.2f}s (max)" if ev.get("rejoin_s_max") is not None else ""
    return (
        f"  players: {ev['in_play_at_injection']} of {ev['players']} in play at the injection; {drops} dropped "
        f"({where}){back}; not back: {len(ev['not_back'])}"
    )
