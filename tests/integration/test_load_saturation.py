"""The load verdict blames the right party, on a real sandbox fleet: an overloaded generator is INCONCLUSIVE
(never FAIL), slow servers still FAIL and are named, capacity counts only servers served throughout, and a
trickling server costs a load user at most its timeout. Every run is bounded (a few seconds each)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mcproof.evidence import read_records
from mcproof.evidence.records import LoadEvidence
from mcproof.load.evidence import capacity_measurement, load_evidence
from mcproof.load.launcher import LoadRun, run_load
from mcproof.load.plan import LoadConfig, TargetRef, max_pings_per_user
from mcproof.load.shapes import plan_shape
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MCPROOF_STATE_DIR"}  # the env file names the state dir


def _config(
    targets: tuple[TargetRef, ...],
    *,
    users: int | None = None,
    duration_s: float = 5.0,
    interval: float = 0.5,
    timeout: float = 1.0,
) -> LoadConfig:
    n = users or len(targets)
    return LoadConfig(
        environment="itest",
        targets=targets,
        users=n,
        plan=plan_shape("steady", users=n, duration_s=duration_s, ping_interval_s=interval),
        ping_interval_s=interval,
        timeout_s=timeout,
        thresholds=("status_p95_ms < 250", "failure_ratio < 0.001"),
        expect_version="1.21.4",
        expect_protocol=769,
        stop_grace_s=5.0,
        max_pings_per_user=max_pings_per_user(duration_s, interval),
    )


def _targets(sb: Sandbox) -> tuple[TargetRef, ...]:
    return tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in sb.servers())


def _record(config: LoadConfig, run: LoadRun) -> LoadEvidence:
    return load_evidence(config, run.result, check="itest", outputs=run.outputs)


def test_overloaded_generator_is_inconclusive_not_fail(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    """40,000 pings/s asked of one process (far past what it can send): `mcproof load` exits 3, not 1."""
    sb = sandbox_factory(servers=40)
    env_file = tmp_path / "itest.yaml"
    env_file.write_text(
        yaml.safe_dump(
            {
                "name": "itest",
                "tier": "dev",
                "minecraft": {
                    "discovery": {"kind": "sandbox", "state_dir": str(sb.state_dir)},
                    "expect": {"name": "1.21.4", "protocol": 769},
                    "status_timeout_s": 1.0,
                },
                "slo": {"concurrent_servers": 40},
                "guards": {"loopback_only": True},
                "sandbox": {"servers": 40},
                "load": {"shape": "steady", "users": 2000, "duration_s": 6, "ping_interval_s": 0.05},
            }
        ),
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    cli = [sys.executable, "-m", "mcproof.cli", "load", "--env", str(env_file), "--reports-dir", str(reports)]
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT, env=_child_env())
    assert proc.returncode == 3, proc.stdout + proc.stderr  # inconclusive
    assert "load verdict INCONCLUSIVE" in proc.stdout
    assert "generator saturated:" in proc.stdout
    assert "--workers" in proc.stdout  # the fix
    run_dir = next(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink())
    records = list(read_records(run_dir))
    (record,) = [r for r in records if isinstance(r, LoadEvidence)]
    assert record.verdict == "inconclusive"
    assert not record.passed
    assert record.reason.startswith("generator saturated: ")
    assert record.generator["saturated"]
    assert record.generator["asked_pings_per_s"] == 40_000
    assert record.generator["sent_pings_per_s"] < 0.5 * 40_000  # it could not send what was asked
    assert record.servers_served is None  # capacity not measured by a saturated run ...
    assert not [r for r in records if r.record_type == "slo"]  # ... so no concurrent_servers SLO pass
    outcomes = [r for r in records if r.record_type == "check"]
    assert [getattr(o, "outcome", None) for o in outcomes] == ["inconclusive"]


def test_slow_servers_fail_and_are_named_while_the_generator_keeps_up(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Planted with `mcproof sandbox fault ... --kind slow`: the servers are slow, the generator is not."""
    sb = sandbox_factory(servers=20)
    slow = [s.id for s in sb.servers()[:5]]  # a quarter: pinged less often (they hold their users), still > 5 %
    fault = [
        sys.executable,
        "-m",
        "mcproof.cli",
        "sandbox",
        "fault",
        *slow,
        "--kind",
        "slow",
        "--delay",
        "1.5",
        "--state-dir",
        str(sb.state_dir),
    ]
    planted = subprocess.run(fault, capture_output=True, text=True, timeout=30, cwd=ROOT, env=_child_env())
    assert planted.returncode == 0, planted.stdout + planted.stderr
    config = _config(_targets(sb), interval=0.5, timeout=2.0)  # replies in 1.5 s: slower than the 0.5 s interval
    record = _record(config, run_load(config, tmp_path / "load"))
    assert record.verdict == "fail", record.reason
    assert record.failed_thresholds == ["status_p95_ms < 250"]
    assert not record.generator["saturated"], record.generator["reasons"]
    assert record.generator["missed_by_server"] > 0  # the slow servers held their users past their slots
    assert record.generator["dropped"] == 0
    assert {s["target"] for s in record.slow_by_target} == set(slow)
    assert record.servers_served == 15  # a server that could not be pinged on schedule was not served throughout
    assert float(record.corrected_ms["p99"]) >= float(record.status_ms["p99"])  # scheduled -> reply >= send -> reply


def test_capacity_counts_only_servers_served_throughout(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=20)
    ids = [s.id for s in sb.servers()]
    sb.inject([ids[0]], "kill", restart=False)  # dead before the run
    config = _config(_targets(sb), duration_s=10.0, interval=0.5)
    killer = threading.Timer(5.0, lambda: sb.inject([ids[1]], "kill", restart=False))  # dies mid-run
    killer.start()
    try:
        record = _record(config, run_load(config, tmp_path / "load"))
    finally:
        killer.cancel()
    assert record.verdict == "fail"  # failed pings: the platform did not serve every server
    assert not record.generator["saturated"], record.generator["reasons"]
    assert {f["target"] for f in record.failures_by_target} == {ids[0], ids[1]}
    assert record.servers_served == 18
    assert "none failed, none missed" in record.capacity_rule
    assert record.stated == "20 servers, each pinged every 0.5 s (40 pings/s asked)"
    measurement = capacity_measurement(record, 18, "itest")
    assert measurement is not None
    assert not measurement.passed  # thresholds missed: nothing counts as sustained


def test_a_trickling_server_costs_a_user_at_most_its_timeout(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """mcstatus's timeout is per socket op (each byte arrives within it); the whole exchange is bounded."""
    sb = sandbox_factory(servers=6)
    ids = [s.id for s in sb.servers()]
    sb.inject(ids[:2], "trickle", interval_s=0.2)  # every reply one byte per 0.2 s: minutes per status
    config = _config(_targets(sb), duration_s=5.0, interval=0.5, timeout=1.0)
    started = time.monotonic()
    record = _record(config, run_load(config, tmp_path / "load"))
    assert time.monotonic() - started < 60
    kinds = {f["target"]: f["kinds"] for f in record.failures_by_target}
    assert set(kinds) == set(ids[:2])
    assert all(set(k) == {"timeout"} and k["timeout"] >= 3 for k in kinds.values())  # kept pinging on schedule
    assert float(record.status_ms["max"]) < 1000 * 1.0 + 400  # at most the timeout (+ scheduling slack)
    assert record.verdict == "fail"
    assert not record.generator["saturated"], record.generator["reasons"]
    assert record.servers_served == 4


def test_a_killed_worker_is_reported_and_makes_the_run_inconclusive(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Distributed run, master + 2 workers; one worker is SIGKILLed mid-run: named, INCONCLUSIVE, never pass."""
    import json

    import psutil

    sb = sandbox_factory(servers=20)
    run_dir = tmp_path / "load"
    config = _config(_targets(sb), duration_s=12.0, interval=0.5).with_changes(workers=2, run_dir=str(run_dir))
    killed: list[int] = []

    def kill_worker_2() -> None:
        marker = run_dir / "load-process-worker-2.json"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not marker.is_file():
            time.sleep(0.1)
        if not marker.is_file():
            return
        data = json.loads(marker.read_text(encoding="utf-8"))
        while time.time() < float(data["started_epoch"]) + 4.0:  # inside the full-load window (1.5-12 s)
            time.sleep(0.1)
        psutil.Process(int(data["pid"])).kill()
        killed.append(int(data["pid"]))

    killer = threading.Thread(target=kill_worker_2, daemon=True)
    killer.start()
    record = _record(config, run_load(config, run_dir))
    killer.join(timeout=5)
    assert killed, "worker-2 never started"
    assert record.verdict == "inconclusive", record.reason
    assert not record.passed
    missing = record.generator["missing_workers"]
    assert [m["worker"].split()[0] for m in missing] == ["worker-2"]
    assert missing[0]["worker"].endswith(f":{killed[0]}")
    assert "worker worker-2" in record.reason
    assert "went missing" in record.reason
    assert "locust-worker-N.log" in record.fix
    assert record.servers_served is None  # capacity not measured
    assert capacity_measurement(record, 20, "itest") is None
    by_process = record.generator["cpu_share_by_process"]
    assert {p.split()[0] for p in by_process} >= {"master", "worker-1"}  # the master is measured too
    assert set(record.generator["loop_lag_p95_ms_by_process"]) >= {p for p in by_process if p.startswith("worker-1")}


def test_every_process_of_a_distributed_run_reports_cpu_and_loop_lag(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """The negative of the killed worker: master + 2 healthy workers keep up and are each measured."""
    sb = sandbox_factory(servers=20)
    config = _config(_targets(sb), duration_s=6.0, interval=0.5).with_changes(workers=2)
    record = _record(config, run_load(config, tmp_path / "load"))
    assert record.generator["missing_workers"] == []
    roles = sorted(p.split()[0] for p in record.generator["cpu_share_by_process"])
    assert roles == ["master", "worker-1", "worker-2"]
    assert all(v is not None for v in record.generator["cpu_share_by_process"].values())
    assert sorted(p.split()[0] for p in record.generator["loop_lag_p95_ms_by_process"]) == roles
    assert record.verdict == "pass", record.reason


def test_plan_prints_the_sizing_and_runs_no_load(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    """`mcproof load --plan`: the rate asked, one worker's calibrated rate, the workers needed; exit 0, no run."""
    sb = sandbox_factory(servers=40)
    env_file = tmp_path / "itest.yaml"
    env_file.write_text(
        yaml.safe_dump(
            {
                "name": "itest",
                "tier": "dev",
                "minecraft": {
                    "discovery": {"kind": "sandbox", "state_dir": str(sb.state_dir)},
                    "expect": {"name": "1.21.4", "protocol": 769},
                    "status_timeout_s": 1.0,
                },
                "slo": {"concurrent_servers": 40},
                "guards": {"loopback_only": True},
                "sandbox": {"servers": 40},
                "load": {"shape": "steady", "users": 4000, "duration_s": 60, "ping_interval_s": 0.05},
            }
        ),
        encoding="utf-8",
    )
    reports = tmp_path / "reports"
    cli = [
        sys.executable,
        "-m",
        "mcproof.cli",
        "load",
        "--env",
        str(env_file),
        "--reports-dir",
        str(reports),
        "--plan",
        "--workers",
        "auto",
    ]
    started = time.monotonic()
    proc = subprocess.run(cli, capture_output=True, text=True, timeout=120, cwd=ROOT, env=_child_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert time.monotonic() - started < 60  # the 60 s load did not run
    (line,) = [ln for ln in proc.stdout.splitlines() if ln.startswith("mcproof: plan: ")]
    assert "4,000 simulated servers over 40 servers, each pinged every 0.05 s: 80,000 pings/s asked" in line
    assert "one worker on this machine: " in line
    assert "µs CPU per ping" in line
    assert "NOT ENOUGH, expect INCONCLUSIVE" in line  # no single process sends 80,000 pings/s
    assert not reports.exists()  # no run, no report
