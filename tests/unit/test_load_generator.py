"""The generator's own figures: schedule accounting, the saturation rule, the capacity count and the verdict
(pure functions and the collector; no network, no Locust import)."""

from __future__ import annotations

import json

import pytest

from mcproof.load.collector import LoadCollector
from mcproof.load.generator import (
    SaturationLimits,
    accounting_span,
    advance_schedule,
    cpu_share,
    saturation_reasons,
    served_throughout,
    slots_in_span,
)
from mcproof.load.judge import judge_run
from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.shapes import plan_shape

HEALTHY = {
    "paced": True,
    "cpu_share_max": 0.35,
    "schedule_lag_p95_ms": 4.0,
    "scheduled": 5000,
    "generator_slots": 5000,
    "late_or_dropped": 3,
    "users": 1000,
    "peak_users": 1000,
    "peak_reached_s": 0.4,
    "window_start_s": 5.0,
}


def test_schedule_keeps_its_phase_and_counts_skipped_slots() -> None:
    assert advance_schedule(100.0, 100.01, 4.0) == (104.0, 0)
    assert advance_schedule(100.0, 103.99, 4.0) == (104.0, 0)  # late but inside the slot: nothing skipped
    assert advance_schedule(100.0, 104.0, 4.0) == (108.0, 1)
    assert advance_schedule(100.0, 113.0, 4.0) == (116.0, 3)  # phase kept: next slot on the 4 s grid
    assert advance_schedule(100.0, 100.5, 0.0) == (100.5, 0)  # unpaced


def test_skipped_slots_are_counted_only_inside_the_span() -> None:
    assert slots_in_span(100.0, 1.0, 10, (103.0, 106.0)) == 3  # 103, 104, 105
    assert slots_in_span(100.0, 1.0, 2, (103.0, 106.0)) == 0  # 101, 102 are before the span
    assert slots_in_span(100.0, 1.0, 0, (100.0, 200.0)) == 0


def test_accounting_span_has_the_same_length_in_every_process() -> None:
    spans = [accounting_span(start, (5.0, 20.0), tail_s=3.0) for start in (1000.0, 1000.01, 1000.5, 1000.99)]
    assert {round(last - first, 6) for first, last in spans} == {12.0}
    assert accounting_span(1000.0, (1.5, 2.0), tail_s=3.0) == (1001.5, 1001.5)  # too short: empty, never negative


def test_cpu_share_is_cpu_time_over_wall_time_inside_the_span() -> None:
    samples = {s: (s + 0.5, (s - 100) * 0.97) for s in range(100, 120)}
    assert cpu_share(samples, (105.0, 115.0)) == pytest.approx(0.97)
    assert cpu_share(samples, (200.0, 210.0)) is None  # no samples: not measured, not zero


def test_a_generator_that_kept_up_is_not_saturated() -> None:
    assert saturation_reasons(HEALTHY, SaturationLimits()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"cpu_share_max": 0.97}, "97 % CPU of one core in a generator process (limit 90 %)"),
        ({"schedule_lag_p95_ms": 1200.0}, "schedule lag p95 1,200 ms (limit 100 ms)"),
        ({"late_or_dropped": 60}, "1.2 % of scheduled pings late (> 500 ms) or dropped (limit 1 %)"),
        ({"peak_users": 880}, "only 880 of 1,000 users were ever running"),
        ({"peak_reached_s": 6.5}, "all users were running only 6.5 s after start"),
    ],
)
def test_each_documented_limit_makes_the_generator_saturated(change: dict[str, object], expected: str) -> None:
    reasons = saturation_reasons({**HEALTHY, **change}, SaturationLimits())
    assert len(reasons) == 1
    assert reasons[0].startswith(expected)


def test_slots_a_slow_server_held_do_not_count_against_the_generator() -> None:
    # 3 of 20 servers answer in 2 s with a 0.5 s interval: most of their slots are missed, by the server
    figures = {**HEALTHY, "scheduled": 5000, "generator_slots": 4000, "late_or_dropped": 10}
    assert saturation_reasons(figures, SaturationLimits()) == []


def test_limits_come_from_the_environment() -> None:
    limits = SaturationLimits.from_dict({"max_cpu_share": 0.5, "unknown": 1})
    assert limits.max_cpu_share == 0.5
    assert saturation_reasons(HEALTHY, limits) == []
    assert saturation_reasons({**HEALTHY, "cpu_share_max": 0.6}, limits)


def test_capacity_counts_only_servers_served_throughout() -> None:
    per_target = {
        "mc-1": {"ok": 4},
        "mc-2": {"ok": 3},  # fewest slots one full window holds at 4 s over 14 s: still served
        "mc-3": {"ok": 2, "failed": 2},  # killed mid-window: not counted
        "mc-4": {"ok": 1, "missed": 2},  # held the user past its slots (too slow): not counted
        "mc-5": {"ok": 1},  # started late / pinged only once: not counted
        "mc-6": {"ok": 3, "dropped": 1},  # the generator dropped a ping: not evidenced
    }
    assert served_throughout(per_target, min_slots=3) == 2
    assert served_throughout({}, min_slots=3) == 0


def _collector(span: tuple[float, float]) -> LoadCollector:
    c = LoadCollector(interval_s=1.0, late_after_ms=500.0, process="host:1")
    c.span = span
    return c


def test_collector_counts_sent_late_dropped_missed_and_merges() -> None:
    worker_a, worker_b, master = _collector((100.0, 110.0)), _collector((100.0, 110.0)), LoadCollector()
    for due in range(100, 110):
        worker_a.record_slot("mc-1", ok=True, due=due + 0.3, lag_ms=1.0, corrected_ms=3.0)
        worker_a.sample_cpu(due + 0.31, (due - 100) * 0.2)
    worker_b.record_slot("mc-2", ok=True, due=100.2, lag_ms=2600.0, corrected_ms=2603.0, skipped=2)  # generator late
    worker_b.record_slot("mc-3", ok=False, due=100.5, lag_ms=0.0, corrected_ms=3000.0, skipped=3, server_skipped=3)
    worker_b.record_slot("mc-4", ok=True, due=99.5, lag_ms=0.0, corrected_ms=2.0)  # before the span: not counted
    for worker in (worker_a, worker_b):
        master.merge(json.loads(json.dumps(worker.drain())))
    assert master.slots == {"sent": 12, "late": 1, "dropped": 2, "missed": 3}
    assert {t: dict(k) for t, k in master.slots_by_target.items()} == {
        "mc-1": {"ok": 10},
        "mc-2": {"ok": 1, "dropped": 2},
        "mc-3": {"failed": 1, "missed": 3},
    }
    assert sum(master.lag_hist.values()) == 12
    assert cpu_share(master.cpu["host:1"], (100.0, 110.0)) == pytest.approx(0.2)


def _config(users: int = 100, interval: float = 1.0) -> LoadConfig:
    return LoadConfig(
        environment="unit",
        targets=tuple(TargetRef(f"mc-{i:05d}", "127.1.0.1", 25565 + i) for i in range(100)),
        users=users,
        plan=plan_shape("steady", users=users, duration_s=12, ping_interval_s=interval),
        ping_interval_s=interval,
        timeout_s=1.0,
        thresholds=("status_p95_ms < 250",),
    )


def _run(collector: LoadCollector, *, thresholds_passed: bool, users: int = 100) -> dict[str, object]:
    return judge_run(
        _config(users),
        collector,
        thresholds_passed=thresholds_passed,
        span=collector.span or (0.0, 0.0),
        peak_users=users,
        peak_reached_s=0.1,
        pings_per_s=100.0,
    )


def _healthy_collector(lag_ms: float = 1.0, dead: tuple[int, ...] = ()) -> LoadCollector:
    c = _collector((1000.0, 1010.0))
    for second in range(1000, 1010):
        for i in range(100):
            c.record_slot(f"mc-{i:05d}", ok=i not in dead, due=second + i / 100, lag_ms=lag_ms, corrected_ms=lag_ms + 2)
            c.sample_cpu(second + i / 100 + 0.002, (second - 1000 + i / 100) * 0.3)
    return c


def test_judge_passes_a_conclusive_run_and_counts_servers_served() -> None:
    judged = _run(_healthy_collector(dead=(7,)), thresholds_passed=True)
    assert judged["verdict"] == "pass"
    assert judged["servers_served"] == 99  # mc-00007 failed its pings: not served throughout
    assert judged["stated"] == "100 servers, each pinged every 1 s (100 pings/s asked)"
    assert judged["generator"]["cpu_share_max"] == pytest.approx(0.3, abs=0.01)  # type: ignore[index]


def test_judge_fails_on_thresholds_only_when_the_generator_kept_up() -> None:
    assert _run(_healthy_collector(), thresholds_passed=False)["verdict"] == "fail"
    judged = _run(_healthy_collector(lag_ms=1200.0), thresholds_passed=False)
    assert judged["verdict"] == "inconclusive"  # saturated: never FAIL (nor PASS)
    assert str(judged["reason"]).startswith("generator saturated: schedule lag p95 1,200 ms (limit 100 ms)")
    assert "sent 100 of the 100 pings/s asked" in str(judged["reason"])
    assert "--workers N" in str(judged["fix"])
    assert judged["servers_served"] is None  # capacity not measured by a saturated run
    assert _run(_healthy_collector(lag_ms=1200.0), thresholds_passed=True)["verdict"] == "inconclusive"


def test_saturation_does_not_hide_failures_no_queue_causes() -> None:
    saturated = _healthy_collector(lag_ms=1200.0)
    saturated.record("SLP", "mc-00042", ok=False, kind="refused", response_time_ms=0.2, at=1005.0)
    saturated.record("SLP", "mc-00043", ok=False, kind="timeout", response_time_ms=1000.0, at=1005.0)
    judged = _run(saturated, thresholds_passed=False)
    assert judged["verdict"] == "fail"
    assert "1 server(s) refused or answered wrongly (mc-00042)" in str(judged["reason"])
    assert "generator was also saturated" in str(judged["reason"])
    # Timeouts alone under saturation stay inconclusive (the queue may have caused them) ...
    timeouts = _healthy_collector(lag_ms=1200.0)
    timeouts.record("SLP", "mc-00043", ok=False, kind="timeout", response_time_ms=1000.0, at=1005.0)
    assert _run(timeouts, thresholds_passed=False)["verdict"] == "inconclusive"
    # ... and a refusal within the thresholds does not turn a saturated run into a FAIL.
    assert _run(saturated, thresholds_passed=True)["verdict"] == "inconclusive"


def test_a_too_short_run_does_not_hide_servers_that_answered_wrongly() -> None:
    short = _collector((1000.0, 1000.0))
    short.record("SLP", "mc-00009", ok=False, kind="wrong_version", response_time_ms=2.0, at=1000.0)
    judged = _run(short, thresholds_passed=False)
    assert judged["verdict"] == "fail"
    assert "1 server(s) refused or answered wrongly (mc-00009)" in str(judged["reason"])
    assert "held no scheduled ping" in str(judged["reason"])
    assert _run(short, thresholds_passed=True)["verdict"] == "inconclusive"  # nothing failed: still unmeasured


def test_a_window_without_scheduled_pings_is_unmeasured_not_saturated() -> None:
    judged = _run(_collector((1000.0, 1000.0)), thresholds_passed=True)
    assert judged["verdict"] == "inconclusive"
    assert str(judged["reason"]).startswith("no status ping was scheduled inside the full-load window")
    assert "generator saturated" not in str(judged["reason"])
    assert "load.duration_s" in str(judged["fix"])
