"""From observer samples and the chaoslib journal to evidence: RecoveryEvidence and the MTTR and
availability SLO measurements, plus the verdict and its reasons."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from mcproof.chaos.recovery import Sample, compute_recovery, epoch_to_iso, iso_to_epoch, projected_availability
from mcproof.chaos.scope import chaos_settings
from mcproof.config import Environment
from mcproof.evidence.records import RecoveryEvidence, SloMeasurement
from mcproof.evidence.store import RunStore

if TYPE_CHECKING:
    from mcproof.chaos.runner import ChaosOutcome, PlannedRun

__all__ = ["METHOD", "injection_time", "measure"]

METHOD = (
    "independent observer: mcstatus status ping of every affected target (plus a sample of the rest) each "
    "interval; injection = start of the first method action in the chaoslib journal; a target recovers at the "
    "midpoint between its last failed and first answered sample; figures use samples before the rollbacks"
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


def measure(
    env: Environment, planned: PlannedRun, journal: dict[str, Any], samples: list[Sample], interval: float,
    outcome: ChaosOutcome, store: RunStore, check: str,
) -> None:  # fmt: skip
    injected = injection_time(journal)
    marked = journal.get("mcproof_rollbacks_cutoff")
    cutoff = iso_to_epoch(str(marked)) if marked else _rollback_start(journal)
    before = [s for s in samples if cutoff is None or s.t < cutoff]
    after = [s for s in samples if cutoff is not None and s.t >= cutoff]
    slow_ms = env.slo.status_latency_p95_ms if planned.plan.fault_path else None  # path faults: slow is down
    figures = compute_recovery(before, injected if injected is not None else time.time(), slow_ms)
    last_tick: dict[str, bool] = {}
    for s in sorted(after or samples, key=lambda s: s.t):
        last_tick[s.target] = s.ok
    serving_after = bool(last_tick) and all(last_tick.values())
    deviated = bool(journal.get("deviated", False))
    status = str(journal.get("status", "missing"))
    slo = env.slo.mttr_s
    reasons = list(outcome.reasons)
    if deviated:
        reasons.append("the steady-state hypothesis deviated (journal deviated: true)")
    if status != "completed":
        reasons.append(f"the journal status is {status!r}, not 'completed'")
    if injected is None:
        reasons.append("no fault was injected (no method action ran)")
    if figures.unrecovered:
        reasons.append(f"{len(figures.unrecovered)} server(s) never recovered before the rollbacks: "
                       + ", ".join(figures.unrecovered[:20]))  # fmt: skip
    if figures.fleet_mttr_s is not None and figures.fleet_mttr_s > slo:
        reasons.append(f"fleet MTTR {figures.fleet_mttr_s:.2f}s exceeds the SLO {slo:g}s")
    if not serving_after:
        down = sorted(k for k, v in last_tick.items() if not v)
        reasons.append(f"not serving after the rollbacks: {', '.join(down[:20]) or 'no samples'}")
    passed = not reasons
    summary = figures.mttr_summary
    record = RecoveryEvidence(
        environment=env.name, method=METHOD, check=check, experiment=planned.plan.name,
        journal=outcome.journal_path.name if outcome.journal_path else "", journal_status=status, deviated=deviated,
        passed=passed, reasons=reasons, seed=planned.seed,
        injected_at=epoch_to_iso(injected) if injected is not None else None,
        observed_from=epoch_to_iso(figures.observed_from), observed_to=epoch_to_iso(figures.observed_to),
        interval_s=interval, targets_observed=figures.targets_observed, affected=figures.affected,
        unrecovered=list(figures.unrecovered), per_server=[s.as_dict() for s in figures.per_server],
        mttr_p50_s=summary.get("p50"), mttr_p95_s=summary.get("p95"), mttr_max_s=summary.get("max"),
        fleet_mttr_s=figures.fleet_mttr_s, mttr_slo_s=slo, good_sample_ratio=figures.good_ratio,
        downtime_server_s=figures.downtime_server_s, serving_after_rollback=serving_after,
        timeline=[s.as_dict() for s in samples],
    )  # fmt: skip
    store.append(record)
    worst = max((s.downtime_s for s in figures.per_server), default=0.0)
    measured_mttr = figures.fleet_mttr_s if figures.fleet_mttr_s is not None else worst
    store.append(SloMeasurement(
        environment=env.name, slo="mttr_s", objective=f"fleet recovers within {slo:g}s of a fault",
        target=slo, measured=round(measured_mttr, 3), unit="s", comparator="<=",
        passed=figures.fleet_mttr_s is not None and figures.fleet_mttr_s <= slo and not figures.unrecovered,
        method=f"{planned.plan.name}: {METHOD}" + ("" if figures.fleet_mttr_s is not None else
                                                  "; unrecovered: measured is the downtime seen so far"),
        check=check, samples=figures.samples,
    ))  # fmt: skip
    window = chaos_settings(env).availability_window_s
    availability = projected_availability(figures.downtime_server_s, len(planned.targets), window)
    store.append(SloMeasurement(
        environment=env.name, slo="availability",
        objective=f"availability >= {env.slo.availability} over {window / 86400:g} days",
        target=env.slo.availability, measured=availability, unit="ratio", comparator=">=",
        passed=availability >= env.slo.availability,
        method=(f"{planned.plan.name}: observed downtime {figures.downtime_server_s:.2f} server-seconds over a fleet "
                f"of {len(planned.targets)} projected on a {window / 86400:g}-day window (this incident alone)"),
        check=check, samples=figures.samples,
    ))  # fmt: skip
    outcome.passed = passed
    outcome.reasons = reasons
    outcome.evidence = record
    if figures.fleet_mttr_s is not None:
        outcome.lines.append(
            f"  fleet MTTR {figures.fleet_mttr_s:.2f}s (p50 {summary.get('p50')}, p95 {summary.get('p95')}, "
            f"max {summary.get('max')}) over {len(figures.per_server)} affected server(s); SLO {slo:g}s"
        )
    outcome.lines.append(f"  journal: status {status}, deviated {deviated}; verdict {'PASS' if passed else 'FAIL'}")
    outcome.lines.extend(f"  - {r}" for r in reasons)
