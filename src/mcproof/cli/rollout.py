"""`mcproof rollout gate`: apply an update to a workload, judge the new release, roll it back on failure.

Exit code: the gate's verdict through :func:`mcproof.verdict.exit_code` (0 pass, 1 fail, 3 inconclusive);
2 for bad input or a guard that said no (one line on stderr with the fix).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from mcproof.cli.common import ENV_HELP, fail

__all__ = ["rollout"]


@click.group()
def rollout() -> None:
    """Release gates: observed rolling updates with automated rollback."""


@rollout.command("gate")
@click.option("--env", "env_ref", default="local", show_default=True, help=ENV_HELP)
@click.option("--workload", required=True, help="NS/deployment/NAME or NS/statefulset/NAME of the workload to update")
@click.option("--to", "to", required=True, help="the release: a manifest or patch file (YAML/JSON), or an image")
@click.option(
    "--expect-version", default=None, help="version name the new pods must report (default: minecraft.expect)"
)
@click.option(
    "--expect-protocol", type=int, default=None, help="protocol the new pods must report (default: minecraft.expect)"
)
@click.option("--rollback", is_flag=True, help="on fail, roll the workload back (rollout undo) and time it")
@click.option("--ack-production", is_flag=True, help="allow the gate on a production-tier environment")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="evidence JSON (default: reports/rollout-gate-<time>.json)",
)
def gate(
    env_ref: str,
    workload: str,
    to: str,
    expect_version: str | None,
    expect_protocol: int | None,
    rollback: bool,
    ack_production: bool,
    output: Path | None,
) -> None:
    """Apply --to to --workload while every endpoint is pinged; pass/fail/inconclusive with evidence."""
    from mcproof.config import Tier, load_environment
    from mcproof.connect.kubernetes import kube_api
    from mcproof.errors import ConfigError, GuardError, McproofError
    from mcproof.rollout.gate import parse_workload, run_gate, summary, write_evidence
    from mcproof.rollout.settings import RolloutSettings
    from mcproof.rollout.slos import rollout_slos
    from mcproof.verdict import exit_code

    try:
        namespace, _kind, _name = parse_workload(workload)
        env = load_environment(env_ref)
        if env.kubernetes is None:
            raise ConfigError(
                f"environment '{env.name}' has no kubernetes: section; add its kubeconfig to gate workloads"
            )
        allowed = env.guards.allowed_namespaces
        if allowed and namespace not in allowed:
            raise GuardError(
                f"namespace {namespace} is not in guards.allowed_namespaces ({', '.join(allowed)}); add it to gate there"
            )
        if env.tier == Tier.PRODUCTION and env.guards.production_guard and not ack_production:
            raise GuardError(
                f"environment '{env.name}' is production-tier; pass --ack-production to gate a release there"
            )
        settings = env.rollout or RolloutSettings()
        base = env.minecraft.expect
        expected = (
            expect_version if expect_version is not None else base.name,
            expect_protocol if expect_protocol is not None else base.protocol,
        )
        evidence = run_gate(
            kube_api(env),
            workload,
            to,
            settings=settings,
            expected=expected,
            rollback=rollback,
            echo=click.echo,
            environment=env.name,
        )
    except McproofError as err:
        fail(err)
    rows = rollout_slos(evidence.as_dict(), settings, environment=env.name, check="mcproof rollout gate")
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = output or Path("reports") / f"rollout-gate-{stamp}.json"
    try:
        path = write_evidence(evidence, target, rows)
    except OSError as err:
        click.echo(f"mcproof: {summary(evidence)}")
        fail(ConfigError(f"cannot write the evidence to {target} ({err.strerror or err}); choose a writable -o path"))
    for row in rows:
        shown = "met" if row.passed else "MISSED"
        click.echo(
            f"mcproof: SLO {row.slo} {row.measured:g} {row.comparator} {row.target:g} {row.unit} "
            f"({row.samples} samples): {shown}"
        )
    click.echo(f"mcproof: {summary(evidence)}")
    click.echo(f"mcproof: evidence {path}")
    sys.exit(exit_code(evidence.verdict))
