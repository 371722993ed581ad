"""The load runner against a real sandbox fleet: healthy runs pass, injected faults fail the thresholds
and the evidence names the error kinds and the affected servers. Each run is a few seconds."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mcproof.evidence import RunStore, read_records
from mcproof.load.evidence import LoadEvidence, load_evidence
from mcproof.load.launcher import run_load
from mcproof.load.plan import LoadConfig, TargetRef, max_pings_per_user
from mcproof.load.shapes import plan_shape
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def config_for(
    sandbox: Sandbox,
    *,
    duration_s: float = 5.0,
    interval: float = 0.5,
    timeout: float = 1.0,
    workers: int = 0,
    thresholds: tuple[str, ...] = ("status_p95_ms < 250", "failure_ratio < 0.001"),
    query_every: int = 3,
) -> LoadConfig:
    servers = sandbox.servers()
    return LoadConfig(
        environment="itest",
        targets=tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in servers),
        users=len(servers),
        plan=plan_shape("steady", users=len(servers), duration_s=duration_s, ping_interval_s=interval),
        ping_interval_s=interval,
        timeout_s=timeout,
        thresholds=thresholds,
        query_every=query_every,
        expect_version="1.21.4",
        expect_protocol=769,
        workers=workers,
        stop_grace_s=5.0,
        max_pings_per_user=max_pings_per_user(duration_s, interval),
    )


def test_healthy_fleet_passes_and_keeps_locust_outputs(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory(servers=40)
    config = config_for(sb, thresholds=("status_p95_ms < 250", "failure_ratio < 0.001", "pings_per_s >= 60"))
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    assert record.passed, record.thresholds
    assert record.verdict == "pass"
    assert not record.generator["saturated"], record.generator["reasons"]
    assert record.generator["cpu_share_max"] is not None
    assert record.servers_served == 40  # every server answered every ping scheduled in the full-load window
    assert record.failures_by_kind == {}
    assert run.result["targets_seen"] == 40  # one user per server, every server watched
    assert record.status_ms["requests"] >= 40 * 6
    assert record.query_ms["requests"] > 0  # Query where enabled
    for name in ("locust.html", "locust_stats.csv", "locust_stats_history.csv", "load-config.json"):
        assert name in run.outputs
    stats_rows = (tmp_path / "load" / "locust_stats.csv").read_text().splitlines()
    assert any(row.startswith("SLP,status") for row in stats_rows)  # one row per protocol, not per target
    store = RunStore(tmp_path)
    store.append(record)
    assert isinstance(next(iter(read_records(tmp_path))), LoadEvidence)


def test_faults_fail_thresholds_and_name_kinds_and_targets(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=30)
    ids = [s.id for s in sb.servers()]
    sb.inject(ids[0:2], "refuse")
    sb.inject(ids[2:4], "wrong_version", version_name="1.8.9", protocol=47)
    sb.inject(ids[4:6], "slow", delay_s=2.0)  # longer than the 0.5 s timeout
    config = config_for(sb, timeout=0.5, query_every=0)
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    assert not record.passed
    assert "failure_ratio < 0.001" in record.failed_thresholds
    assert {"SLP:refused", "SLP:wrong_version", "SLP:timeout"} <= set(record.failures_by_kind)
    kinds_by_target = {f["target"]: set(f["kinds"]) for f in record.failures_by_target}
    assert set(kinds_by_target) == set(ids[0:6])
    assert all(kinds_by_target[t] == {"refused"} for t in ids[0:2])
    assert all(kinds_by_target[t] == {"wrong_version"} for t in ids[2:4])
    assert all(kinds_by_target[t] == {"timeout"} for t in ids[4:6])
    errors = " ".join(e["error"] for e in record.errors)
    assert "wrong_version: reported '1.8.9'/47" in errors  # Locust's error table keeps kinds apart too
    assert "refused: connection refused" in errors
    assert "timeout: reply not complete within 0.5 s" in errors  # the whole exchange, not one socket op


def test_slow_replies_fail_the_latency_threshold_and_are_named(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=20)
    ids = [s.id for s in sb.servers()]
    sb.inject(ids[:3], "slow", delay_s=0.4)  # 15 % of servers answer, but slower than the 250 ms objective
    config = config_for(sb, timeout=2.0, query_every=0)
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    assert record.failed_thresholds == ["status_p95_ms < 250"]
    assert float(record.metrics["status_p95_ms"]) >= 400
    assert {s["target"] for s in record.slow_by_target} == set(ids[:3])


def test_distributed_master_and_two_workers(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory(servers=40)
    config = config_for(sb, workers=2, duration_s=5.0)
    run = run_load(config, tmp_path / "load")
    assert run.passed, run.result["thresholds"]
    assert run.result["targets_seen"] == 40  # users interleave over workers: no server watched twice
    assert run.result["peak_users"] == 40
    assert run.result["generator"]["processes"] == 3  # the master and each worker measured themselves
    assert run.result["servers_served"] == 40
    assert {"locust-master.log", "locust-worker-1.log", "locust-worker-2.log", "locust.html"} <= set(run.outputs)


def _environment_file(tmp_path: Path, state_dir: Path, **load: object) -> Path:
    data = {
        "name": "itest",
        "tier": "dev",
        "minecraft": {
            "discovery": {"kind": "sandbox", "state_dir": str(state_dir)},
            "expect": {"name": "1.21.4", "protocol": 769},
            "query_enabled": True,
            "status_timeout_s": 1.0,
        },
        "slo": {"concurrent_servers": 20},
        "guards": {"loopback_only": True},
        "sandbox": {"servers": 20},
        "load": {"shape": "steady", "duration_s": 4, "ping_interval_s": 0.5, "query_every": 2, **load},
    }
    path = tmp_path / "itest.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _child_env() -> dict[str, str]:
    """This process's environment without MCPROOF_STATE_DIR (it would override the file's state_dir)."""
    return {k: v for k, v in os.environ.items() if k != "MCPROOF_STATE_DIR"}


def test_plain_locustfile_reads_mcproof_env(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sb = sandbox_factory(servers=20)
    env_file = _environment_file(tmp_path, sb.state_dir)
    result = tmp_path / "result.json"
    env = {**_child_env(), "MCPROOF_ENV": str(env_file), "MCPROOF_LOAD_RESULT": str(result)}
    env.pop("MCPROOF_LOAD_CONFIG", None)
    proc = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(ROOT / "suites/load/locustfile.py"), "--headless", "--only-summary"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(result.read_text())
    assert data["passed"]
    assert data["targets_seen"] == 20
    assert "SLP" in proc.stderr + proc.stdout


def test_mcproof_load_cli_writes_evidence_and_exit_code(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=20)
    env_file = _environment_file(tmp_path, sb.state_dir)
    reports = tmp_path / "reports"
    cli = [sys.executable, "-m", "mcproof.cli", "load", "--env", str(env_file), "--reports-dir", str(reports)]
    ok = subprocess.run(cli, capture_output=True, text=True, timeout=60, cwd=ROOT, env=_child_env())
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "PASS status_p95_ms < 250" in ok.stdout
    run_dir = next(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink())
    kinds = [r.record_type for r in read_records(run_dir)]
    assert "load" in kinds
    assert "slo" in kinds  # 20 servers sustained = this environment's concurrent_servers objective
    assert (run_dir / "load" / "locust.html").is_file()

    sb.inject([sb.servers()[0].id], "refuse")
    failed = subprocess.run(
        [*cli, "--duration", "3"], capture_output=True, text=True, timeout=60, cwd=ROOT, env=_child_env()
    )
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "FAIL failure_ratio < 0.001" in failed.stdout
    assert f"{sb.servers()[0].id} (refused=" in failed.stdout
