"""Sizing and the newer saturation rules: loop lag, missing workers, CPU per ping, the plan line, --workers auto,
and latency thresholds over the full-load window (pure; no network, no Locust import)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mcproof.cli import main
from mcproof.load.collector import LoadCollector
from mcproof.load.generator import SaturationLimits, cpu_us_per_ping, saturation_fix, saturation_reasons
from mcproof.load.judge import judge_run
from mcproof.load.metrics import compute_metrics
from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.shapes import plan_shape
from mcproof.load.sizing import Calibration, MachineCores, auto_workers, plan_figures, plan_line, spare_cores

HEALTHY = {
    "paced": True,
    "cpu_share_max": 0.35,
    "schedule_lag_p95_ms": 4.0,
    "loop_lag_p95_ms_max": 3.0,
    "loop_lag_worst_process": "worker-1 h:2",
    "missing_workers": [],
    "scheduled": 5000,
    "generator_slots": 5000,
    "late_or_dropped": 0,
    "users": 1000,
    "peak_users": 1000,
    "peak_reached_s": 0.4,
    "window_start_s": 5.0,
}


def test_healthy_processes_are_not_saturated() -> None:
    assert saturation_reasons(HEALTHY, SaturationLimits()) == []


def test_event_loop_lag_past_its_limit_is_saturation_naming_the_process() -> None:
    reasons = saturation_reasons({**HEALTHY, "loop_lag_p95_ms_max": 450.0}, SaturationLimits())
    assert reasons == ["event-loop lag p95 450 ms in worker-1 h:2 (limit 100 ms)"]
    assert (
        saturation_reasons({**HEALTHY, "loop_lag_p95_ms_max": 450.0}, SaturationLimits(max_loop_lag_p95_ms=500)) == []
    )


def test_a_missing_worker_is_saturation_naming_it() -> None:
    figures = {**HEALTHY, "missing_workers": [{"worker": "worker-2 h:77", "missing_at_s": 4.2}]}
    (reason,) = saturation_reasons(figures, SaturationLimits())
    assert reason.startswith("worker worker-2 h:77 went missing 4.2 s into the run")


def test_cpu_per_ping_counts_the_processes_that_send_pings_not_the_master() -> None:
    assert cpu_us_per_ping({"master h:1": 0.9, "worker-1 h:2": 0.25, "worker-2 h:3": 0.25}, 1000.0) == 500.0
    assert cpu_us_per_ping({"local h:1": 0.3}, 600.0) == 500.0
    assert cpu_us_per_ping({"local h:1": None}, 600.0) is None  # not measured, not zero
    assert cpu_us_per_ping({"local h:1": 0.3}, None) is None


def test_fix_names_the_workers_the_run_itself_says_it_needs() -> None:
    assert saturation_fix(0, needed=3).startswith("run with --workers 3 ")
    assert saturation_fix(4, needed=3).startswith("run with more than 4 workers")  # 4 were not enough: not 3


def _config(users: int = 100, interval: float = 1.0, workers: int = 0) -> LoadConfig:
    return LoadConfig(
        environment="unit",
        targets=tuple(TargetRef(f"mc-{i:05d}", "127.1.0.1", 25565 + i) for i in range(100)),
        users=users,
        plan=plan_shape("steady", users=users, duration_s=12, ping_interval_s=interval),
        ping_interval_s=interval,
        timeout_s=1.0,
        thresholds=("status_p95_ms < 250",),
        workers=workers,
    )


def _healthy(processes: tuple[str, ...] = ("master h:1", "worker-1 h:2", "worker-2 h:3")) -> LoadCollector:
    c = LoadCollector(interval_s=1.0, process=processes[0])
    c.span = (1000.0, 1010.0)
    for second in range(1000, 1010):
        for i in range(100):
            c.record_slot(f"mc-{i:05d}", ok=True, due=second + i / 100, lag_ms=1.0, corrected_ms=3.0, service_ms=2.0)
    for n, process in enumerate(processes):
        c.process = process
        for second in range(1000, 1011):
            c.sample_cpu(second + 0.5, (second - 1000) * (0.02 if n == 0 else 0.1))
            c.sample_loop_lag(second + 0.5, 1.0)
    return c


def _judge(collector: LoadCollector, missing: list[dict[str, object]] | None = None) -> dict[str, object]:
    return judge_run(
        _config(workers=2),
        collector,
        thresholds_passed=True,
        span=(1000.0, 1010.0),
        peak_users=100,
        peak_reached_s=0.1,
        pings_per_s=100.0,
        missing_workers=missing,
    )


def test_judge_measures_every_process_and_passes_when_all_kept_up() -> None:
    judged = _judge(_healthy())
    generator = judged["generator"]
    assert judged["verdict"] == "pass"
    assert sorted(generator["cpu_share_by_process"]) == ["master h:1", "worker-1 h:2", "worker-2 h:3"]  # type: ignore[index]
    assert sorted(generator["loop_lag_p95_ms_by_process"]) == ["master h:1", "worker-1 h:2", "worker-2 h:3"]  # type: ignore[index]
    assert generator["cpu_us_per_ping"] == pytest.approx(2000.0)  # type: ignore[index]  # 2 x 0.1 core / 100 pings/s
    assert generator["workers_needed"] == 1  # type: ignore[index]


def test_judge_a_missing_worker_makes_the_run_inconclusive_naming_it() -> None:
    judged = _judge(_healthy(), missing=[{"worker": "worker-2 h:3", "missing_at_s": 5.0}])
    assert judged["verdict"] == "inconclusive"
    assert "worker worker-2 h:3 went missing 5.0 s into the run" in str(judged["reason"])
    assert "locust-worker-N.log" in str(judged["fix"])
    assert judged["servers_served"] is None


def test_judge_a_lagging_event_loop_makes_the_run_inconclusive() -> None:
    c = _healthy()
    c.process = "worker-2 h:3"
    for second in range(1000, 1010):
        for _ in range(20):
            c.sample_loop_lag(second + 0.6, 800.0)
    judged = _judge(c)
    assert judged["verdict"] == "inconclusive"
    assert "event-loop lag p95 800 ms in worker-2 h:3" in str(judged["reason"])


def test_loop_lag_outside_the_window_is_not_counted() -> None:
    c = _healthy()
    for _ in range(100):
        c.sample_loop_lag(990.0, 5000.0)  # during the ramp
    assert _judge(c)["verdict"] == "pass"


def test_latency_thresholds_hold_the_full_load_window_not_the_ramp() -> None:
    c = LoadCollector(interval_s=1.0)
    c.span = (1000.0, 1010.0)
    for i in range(100):
        c.record_slot("mc-1", ok=True, due=1000.0 + i / 10, lag_ms=0.5, corrected_ms=3.0, service_ms=2.0)
    c.record_slot("mc-1", ok=True, due=995.0, lag_ms=0.5, corrected_ms=900.0, service_ms=900.0)  # ramp: excluded
    stats = {
        "SLP": {"requests": 101, "failures": 0, "p95": 900.0, "p50": 2.0, "max": 900.0},
        "start_time": 990.0,
        "last_request": 1010.0,
    }  # Locust's whole-run table includes the ramp
    metrics = compute_metrics(stats, c, full_load_window=(1000.0, 1010.0), peak_users=1)
    assert metrics["status_p95_ms"] == 2.0
    assert metrics["status_max_ms"] == 2.0
    # ... and a slow ping inside the window is seen (the negative)
    for i in range(10):
        c.record_slot("mc-1", ok=True, due=1005.0 + i / 100, lag_ms=0.5, corrected_ms=600.0, service_ms=600.0)
    assert compute_metrics(stats, c, full_load_window=(1000.0, 1010.0), peak_users=1)["status_p95_ms"] == 600.0


def test_query_latency_counts_exchanges_started_in_the_window() -> None:
    c = LoadCollector(interval_s=1.0)
    c.span = (1000.0, 1010.0)
    c.record("QUERY", "mc-1", ok=True, kind=None, response_time_ms=5.0, at=1005.0)
    c.record("QUERY", "mc-1", ok=True, kind=None, response_time_ms=700.0, at=999.0)  # ramp
    merged = LoadCollector(interval_s=1.0)
    merged.span = c.span
    merged.merge(json.loads(json.dumps(c.drain())))
    stats = {"QUERY": {"requests": 2, "failures": 0, "p95": 700.0}, "start_time": 990.0, "last_request": 1010.0}
    assert compute_metrics(stats, merged, full_load_window=c.span, peak_users=1)["query_p95_ms"] == 5.0


def test_spare_cores_reserve_the_master_and_a_local_sandbox() -> None:
    assert spare_cores(2.0, sandbox_here=True) == 0
    assert spare_cores(2.0, sandbox_here=False) == 1
    assert spare_cores(7.9, sandbox_here=True) == 5
    assert spare_cores(0.3, sandbox_here=False) == 0  # never negative
    assert MachineCores(usable=8, idle=6.4, sandbox_here=True).spare == 4
    assert [auto_workers(n) for n in (0, 1, 2, 5)] == [0, 0, 2, 5]


CAL = Calibration(users=100, seconds=3.0, pings=4500, pings_per_s=1500.0, cpu_share=0.9, cpu_us_per_ping=600.0)


def test_plan_that_needs_more_workers_than_cores_says_so() -> None:
    figures = plan_figures(
        users=10_000,
        servers=10_000,
        interval_s=5.0,
        workers=0,
        calibration=CAL,
        max_cpu_share=0.9,
        cores=MachineCores(usable=2, idle=1.9, sandbox_here=True),
    )
    assert figures["asked_pings_per_s"] == 2000.0
    assert figures["one_worker_pings_per_s"] == 1500
    assert figures["workers_needed"] == 2
    assert figures["enough"] is False
    line = plan_line(figures)
    assert line.startswith("plan: 10,000 servers, each pinged every 5 s: 2,000 pings/s asked")
    assert "needs 2 workers" in line
    assert "NOT ENOUGH, expect INCONCLUSIVE" in line
    assert "run on more cores or hosts (--workers 2 needs 4 idle cores here, 1 idle)" in line


def test_plan_that_fits_says_so() -> None:
    figures = plan_figures(
        users=1000,
        servers=1000,
        interval_s=4.0,
        workers=0,
        calibration=CAL,
        max_cpu_share=0.9,
        cores=MachineCores(usable=2, idle=1.9, sandbox_here=True),
    )
    assert figures["workers_needed"] == 1
    assert figures["enough"] is True
    assert "this run: local runner (1 process): enough" in plan_line(figures)
    big = plan_figures(
        users=10_000,
        servers=10_000,
        interval_s=2.0,
        workers=4,
        calibration=CAL,
        max_cpu_share=0.9,
        cores=MachineCores(usable=8, idle=8.0, sandbox_here=True),
    )
    assert big["workers_needed"] == 4
    assert big["enough"] is True
    assert "--workers 4 (or --workers auto) fits" in plan_line(big)


def test_plan_without_a_calibration_says_not_measured() -> None:
    empty = Calibration(users=10, seconds=3.0, pings=0, pings_per_s=None, cpu_share=None, cpu_us_per_ping=None)
    figures = plan_figures(
        users=100, servers=100, interval_s=1.0, workers=0, calibration=empty, max_cpu_share=0.9, cores=None
    )
    assert figures["workers_needed"] is None
    assert figures["enough"] is None
    assert "one worker on this machine: not measured" in plan_line(figures)


@pytest.mark.parametrize("value", ["lots", "65", "-1"])
def test_workers_option_refuses_bad_values_in_one_line(value: str) -> None:
    result = CliRunner().invoke(main, ["load", "--env", "local", "--workers", value])
    assert result.exit_code == 2
    assert "--workers" in result.output
    assert "Traceback" not in result.output


def test_calibration_is_bounded_in_users_pings_and_time() -> None:
    from mcproof.load.calibration import calibration_config

    cal = calibration_config(_config(users=100, interval=5.0, workers=4).with_changes(users=10_000))
    assert cal.users == 100
    assert cal.workers == 0
    assert cal.ping_interval_s == 0
    assert cal.plan.duration_s == 4.0
    assert cal.users * cal.max_pings_per_user <= 20_000
    assert cal.hard_deadline_s <= 4.0 + 5.0 + 30.0


def test_corrected_latency_and_dropped_ratio_can_be_held_by_thresholds() -> None:
    from mcproof.load.thresholds import evaluate, parse_thresholds

    c = LoadCollector(interval_s=1.0, late_after_ms=500.0)
    c.span = (1000.0, 1010.0)
    for i in range(95):
        c.record_slot("mc-1", ok=True, due=1000.0 + i / 10, lag_ms=0.5, corrected_ms=3.0, service_ms=2.0)
    c.record_slot("mc-2", ok=True, due=1001.0, lag_ms=2600.0, corrected_ms=2602.0, service_ms=2.0, skipped=5)
    stats = {"SLP": {"requests": 96, "failures": 0}, "start_time": 990.0, "last_request": 1010.0}
    metrics = compute_metrics(stats, c, full_load_window=c.span, peak_users=2, ping_interval_s=1.0)
    assert metrics["status_p95_ms"] == 2.0  # service time: the server was fast ...
    assert metrics["dropped_ratio"] == pytest.approx(5 / 101)  # ... but the generator dropped 5 of 101 slots
    results = evaluate(
        parse_thresholds(("status_p95_ms < 250", "dropped_ratio < 0.01", "status_corrected_p95_ms < 250")), metrics
    )
    assert [r.passed for r in results] == [True, False, True]
    unpaced = compute_metrics(stats, c, full_load_window=c.span, peak_users=2, ping_interval_s=0.0)
    assert unpaced["dropped_ratio"] is None  # unpaced: no schedule, not measured (its threshold fails)


def test_a_generator_that_waited_for_cpu_is_told_so() -> None:
    c = _healthy(("local h:1",))
    for second in range(1000, 1010):
        for _ in range(20):
            c.sample_loop_lag(second + 0.6, 400.0)
    judged = judge_run(
        _config(),
        c,
        thresholds_passed=False,
        span=(1000.0, 1010.0),
        peak_users=100,
        peak_reached_s=0.1,
        pings_per_s=100.0,
    )
    assert judged["verdict"] == "inconclusive"
    assert str(judged["fix"]).startswith("the generator waited for CPU rather than used it (2 % of one core")


def test_a_saturated_sandbox_turns_a_fail_into_inconclusive_naming_the_shard_but_a_pass_stands() -> None:
    from mcproof.load.target_side import judge_sandbox

    busy = {
        "sandbox shard 7": {10: (10.0, 0.0), 20: (20.0, 9.7)},
        "sandbox shard 8": {10: (10.0, 0.0), 20: (20.0, 2.0)},
    }
    base = {"reason": "", "fix": "", "metrics": {"pings_per_s": 1000.0}, "generator": {"span_epoch": [10.0, 20.0]}}
    failed = judge_sandbox({**base, "verdict": "fail", "passed": False}, busy, 0.9)
    assert failed["verdict"] == "inconclusive"
    assert "sandbox shard 7 at 97 % CPU" in failed["reason"]
    assert "sandbox shard 8" not in failed["reason"]
    assert "sandbox.shard_size" in failed["fix"]
    assert failed["sandbox"]["cpu_us_per_answered_ping"] == pytest.approx(1170.0)
    passed = judge_sandbox({**base, "verdict": "pass", "passed": True}, busy, 0.9)
    assert passed["verdict"] == "pass"  # it kept up well enough
    idle = {"sandbox shard 7": {10: (10.0, 0.0), 20: (20.0, 1.0)}}
    assert (
        judge_sandbox({**base, "verdict": "fail", "passed": False}, idle, 0.9)["verdict"] == "fail"
    )  # not the sandbox


@pytest.mark.parametrize(("wait_share", "starved"), [(0.4, True), (0.01, False)])
def test_run_queue_wait_decides_whether_a_late_generator_was_starved(wait_share: float, starved: bool) -> None:
    c = _healthy(("local h:1",))
    for second in range(1000, 1011):
        c.sample_runq(second + 0.5, (second - 1000) * wait_share)
        for _ in range(20):
            c.sample_loop_lag(second + 0.6, 400.0)
    judged = judge_run(
        _config(),
        c,
        thresholds_passed=False,
        span=(1000.0, 1010.0),
        peak_users=100,
        peak_reached_s=0.1,
        pings_per_s=100.0,
    )
    assert judged["verdict"] == "inconclusive"
    assert judged["generator"]["cpu_wait_share_max"] == pytest.approx(wait_share)  # type: ignore[index]
    fix = str(judged["fix"])
    assert fix.startswith("the generator waited for CPU") is starved
    if starved:
        assert "waited for a core 40 % of the time" in fix
