"""Availability over a window (pure maths, no network): the resolution rule (a window too coarse for the
objective is inconclusive, never pass), failed pings as samples, and the agreement tolerance's bound."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from mcproof.chaos.recovery import Sample
from mcproof.monitoring.availability import (
    agreement_bound,
    availability_evidence,
    availability_slo,
    judge_slo,
    observer_availability,
    resolves,
    window_needed_s,
    window_resolution,
)
from mcproof.verdict import Verdict


def _fleet(servers: int, interval: float, window: float, down: Iterable[tuple[int, float, float]] = ()) -> list[Sample]:
    """Every server sampled every `interval` over [0, window); (server, from, to) outages give timeouts."""
    outages = list(down)
    ticks = round(window / interval)
    out = []
    for k in range(ticks):
        t = k * interval
        for n in range(servers):
            bad = any(n == s and a <= t < b for s, a, b in outages)
            out.append(Sample(f"mc-{n}", t, not bad, None if bad else 2.0, "timeout" if bad else None))
    return out


class _Prom:
    """A recorded PromQL boundary: availability ratio and sample count."""

    base_url = "http://127.0.0.1:9"

    def __init__(self, ratio: float, count: int) -> None:
        self.ratio, self.count = ratio, count

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        return float(self.count) if expr.startswith("sum(count_over_time(") else self.ratio


def _evidence(samples: list[Sample], servers: int, interval: float, window: float, prom: _Prom | None, **kw: float):
    end = window - interval  # the last tick inside the window
    return availability_evidence(
        prom,
        samples,
        servers=[f"mc-{n}" for n in range(servers)],
        start=0.0,
        end=end,  # type: ignore[arg-type]
        objective=kw.get("objective", 0.999),
        tolerance=kw.get("tolerance", 0.001),
        environment="e",
        check="c",
        interval_s=interval,
    )


def test_resolution_rule() -> None:
    assert window_resolution(0.5, 20) == 0.025
    assert window_needed_s(0.5, 0.999) == pytest.approx(500)
    assert not resolves(0.999, samples_per_server=40)  # 20 s at 0.5 s
    assert not resolves(0.999, samples_per_server=999)
    assert resolves(0.999, samples_per_server=1000)  # exactly one sample per budget
    assert not resolves(1.0, samples_per_server=10**9)  # a 100 % objective can never be resolved by sampling
    assert not resolves(0.9, samples_per_server=0)


def test_a_20s_window_at_half_a_second_cannot_pass_99_9() -> None:
    samples = _fleet(50, 0.5, 20.0)
    ev = _evidence(samples, 50, 0.5, 20.0, _Prom(1.0, 500))
    assert ev.observer_availability == 1.0
    assert (ev.samples_per_server, ev.observer_samples) == (40, 2000)  # pooled servers do not help
    assert ev.slo_verdict == "inconclusive"
    assert "cannot tell 99.900% from 100 %" in ev.slo_reason
    assert "at least 500s" in ev.slo_fix
    assert availability_slo(ev) is None  # nothing recorded that a report could count as a pass


def test_a_clear_miss_fails_even_in_an_unresolved_window() -> None:
    samples = _fleet(2, 0.5, 20.0, down=[(1, 5.0, 15.0)])  # one of two servers down 10 s: 20 bad of 80
    ev = _evidence(samples, 2, 0.5, 20.0, None)
    assert (ev.bad_samples, ev.down_episodes) == (20, 1)
    assert ev.slo_verdict == "fail"
    slo = availability_slo(ev)
    assert slo is not None
    assert not slo.passed
    assert slo.measured == 0.75


def test_unresolved_small_miss_is_inconclusive_not_fail() -> None:
    ev_v = judge_slo(0.998, 0.999, samples=1000, samples_per_server=100, bad=2, episodes=2, interval_s=1, window_s=100)
    assert ev_v[0].value == "inconclusive"


def test_120s_at_a_tenth_of_a_second_resolves_99_9_and_passes() -> None:
    samples = _fleet(20, 0.1, 120.0)
    ev = _evidence(samples, 20, 0.1, 120.0, _Prom(1.0, 1200))
    assert (ev.samples_per_server, ev.observer_samples, ev.prometheus_samples) == (1200, 24000, 1200)
    assert ev.resolution == pytest.approx(1 / 1200, abs=1e-8)
    assert ev.scrape_interval_s == pytest.approx(2.0, abs=0.01)
    assert ev.agreement_bound == pytest.approx(1 / 24000 + 1 / 1200)  # 0.000875 <= 0.001
    assert (ev.slo_verdict, ev.agreement_verdict) == ("pass", "pass"), (ev.slo_reason, ev.agreement_reason)
    assert "window 119.9s" in ev.method
    assert "1200 per server" in ev.method
    assert "resolution 0.083%" in ev.method
    slo = availability_slo(ev)
    assert slo is not None
    assert slo.passed
    assert "resolution 0.083%" in slo.objective


def test_failed_and_timed_out_pings_are_samples_not_gaps() -> None:
    one_server = _fleet(20, 0.1, 120.0, down=[(3, 10.0, 10.5)])  # 5 timeouts of 24,000
    ev = _evidence(one_server, 20, 0.1, 120.0, _Prom(0.99979, 1200))
    assert ev.observer_samples == 24000  # the timeouts are counted, not dropped
    assert ev.bad_samples == 5
    assert ev.observer_availability == pytest.approx(1 - 5 / 24000, abs=1e-6)
    assert ev.slo_verdict == "pass"
    assert [s["error_kind"] for s in ev.failed_samples] == ["timeout"] * 5
    fleet_wide = _fleet(20, 0.1, 120.0, down=[(n, 10.0, 10.5) for n in range(20)])  # 0.5 s fleet-wide: 100 bad
    ev2 = _evidence(fleet_wide, 20, 0.1, 120.0, _Prom(0.9958, 1200))
    assert ev2.slo_verdict == "fail"
    assert ev2.error_budget_consumed > 4
    assert observer_availability(fleet_wide, 0, 119.9)[1] == 24000


def test_agreement_bound_and_tolerance_on_the_local_settings() -> None:
    # local.yaml: 20 servers, observer 0.1 s, scrape 2 s, 120 s: one episode moves the figures < 0.000875 apart
    assert agreement_bound(20 * 1200, 20 * 60) == pytest.approx((0.1 + 2.0) / (20 * 120))
    assert agreement_bound(20 * 1200, 20 * 60) <= 0.001
    # the same tolerance over a 20 s window cannot be justified: inconclusive, whatever the figures say
    ev = _evidence(_fleet(20, 0.1, 20.0), 20, 0.1, 20.0, _Prom(1.0, 200), objective=0.99)
    assert ev.agreement_verdict == "inconclusive"
    assert "more than the tolerance 0.001" in ev.agreement_reason
    assert agreement_bound(0, 10) == 1.0


@pytest.mark.parametrize(("prom", "verdict"), [(0.9755, "pass"), (0.985, "inconclusive"), (0.95, "fail")])
def test_agreement_during_a_fleet_wide_outage(prom: float, verdict: str) -> None:
    samples = _fleet(20, 0.1, 120.0, down=[(n, 10.0, 13.0) for n in range(20)])  # 3 s fleet-wide: 600 bad
    ev = _evidence(samples, 20, 0.1, 120.0, _Prom(prom, 1200))
    assert ev.observer_availability == pytest.approx(0.975, abs=1e-6)
    assert ev.down_episodes == 20
    # 20 server-episodes x (1/24000 + 1/1200) = 0.0175: a 2 s scrape can place a fleet-wide edge ~2 s off
    assert ev.agreement_bound == pytest.approx(0.0175)
    assert ev.agreement_verdict == verdict, ev.agreement_reason
    assert ev.slo_verdict == "fail"


def test_a_saturated_observer_is_inconclusive_not_fail() -> None:
    """Fewer than 90 % of the ticks: the observer fell behind, so its timeouts may be its own."""
    full = _fleet(20, 0.1, 120.0, down=[(n, 10.0, 30.0) for n in range(20)])  # 20 s fleet-wide: a clear miss
    kept = [s for s in full if round(s.t / 0.1) % 5 != 0]  # every 5th tick never happened: 80 % coverage
    ev = _evidence(kept, 20, 0.1, 120.0, None)
    assert ev.samples_per_server == 960
    assert ev.slo_verdict == "inconclusive"
    assert "the observer made 960 of the 1199 ticks" in ev.slo_reason
    assert availability_slo(ev) is None
    assert _evidence(full, 20, 0.1, 120.0, None).slo_verdict == "fail"  # all ticks made: the miss stands


def test_a_window_too_coarse_for_the_objective_says_so_first_even_when_the_observer_also_fell_behind() -> None:
    """The reason must not depend on how busy the host was: 4 s at 0.5 s cannot resolve 99.9 % at all."""
    args = {"samples": 7, "bad": 0, "episodes": 0, "interval_s": 0.5, "window_s": 4.0}
    slow = judge_slo(1.0, 0.999, samples_per_server=7, **args)  # 7 of 8 ticks: also behind
    quick = judge_slo(1.0, 0.999, samples_per_server=8, **args)  # every tick
    for verdict, reason, fix in (slow, quick):
        assert verdict == Verdict.INCONCLUSIVE
        assert "cannot tell 99.900% from 100 %" in reason
        assert "observe for at least 500s" in fix
    assert "the observer made 7 of the 8 ticks" in slow[1]
    assert "ticks" not in quick[1].split("100 %")[-1]
