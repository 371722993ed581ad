"""Game days: an ordered plan of experiments with pauses and an abort floor, then one summary.

Before each experiment and after it, one fleet sweep measures the serving ratio, and during it the
observer estimates it every interval; below the plan's ``serving_floor`` the game day stops (a running
experiment is interrupted, its rollbacks still run; the rest are listed as not run, with the reason).
A refused or skipped experiment is recorded with its one-line reason and the plan goes on.

Verdict: :func:`mcproof.verdict.combine` of the experiments' verdicts (fail if any failed, else
inconclusive if any was inconclusive, else pass; skipped ones do not count), plus: a floor crossed is
a fail (the fleet fell below it once the game day had begun); a plan in which no experiment ran — all skipped or refused, or the
fleet below the floor before the first one — is INCONCLUSIVE with the reason (`mcproof gameday` exits 3).

Plan (YAML)::

    name: weekly-gameday
    serving_floor: 0.8          # default: chaos.gameday_serving_floor
    pause_between_s: 5
    experiments:
      - experiment: kill-one-server
      - experiment: kill-20-percent
        pause_after_s: 10
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mcproof.chaos.experiment import ExperimentSkipped, run_chaos_experiment
from mcproof.chaos.scope import chaos_settings
from mcproof.config import Environment
from mcproof.connect.targets import discover_targets
from mcproof.errors import ConfigError, GuardError
from mcproof.evidence import CheckOutcome
from mcproof.evidence.store import RunStore
from mcproof.minecraft.sweep import sweep_fleet
from mcproof.verdict import EXIT_INCONCLUSIVE, EXIT_PASS, Verdict, combine, exit_code

__all__ = ["GameDayPlan", "gameday_exit_code", "gameday_verdict", "load_plan", "run_gameday"]

_VERDICTS = {v.value for v in Verdict}
_OUTCOME = {
    "pass": "passed",
    "fail": "failed",
    "inconclusive": "inconclusive",
    "skipped": "skipped",
    "not run": "skipped",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PlanStep(_Model):
    experiment: str
    pause_after_s: float = Field(0, ge=0, le=3600)


class GameDayPlan(_Model):
    name: str = "gameday"
    serving_floor: float | None = Field(None, ge=0, le=1)
    pause_between_s: float = Field(0, ge=0, le=3600)
    experiments: list[PlanStep] = Field(min_length=1, max_length=100)


def load_plan(path: Path) -> GameDayPlan:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return GameDayPlan.model_validate(data)
    except OSError as err:
        raise ConfigError(f"game day plan {path} cannot be read ({err.strerror}); check --plan") from None
    except yaml.YAMLError:
        raise ConfigError(f"game day plan {path} is not valid YAML; fix the syntax") from None
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ConfigError(f"game day plan {path}: field {loc}: {first['msg'].lower()}") from None


def _serving_ratio(env: Environment) -> float:
    targets = discover_targets(env)
    return sweep_fleet(
        targets, timeout=env.minecraft.status_timeout_s, concurrency=env.minecraft.sweep_concurrency
    ).serving_ratio


def run_gameday(
    env: Environment,
    plan: GameDayPlan,
    store: RunStore,
    *,
    ack_production: bool = False,
    dry_run: bool = False,
    echo: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the plan in order; returns (and writes ``gameday-summary.json`` / ``.md``) one summary."""
    say = echo or (lambda _line: None)
    floor = plan.serving_floor if plan.serving_floor is not None else chaos_settings(env).gameday_serving_floor
    rows: list[dict[str, Any]] = []
    aborted: str | None = None
    for i, step in enumerate(plan.experiments):
        if aborted:
            rows.append({"experiment": step.experiment, "result": "not run", "reason": aborted})
            continue
        ratio = _serving_ratio(env)
        if ratio < floor:
            aborted = f"fleet serving ratio {ratio:.3f} below the floor {floor} before {step.experiment}"
            rows.append({"experiment": step.experiment, "result": "not run", "reason": aborted})
            say(f"mcproof: game day aborted: {aborted}")
            continue
        try:
            outcome = run_chaos_experiment(
                env,
                step.experiment,
                store,
                dry_run=dry_run,
                ack_production=ack_production,
                check=f"gameday:{plan.name}",
                echo=say,
                abort_below=floor,
            )
        except (ExperimentSkipped, GuardError, ConfigError) as err:
            rows.append({"experiment": step.experiment, "result": "skipped", "reason": str(err)})
            say(f"mcproof: {step.experiment}: skipped: {err}")
            continue
        for line in outcome.lines:
            say(line)
        ev = outcome.evidence
        rows.append(
            {
                "experiment": step.experiment,
                "result": "dry-run" if dry_run else outcome.verdict,
                "reason": "; ".join(outcome.reasons),
                "fix": outcome.fix,
                "journal": outcome.journal_path.name if outcome.journal_path else None,
                "affected": len(ev.affected) if ev else 0,
                "fleet_mttr_s": ev.fleet_mttr_s if ev and outcome.verdict != "inconclusive" else None,
                "mttr_p50_s": ev.mttr_p50_s if ev else None,
                "mttr_p95_s": ev.mttr_p95_s if ev else None,
                "mttr_max_s": ev.mttr_max_s if ev else None,
                "unrecovered": list(ev.unrecovered) if ev else [],
                "error_budget_burned_share": ev.error_budget.get("burned_share") if ev else None,
            }
        )
        if not dry_run and ev is not None and any("below the abort floor" in r for r in ev.reasons):
            aborted = next(r for r in ev.reasons if "below the abort floor" in r) + f" during {step.experiment}"
            say(f"mcproof: game day aborted: {aborted}")
        elif not dry_run:
            after = _serving_ratio(env)
            if after < floor:
                aborted = f"fleet serving ratio {after:.3f} below the floor {floor} after {step.experiment}"
                say(f"mcproof: game day aborted: {aborted}")
        pause = step.pause_after_s + (plan.pause_between_s if i < len(plan.experiments) - 1 else 0)
        if pause and not aborted and not dry_run:
            time.sleep(pause)
    verdict, reasons, fix = gameday_verdict(rows, aborted, dry_run=dry_run)
    summary = {
        "plan": plan.name,
        "environment": env.name,
        "serving_floor": floor,
        "verdict": verdict,
        "reasons": reasons,
        "fix": fix,
        "aborted": aborted,
        "dry_run": dry_run,
        "experiments": rows,
    }
    if not dry_run:
        for r in rows:
            store.append(
                CheckOutcome(
                    environment=env.name,
                    suite="chaos",
                    check=f"gameday:{plan.name}:{r['experiment']}",
                    nodeid=f"gameday::{plan.name}::{r['experiment']}",
                    outcome=_OUTCOME.get(r["result"], "inconclusive"),
                    duration_s=0.0,
                    message="; ".join(x for x in (r.get("reason", ""), r.get("fix", "")) if x),
                )
            )
    store.write_json("gameday-summary.json", summary)
    (store.run_dir / "gameday-summary.md").write_text(_markdown(summary), encoding="utf-8")
    return summary


def gameday_verdict(
    rows: list[dict[str, Any]], aborted: str | None, *, dry_run: bool = False
) -> tuple[str, list[str], str]:
    """(verdict, reasons, fix) of a game day from its rows (``result`` per experiment) and its abort reason.

    >>> gameday_verdict([{"experiment": "a", "result": "pass"}, {"experiment": "b", "result": "skipped",
    ...                  "reason": "needs kubernetes"}], None)
    ('pass', [], '')
    >>> gameday_verdict([{"experiment": "b", "result": "skipped", "reason": "needs kubernetes"}], None)[0]
    'inconclusive'
    """
    if dry_run:
        would = [r for r in rows if r["result"] == "dry-run"]
        if would:
            return "dry-run", [], ""
        return (
            "inconclusive",
            ["dry run: no experiment of the plan would run here"],
            "run the plan on an environment its experiments support",
        )
    ran = [r for r in rows if r["result"] in _VERDICTS]
    verdicts = [Verdict(r["result"]) for r in ran]
    if aborted and ran:
        verdicts.append(Verdict.FAIL)  # the fleet fell below the floor once the game day had begun
    verdict = combine(verdicts)
    reasons: list[str] = []
    fix = ""
    if aborted:
        reasons.append(f"aborted: {aborted}")
    reasons += [
        f"{r['experiment']}: {r['result']}: {r.get('reason', '')}".rstrip(": ")
        for r in rows
        if r["result"] in ("fail", "inconclusive")
    ]
    if not ran:
        skipped = [f"{r['experiment']} ({r['result']}: {r.get('reason', '')})" for r in rows]
        reasons.insert(0, "nothing ran: " + "; ".join(skipped))
        fix = (
            "restore the fleet above the serving floor, then re-run"
            if aborted
            else "run the plan on an environment its experiments support, or fix what refused them"
        )
    elif verdict is Verdict.INCONCLUSIVE:
        fix = next((r.get("fix", "") for r in ran if r["result"] == "inconclusive" and r.get("fix")), "")
    return verdict.value, reasons, fix


def gameday_exit_code(summary: dict[str, Any]) -> int:
    """The exit code of a game day summary: the verdict's (a dry run that would run something exits 0)."""
    if summary.get("verdict") == "dry-run":
        return EXIT_PASS
    code = exit_code(summary.get("verdict", "inconclusive"))
    return code if summary.get("experiments") else EXIT_INCONCLUSIVE


def _markdown(summary: dict[str, Any]) -> str:
    lines = [f"# Game day {summary['plan']} on {summary['environment']}: {summary['verdict'].upper()}", ""]
    lines += [f"- {r}" for r in summary.get("reasons", [])]
    if summary.get("fix"):
        lines.append(f"- fix: {summary['fix']}")
    if summary.get("reasons") or summary.get("fix"):
        lines.append("")
    lines += [
        "| experiment | result | fleet MTTR s | p50 | p95 | max | unrecovered | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in summary["experiments"]:
        cells = [
            r["experiment"],
            r["result"],
            *(str(r.get(k, "")) for k in ("fleet_mttr_s", "mttr_p50_s", "mttr_p95_s", "mttr_max_s")),
            ", ".join(r.get("unrecovered", [])),
            r.get("reason", ""),
        ]
        lines.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"
