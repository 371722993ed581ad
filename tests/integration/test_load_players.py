"""Player load on a real sandbox fleet: players join under Locust in the same run as the server-list pings
(one evidence record with both), a refusing target FAILS the player thresholds, a saturated generator makes
them INCONCLUSIVE. Every run is bounded (a few seconds each; the sandbox sends a keep-alive every second so
the sessions really answer them)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from mcproof.evidence import read_records
from mcproof.evidence.records import LoadEvidence, PlayerEvidence, SloMeasurement
from mcproof.load.evidence import load_evidence
from mcproof.load.launcher import run_load
from mcproof.load.plan import LoadConfig, TargetRef, max_pings_per_user
from mcproof.load.shapes import PlayerPlan, plan_shape
from mcproof.load.thresholds import PLAYER_METRICS
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = ("join_success_ratio >= 0.9", "join_p95_ms < 2000", "drop_ratio <= 0", "tps_min >= 15")


def _config(
    targets: tuple[TargetRef, ...],
    players: PlayerPlan,
    *,
    users: int | None = None,
    duration_s: float = 12.0,
    interval: float = 1.0,
) -> LoadConfig:
    n = users or len(targets)
    return LoadConfig(
        environment="itest",
        targets=targets,
        users=n,
        plan=plan_shape("steady", users=n, duration_s=duration_s, ping_interval_s=interval),
        ping_interval_s=interval,
        timeout_s=1.0,
        thresholds=("status_p95_ms < 250", "failure_ratio < 0.001"),
        expect_version="1.21.4",
        expect_protocol=769,
        stop_grace_s=5.0,
        max_pings_per_user=max_pings_per_user(duration_s, interval),
        players=players,
    )


def _players(**kw: object) -> PlayerPlan:
    values: dict[str, object] = {
        "population": 4,
        "rush_joins": 4,
        "rush_within_s": 2.0,
        "rush_at_s": 4.0,
        "session_s": 5.0,
        "protocol": 769,
        "join_timeout_s": 3.0,
        "keepalive_timeout_s": 5.0,
        "thresholds": THRESHOLDS,
    }
    values.update(kw)
    return PlayerPlan(**values)  # type: ignore[arg-type]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MCPROOF_STATE_DIR"}  # the env file names the state dir


def _targets(sb: Sandbox) -> tuple[TargetRef, ...]:
    return tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in sb.servers())


def test_players_join_the_fleet_in_a_mixed_run_with_join_time_drops_and_tps(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=8, keepalive_s=1.0)
    config = _config(_targets(sb), _players())
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    players = record.players
    assert players["verdict"] == "pass", players["reason"]
    assert record.verdict == "pass", record.reason  # pings and players: one verdict over one run
    assert record.status_ms["requests"] > 0  # ... and the pings are in the same record
    metrics = players["metrics"]
    assert set(metrics) == set(PLAYER_METRICS)
    assert metrics["join_attempts"] >= 8  # every player joined at least once (rush players too)
    assert metrics["join_success_ratio"] == 1.0
    assert metrics["join_p95_ms"] is not None
    assert players["figures"]["join_ms"]["count"] == metrics["join_attempts"]  # the sample count behind p95
    assert metrics["sessions"] >= 8  # sessions left at their length or at the run's end
    assert metrics["drops"] == 0
    assert players["figures"]["tps"]["windows"] > 0
    assert 15 <= metrics["tps_min"] <= 25  # the sandbox ticks at 20
    assert players["figures"]["join_lag_ms"]["count"] >= 4  # the rush joins ran on their schedule
    assert players["locust"]["join"]["requests"] == metrics["join_attempts"]  # Locust's own table agrees
    assert players["locust"]["session"]["failures"] == 0
    joins = players["samples"]["joins"]
    assert {j["server"] for j in joins} <= {t.id for t in config.targets}
    assert all(j["ok"] and j["phase"] == "play" for j in joins)
    ends = players["samples"]["session_ends"]
    assert ends
    assert all(e["reason"] == "left" for e in ends)
    assert players["samples"]["time_updates"]


@pytest.mark.parametrize("refusal", ["closed_port", "wrong_protocol"])
def test_a_target_that_refuses_logins_fails_the_player_thresholds(
    refusal: str, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=2)
    targets = _targets(sb)
    if refusal == "closed_port":  # a port nothing listens on (the sandbox's own address, a port it never bound)
        targets = (TargetRef("mc-closed", targets[0].host, 1),)
        plan = _players(population=2, rush_joins=0)
    else:  # players speak 775 to a 769 server: it disconnects them at login ("Outdated server")
        plan = _players(population=2, rush_joins=0, protocol=775)
    config = _config(targets, plan, duration_s=6.0)
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    players = record.players
    assert players["verdict"] == "fail", players["reason"]
    assert record.verdict == "fail"
    failed = [t["expression"] for t in players["thresholds"] if not t["passed"]]
    assert THRESHOLDS[0] in failed
    kinds = players["figures"]["join_failures_by_kind"]
    assert kinds == (
        {"refused": kinds["refused"]} if refusal == "closed_port" else {"disconnected": kinds["disconnected"]}
    )
    assert "refused players" in players["reason"]
    stopped = {j["phase"] for j in players["samples"]["joins"]}
    assert stopped == ({"connect"} if refusal == "closed_port" else {"login"})  # where each join stopped


def test_a_saturated_generator_makes_the_player_verdict_inconclusive(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """20,000 pings/s asked of one process beside the players: what the players saw is not the servers'."""
    sb = sandbox_factory(servers=20)
    config = _config(
        _targets(sb), _players(population=2, rush_joins=0, session_s=2.0), users=1000, duration_s=6.0, interval=0.05
    )
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    assert record.generator["saturated"], record.generator
    players = record.players
    assert players["verdict"] == "inconclusive", players["reason"]
    assert players["reason"].startswith("generator saturated: ")
    assert "--workers" in players["fix"]
    assert record.verdict == "inconclusive"


def test_mcproof_load_runs_players_when_the_environment_asks(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """`mcproof load --players N`: one mixed run, the players line printed, one LoadEvidence with both parts."""
    sb = sandbox_factory(servers=4, keepalive_s=1.0)
    env_file = tmp_path / "itest.yaml"
    environment = {
        "name": "itest",
        "tier": "dev",
        "minecraft": {
            "discovery": {"kind": "sandbox", "state_dir": str(sb.state_dir)},
            "expect": {"name": "1.21.4", "protocol": 769},
            "status_timeout_s": 1.0,
        },
        "slo": {"concurrent_servers": 4},
        "guards": {"loopback_only": True},
        "sandbox": {"servers": 4},
        "players": {"slo": {"join_success_ratio": 0.75}, "min_samples": 1},  # 4 joins resolve a 25 % budget
        "load": {
            "shape": "steady",
            "users": 4,
            "duration_s": 8,
            "ping_interval_s": 1.0,
            "thresholds": ["failure_ratio < 0.001"],
            "players": {"session_s": 3},  # thresholds: from players.slo
        },
    }
    env_file.write_text(yaml.safe_dump(environment), encoding="utf-8")
    reports = tmp_path / "reports"
    cli = [sys.executable, "-m", "mcproof.cli", "load", "--env", str(env_file), "--reports-dir", str(reports)]
    proc = subprocess.run([*cli, "--players", "3"], capture_output=True, text=True, timeout=180, cwd=ROOT, env=_env())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "mcproof: players PASS: " in proc.stdout
    run_dir = next(p for p in reports.iterdir() if p.is_dir() and not p.is_symlink())
    records = list(read_records(run_dir))
    (record,) = [r for r in records if isinstance(r, LoadEvidence)]
    assert record.players["plan"]["population"] == 3
    assert [t["expression"] for t in record.players["thresholds"]] == ["join_success_ratio >= 0.75"]  # players.slo
    (panel,) = [r for r in records if isinstance(r, PlayerEvidence)]  # the same samples through players.slis
    assert panel.context == "load"
    assert panel.verdict == "pass", panel.reason
    assert panel.samples["join_attempts"] == record.players["metrics"]["join_attempts"]
    slos = [r for r in records if isinstance(r, SloMeasurement) and r.slo.startswith("players.")]
    assert [m.slo for m in slos] == ["players.join_success_ratio"]
    assert slos[0].passed
    assert record.players["metrics"]["join_attempts"] >= 3
    assert record.status_ms["requests"] > 0
    assert "player users" in record.method


def test_players_in_a_distributed_run_report_through_the_master(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    """Master + 2 workers: the players' samples cross to the master with each report and the final one."""
    sb = sandbox_factory(servers=6, keepalive_s=1.0)
    plan = _players(population=4, rush_joins=2, rush_at_s=3.0, rush_within_s=1.0, session_s=3.0)
    config = _config(_targets(sb), plan, duration_s=10.0).with_changes(workers=2)
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    players = record.players
    assert players["verdict"] == "pass", players["reason"]
    metrics = players["metrics"]
    assert metrics["join_attempts"] >= 6
    assert players["locust"]["join"]["requests"] == metrics["join_attempts"]
    assert len(players["samples"]["joins"]) == metrics["join_attempts"]  # nothing lost between the processes
    names = {j["player"] for j in players["samples"]["joins"]}
    assert len(names) == 6  # one name per player across both workers
    assert players["figures"]["tps"]["series"] >= 2


def test_a_lagging_server_fails_the_tps_threshold_and_is_named(
    sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sb = sandbox_factory(servers=4, keepalive_s=1.0)
    lagging = [s.id for s in sb.servers()[:2]]
    sb.inject(lagging, "lag", tps=5.0)
    config = _config(_targets(sb), _players(population=4, rush_joins=0, session_s=6.0), duration_s=10.0)
    run = run_load(config, tmp_path / "load")
    record = load_evidence(config, run.result, check="itest", outputs=run.outputs)
    players = record.players
    assert players["verdict"] == "fail", players["reason"]
    failed = [t["expression"] for t in players["thresholds"] if not t["passed"]]
    assert failed == ["tps_min >= 15"]
    assert 3.0 <= players["metrics"]["tps_min"] <= 7.0  # the lag fault's 5 TPS, measured by the players
    by_server = players["figures"]["tps"]["min_by_server"]
    assert {s for s, tps in by_server.items() if tps < 15} == set(lagging)  # the lagging servers, named
