"""Provisioning run result -> :class:`ProvisioningEvidence` and its verdict (pure).

A run passes when every planned lifecycle completed, none failed, and the time-to-ready p95 is within
``load.provisioning.time_to_ready_p95_s``. :func:`describe_provisioning` names the failing step
(create, ready, delete) so the failure says where the platform broke.

>>> ev = provisioning_evidence({"planned": 2, "completed": 2, "failures": 0, "time_to_ready_s": {"p95": 1.5},
...     "ready_samples_s": [1.0, 1.5], "failure_details": [], "requests": {}, "started_at": 0, "ended_at": 3,
...     "users": 1, "cycles_per_user": 2, "base_url": "https://127.0.0.1:1"}, environment="local",
...     threshold_p95_s=2.0, check="c")
>>> ev.passed, describe_provisioning(ev)
(True, 'provisioning: 2/2 lifecycles, time to ready p95 1.500 s (threshold 2 s)')
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mcproof.evidence.records import ProvisioningEvidence

__all__ = ["describe_provisioning", "provisioning_evidence"]

STEPS = ("create", "ready", "delete")


def provisioning_evidence(
    result: dict[str, Any], *, environment: str, threshold_p95_s: float, check: str
) -> ProvisioningEvidence:
    """The record for one :func:`mcproof.load.provisioning.run_provisioning` result."""
    details = list(result.get("failure_details") or [])
    by_step = dict(Counter(str(f.get("step", "?")) for f in details))
    unattributed = int(result.get("failures") or 0) - sum(by_step.values())
    if unattributed > 0:  # failure_details is capped; keep the total honest
        by_step["unattributed"] = unattributed
    ttr = {k: float(v) for k, v in (result.get("time_to_ready_s") or {}).items()}
    planned, completed = int(result.get("planned") or 0), int(result.get("completed") or 0)
    p95 = ttr.get("p95")
    passed = planned > 0 and completed == planned and not by_step and p95 is not None and p95 <= threshold_p95_s
    return ProvisioningEvidence(
        environment=environment,
        method=str(result.get("method", "Locust provisioning user")),
        check=check,
        base_url=str(result.get("base_url", "")),
        users=int(result.get("users") or 0),
        cycles_per_user=int(result.get("cycles_per_user") or 0),
        planned=planned,
        completed=completed,
        time_to_ready_s=ttr,
        ready_samples_s=[float(x) for x in result.get("ready_samples_s") or []],
        failures_by_step=by_step,
        failure_details=details,
        requests=dict(result.get("requests") or {}),
        threshold_p95_s=threshold_p95_s,
        started_at=float(result.get("started_at") or 0.0),
        ended_at=float(result.get("ended_at") or 0.0),
        passed=passed,
    )


def describe_provisioning(ev: ProvisioningEvidence) -> str:
    """One line: the verdict, or what failed first (the step, how often, the first error)."""
    p95 = ev.time_to_ready_s.get("p95")
    head = f"provisioning: {ev.completed}/{ev.planned} lifecycles"
    if ev.failures_by_step:
        order = [s for s in STEPS if s in ev.failures_by_step] + [s for s in ev.failures_by_step if s not in STEPS]
        step = order[0]
        first = next((f for f in ev.failure_details if f.get("step") == step), {})
        counts = ", ".join(f"{s} x{ev.failures_by_step[s]}" for s in order)
        return (
            f"{head}; step '{step}' failed ({counts}) against {ev.base_url}: {first.get('error', 'no error text')}; "
            "check the platform API is up and lets this tenant create servers"
        )
    if ev.completed < ev.planned:
        return f"{head}; only {ev.completed} completed before the deadline; raise load.provisioning.deadline_s"
    if p95 is None or p95 > ev.threshold_p95_s:
        seen = "no sample" if p95 is None else f"{p95:.3f} s"
        return f"{head}; time to ready p95 {seen} above the threshold {ev.threshold_p95_s:g} s"
    return f"{head}, time to ready p95 {p95:.3f} s (threshold {ev.threshold_p95_s:g} s)"
