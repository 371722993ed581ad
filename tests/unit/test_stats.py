"""Percentile and SLA maths against hand-computed figures."""

from __future__ import annotations

import math

import pytest

from mcproof.stats import allowed_downtime_s, error_budget_consumed, percentile, summarize


def test_percentile_matches_numpy_linear() -> None:
    samples = [15.0, 20.0, 35.0, 40.0, 50.0]
    assert percentile(samples, 40) == pytest.approx(29.0)
    assert percentile(samples, 95) == pytest.approx(48.0)
    assert percentile(samples, 0) == 15.0
    assert percentile(samples, 100) == 50.0


def test_percentile_rejects_bad_input() -> None:
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_summarize_keys_and_values() -> None:
    summary = summarize([float(i) for i in range(1, 101)])
    assert summary["count"] == 100
    assert summary["p95"] == pytest.approx(95.05)
    assert summary["mean"] == pytest.approx(50.5)
    assert summarize([]) == {"count": 0}


def test_three_nines_allow_43_minutes_a_month() -> None:
    assert allowed_downtime_s(0.999, 30 * 86400) == pytest.approx(2592.0)


def test_error_budget() -> None:
    assert error_budget_consumed(1.0, 0.999) == 0.0
    assert error_budget_consumed(0.998, 0.999) == pytest.approx(2.0)
    assert math.isinf(error_budget_consumed(0.5, 1.0))
