"""Turn a run's Locust stats snapshot and collector into the metrics thresholds are held against.

Pure: the stats snapshot is a plain dict (see `mcproof.load.locust_process.stats_snapshot`):
``{"SLP": {"requests", "failures", "p50", "p90", "p95", "p99", "min", "max", "avg", "histogram"}, "QUERY": {...},
"start_time": epoch, "last_request": epoch}``. Locust keeps response times in buckets (exact below
100 ms, 2 significant digits above), so percentiles are bucket values.
"""

from __future__ import annotations

from typing import Any

from mcproof.load.collector import LoadCollector

__all__ = ["compute_metrics", "entry_summary", "histogram_summary", "window_latency"]


def _percentile_from_histogram(histogram: dict[str, int], q: float) -> float | None:
    """Percentile (q in 0..1) from a {response_time_ms: count} histogram, Locust's method.

    >>> _percentile_from_histogram({"10": 90, "300": 10}, 0.95)
    300.0
    """
    total = sum(histogram.values())
    if total == 0:
        return None
    processed = 0
    for value, count in sorted(((float(k), v) for k, v in histogram.items()), reverse=True):
        processed += count
        if total - processed <= int(total * q):
            return value
    return float(min(float(k) for k in histogram))


def entry_summary(entry: dict[str, Any]) -> dict[str, float | None]:
    """Percentiles of one stats entry recomputed from its histogram (the raw data Locust keeps)."""
    histogram = {str(k): int(v) for k, v in entry.get("histogram", {}).items()}
    return {
        q: _percentile_from_histogram(histogram, p)
        for q, p in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99))
    }


def histogram_summary(histogram: dict[str, int] | dict[float, int]) -> dict[str, Any]:
    """count, p50/p90/p95/p99 and max of a {bucket_ms: count} histogram, plus the histogram itself.

    >>> histogram_summary({"1.0": 98, "40.0": 2})["p99"]
    40.0
    """
    hist = {str(k): int(v) for k, v in histogram.items() if int(v) > 0}
    out: dict[str, Any] = {"count": sum(hist.values())}
    for q, p in (("p50", 0.5), ("p90", 0.9), ("p95", 0.95), ("p99", 0.99)):
        out[q] = _percentile_from_histogram(hist, p)
    out["max"] = max((float(k) for k in hist), default=None)
    out["histogram"] = dict(sorted(hist.items(), key=lambda kv: float(kv[0])))
    return out


def window_latency(histogram: dict[float, int] | dict[str, int]) -> dict[str, float | None]:
    """p50/p90/p95/p99, max and mean of a {bucket_ms: count} histogram (the full-load window's pings).

    >>> window_latency({"2.0": 90, "300.0": 10})["p95"], window_latency({"2.0": 90, "300.0": 10})["avg"]
    (300.0, 31.8)
    >>> window_latency({})["p95"] is None
    True
    """
    summary = histogram_summary(histogram)
    count = summary["count"]
    total = sum(float(k) * n for k, n in summary["histogram"].items())
    out = {q: summary[q] for q in ("p50", "p90", "p95", "p99", "max")}
    out["avg"] = round(total / count, 3) if count else None
    out["count"] = float(count)
    return out


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def compute_metrics(
    stats: dict[str, Any],
    collector: LoadCollector,
    *,
    full_load_window: tuple[float, float],
    peak_users: int,
    ping_interval_s: float = 0.0,
    sent_in_span: tuple[int, float] | None = None,
) -> dict[str, float | None]:
    """Every metric named in `mcproof.load.thresholds.METRICS` (None when it has no samples).

    `full_load_window` is in wall-clock epoch seconds. `pings_per_s`: with `sent_in_span` (status
    pings sent in the accounting span, the span's seconds; paced runs) it is those pings per second,
    counted at their send time: every one of them completed (answered, failed or timed out within
    its bound), and a stall near the window's edge cannot shift replies out of the count. Otherwise
    it is the replies per wall-clock second over a whole number of ping intervals inside the window
    (see `LoadCollector.rate_over`).

    Latency metrics (status_*_ms, query_p95_ms) are those of the pings sent inside the full-load
    window (the collector's span: the ramp and the tail are excluded, as they are from pings_per_s),
    from the collector's service-time histograms; only a collector without a span (never started)
    falls back to Locust's whole-run figures. failure_ratio and the counts stay whole-run: a failure
    during the ramp is still the platform's.
    """
    slp: dict[str, Any] = stats.get("SLP", {})
    query: dict[str, Any] = stats.get("QUERY", {})
    requests = int(slp.get("requests", 0)) + int(query.get("requests", 0))
    failures = int(slp.get("failures", 0)) + int(query.get("failures", 0))
    start, last = float(stats.get("start_time") or 0), float(stats.get("last_request") or 0)
    elapsed = last - start if last > start else 0.0
    slp_ok = int(slp.get("requests", 0)) > 0
    status = {k: slp.get(k) for k in ("p50", "p90", "p95", "p99", "max", "avg")} if slp_ok else {}
    query_p95 = query.get("p95") if int(query.get("requests", 0)) else None
    if collector.span is not None:  # the full-load window's pings, not the whole run's
        status = window_latency(collector.service_hist)
        query_p95 = window_latency(collector.query_hist)["p95"]
    paced = ping_interval_s > 0 and collector.span is not None
    corrected = window_latency(collector.corrected_hist) if paced else {}
    lag = window_latency(collector.lag_hist) if paced else {}
    slots = collector.slots
    scheduled = sum(int(slots.get(k, 0)) for k in ("sent", "dropped", "missed")) if paced else 0
    pings_per_s = collector.rate_over(*full_load_window, period_s=ping_interval_s)
    if sent_in_span is not None and sent_in_span[0] > 0 and sent_in_span[1] > 0:
        pings_per_s = sent_in_span[0] / sent_in_span[1]
    if pings_per_s is None and elapsed > 0:
        pings_per_s = int(slp.get("requests", 0)) / elapsed
    return {
        "status_p50_ms": status.get("p50"),
        "status_p90_ms": status.get("p90"),
        "status_p95_ms": status.get("p95"),
        "status_p99_ms": status.get("p99"),
        "status_max_ms": status.get("max"),
        "status_avg_ms": status.get("avg"),
        "query_p95_ms": query_p95,
        "status_corrected_p50_ms": corrected.get("p50"),
        "status_corrected_p95_ms": corrected.get("p95"),
        "status_corrected_p99_ms": corrected.get("p99"),
        "schedule_lag_p95_ms": lag.get("p95"),
        "dropped_ratio": _ratio(int(slots.get("dropped", 0)), scheduled) if paced else None,
        "missed_ratio": _ratio(int(slots.get("missed", 0)), scheduled) if paced else None,
        "failure_ratio": _ratio(failures, requests),
        "status_failure_ratio": _ratio(int(slp.get("failures", 0)), int(slp.get("requests", 0))),
        "query_failure_ratio": _ratio(int(query.get("failures", 0)), int(query.get("requests", 0))),
        "failures": float(failures),
        "requests": float(requests),
        "pings_per_s": round(pings_per_s, 2) if pings_per_s is not None else None,
        "requests_per_s": round(requests / elapsed, 2) if elapsed > 0 else None,
        "users": float(peak_users),
        "failed_targets": float(len(collector.failures_by_target)),
    }
