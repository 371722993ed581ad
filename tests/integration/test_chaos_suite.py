"""The chaos suite and `mcproof chaos run` against a real sandbox: pass when the fleet recovers, FAIL naming
the servers that never recover (rollback still restores them), INCONCLUSIVE (exit 3) when the fault action
failed or a game day ran nothing, one-line guard refusals, a dry run that does nothing, and rollbacks on
Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from suite_runs import ROOT, check_outcomes, default_sigint, run_cli, run_suite, write_environment

from mcproof.connect.sandbox import sandbox_targets
from mcproof.minecraft.sweep import sweep_fleet
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformServices

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
FAST = {"observer_interval_s": 0.5, "observer_timeout_s": 1.0, "recovery_window_s": 4}


def _all_serving(sandbox: Sandbox) -> bool:
    return sweep_fleet(sandbox_targets(sandbox.state_dir), timeout=1.0).serving_ratio == 1.0


# Chaos measures recovery and the error budget it burns, not availability (the smoke suite's monitoring
# check measures it over an observed window): runs of the chaos suite alone waive it.
WAIVE_AVAILABILITY = [
    {
        "slo": "availability",
        "owner": "itest",
        "reason": "measured over an observed window by smoke/test_monitoring.py, not by chaos",
    }
]


def test_suite_passes_when_the_fleet_recovers(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST, waivers=WAIVE_AVAILABILITY)
    run = run_suite(env_file, tmp_path / "reports", "-k", "kill or k8s", suite="chaos", timeout=120)
    assert run.code == 0, run.output
    outcomes = check_outcomes(run)
    assert outcomes["test_experiment_recovers[kill-one-server]"]["outcome"] == "passed"
    assert outcomes["test_experiment_recovers[kill-20-percent]"]["outcome"] == "passed"
    k8s = outcomes["test_experiment_recovers[k8s-pod-kill]"]
    assert k8s["outcome"] == "skipped"
    assert "needs the environment's kubernetes section" in k8s["message"]
    slos = {s["slo"]: s for s in run.report()["slos"]}
    assert slos["mttr_s"]["verdict"] == "pass"
    assert not [r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "availability"]  # not projected
    recoveries = [r for r in run.evidence() if r["type"] == "recovery"]
    assert {r["verdict"] for r in recoveries} == {"pass"}
    assert all(0 < r["error_budget"]["burned_share"] < 0.01 for r in recoveries)  # a kill burns well under 1 %


def test_unrecovered_target_deviates_fails_and_rollback_restores(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=10, supervise=False)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)
    run = run_suite(env_file, tmp_path / "reports", "-k", "kill-one-server", suite="chaos", timeout=120)
    assert run.code == 1, run.output
    outcome = check_outcomes(run)["test_experiment_recovers[kill-one-server]"]
    assert outcome["outcome"] == "failed"
    recovery = next(r for r in run.evidence() if r["type"] == "recovery")
    assert recovery["deviated"] is True
    assert recovery["passed"] is False
    assert recovery["verdict"] == "fail"  # the fault took effect (seen) and the target never came back
    assert len(recovery["unrecovered"]) == 1
    victim = recovery["unrecovered"][0]
    assert f"never recovered before the rollbacks: {victim}" in outcome["message"]
    journal = json.loads((run.run_dir / recovery["journal"]).read_text())  # type: ignore[operator]
    assert journal["deviated"] is True
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert recovery["serving_after_rollback"] is True
    status = sandbox.status()
    assert status is not None
    assert status.down == []
    assert status.faults == {}
    assert _all_serving(sandbox)
    assert run.report()["verdict"] == "fail"


def _experiment_in(tmp_path: Path, **arguments: object) -> Path:
    source = json.loads((ROOT / "suites/chaos/experiments/kill-one-server.json").read_text())
    source["method"][0]["provider"]["arguments"] = arguments
    path = tmp_path / "custom-kill.json"
    path.write_text(json.dumps(source))
    return path


def _refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    return lines[0]


def test_guard_refusals_are_one_line_and_touch_nothing(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(
        tmp_path / "env.yaml",
        sandbox.state_dir,
        chaos=FAST,
        guards={"loopback_only": True, "allowed_namespaces": ["minecraft"]},
    )
    outside = _refusal(
        run_cli("chaos", "run", str(_experiment_in(tmp_path, count=1, namespace="kube-system")), "--env", str(env_file))
    )
    assert "namespace 'kube-system' is not in guards.allowed_namespaces (minecraft)" in outside

    narrow = write_environment(tmp_path / "narrow.yaml", sandbox.state_dir, chaos={**FAST, "max_blast_radius": 0.1})
    radius = _refusal(run_cli("chaos", "run", "kill-20-percent", "--env", str(narrow)))
    assert "would affect 2 of 10 servers (20%) but the blast radius limit is 10%" in radius

    prod = {**FAST, "allow_production": True, "allowed_experiments": ["custom-kill"]}
    prod_file = write_environment(tmp_path / "prod.yaml", sandbox.state_dir, tier="production", chaos=prod)
    custom = _experiment_in(tmp_path, count=1)
    data = json.loads(custom.read_text())
    data["tags"].append("tier:production")
    custom.write_text(json.dumps(data))
    no_ack = _refusal(run_cli("chaos", "run", str(custom), "--env", str(prod_file)))
    assert "refused on production 'itest' without --ack-production" in no_ack
    not_allowed = write_environment(tmp_path / "prod2.yaml", sandbox.state_dir, tier="production", chaos=FAST)
    assert "chaos.allow_production: true" in _refusal(
        run_cli("chaos", "run", str(custom), "--env", str(not_allowed), "--ack-production")
    )
    acked = run_cli("chaos", "run", str(custom), "--env", str(prod_file), "--ack-production", "--dry-run")
    assert acked.returncode == 0, acked.stderr
    status = sandbox.status()
    assert status is not None
    assert status.faults == {}
    assert status.down == []


def test_dry_run_prints_the_plan_and_does_nothing(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)
    reports = tmp_path / "reports"
    done = run_cli(
        "chaos",
        "run",
        "kill-20-percent",
        "--env",
        str(env_file),
        "--dry-run",
        "--seed",
        "5",
        "--reports-dir",
        str(reports),
    )
    assert done.returncode == 0, done.stderr
    assert "would affect 2 of 10 servers (seed 5)" in done.stdout
    assert "dry run: nothing was done" in done.stdout
    assert not reports.exists()
    time.sleep(1.5)  # longer than the boot delay: a kill would still show as a fault or a restart
    status = sandbox.status()
    assert status is not None
    assert status.faults == {}
    assert status.down == []
    assert "fault kill" not in (sandbox.state_dir / "supervisor.log").read_text()


def test_ctrl_c_still_runs_the_rollbacks(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10, supervise=False)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos={**FAST, "recovery_window_s": 20})
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mcproof.cli",
            "chaos",
            "run",
            "kill-one-server",
            "--env",
            str(env_file),
            "--reports-dir",
            str(tmp_path / "reports"),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=default_sigint,
    )
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # wait until the kill is in place
            status = sandbox.status()
            if status is not None and status.down:
                break
            time.sleep(0.1)
        else:
            pytest.fail("the experiment never killed a server")
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 3, output  # cut short from outside before recovery was given its window
    assert "journal: status interrupted" in output
    assert "verdict INCONCLUSIVE" in output
    assert "interrupted from outside (journal status interrupted)" in output
    run_dir = next((tmp_path / "reports").glob("2*"))
    journal = json.loads(next(run_dir.glob("journal-*.json")).read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]  # chaoslib's rollback, not our safety net
    status = sandbox.status()
    assert status is not None
    assert status.down == []
    assert status.faults == {}
    assert _all_serving(sandbox)


def test_gameday_cli_writes_one_summary(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "name: itest-gameday\nserving_floor: 0.9\nexperiments:\n"
        "  - experiment: kill-one-server\n  - experiment: k8s-node-drain\n"
    )
    reports = tmp_path / "reports"
    done = run_cli("gameday", "--env", str(env_file), "--plan", str(plan), "--reports-dir", str(reports))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "game day itest-gameday: PASS" in done.stdout
    run_dir = next(p for p in reports.iterdir() if p.name != "latest")
    summary = json.loads((run_dir / "gameday-summary.json").read_text())
    assert [r["result"] for r in summary["experiments"]] == ["pass", "skipped"]
    assert summary["experiments"][0]["fleet_mttr_s"] > 0
    assert (run_dir / "report.json").is_file()
    recovery = [
        json.loads(line) for line in (run_dir / "evidence.jsonl").read_text().splitlines() if '"recovery"' in line
    ]
    assert len(recovery) == 1


def test_chaos_run_aborts_below_the_floor_and_still_rolls_back(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10, supervise=False)  # killed servers stay down until the rollback
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos={**FAST, "recovery_window_s": 20})
    started = time.monotonic()
    try:
        done = run_cli(
            "chaos",
            "run",
            "kill-20-percent",
            "--env",
            str(env_file),
            "--abort-below",
            "0.9",
            "--reports-dir",
            str(tmp_path / "reports"),
        )
    finally:
        PlatformServices(sandbox.state_dir).down()  # `chaos run` starts the sandbox's platform API and keeps it
    assert time.monotonic() - started < 18  # interrupted, not left to the 20 s recovery window
    assert done.returncode == 1, done.stdout + done.stderr
    assert "kill-20-percent aborted: fleet serving ratio fell to 0.800, below the abort floor 0.9" in done.stdout
    run_dir = next(p for p in (tmp_path / "reports").iterdir() if p.name != "latest")
    journal = json.loads(next(run_dir.glob("journal-kill-20-percent-*.json")).read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    status = sandbox.status()
    assert status is not None
    assert status.down == []
    assert _all_serving(sandbox)
    bad = run_cli("chaos", "run", "kill-20-percent", "--env", str(env_file), "--abort-below", "1.5", "--dry-run")
    assert bad.returncode == 2
    assert "1.5" in bad.stderr


def test_chaos_run_exits_3_when_the_fault_action_fails(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)
    source = json.loads((ROOT / "suites/chaos/experiments/kill-one-server.json").read_text())
    source["method"][0] = {
        "type": "action",
        "name": "slow-by-nothing",
        "provider": {
            "type": "python",
            "module": "mcproof.chaos.actions",
            "func": "slow_servers",
            "arguments": {"count": 1, "delay_s": 0},
        },
    }
    experiment = tmp_path / "slow-by-nothing.json"
    experiment.write_text(json.dumps(source))
    reports = tmp_path / "reports"
    try:
        done = run_cli("chaos", "run", str(experiment), "--env", str(env_file), "--reports-dir", str(reports))
    finally:
        PlatformServices(sandbox.state_dir).down()  # `chaos run` starts the sandbox's platform API and keeps it
    assert done.returncode == 3, done.stdout + done.stderr
    assert "verdict INCONCLUSIVE" in done.stdout
    assert "fault action failed: slow-by-nothing: mcproof.errors.SandboxError: slow delay_s" in done.stdout
    assert "fix: fix what the fault action reported" in done.stdout
    assert "verdict PASS" not in done.stdout
    run_dir = next(p for p in reports.iterdir() if p.name != "latest")
    records = [json.loads(line) for line in (run_dir / "evidence.jsonl").read_text().splitlines()]
    check = next(r for r in records if r["type"] == "check")
    assert check["outcome"] == "inconclusive"
    assert "fault action failed" in check["message"]
    assert next(r for r in records if r["type"] == "recovery")["verdict"] == "inconclusive"
    assert next(r for r in records if r["type"] == "run_end")["exit_status"] == 3


def test_gameday_with_everything_skipped_is_inconclusive(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)
    plan = tmp_path / "plan.yaml"
    plan.write_text("name: all-skipped\nexperiments:\n  - experiment: k8s-pod-kill\n  - experiment: k8s-node-drain\n")
    reports = tmp_path / "reports"
    try:
        done = run_cli("gameday", "--env", str(env_file), "--plan", str(plan), "--reports-dir", str(reports))
    finally:
        PlatformServices(sandbox.state_dir).down()
    assert done.returncode == 3, done.stdout + done.stderr
    assert "game day all-skipped: INCONCLUSIVE" in done.stdout
    assert "nothing ran: k8s-pod-kill (skipped: k8s-pod-kill: needs the environment's kubernetes section" in done.stdout
    run_dir = next(p for p in reports.iterdir() if p.name != "latest")
    summary = json.loads((run_dir / "gameday-summary.json").read_text())
    assert summary["verdict"] == "inconclusive"
    assert [r["result"] for r in summary["experiments"]] == ["skipped", "skipped"]
    assert summary["fix"]
    assert (run_dir / "gameday-summary.md").read_text().startswith("# Game day all-skipped on itest: INCONCLUSIVE")
    dry = run_cli("gameday", "--env", str(env_file), "--plan", str(plan), "--dry-run", "--reports-dir", str(reports))
    assert dry.returncode == 3, dry.stdout + dry.stderr  # not even a dry run would do anything here
    assert "dry run: no experiment of the plan would run here" in dry.stdout
    plan.write_text("name: dry\nexperiments:\n  - experiment: kill-one-server\n  - experiment: k8s-pod-kill\n")
    would = run_cli("gameday", "--env", str(env_file), "--plan", str(plan), "--dry-run", "--reports-dir", str(reports))
    assert would.returncode == 0, would.stdout + would.stderr
    assert "game day dry: DRY-RUN" in would.stdout


def test_suite_check_is_inconclusive_when_the_observer_cannot_see_the_fault(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    """A killed server that is back within 0 s (boot delay 0) between two observer ticks 3 s apart: the kill
    happened (the action says so) but nothing was measured, so the check is inconclusive, never passed."""
    sandbox = sandbox_factory(servers=10, boot_delay_s=0.0)
    coarse = {**FAST, "observer_interval_s": 3.0, "observer_timeout_s": 1.0}
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=coarse, waivers=WAIVE_AVAILABILITY)
    run = run_suite(env_file, tmp_path / "reports", "-k", "kill-one-server", suite="chaos", timeout=120)
    assert run.code == 3, run.output
    assert run.report()["verdict"] == "inconclusive"
    outcome = check_outcomes(run)["test_experiment_recovers[kill-one-server]"]
    assert outcome["outcome"] == "inconclusive", outcome
    assert "fault affected no observed target: kill-one-server named mc-" in outcome["message"]
    assert "lower chaos.observer_interval_s" in outcome["message"]
    recovery = next(r for r in run.evidence() if r["type"] == "recovery")
    assert recovery["verdict"] == "inconclusive"
    assert recovery["passed"] is False
    assert len(recovery["fault_targets"]) == 1
    assert not [r for r in run.evidence() if r["type"] == "slo"]  # no MTTR for an unmeasured fault


def test_a_process_fault_on_a_static_environment_is_refused_in_one_line(tmp_path: Path) -> None:
    env_file = write_environment(
        tmp_path / "env.yaml",
        tmp_path / "none",
        minecraft={
            "discovery": {"kind": "static", "servers": [{"name": "a", "host": "127.0.0.1", "port": 9}]},
            "status_timeout_s": 1.0,
        },
        sandbox=None,
    )
    line = _refusal(
        run_cli("chaos", "run", "kill-one-server", "--env", str(env_file), "--reports-dir", str(tmp_path / "reports"))
    )
    assert "needs the fault capability 'process.kill'" in line
    assert "declare a `faults:` section" in line
    assert not list((tmp_path / "reports").glob("*/journal-*.json"))  # chaoslib never ran
