"""Recovery maths on recorded observer samples, and reading the injection time from a chaoslib journal."""

from __future__ import annotations

import pytest

from mcproof.chaos.measure import injection_time
from mcproof.chaos.recovery import Sample, compute_recovery, epoch_to_iso, iso_to_epoch, projected_availability
from mcproof.chaos.watch import fleet_ratio_estimate

# Recorded shape: 3 targets at 0.5 s; "b" killed at t=100.2, restarted ~1.1 s later; "c" never comes back.
SAMPLES = [
    *(Sample("a", 100.0 + 0.5 * k, True, 1.0) for k in range(8)),
    Sample("b", 100.0, True, 1.2),
    Sample("b", 100.5, False, None, "refused"),
    Sample("b", 101.0, False, None, "refused"),
    Sample("b", 101.5, True, 1.1),
    Sample("b", 102.0, True, 1.0),
    Sample("c", 100.0, True, 1.0),
    *(Sample("c", 100.5 + 0.5 * k, False, None, "refused") for k in range(4)),
]


def test_per_server_and_fleet_mttr() -> None:
    figures = compute_recovery([s for s in SAMPLES if s.target != "c"], injected_at=100.2)
    assert figures.affected == ["b"]
    b = figures.per_server[0]
    assert b.mttr_s == pytest.approx(1.05)  # midpoint of 101.0 and 101.5, minus 100.2
    assert b.failed_samples == 2
    assert figures.fleet_mttr_s == pytest.approx(1.05)
    assert figures.unrecovered == ()
    assert figures.mttr_summary == {"count": 1, "p50": 1.05, "p95": 1.05, "max": 1.05}


def test_unrecovered_target_is_named_and_has_no_fleet_mttr() -> None:
    figures = compute_recovery(SAMPLES, injected_at=100.2)
    assert figures.unrecovered == ("c",)
    assert figures.fleet_mttr_s is None
    c = next(s for s in figures.per_server if s.target == "c")
    assert c.mttr_s is None
    assert c.recovered_at is None
    assert c.downtime_s == pytest.approx(103.5 - 100.2)  # down until the last sample of the observation
    assert figures.mttr_summary["count"] == 1  # only b has an MTTR


def test_failures_before_injection_are_ignored() -> None:
    samples = [Sample("a", 99.0, False), Sample("a", 99.5, True), Sample("a", 100.5, True)]
    figures = compute_recovery(samples, injected_at=100.0)
    assert figures.per_server == ()
    assert figures.fleet_mttr_s == 0.0


def test_slow_samples_count_as_down_when_a_bound_is_given() -> None:
    samples = [Sample("a", 100.0, True, 5.0), Sample("a", 100.5, True, 900.0), Sample("a", 101.0, True, 4.0)]
    assert compute_recovery(samples, 100.1).per_server == ()
    slow = compute_recovery(samples, 100.1, slow_ms=250)
    assert slow.per_server[0].mttr_s == pytest.approx(0.65)


def test_projected_availability_and_time_conversions() -> None:
    assert projected_availability(864.0, 10, 86400.0) == 0.999
    assert projected_availability(0.0, 0, 1.0) == 0.0
    assert iso_to_epoch(epoch_to_iso(1764094870.125)) == pytest.approx(1764094870.125)
    assert iso_to_epoch("2026-11-25T18:36:46.695000") == iso_to_epoch("2026-11-25T18:36:46.695Z")


def test_injection_time_is_the_first_method_action() -> None:
    journal = {
        "run": [
            {"activity": {"type": "probe"}, "start": "2026-11-25T18:36:46.000000"},
            {"activity": {"type": "action"}, "start": "2026-11-25T18:36:46.695000"},
            {"activity": {"type": "action"}, "start": "2026-11-25T18:36:50.000000"},
        ]
    }
    assert injection_time(journal) == iso_to_epoch("2026-11-25T18:36:46.695Z")
    assert injection_time({"run": []}) is None


def test_fleet_ratio_estimate_weights_the_sample_for_the_whole_fleet() -> None:
    latest = {"v1": False, "v2": False, "s1": True, "s2": True}  # 2 victims down, sampled rest serving
    assert fleet_ratio_estimate(latest, {"v1", "v2"}, 100) == 0.98
    assert fleet_ratio_estimate({"s1": False, "s2": True}, set(), 10) == 0.5
    assert fleet_ratio_estimate({}, set(), 10) is None
