"""Pure maths for evidence: percentiles, ratios and SLA budgets."""

from __future__ import annotations

import math
from collections.abc import Sequence


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default method), q in [0, 100].

    >>> percentile([1, 2, 3, 4], 50)
    2.5
    >>> percentile([10.0], 95)
    10.0
    """
    if not samples:
        raise ValueError("percentile of no samples")
    if not 0 <= q <= 100:
        raise ValueError(f"percentile q must be within 0..100, got {q}")
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def summarize(samples: Sequence[float]) -> dict[str, float]:
    """count, min, p50, p90, p95, p99, max and mean of samples.

    >>> summarize([1.0, 3.0])["p50"]
    2.0
    """
    if not samples:
        return {"count": 0}
    return {
        "count": len(samples),
        "min": float(min(samples)),
        "p50": percentile(samples, 50),
        "p90": percentile(samples, 90),
        "p95": percentile(samples, 95),
        "p99": percentile(samples, 99),
        "max": float(max(samples)),
        "mean": float(sum(samples) / len(samples)),
    }


def allowed_downtime_s(availability: float, window_s: float) -> float:
    """Downtime an availability objective allows over a window.

    >>> round(allowed_downtime_s(0.999, 30 * 86400))
    2592
    """
    if not 0 < availability <= 1:
        raise ValueError("availability must be in (0, 1]")
    return (1 - availability) * window_s


def error_budget_consumed(availability_measured: float, availability_target: float) -> float:
    """Share of the error budget used (1.0 = all of it; > 1 = SLO broken).

    >>> round(error_budget_consumed(0.9995, 0.999), 3)
    0.5
    """
    budget = 1 - availability_target
    if budget <= 0:
        return 0.0 if availability_measured >= 1 else math.inf
    return max(0.0, (1 - availability_measured) / budget)
