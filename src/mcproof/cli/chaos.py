"""`mcproof chaos run` and `mcproof gameday`: self-contained click commands, heavy imports inside.

The exit code is the experiment's (or game day's) verdict through :func:`mcproof.verdict.exit_code`; the
run is scoped to the chaos suite (`run_scope`), so its report holds it to the SLOs chaos evidences.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mcproof.cli.common import ENV_HELP, fail

CHECK_OUTCOME = {"pass": "passed", "fail": "failed", "inconclusive": "inconclusive"}


def _message(reasons: list[str], fix: str) -> str:
    return "; ".join(reasons) + (f"; fix: {fix}" if fix else "")


_fail = fail


@click.group()
def chaos() -> None:
    """Chaos Toolkit experiments against an environment, with measured recovery."""


@chaos.command("run")
@click.argument("experiment")
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--dry-run", is_flag=True, help="print what would be done and do nothing")
@click.option("--ack-production", is_flag=True, help="acknowledge a run on a production-tier environment")
@click.option("--seed", type=int, default=None, help="seed for the choice of servers (default: random)")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option(
    "--abort-below",
    "abort_below",
    type=click.FloatRange(0, 1),
    default=None,
    metavar="FLOOR",
    help="interrupt the experiment (rollbacks still run) when the fleet's serving ratio falls below FLOOR",
)
@click.option("--keep-sandbox", is_flag=True, help="leave a sandbox this command started running afterwards")
def chaos_run(
    experiment: str,
    env_ref: str,
    dry_run: bool,
    ack_production: bool,
    seed: int | None,
    reports_dir: Path,
    abort_below: float | None,
    keep_sandbox: bool,
) -> None:
    """Run EXPERIMENT (a library name such as kill-one-server, or a path); exit 0 pass, 1 fail, 2 refused or
    skipped here, 3 inconclusive (the fault was not seen to take effect; the reason and fix are printed)."""
    from mcproof.chaos.experiment import plan_experiment, run_chaos_experiment
    from mcproof.config import load_environment
    from mcproof.errors import McproofError
    from mcproof.evidence import CheckOutcome
    from mcproof.session import RunSession
    from mcproof.verdict import exit_code
    from mcproof_sandbox.stack import sandbox_for_run

    try:
        env = load_environment(env_ref)
        if dry_run:
            planned = plan_experiment(env, experiment, ack_production=ack_production, seed=seed)
            for line in [*planned.describe_lines(), "  dry run: nothing was done"]:
                click.echo(line)
            return
        with sandbox_for_run(env, keep=keep_sandbox, echo=click.echo):
            session = RunSession.start(env, reports_dir)
            session.scope(["chaos"], checks=1)
            outcome = run_chaos_experiment(
                env,
                experiment,
                session.store,
                ack_production=ack_production,
                seed=seed,
                check=f"chaos run {experiment}",
                echo=click.echo,
                abort_below=abort_below,
            )
    except McproofError as err:
        _fail(err)
        return
    store = session.store
    store.append(
        CheckOutcome(
            environment=env.name,
            suite="chaos",
            check=f"chaos run {experiment}",
            nodeid=f"chaos::{experiment}",
            outcome=CHECK_OUTCOME[outcome.verdict],
            duration_s=0.0,
            message=_message(outcome.reasons, outcome.fix),
        )
    )
    code = exit_code(outcome.verdict)
    _report_problem(session.finish(code, checks=1))
    for line in outcome.lines:
        click.echo(line)
    click.echo(f"mcproof: run directory {store.run_dir}")
    sys.exit(code)


@click.command()
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--plan", "plan_file", type=click.Path(path_type=Path), required=True, help="game day plan (YAML)")
@click.option("--dry-run", is_flag=True, help="check every experiment of the plan and do nothing")
@click.option("--ack-production", is_flag=True, help="acknowledge a game day on a production-tier environment")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--keep-sandbox", is_flag=True, help="leave a sandbox this command started running afterwards")
def gameday(
    env_ref: str, plan_file: Path, dry_run: bool, ack_production: bool, reports_dir: Path, keep_sandbox: bool
) -> None:
    """Run a game day PLAN against ENV and write one summary; exit 0 pass, 1 fail (or aborted by the floor
    during an experiment), 2 refused, 3 inconclusive (nothing ran, everything skipped, or an experiment could
    not measure); a dry run exits 0 when at least one experiment would run."""
    from mcproof.chaos.gameday import gameday_exit_code, load_plan, run_gameday
    from mcproof.config import load_environment
    from mcproof.errors import McproofError
    from mcproof.session import RunSession
    from mcproof_sandbox.stack import sandbox_for_run

    try:
        env = load_environment(env_ref)
        plan = load_plan(plan_file)
        with sandbox_for_run(env, keep=keep_sandbox, echo=click.echo):
            session = RunSession.start(env, reports_dir)
            session.scope(["chaos"], checks=len(plan.experiments))
            summary = run_gameday(
                env, plan, session.store, ack_production=ack_production, dry_run=dry_run, echo=click.echo
            )
    except McproofError as err:
        _fail(err)
        return
    code = gameday_exit_code(summary)
    _report_problem(session.finish(code, checks=len(summary["experiments"])))
    click.echo(f"mcproof: game day {plan.name}: {summary['verdict'].upper()} — {session.store.run_dir}")
    for reason in summary.get("reasons", []):
        click.echo(f"  - {reason}")
    if summary.get("fix"):
        click.echo(f"  fix: {summary['fix']}")
    sys.exit(code)


def _report_problem(problem: str | None) -> None:
    if problem is not None:
        click.echo(f"mcproof: report not rendered: {problem}", err=True)
