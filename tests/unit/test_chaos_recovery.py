"""Recovery maths on recorded observer samples, the error budget burn, and reading the injection time from a
chaoslib journal."""

from __future__ import annotations

import pytest

from mcproof.chaos.abort_watch import fleet_ratio_estimate
from mcproof.chaos.measure import injection_time
from mcproof.chaos.recovery import (
    Sample,
    compute_recovery,
    epoch_to_iso,
    error_budget_burn,
    iso_to_epoch,
    observed_downtime,
)

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


def test_error_budget_burn_is_a_share_of_the_period_budget() -> None:
    # 0.999 over 30 days: 2,592 s of allowed downtime per server; 10 servers share 25,920 server-seconds.
    burn = error_budget_burn(12.96, 10, 0.999, 30 * 86400)
    assert burn.budget_server_s == pytest.approx(25920.0)
    assert burn.burned_server_s == 12.96
    assert burn.burned_share == pytest.approx(0.0005)  # 0.05 % of the month's budget
    whole = error_budget_burn(2592.0, 1, 0.999, 30 * 86400)
    assert whole.burned_share == pytest.approx(1.0)  # one server down 43.2 min burns its whole month
    assert error_budget_burn(0.0, 5, 0.9999, 86400).burned_share == 0.0
    assert error_budget_burn(0.0, 5, 1.0, 86400).burned_share == 0.0  # a 100 % objective has no budget ...
    assert error_budget_burn(1.0, 5, 1.0, 86400).burned_share == float("inf")  # ... so any downtime exceeds it
    assert error_budget_burn(1.0, 5, 0.999, 86400).as_dict()["servers"] == 5
    with pytest.raises(ValueError):
        error_budget_burn(1.0, 0, 0.999, 86400)


def test_observed_downtime_sums_failed_samples_after_the_injection() -> None:
    down = observed_downtime(SAMPLES, since=100.2)
    assert down["b"] == pytest.approx(101.25 - 100.2)  # injection to the midpoint of 101.0 and 101.5
    assert down["c"] == pytest.approx(102.0 - 100.2)  # never back: until its last sample (102.0)
    assert "a" not in down
    assert observed_downtime(SAMPLES, since=200.0) == {}
    slow = [Sample("a", 100.0, True, 5.0), Sample("a", 100.5, True, 900.0), Sample("a", 101.0, True, 4.0)]
    assert observed_downtime(slow, 100.1) == {}
    assert observed_downtime(slow, 100.1, slow_ms=250)["a"] == pytest.approx(0.65)


def test_time_conversions() -> None:
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
