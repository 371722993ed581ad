"""Status latency sampling and its verdict, in which a dead server can never improve the figure.

Under `asyncio.gather` mcstatus's `.latency` includes event-loop queueing (FIELD-NOTES: p50 46 ms at
500 concurrent), so latency samples are taken one at a time with the sync client, each ping bounded
over its whole exchange (`status_ping`): a sweep costs at most rounds x servers x (timeout + slack).

The rule (`assess_latency`): every ping is a sample. A failed or timed-out ping counts at its timeout
(`timeout_s` in ms; a bounded ping never takes longer), so failures can only raise a percentile.
A p95 objective lets 5 % of pings be slow and a failed ping is at least as bad as a slow one, so the
check FAILS when more than 100 - q % of the planned pings failed (`failure_budget`), whatever the
successful ones measured and however few pings it took to know; else fewer than `min_samples_for(q)`
pings (20 for a p95: below that the p95 is just the maximum) -> inconclusive; else it passes when the
p95 over all samples (failures included) is within the SLO.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mcproof.minecraft.status import StatusResult, status_ping
from mcproof.stats import percentile, summarize
from mcproof.target import Target

__all__ = [
    "LatencyAssessment",
    "assess_latency",
    "failed_samples",
    "failure_budget",
    "min_samples_for",
    "pick_evenly",
    "sample_latency",
]


def pick_evenly(targets: Sequence[Target], count: int) -> list[Target]:
    """Up to `count` targets spread evenly over the list (deterministic).

    >>> [t.id for t in pick_evenly([Target(str(i), "h") for i in range(10)], 3)]
    ['0', '3', '6']
    """
    if count >= len(targets):
        return list(targets)
    step = len(targets) / count
    return [targets[int(i * step)] for i in range(count)]


def sample_latency(
    targets: Sequence[Target], *, rounds: int, timeout: float, max_failures: int | None = None
) -> list[StatusResult]:
    """`rounds` sequential status pings of every target (round-robin; each bounded by `timeout`).

    With `max_failures`, stop at the end of the first full round after which more pings than that
    have failed: the verdict is then decided (`failure_budget`), every sampled server has been pinged
    at least once, and an all-dead fleet costs one round of timeouts instead of `rounds`.
    """
    results: list[StatusResult] = []
    for _ in range(rounds):
        results += [status_ping(t.host, t.port, timeout=timeout, target=t.id, edition=t.edition) for t in targets]
        if max_failures is not None and sum(1 for r in results if not r.ok) > max_failures:
            break
    return results


def failure_budget(pings: int, quantile: float = 95.0) -> int:
    """Most failed pings out of `pings` that a q-th percentile objective can still pass with.

    >>> failure_budget(250), failure_budget(20)
    (12, 1)
    """
    return math.floor(pings * (1 - quantile / 100) + 1e-9)


def min_samples_for(quantile: float) -> int:
    """Fewest samples for which the q-th percentile is not simply the maximum.

    >>> min_samples_for(95), min_samples_for(99)
    (20, 100)
    """
    return math.ceil(100 / (100 - quantile) - 1e-9)


def failed_samples(results: Sequence[StatusResult], timeout_s: float) -> list[dict[str, Any]]:
    """The failed pings as evidence: position, target, time, kind, reason and the value counted."""
    return [
        {
            "index": i,
            "target": r.target,
            "at": r.at,
            "error_kind": r.error_kind or "error",
            "error": r.error or "",
            "counted_ms": round(timeout_s * 1000, 3),
        }
        for i, r in enumerate(results)
        if not r.ok
    ]


@dataclass(frozen=True)
class LatencyAssessment:
    """What the samples say about a latency percentile objective; `passed` None = inconclusive."""

    quantile: float
    slo_ms: float
    timeout_s: float
    pings: int
    failed: int
    failure_share: float
    allowed_failure_share: float
    samples_ms: list[float]  # every ping in order; a failed one at its timeout
    summary: dict[str, float]
    percentile_ms: float | None
    passed: bool | None
    reason: str
    failing_servers: list[tuple[str, str]] = field(default_factory=list)  # (target, "kind: error (n of m pings)")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _failing_servers(results: Sequence[StatusResult]) -> list[tuple[str, str]]:
    pings: dict[str, int] = {}
    failures: dict[str, list[StatusResult]] = {}
    for r in results:
        pings[r.target] = pings.get(r.target, 0) + 1
        if not r.ok:
            failures.setdefault(r.target, []).append(r)
    ranked = sorted(failures.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    return [(t, f"{fs[0].error_kind}: {fs[0].error} ({len(fs)} of {pings[t]} pings)") for t, fs in ranked]


def assess_latency(
    results: Sequence[StatusResult],
    *,
    slo_ms: float,
    timeout_s: float,
    quantile: float = 95.0,
    planned: int | None = None,
) -> LatencyAssessment:
    """Apply the module's rule to sequential ping results (pure).

    >>> ok = [StatusResult(f"s{i}", "h:1", True, "t", latency_ms=1.0) for i in range(19)]
    >>> dead = StatusResult("s9", "h:1", False, "t", error_kind="timeout", error="reply not complete")
    >>> assess_latency(ok + [dead], slo_ms=250, timeout_s=3).passed
    True
    >>> a = assess_latency(ok + [dead] * 2, slo_ms=250, timeout_s=3)
    >>> a.passed, a.failing_servers[0][0]
    (False, 's9')
    """
    timeout_ms = round(timeout_s * 1000, 3)
    samples = [r.latency_ms if r.ok and r.latency_ms is not None else timeout_ms for r in results]
    failed = sum(1 for r in results if not (r.ok and r.latency_ms is not None))
    pings = len(samples)
    allowed = round(1 - quantile / 100, 6)
    share = failed / pings if pings else 0.0
    failing = _failing_servers(results)
    need = min_samples_for(quantile)
    q = f"p{quantile:g}"
    planned = max(planned or pings, pings)
    budget = failure_budget(planned, quantile)
    value = round(percentile(samples, quantile), 3) if samples else None
    passed: bool | None
    if failed > budget:  # decided, however few pings were taken: failures only ever raise a percentile
        passed = False
        of_plan = f" of the {planned} planned pings" if planned != pings else ""
        reason = (
            f"{failed} of {pings} pings failed ({share:.1%}), more than the {allowed:.0%}{of_plan} a {q} "
            f"objective allows (failed pings count at their timeout, {timeout_s:g} s)"
        )
    elif pings < need:
        value, passed, reason = None, None, f"{pings} pings are too few for a {q} (need >= {need})"
    else:
        assert value is not None
        passed = value <= slo_ms
        verb = "is within" if passed else "exceeds"
        reason = f"{q} {value:.1f} ms {verb} the SLO {slo_ms:g} ms over {pings} pings ({failed} failed)"
    return LatencyAssessment(
        quantile=quantile,
        slo_ms=slo_ms,
        timeout_s=timeout_s,
        pings=pings,
        failed=failed,
        failure_share=round(share, 6),
        allowed_failure_share=allowed,
        samples_ms=samples,
        summary=summarize(samples),
        percentile_ms=value,
        passed=passed,
        reason=reason,
        failing_servers=failing,
    )
