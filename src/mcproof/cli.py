"""`mcproof` command line: run suites, sign off an environment, render reports, drive the sandbox.

Every expected failure (bad environment file, sandbox not running, missing secret...) is printed as
one line starting with "mcproof: error:" and exits 2; a failing verdict exits 1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mcproof import __version__
from mcproof.config import Environment, load_environment
from mcproof.errors import McproofError
from mcproof.runner import available_suites, production_marker_filter, read_verdict, run_pytest, suite_paths
from mcproof.sandbox_lifecycle import sandbox_for_run

ENV_HELP = "environment name in environments/ or a path to its YAML"


def _fail(err: McproofError) -> None:
    click.echo(f"mcproof: error: {err}", err=True)
    sys.exit(2)


def _load(env_ref: str) -> Environment:
    try:
        return load_environment(env_ref)
    except McproofError as err:
        _fail(err)
        raise  # unreachable


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mcproof")
def main() -> None:
    """Evidence that a Minecraft hosting platform meets its SLA."""


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--suite", "suites", multiple=True, help="suite to run (repeatable); default: every available suite")
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--ack-production", is_flag=True, help="allow destructive checks on a production-tier environment")
@click.option("--stop-sandbox", is_flag=True, help="stop a sandbox this command started when it ends")
@click.pass_context
def run(
    ctx: click.Context,
    env_ref: str,
    suites: tuple[str, ...],
    reports_dir: Path,
    ack_production: bool,
    stop_sandbox: bool,
) -> None:
    """Run suites against ENV; extra arguments go to pytest (e.g. -k version -x).

    For a sandbox environment the sandbox is started if it is not running (and left running unless
    --stop-sandbox).
    """
    env = _load(env_ref)
    try:
        paths = suite_paths(list(suites) or available_suites())
        extra = production_marker_filter(env, ack_production) + list(ctx.args)
        with sandbox_for_run(env, keep=not stop_sandbox, echo=click.echo):
            code, run_dir = run_pytest(env_ref, paths, extra, reports_dir=reports_dir)
    except McproofError as err:
        _fail(err)
    click.echo(f"mcproof: run directory {run_dir}")
    sys.exit(code)


@main.command()
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--ack-production", is_flag=True, help="allow destructive checks on a production-tier environment")
@click.option("--keep-sandbox", is_flag=True, help="leave a sandbox this command started running afterwards")
def signoff(env_ref: str, reports_dir: Path, ack_production: bool, keep_sandbox: bool) -> None:
    """Run every available suite against ENV and write the sign-off report; exit 0 only on a pass verdict."""
    env = _load(env_ref)
    suites = available_suites()
    click.echo(f"mcproof: signing off '{env.name}' ({env.tier.value}) with suites: {', '.join(suites)}")
    try:
        with sandbox_for_run(env, keep=keep_sandbox, echo=click.echo):
            code, run_dir = run_pytest(
                env_ref, suite_paths(suites), production_marker_filter(env, ack_production), reports_dir=reports_dir
            )
        verdict = read_verdict(run_dir)
    except McproofError as err:
        _fail(err)
    click.echo(f"mcproof: sign-off verdict for '{env.name}': {verdict.upper()} — {run_dir / 'index.html'}")
    sys.exit(0 if verdict == "pass" and code == 0 else 1)


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Re-render report.json, report.md and index.html of RUN_DIR from its evidence."""
    from mcproof.report import render_summary_lines, write_report

    try:
        built = write_report(run_dir)
    except McproofError as err:
        _fail(err)
    for line in render_summary_lines(built, run_dir):
        click.echo(line)


def _mount_sandbox() -> None:
    from mcproof.sandbox.commands import sandbox

    main.add_command(sandbox)


_mount_sandbox()

if __name__ == "__main__":
    main()
