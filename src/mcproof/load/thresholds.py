"""Declarative k6-style thresholds: `status_p95_ms < 250`, `failure_ratio < 0.001`, `pings_per_s >= 2000`.

A threshold is `METRIC OP NUMBER`. Metrics are the keys of the metrics dict a load run computes
(see METRICS); a malformed expression raises ThresholdError (a ConfigError) with one line saying
what was expected. Evaluation is pure: a metric with no value (no samples) fails its threshold.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.errors import ConfigError

__all__ = ["METRICS", "PLAYER_METRICS", "Threshold", "ThresholdError", "ThresholdResult", "evaluate", "parse_threshold"]

METRICS: dict[str, str] = {
    "status_p50_ms": "median SLP status response time (ms)",
    "status_p90_ms": "90th percentile SLP status response time (ms)",
    "status_p95_ms": "95th percentile SLP status response time (send -> reply, ms); latency metrics hold the "
    "pings sent in the full-load window (ramp excluded)",
    "status_p99_ms": "99th percentile SLP status response time (ms)",
    "status_max_ms": "slowest SLP status response (ms)",
    "status_avg_ms": "mean SLP status response time (ms)",
    "query_p95_ms": "95th percentile Query response time (ms)",
    "status_corrected_p50_ms": "median corrected status latency: scheduled send -> reply (ms; paced runs)",
    "status_corrected_p95_ms": "95th percentile corrected status latency: scheduled send -> reply (ms; paced runs)",
    "status_corrected_p99_ms": "99th percentile corrected status latency: scheduled send -> reply (ms; paced runs)",
    "schedule_lag_p95_ms": "95th percentile of generator schedule lag: actual - scheduled send (ms; paced runs)",
    "dropped_ratio": "scheduled status pings the generator dropped (woke up a whole interval late) / scheduled "
    "(paced runs, k6's dropped_iterations as a share)",
    "missed_ratio": "scheduled status pings not sent because the server still held the user / scheduled (paced runs)",
    "failure_ratio": "failed requests / all requests (status and query)",
    "status_failure_ratio": "failed status pings / status pings",
    "query_failure_ratio": "failed queries / queries",
    "failures": "failed requests (count)",
    "requests": "requests (count)",
    "pings_per_s": "completed status pings per second while the shape holds its full user count (paced runs: "
    "counted at their send time over the full-load window less the timeout)",
    "requests_per_s": "completed requests per second over the whole run",
    "users": "peak simulated servers (users) reached",
    "failed_targets": "targets with at least one failed request",
}

# Player figures of a load run with players (`mcproof.load.player_judge.player_metrics`); held by
# `load.players.thresholds`.
PLAYER_METRICS: dict[str, str] = {
    "join_success_ratio": "player joins that reached play / join attempts (a failed or timed-out join counts)",
    "join_p50_ms": "median time to join: connect start -> first play-phase packet (ms, joins that reached play)",
    "join_p95_ms": "95th percentile time to join (ms, joins that reached play)",
    "join_p99_ms": "99th percentile time to join (ms)",
    "join_attempts": "join attempts (count)",
    "joins_failed": "join attempts that did not reach play (count)",
    "drop_ratio": "sessions that ended other than by the player leaving / sessions ended",
    "drops": "sessions dropped (kicked, closed, keep-alive timeout, protocol error) (count)",
    "sessions": "sessions ended (count)",
    "tps_min": "lowest server tick rate seen: world-age ticks / seconds over windows of >= 5 s, any server",
    "tps_p5": "5th percentile of those per-window tick rates over every server",
    "join_lag_p95_ms": "95th percentile of generator lag of scheduled (rush) joins: actual start - scheduled (ms)",
    "players": "peak players in the run (population + rush)",
}

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
_PATTERN = re.compile(r"^\s*([a-z][a-z0-9_]*)\s*(<=|>=|==|<|>)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


class ThresholdError(ConfigError, ValueError):
    """A threshold expression cannot be parsed (ValueError too, so pydantic reports it as a field error)."""


@dataclass(frozen=True)
class Threshold:
    """One parsed expression.

    >>> Threshold("status_p95_ms", "<", 250.0).holds(120.0)
    True
    """

    metric: str
    op: str
    value: float

    @property
    def expression(self) -> str:
        return f"{self.metric} {self.op} {self.value:g}"

    def holds(self, observed: float | None) -> bool:
        if observed is None or math.isnan(observed):
            return False
        return _OPERATORS[self.op](observed, self.value)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "expression": self.expression}


@dataclass(frozen=True)
class ThresholdResult:
    """A threshold held against what a run measured."""

    expression: str
    metric: str
    op: str
    value: float
    observed: float | None
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def parse_threshold(expression: str, metrics: Mapping[str, str] = METRICS) -> Threshold:
    """Parse `METRIC OP NUMBER`; ThresholdError (one line) when malformed.

    >>> parse_threshold("pings_per_s >= 2000")
    Threshold(metric='pings_per_s', op='>=', value=2000.0)
    """
    if not isinstance(expression, str):
        raise ThresholdError(f"threshold {expression!r} is not a string; write e.g. 'status_p95_ms < 250'")
    match = _PATTERN.match(expression)
    if match is None:
        raise ThresholdError(
            f"threshold {expression!r} is malformed; expected 'METRIC OP NUMBER' with OP one of "
            f"{', '.join(_OPERATORS)}, e.g. 'status_p95_ms < 250'"
        )
    metric, op, number = match.groups()
    if metric not in metrics:
        raise ThresholdError(f"threshold {expression!r} names unknown metric {metric!r}; known: {', '.join(metrics)}")
    return Threshold(metric, op, float(number))


def parse_thresholds(expressions: Iterable[str], metrics: Mapping[str, str] = METRICS) -> list[Threshold]:
    return [parse_threshold(e, metrics) for e in expressions]


def evaluate(thresholds: Iterable[Threshold], metrics: Mapping[str, float | None]) -> list[ThresholdResult]:
    """Hold every threshold against the measured metrics (missing metric = failed).

    >>> [r.passed for r in evaluate([parse_threshold("failure_ratio < 0.001")], {"failure_ratio": 0.01})]
    [False]
    """
    results = []
    for t in thresholds:
        observed = metrics.get(t.metric)
        results.append(ThresholdResult(t.expression, t.metric, t.op, t.value, observed, t.holds(observed)))
    return results
