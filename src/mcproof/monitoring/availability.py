"""Availability over a run window, measured twice: from the observer's status pings and from Prometheus.

Both are *time-weighted good-sample ratios* over the same servers and window:

- observer: good samples / all samples whose ping started inside [start, end];
- Prometheus: ``sum(sum_over_time(up_metric{server=~ids}[W])) / sum(count_over_time(...[W]))`` at ``end``,
  W = end - start (every scraped sample in (start, end]).

They sample at different instants (observer interval vs scrape interval), so a down period is seen with
an error of up to one interval at each edge; the environment states the tolerance they must agree within.

>>> from mcproof.chaos.recovery import Sample
>>> observer_availability([Sample("a", 1.0, True), Sample("a", 2.0, False), Sample("b", 9.0, False)], 0.0, 5.0)
(0.5, 2)
>>> availability_promql("mcproof_server_up", "server", ["a", "b"], 12.5)
'sum(sum_over_time(mcproof_server_up{server=~"a|b"}[12500ms])) / sum(count_over_time(mcproof_server_up{server=~"a|b"}[12500ms]))'
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from mcproof.chaos.recovery import Sample
from mcproof.evidence.records import AvailabilityEvidence, SloMeasurement
from mcproof.monitoring.promql import PromClient, PromError
from mcproof.stats import error_budget_consumed

__all__ = [
    "availability_evidence",
    "availability_promql",
    "availability_slo",
    "observer_availability",
    "wait_scraped_after",
]


def observer_availability(samples: Sequence[Sample], start: float, end: float) -> tuple[float, int]:
    """(good ratio, sample count) of the samples that started within [start, end]."""
    inside = [s for s in samples if start <= s.t <= end]
    if not inside:
        raise ValueError(f"no observer samples between {start:.3f} and {end:.3f}")
    return sum(s.ok for s in inside) / len(inside), len(inside)


def _label_regex(values: Sequence[str]) -> str:
    """A PromQL-string-safe alternation of literal values."""
    return "|".join(re.escape(v).replace("\\", "\\\\") for v in values)


def availability_promql(metric: str, label: str, servers: Sequence[str], window_s: float) -> str:
    selector = f'{metric}{{{label}=~"{_label_regex(servers)}"}}' if servers else metric
    window = f"{max(1, round(window_s * 1000))}ms"
    return f"sum(sum_over_time({selector}[{window}])) / sum(count_over_time({selector}[{window}]))"


def wait_scraped_after(prom: PromClient, metric: str, at: float, *, timeout: float = 30.0) -> bool:
    """Wait until Prometheus holds a sample of ``metric`` scraped at or after ``at`` (False on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            newest = prom.scalar(f"max(timestamp({metric}))")
        except PromError:
            newest = None
        if newest is not None and newest >= at:
            return True
        time.sleep(0.25)
    return False


def availability_evidence(
    prom: PromClient | None,
    samples: Sequence[Sample],
    *,
    servers: Sequence[str],
    start: float,
    end: float,
    objective: float,
    tolerance: float,
    environment: str,
    check: str,
    metric: str = "mcproof_server_up",
    label: str = "server",
    method: str = "",
) -> AvailabilityEvidence:
    """Both availabilities, their agreement and the error budget consumed (from the observer's figure)."""
    observed, count = observer_availability(samples, start, end)
    expr = availability_promql(metric, label, servers, end - start)
    from_prom: float | None = None
    problem = ""
    if prom is not None:
        try:
            from_prom = prom.scalar(expr, at=end)
        except PromError as err:
            problem = f"; PromQL failed: {err}"
    agree = from_prom is not None and abs(observed - from_prom) <= tolerance
    return AvailabilityEvidence(
        environment=environment,
        method=(method or "observer: good/all status pings; Prometheus: good/all scraped samples")
        + f"; {len(servers)} servers; agreement |observer - prometheus| <= {tolerance:g}{problem}",
        check=check,
        window_start=start,
        window_end=end,
        observer_availability=round(observed, 6),
        prometheus_availability=round(from_prom, 6) if from_prom is not None else None,
        tolerance=tolerance,
        agree=agree,
        objective=objective,
        error_budget_consumed=round(error_budget_consumed(observed, objective), 4),
        observer_samples=count,
        promql=expr,
    )


def availability_slo(ev: AvailabilityEvidence) -> SloMeasurement:
    """The ``availability`` SLO measurement (the observer's figure; Prometheus's is in the evidence)."""
    return SloMeasurement(
        environment=ev.environment,
        slo="availability",
        objective=f"good status pings / all pings >= {ev.objective} over the observed window "
        f"({ev.window_end - ev.window_start:.1f}s); error budget consumed {ev.error_budget_consumed:.2%}",
        target=ev.objective,
        measured=ev.observer_availability,
        unit="ratio",
        comparator=">=",
        passed=ev.observer_availability >= ev.objective,
        method=ev.method,
        check=ev.check,
        samples=ev.observer_samples,
    )
