"""What `mcproof load` does once the environment is loaded and its sandbox is up."""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcproof.config import Environment
from mcproof.connect import local_target_pids
from mcproof.connect.targets import discover_targets
from mcproof.errors import ConfigError
from mcproof.evidence.records import CheckOutcome
from mcproof.load.evidence import capacity_measurement, load_evidence
from mcproof.load.launcher import run_load, run_web
from mcproof.load.plan import LoadConfig, load_config_for
from mcproof.load.player_evidence import load_player_records
from mcproof.load.report import describe_run, generator_line, players_line, threshold_lines
from mcproof.load.settings import LoadSettings
from mcproof.load.sizing import auto_workers, idle_cores, plan_figures, plan_line
from mcproof.load.target_side import ShardSampler, judge_sandbox
from mcproof.session import RunSession
from mcproof.verdict import exit_code

__all__ = ["run_load_command"]


def run_load_command(
    env: Environment,
    *,
    web: bool,
    workers: int | str | None,
    shape: str | None,
    duration_s: float | None,
    users: int | None,
    reports_dir: Path,
    web_port: int | None,
    echo: Callable[[str], None],
    plan_only: bool = False,
    players: int | None = None,
) -> int:
    """Headless: print the plan, run, record evidence + report, return the verdict's exit code (0 pass:
    thresholds met; 1 fail; 3 inconclusive: the generator was saturated, with reason and fix). `plan_only`:
    print the plan (after a bounded calibration) and return 0 without running the load. Web: serve the UI
    until Ctrl-C. `workers`: a count, None (load.workers) or "auto" (one per spare core, `mcproof.load.sizing`)."""
    targets = discover_targets(env)
    if not targets:
        raise ConfigError(f"discovery for environment '{env.name}' returned no targets; check minecraft.discovery")
    count = None if workers == "auto" else workers
    config = load_config_for(
        env,
        targets,
        shape=shape,
        users=users,
        duration_s=duration_s,
        workers=count if isinstance(count, int) else None,
        players=players,
    )
    if plan_only:
        with tempfile.TemporaryDirectory(prefix="mcproof-plan-") as tmp:
            config, _ = _plan(env, config, workers, Path(tmp), echo)
        return 0
    session = RunSession.start(env, reports_dir)
    session.scope(["load"], checks=1)
    run_dir = session.store.run_dir / "load"
    config = config.with_changes(run_dir=str(run_dir))
    sizing: dict[str, Any] = {}
    if not web:
        config, sizing = _plan(env, config, workers, run_dir / "calibration", echo)
    elif workers == "auto":
        config = config.with_changes(workers=auto_workers(_cores(env).spare))
    if web:
        port = web_port or (env.load or LoadSettings()).web_port
        echo(f"mcproof: Locust web UI on http://127.0.0.1:{port} ({len(targets)} targets); Ctrl-C ends it")
        web_code = run_web(config, run_dir, port=port, with_shape=shape is not None)
        session.finish(web_code, checks=0, render=False)
        return web_code
    pids = local_target_pids(env)
    with ShardSampler(pids) as sampler:
        run = run_load(config, run_dir, echo=echo)
    result = run.result
    if pids:  # mcproof runs the target: is the sandbox keeping up? (a FAIL it may have caused is inconclusive)
        result = judge_sandbox(result, sampler.samples, float((config.saturation or {}).get("max_cpu_share", 0.9)))
    record = load_evidence(config, result, check="mcproof load", outputs=[f"load/{o}" for o in run.outputs])
    record = dataclasses.replace(record, sizing=sizing, sandbox=dict(result.get("sandbox") or {}))
    session.store.append(record)
    waiver = lambda slo: env.waiver_for(slo=slo)  # noqa: E731
    for player_record in load_player_records(record, env.players, check="mcproof load", waiver_for=waiver):
        session.store.append(player_record)
    verdict = record.load_verdict
    if record.distinct_targets >= env.slo.concurrent_servers:
        measurement = capacity_measurement(record, env.slo.concurrent_servers, "mcproof load")
        if measurement is not None:
            session.store.append(measurement)
    outcome = {"pass": "passed", "fail": "failed"}.get(verdict, "inconclusive")
    message = describe_run(record) if verdict != "pass" else ""
    session.store.append(
        CheckOutcome(
            environment=env.name,
            suite="load",
            check="mcproof load",
            nodeid="load::mcproof load",
            outcome=outcome,
            duration_s=record.duration_s,
            message=message,
        )
    )
    for line in threshold_lines(record):
        echo(f"mcproof: {line}")
    echo(f"mcproof: {generator_line(record)}")
    if record.players:
        echo(f"mcproof: {players_line(record)}")
    if verdict != "pass":
        echo(f"mcproof: {message}")
    code = exit_code(verdict)
    problem = session.finish(code, checks=1)
    if problem is not None:  # the verdict stands even if the report cannot be rendered
        echo(f"mcproof: report not written ({problem})")
    echo(f"mcproof: load verdict {verdict.upper()}; run directory {session.store.run_dir}")
    return code


def _cores(env: Environment) -> Any:
    cores = idle_cores()
    return dataclasses.replace(cores, sandbox_here=env.sandbox_state_dir is not None)


def _plan(
    env: Environment, config: LoadConfig, workers: int | str | None, out_dir: Path, echo: Callable[[str], None]
) -> tuple[LoadConfig, dict[str, Any]]:
    """Calibrate (bounded), resolve `--workers auto`, print the plan line; the config to run and the figures."""
    from mcproof.load.calibration import calibrate
    from mcproof.load.launcher import LoadRunError

    cores = _cores(env)  # sampled before the calibration loads the machine
    if workers == "auto":
        config = config.with_changes(workers=auto_workers(cores.spare))
    limits = config.saturation or {}
    try:
        calibration = calibrate(config, out_dir)
    except LoadRunError as err:
        echo(f"mcproof: plan: calibration failed ({err}); one worker's rate not measured")
        calibration = None
    figures = plan_figures(
        users=config.users,
        servers=config.distinct_targets,
        interval_s=config.ping_interval_s,
        workers=config.workers,
        calibration=calibration,
        max_cpu_share=float(limits.get("max_cpu_share", 0.9)),
        cores=cores,
    )
    echo(f"mcproof: {plan_line(figures)}")
    return config, figures
