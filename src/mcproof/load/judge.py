"""The load verdict of one run: generator figures, saturation, capacity served, pass/fail/inconclusive (pure).

Order of judgement: a saturated generator makes the run INCONCLUSIVE whatever the thresholds say
(its latencies include its own queueing, its rate is its own ceiling) — except when the thresholds
failed and servers failed in ways no generator queue can cause (connection refused, a wrong version, a
malformed reply): that is the servers' FAIL, named, with the saturation stated beside it. Otherwise the
thresholds decide PASS or FAIL. `judge_run` returns JSON-safe parts of the run result (see `LoadSession.result`).
"""

from __future__ import annotations

import math
from typing import Any

from mcproof.load.collector import LoadCollector
from mcproof.load.generator import (
    CAPACITY_RULE,
    SaturationLimits,
    cpu_share,
    cpu_us_per_ping,
    saturation_fix,
    saturation_reasons,
    served_throughout,
)
from mcproof.load.metrics import histogram_summary
from mcproof.load.plan import LoadConfig

__all__ = ["judge_run", "stated_parameters"]


def stated_parameters(users: int, servers: int, interval_s: float) -> str:
    """What a load run asked for, in words (`users` simulated servers watching `servers` distinct ones).

    >>> stated_parameters(1000, 1000, 2.0)
    '1,000 servers, each pinged every 2 s (500 pings/s asked)'
    >>> stated_parameters(2000, 40, 0.5)
    '2,000 simulated servers over 40 servers, each pinged every 0.5 s (4,000 pings/s asked)'
    """
    who = f"{servers:,} servers" if users == servers else f"{users:,} simulated servers over {servers:,} servers"
    if interval_s <= 0:
        return f"{who}, pinged back to back (no pacing)"
    return f"{who}, each pinged every {interval_s:g} s ({users / interval_s:,.0f} pings/s asked)"


# Run-queue wait share past which a late generator counts as starved by other processes (not its own CPU)
STARVED_WAIT_SHARE = 0.05

# Failure kinds a busy generator cannot produce: the server refused at once or answered wrongly.
SERVER_FAULT_KINDS = ("refused", "wrong_version", "malformed")


def _server_faults(collector: LoadCollector) -> list[str]:
    return sorted(
        t for t, kinds in collector.failures_by_target.items() if any(kinds.get(k) for k in SERVER_FAULT_KINDS)
    )


def _rate(n: int, seconds: float) -> float | None:
    return round(n / seconds, 2) if seconds > 0 else None


def judge_run(
    config: LoadConfig,
    collector: LoadCollector,
    *,
    thresholds_passed: bool,
    span: tuple[float, float],
    peak_users: int,
    peak_reached_s: float | None,
    pings_per_s: float | None,
    missing_workers: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """verdict, reason, fix, generator figures, servers served throughout, lag and corrected latency.

    `missing_workers`: workers that connected but went missing ({"worker", "missing_at_s"}): saturation.
    """
    limits = SaturationLimits.from_dict(config.saturation)
    interval = config.ping_interval_s
    paced = interval > 0
    span_s = span[1] - span[0]
    slots = collector.slots
    scheduled = slots.get("sent", 0) + slots.get("dropped", 0) + slots.get("missed", 0)
    lag = histogram_summary(collector.lag_hist)
    cpu = {process: cpu_share(samples, span) for process, samples in sorted(collector.cpu.items())}
    shares = [v for v in cpu.values() if v is not None]
    waited = {process: cpu_share(samples, span) for process, samples in sorted(collector.runq.items())}
    waits = [v for v in waited.values() if v is not None]
    loop = {process: histogram_summary(h)["p95"] for process, h in sorted(collector.loop_hist.items())}
    worst_loop = max(((v, k) for k, v in loop.items() if v is not None), default=None)
    asked = round(config.users / interval, 2) if paced else None
    per_ping = cpu_us_per_ping(cpu, pings_per_s)
    capacity = round(limits.max_cpu_share * 1e6 / per_ping) if per_ping else None
    needed = math.ceil(asked / capacity) if asked and capacity else None
    figures: dict[str, Any] = {
        "paced": paced,
        "users": config.users,
        "peak_users": peak_users,
        "peak_reached_s": peak_reached_s,
        "window_start_s": config.plan.full_load_window[0],
        "span_epoch": list(span),
        "span_s": span_s,
        "asked_pings_per_s": asked,
        "scheduled_pings_per_s": _rate(scheduled, span_s),
        "sent_pings_per_s": _rate(slots.get("sent", 0), span_s),
        "completed_pings_per_s": pings_per_s,
        "scheduled": scheduled,
        "sent": slots.get("sent", 0),
        "late": slots.get("late", 0),
        "dropped": slots.get("dropped", 0),
        "missed_by_server": slots.get("missed", 0),
        "late_or_dropped": slots.get("late", 0) + slots.get("dropped", 0),
        "generator_slots": slots.get("sent", 0) + slots.get("dropped", 0),
        "schedule_lag_p95_ms": lag["p95"],
        "cpu_share_by_process": cpu,
        "cpu_share_max": max(shares) if shares else None,
        "processes": len(cpu),
        "cpu_wait_share_by_process": waited,  # runnable but waiting for a CPU / wall time (Linux schedstat)
        "cpu_wait_share_max": max(waits) if waits else None,
        "loop_lag_p95_ms_by_process": loop,
        "loop_lag_p95_ms_max": worst_loop[0] if worst_loop else None,
        "loop_lag_worst_process": worst_loop[1] if worst_loop else None,
        "missing_workers": list(missing_workers or []),
        "cpu_us_per_ping": per_ping,
        "pings_per_s_per_process_at_limit": capacity,
        "workers_needed": needed,
    }
    reasons = saturation_reasons(figures, limits)
    figures.update(saturated=bool(reasons), reasons=reasons, limits=limits.as_dict())
    min_slots = math.floor(span_s / interval + 1e-9) if paced else 0
    measurable = paced and min_slots >= 1 and not reasons
    served = served_throughout(collector.slots_by_target, min_slots) if measurable else None
    unmeasured = paced and not scheduled
    faulty = _server_faults(collector) if (reasons or unmeasured) and not thresholds_passed else []
    if faulty:
        shown = ", ".join(faulty[:10]) + (f" (+{len(faulty) - 10} more)" if len(faulty) > 10 else "")
        verdict = "fail"
        also = (
            f"the generator was also saturated ({'; '.join(reasons)}), so latency figures are not the servers'"
            if reasons
            else "the full-load window held no scheduled ping, so the schedule and capacity were not measured"
        )
        reason = (
            f"{len(faulty)} server(s) refused or answered wrongly ({shown}): failures no generator queue causes; "
            + also
        )
        fix = "fix the named servers first; then " + (
            saturation_fix(config.workers, needed) if reasons else "lengthen load.duration_s to measure the rest"
        )
    elif reasons:
        asked = figures["asked_pings_per_s"]
        sent = figures["sent_pings_per_s"]
        rate = f"; it sent {sent:,.0f} of the {asked:,.0f} pings/s asked" if asked and sent is not None else ""
        verdict, reason = "inconclusive", "generator saturated: " + "; ".join(reasons) + rate
        fix = saturation_fix(config.workers, needed)
        cpu_max, wait_max = figures["cpu_share_max"], figures["cpu_wait_share_max"]
        starved = cpu_max is not None and cpu_max <= limits.max_cpu_share and (needed or 1) <= 1
        if wait_max is not None:  # measured: the kernel says how long it waited for a core
            starved = starved and wait_max >= STARVED_WAIT_SHARE
        if not missing_workers and starved:
            waited_for = f", waited for a core {wait_max * 100:.0f} % of the time" if wait_max is not None else ""
            fix = (
                f"the generator waited for CPU rather than used it ({cpu_max * 100:.0f} % of one core, under the "
                f"{limits.max_cpu_share * 100:.0f} % limit{waited_for}, yet late): other processes on this host (the "
                "sandbox, other jobs) hold the cores; run the generator on a host or cores of its own (--workers "
                "with workers elsewhere), or with less else running; else " + fix
            )
        if missing_workers:
            fix = (
                "find out why the missing worker(s) stopped (their locust-worker-N.log in the run directory: "
                "killed, out of memory, lost the master) and re-run; else " + fix
            )
    elif unmeasured:
        verdict = "inconclusive"
        reason = (
            f"no status ping was scheduled inside the full-load window ({span_s:g} s accounted, one ping every "
            f"{interval:g} s): the generator's schedule and the servers served could not be measured"
        )
        fix = "lengthen load.duration_s (or shorten load.ping_interval_s) so the full-load window holds several pings"
    else:
        verdict, reason, fix = ("pass" if thresholds_passed else "fail"), "", ""
    return {
        "verdict": verdict,
        "reason": reason,
        "fix": fix,
        "generator": figures,
        "servers_served": served,
        "capacity_rule": CAPACITY_RULE.format(min_slots=min_slots) if paced else "unpaced run: not measured",
        "stated": stated_parameters(config.users, config.distinct_targets, interval),
        "schedule_lag_ms": lag,
        "corrected_ms": histogram_summary(collector.corrected_hist),
    }
