"""What `mcproof load` does once the environment is loaded and its sandbox is up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcproof.config import Environment
from mcproof.connect.targets import discover_targets
from mcproof.errors import ConfigError
from mcproof.evidence.records import CheckOutcome
from mcproof.load.evidence import capacity_measurement, load_evidence
from mcproof.load.plan import load_config_for
from mcproof.load.report import describe_run, generator_line, threshold_lines
from mcproof.load.runner import run_load, run_web
from mcproof.load.settings import LoadSettings
from mcproof.session import RunSession
from mcproof.verdict import exit_code

__all__ = ["run_load_command"]


def run_load_command(
    env: Environment,
    *,
    web: bool,
    workers: int | None,
    shape: str | None,
    duration_s: float | None,
    users: int | None,
    reports_dir: Path,
    web_port: int | None,
    echo: Callable[[str], None],
) -> int:
    """Headless: run, record evidence + report, return the verdict's exit code (0 pass: thresholds met;
    1 fail; 3 inconclusive: the generator was saturated, with reason and fix). Web: serve the UI until Ctrl-C."""
    targets = discover_targets(env)
    if not targets:
        raise ConfigError(f"discovery for environment '{env.name}' returned no targets; check minecraft.discovery")
    session = RunSession.start(env, reports_dir)
    session.scope(["load"], checks=1)
    run_dir = session.store.run_dir / "load"
    config = load_config_for(env, targets, shape=shape, users=users, duration_s=duration_s, workers=workers,
                             run_dir=run_dir)  # fmt: skip
    if web:
        port = web_port or (env.load or LoadSettings()).web_port
        echo(f"mcproof: Locust web UI on http://127.0.0.1:{port} ({len(targets)} targets); Ctrl-C ends it")
        web_code = run_web(config, run_dir, port=port, with_shape=shape is not None)
        session.finish(web_code, checks=0, render=False)
        return web_code
    run = run_load(config, run_dir, echo=echo)
    record = load_evidence(config, run.result, check="mcproof load", outputs=[f"load/{o}" for o in run.outputs])
    session.store.append(record)
    verdict = record.load_verdict
    if record.distinct_targets >= env.slo.concurrent_servers:
        measurement = capacity_measurement(record, env.slo.concurrent_servers, "mcproof load")
        if measurement is not None:
            session.store.append(measurement)
    outcome = {"pass": "passed", "fail": "failed"}.get(verdict, "inconclusive")
    message = describe_run(record) if verdict != "pass" else ""
    session.store.append(CheckOutcome(environment=env.name, suite="load", check="mcproof load", nodeid="load::mcproof load",
                                      outcome=outcome, duration_s=record.duration_s, message=message))  # fmt: skip
    for line in threshold_lines(record):
        echo(f"mcproof: {line}")
    echo(f"mcproof: {generator_line(record)}")
    if verdict != "pass":
        echo(f"mcproof: {message}")
    code = exit_code(verdict)
    problem = session.finish(code, checks=1)
    if problem is not None:  # the verdict stands even if the report cannot be rendered
        echo(f"mcproof: report not written ({problem})")
    echo(f"mcproof: load verdict {verdict.upper()}; run directory {session.store.run_dir}")
    return code
