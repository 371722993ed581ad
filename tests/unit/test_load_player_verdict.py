"""Player load, the pure parts: the player plan (population + rush), settings, the bounded player collector,
TPS windows, and the player verdict under the generator's saturation rules."""

from __future__ import annotations

import dataclasses
import json

import pytest
from pydantic import ValidationError

from mcproof.config import load_environment
from mcproof.errors import ConfigError
from mcproof.load.locust_process import _with_players
from mcproof.load.plan import LoadConfig, load_config_for
from mcproof.load.player_collector import PlayerCollector
from mcproof.load.player_judge import judge_players, player_metrics, tps_windows
from mcproof.load.settings import LoadSettings, PlayerLoadSettings
from mcproof.load.shapes import PlayerPlan, player_name, player_plan_from_settings, thresholds_from_slo
from mcproof.target import Target

PLAN = PlayerPlan(
    population=2,
    rush_joins=2,
    protocol=769,
    thresholds=("join_success_ratio >= 0.9", "join_p95_ms < 2000", "drop_ratio <= 0", "tps_min >= 15"),
)


def _join(server: str, ok: bool = True, join_s: float = 0.05, kind: str | None = None) -> dict[str, object]:
    return {"server": server, "ok": ok, "join_s": join_s if ok else None, "error_kind": kind, "phase": "play"}


def _session(server: str, reason: str = "left") -> dict[str, object]:
    return {"server": server, "player": "p", "reason": reason, "detail": "", "joined_mono": 0.0, "ended_mono": 8.0}


def _ticking(start: float, seconds: int, tps: float = 20.0) -> list[list[float]]:
    return [[round((start + t) * tps), start + t] for t in range(seconds + 1)]  # one world clock


def test_rush_joins_spread_evenly_within_the_window_after_the_population() -> None:
    plan = PlayerPlan(population=3, rush_joins=5, rush_within_s=10.0, rush_at_s=20.0)
    assert plan.players == 8
    assert [plan.join_at_s(i) for i in range(8)] == [0.0, 0.0, 0.0, 20.0, 22.0, 24.0, 26.0, 28.0]


def test_player_names_are_valid_offline_names_and_distinct() -> None:
    names = {player_name("mcproof", w, s) for w in range(4) for s in range(5000)}
    assert len(names) == 20_000
    assert all(len(n) <= 16 and n.replace("_", "").isalnum() for n in names)


def test_player_settings_refuse_unknown_metrics_and_a_rush_past_the_run() -> None:
    with pytest.raises(ValidationError, match="unknown metric 'status_p95_ms'"):
        PlayerLoadSettings(thresholds=("status_p95_ms < 250",))  # a ping metric is not a player metric
    with pytest.raises(ValidationError, match="unknown metric 'join_p95_ms'"):
        LoadSettings(thresholds=("join_p95_ms < 250",))  # and the other way round
    settings = PlayerLoadSettings(population=1, rush={"joins": 5, "within_s": 10, "at_s": 15})
    with pytest.raises(ConfigError, match=r"rush ends at 25 s, after the run's 20 s"):
        player_plan_from_settings(settings, 20.0, protocol=769)
    assert player_plan_from_settings(PlayerLoadSettings(), 20.0, protocol=769) is None  # no players asked


def test_the_local_environment_asks_for_a_small_mixed_run_and_the_config_round_trips() -> None:
    env = load_environment("local")
    config = load_config_for(env, [Target("mc-1", "127.0.0.1", 25565)])
    assert config.players is not None
    assert 0 < config.players.players <= 10  # bounded: the suites' added time stays small
    assert config.players.protocol == env.minecraft.expect.protocol
    assert env.players is not None
    assert config.players.join_timeout_s == env.players.phase_timeout_s  # deadlines from players:, not repeated
    assert "join_p95_ms <= 3000" in thresholds_from_slo(env.players.slo)  # the default when none are given
    assert "join_p95_ms <= 3000" in config.players.thresholds
    assert config.players.rush_at_s + config.players.rush_within_s <= config.plan.duration_s
    assert LoadConfig.from_dict(json.loads(config.to_json())) == config
    assert load_config_for(env, [Target("mc-1", "127.0.0.1", 25565)], players=0).players is None  # --players 0


def test_tps_windows_measure_the_tick_rate_and_restart_on_a_new_world_clock() -> None:
    assert tps_windows([(a, t) for a, t in _ticking(100.0, 10, 10.0)]) == [10.0, 10.0]
    restarted = [(2000 + t * 20, float(t)) for t in range(6)] + [(t * 20, 6.0 + t) for t in range(6)]
    assert tps_windows(restarted) == [20.0, 20.0]  # the drop to world age 0 is a restart, not -400 TPS


def test_player_collector_stays_bounded_and_merges() -> None:
    worker = PlayerCollector(samples_cap=10, tps_cap=50, process="w1")
    for i in range(1000):
        worker.record_join(_join(f"mc-{i % 3}"))
        worker.record_session(_session(f"mc-{i % 3}"), _ticking(i * 8.0, 8))  # 8 s sessions back to back
    worker.record_join(_join("mc-9", ok=False, kind="refused"))
    snapshot = worker.snapshot()
    assert len(snapshot["join_samples"]) <= 10
    assert len(snapshot["session_samples"]) <= 10
    assert any(not s["ok"] for s in snapshot["join_samples"])  # a failure is kept even past half the cap
    assert all(len(series) <= 50 for series in snapshot["time_series"].values())
    assert snapshot["samples_seen"] == {"joins": 1001, "sessions": 1000}
    master = PlayerCollector(samples_cap=10, tps_cap=50, process="master")
    master.merge(json.loads(json.dumps(worker.drain())))  # what crosses from a worker is JSON
    assert master.joins == {"attempts": 1001, "ok": 1000}
    assert worker.joins == {"attempts": 0, "ok": 0}  # drained
    windows = [w for s in master.series().values() for w in tps_windows(s)]
    assert windows
    assert min(windows) == pytest.approx(20.0, abs=0.1)
    assert sum(master.join_hist.values()) == 1000


def _collector(*, refused: int = 0, dropped: int = 0, tps: float = 20.0) -> PlayerCollector:
    c = PlayerCollector(process="p")
    for i in range(10):
        c.record_join(_join(f"mc-{i % 2}", join_s=0.04))
        c.record_session(_session(f"mc-{i % 2}", "closed" if i < dropped else "left"), _ticking(i * 8.0, 8, tps))
    for _ in range(refused):
        c.record_join(_join("mc-5", ok=False, kind="refused"))
    return c


def _judge(c: PlayerCollector, reasons: tuple[str, ...] = ()) -> dict[str, object]:
    return judge_players(
        PLAN, c, saturation_reasons=list(reasons), saturation_fix="run with --workers N", max_lag_p95_ms=100
    )


def test_players_pass_with_figures_and_sample_counts() -> None:
    out = _judge(_collector())
    assert out["verdict"] == "pass", out["reason"]
    metrics = player_metrics(_collector(), PLAN)
    assert metrics["join_success_ratio"] == 1.0
    assert metrics["join_p95_ms"] == 40.0
    assert metrics["drop_ratio"] == 0.0
    assert metrics["tps_min"] == pytest.approx(20.0)
    figures = out["figures"]
    assert isinstance(figures, dict)
    assert figures["join_ms"]["count"] == 10
    assert figures["tps"]["windows"] > 0


def test_refused_logins_fail_the_player_thresholds_even_when_the_generator_is_saturated() -> None:
    out = _judge(_collector(refused=5), reasons=("CPU share 0.97 > 0.9",))
    assert out["verdict"] == "fail"
    assert "mc-5" in str(out["reason"])
    assert "refused x5" in str(out["reason"])
    assert "also saturated" in str(out["reason"])


def test_a_saturated_generator_makes_player_failures_inconclusive() -> None:
    out = _judge(_collector(dropped=3), reasons=("event-loop lag p95 400 ms > 100 ms",))
    assert out["verdict"] == "inconclusive"
    assert str(out["reason"]).startswith("generator saturated: ")
    assert out["fix"] == "run with --workers N"


def test_a_ratio_too_few_samples_resolve_is_inconclusive_never_pass() -> None:
    plan = dataclasses.replace(PLAN, thresholds=("join_success_ratio >= 0.99",))  # a 1 % budget: 100 joins
    out = judge_players(plan, _collector(), saturation_reasons=[], saturation_fix="", max_lag_p95_ms=100)
    assert out["verdict"] == "inconclusive"
    assert "holds on 10 join attempts; resolving a 1 % budget takes 100" in str(out["reason"])


def test_no_threshold_declared_is_inconclusive_never_pass() -> None:
    out = judge_players(
        PlayerPlan(population=2), _collector(), saturation_reasons=[], saturation_fix="", max_lag_p95_ms=100
    )
    assert out["verdict"] == "inconclusive"
    assert "players.slo" in str(out["fix"])


def test_drops_and_a_slow_tick_fail_and_nothing_joined_is_inconclusive() -> None:
    out = _judge(_collector(dropped=2))
    assert out["verdict"] == "fail"
    assert "drop_ratio <= 0" in str(out["reason"])
    assert _judge(_collector(tps=10.0))["verdict"] == "fail"
    assert _judge(PlayerCollector())["verdict"] == "inconclusive"


def test_late_rush_joins_are_the_generators_saturation() -> None:
    c = _collector(dropped=1)
    c.record_join(_join("mc-0"), lag_ms=900.0)
    out = _judge(c)
    assert out["verdict"] == "inconclusive"
    assert "join lag p95 900 ms" in str(out["reason"])


def test_the_run_verdict_combines_pings_and_players() -> None:
    pings = {"verdict": "pass", "reason": "", "fix": ""}
    assert _with_players(pings, {"verdict": "pass"})["verdict"] == "pass"
    failed = _with_players(pings, {"verdict": "fail", "reason": "join_p95_ms < 2000", "fix": ""})
    assert failed["verdict"] == "fail"
    assert failed["reason"] == "players: join_p95_ms < 2000"
    both = _with_players(
        {"verdict": "inconclusive", "reason": "generator saturated: x", "fix": "f"},
        {"verdict": "fail", "reason": "refused", "fix": "g"},
    )
    assert both["verdict"] == "fail"
    assert both["reason"] == "generator saturated: x; players: refused"
