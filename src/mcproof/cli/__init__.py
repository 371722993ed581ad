"""`mcproof` command line: run suites, sign off an environment, render reports, drive the sandbox.

Exit codes (`mcproof.verdict`): 0 pass, 1 fail, 2 refused (bad environment file, sandbox not running,
missing secret, a guard said no, usage error: one line starting "mcproof: error:"), 3 inconclusive
(the harness could not measure what it claims; one line "mcproof: inconclusive:" with the fix).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from mcproof import __version__
from mcproof.cli.common import ENV_HELP, fail
from mcproof.cli.pytest_run import available_suites, production_marker_filter, read_verdict, run_pytest, suite_paths
from mcproof.config import Environment, load_environment
from mcproof.errors import ConfigError, McproofError
from mcproof.verdict import EXIT_REFUSED, exit_code
from mcproof_sandbox.stack import sandbox_for_run

_fail = fail


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
@click.option("--keep-sandbox", is_flag=True, help="leave a sandbox this command started running afterwards")
@click.option("--stop-sandbox", is_flag=True, hidden=True, help="the default (kept for old scripts)")
@click.pass_context
def run(
    ctx: click.Context,
    env_ref: str,
    suites: tuple[str, ...],
    reports_dir: Path,
    ack_production: bool,
    keep_sandbox: bool,
    stop_sandbox: bool,
) -> None:
    """Run suites against ENV; extra arguments go to pytest (e.g. -k version -x). Exits with the verdict's code.

    For a sandbox environment the sandbox is started if it is not running and stopped afterwards, like
    every other command (--keep-sandbox leaves it running; one started by `mcproof sandbox up` is never
    stopped here).
    """
    env = _load(env_ref)
    try:
        paths = suite_paths(list(suites) or available_suites())
        extra = production_marker_filter(env, ack_production) + list(ctx.args)
        with sandbox_for_run(env, keep=keep_sandbox and not stop_sandbox, echo=click.echo):
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
    """Run every available suite against ENV and write the sign-off report.

    Exit 0 only on a pass verdict (every declared SLO measured and met, or waived); 1 fail; 3 inconclusive.
    """
    env = _load(env_ref)
    if not env.slo.model_fields_set:
        _fail(
            ConfigError(
                f"{env.source or env_ref}: no 'slo' section; a sign-off holds the environment to the SLOs "
                "it declares, so declare them (see environments/staging.example.yaml)"
            )
        )
    suites = available_suites()
    click.echo(f"mcproof: signing off '{env.name}' ({env.tier.value}) with suites: {', '.join(suites)}")
    try:
        with sandbox_for_run(env, keep=keep_sandbox, echo=click.echo):
            extra = [*production_marker_filter(env, ack_production), "--require-suites", "all"]
            code, run_dir = run_pytest(env_ref, suite_paths(suites), extra, reports_dir=reports_dir)
        verdict = read_verdict(run_dir)
    except McproofError as err:
        _fail(err)
    click.echo(f"mcproof: sign-off verdict for '{env.name}': {verdict.upper()} — {run_dir / 'index.html'}")
    # interrupted or refused stays 2 whatever the partial evidence says; otherwise the verdict decides
    sys.exit(EXIT_REFUSED if code == EXIT_REFUSED else exit_code(verdict))


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


def _workers(value: str | None) -> int | str | None:
    """--workers: an integer 0..64 or 'auto'."""
    if value is None or value == "auto":
        return value
    try:
        number = int(value)
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither a number nor 'auto'; use e.g. --workers 2 or --workers auto"
        ) from None
    if not 0 <= number <= 64:
        raise click.BadParameter(f"{number} is outside 0..64; use 0 (one local process) up to 64, or 'auto'")
    return number


@main.command("load")
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--web", is_flag=True, help="open Locust's web UI on 127.0.0.1 instead of a headless run")
@click.option(
    "--workers",
    callback=lambda _c, _p, v: _workers(v),
    default=None,
    help="Locust workers: 0 = one local process, N, or 'auto' = one per spare core (see --plan)",
)
@click.option("--shape", type=click.Choice(["ramp", "steady", "spike", "soak"]), default=None, help="load shape")
@click.option("--duration", "duration_s", type=click.FloatRange(min=1, max=7 * 86400), default=None, help="seconds")
@click.option("--users", type=click.IntRange(1, 100_000), default=None, help="simulated servers (Locust users)")
@click.option(
    "--players",
    type=click.IntRange(0, 20_000),
    default=None,
    help="player population in the same run (default: load.players.population; 0: no players)",
)
@click.option("--reports-dir", type=click.Path(path_type=Path), default=Path("reports"), show_default=True)
@click.option("--web-port", type=click.IntRange(1, 65535), default=None, help="web UI port (default: load.web_port)")
@click.option("--keep-sandbox", is_flag=True, help="leave a sandbox this command started running afterwards")
@click.option("--provisioning", is_flag=True, help="server lifecycle load on the platform API (load.provisioning)")
@click.option(
    "--plan",
    "plan_only",
    is_flag=True,
    help="print the rate asked, what one worker does here (a short calibration) and the workers needed; run no load",
)
def load_command(
    env_ref: str,
    web: bool,
    workers: int | str | None,
    shape: str | None,
    duration_s: float | None,
    users: int | None,
    reports_dir: Path,
    web_port: int | None,
    keep_sandbox: bool,
    players: int | None = None,
    provisioning: bool = False,
    plan_only: bool = False,
) -> None:
    """Load ENV's servers with Locust (one user = one simulated server) and hold its load thresholds.

    Headless by default: prints the plan (rate asked, one worker's calibrated rate, workers needed), runs,
    writes reports/<run-id>/ (evidence, report, Locust CSV + HTML under load/) and exits 0 when every
    threshold holds, 1 when one fails, 3 when the generator (or the sandbox it loads) was saturated or a
    worker went missing. --plan prints the plan only. --web serves Locust's UI on 127.0.0.1.
    """
    from mcproof.cli.load import run_load_command

    env = _load(env_ref)
    try:
        with sandbox_for_run(env, keep=keep_sandbox, echo=click.echo):
            if provisioning:
                from mcproof.cli.provisioning import run_provisioning_command

                code = run_provisioning_command(env, users=users, reports_dir=reports_dir, echo=click.echo)
            else:
                code = run_load_command(
                    env,
                    web=web,
                    workers=workers,
                    shape=shape,
                    duration_s=duration_s,
                    users=users,
                    reports_dir=reports_dir,
                    web_port=web_port,
                    echo=click.echo,
                    plan_only=plan_only,
                    players=players,
                )
    except McproofError as err:
        _fail(err)
    sys.exit(code)


def _mount_sandbox() -> None:
    from mcproof.cli.sandbox import sandbox

    main.add_command(sandbox)


_mount_sandbox()


def _mount_chaos() -> None:
    from mcproof.cli.chaos import chaos, gameday

    main.add_command(chaos)
    main.add_command(gameday)


_mount_chaos()


def _mount_dr() -> None:
    from mcproof.cli.dr import dr

    main.add_command(dr)


_mount_dr()


def _mount_rollout() -> None:
    from mcproof.cli.rollout import rollout

    main.add_command(rollout)


_mount_rollout()


# --- evidence bundle, verification and run comparison (report/delivery) -------------------------


@main.command("bundle")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--key",
    "key_file",
    type=click.Path(path_type=Path),
    default=None,
    help="Ed25519 private key (PEM); default: the path in MCPROOF_SIGNING_KEY_FILE",
)
@click.option(
    "--env",
    "env_ref",
    default=None,
    help="environment whose secrets must not be in the run (default: the run's own environment)",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="bundle file (default: <run-id>.tar.gz beside RUN_DIR)",
)
def bundle_command(run_dir: Path, key_file: Path | None, env_ref: str | None, output: Path | None) -> None:
    """Sign RUN_DIR into a tar.gz (SHA-256 manifest + Ed25519 signature); refuse if it holds a secret."""
    from mcproof.bundle import bundle_run

    try:
        done = bundle_run(run_dir, key_file, env_ref=env_ref, output=output)
    except McproofError as err:
        _fail(err)
    click.echo(
        f"mcproof: bundle {done.output}: {len(done.manifest.files)} files, signer {done.manifest.signer}, "
        f"{done.secrets_checked} environment secrets checked absent"
    )


@main.command("keygen")
@click.argument("key_file", type=click.Path(path_type=Path))
def keygen_command(key_file: Path) -> None:
    """Make an Ed25519 signing key for `mcproof bundle` at KEY_FILE (PEM, mode 0600; never overwritten)
    and print its public key and fingerprint (give the public key to whoever verifies bundles)."""
    from mcproof.bundle.keys import fingerprint, generate_key, public_pem

    if key_file.exists():
        _fail(ConfigError(f"{key_file} exists; keygen never overwrites a key: pick a new path or remove it first"))
    if not key_file.parent.is_dir():
        _fail(ConfigError(f"directory {key_file.parent} does not exist; create it first"))
    public = generate_key(key_file)
    pub_file = key_file.with_name(key_file.name + ".pub")
    pub_file.write_bytes(public_pem(public))
    click.echo(f"mcproof: signing key {key_file} (mode 0600), public key {pub_file}, fingerprint {fingerprint(public)}")
    click.echo(f"mcproof: sign with `mcproof bundle RUN_DIR --key {key_file}` (or export MCPROOF_SIGNING_KEY_FILE)")


@main.command("verify")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option(
    "--public-key",
    type=click.Path(path_type=Path),
    default=None,
    help="the signer's public key (PEM) to pin; default: trust the key embedded in the bundle",
)
def verify_command(bundle: Path, public_key: Path | None) -> None:
    """Check BUNDLE's signature and every file's hash; exit 1 naming any tampered, missing or extra file."""
    from mcproof.bundle import load_public_key, verify_bundle

    try:
        result = verify_bundle(bundle, load_public_key(public_key) if public_key else None)
    except McproofError as err:
        _fail(err)
    for line in result.lines():
        click.echo(line)
    sys.exit(0 if result.ok else 1)


@main.command("compare")
@click.argument("run_a", type=click.Path(path_type=Path))
@click.argument("run_b", type=click.Path(path_type=Path))
@click.option(
    "--thresholds",
    "thresholds_file",
    type=click.Path(path_type=Path),
    default=None,
    help="YAML/JSON file of regression thresholds (see docs/report-schema.md)",
)
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
def compare_command(run_a: Path, run_b: Path, thresholds_file: Path | None, fmt: str) -> None:
    """Compare RUN_B against the baseline RUN_A; exit 1 on a regression beyond the thresholds."""
    from mcproof.compare import compare_runs, load_thresholds, render_comparison

    try:
        result = compare_runs(run_a, run_b, load_thresholds(thresholds_file))
    except McproofError as err:
        _fail(err)
    click.echo(render_comparison(result, fmt), nl=False)
    sys.exit(1 if result.regressions else 0)
