"""Is the load generator itself keeping up? Schedule accounting, saturation rule and capacity count (pure).

A load verdict is only worth betting on when the generator did what it was asked: if the Locust
process could not send its pings on schedule (CPU-bound, starved by other processes on the host, or
asked for more than one process can do), every latency it measured includes its own queueing, and
a FAIL would blame the platform for the harness. So each run also measures the generator:

- **schedule lag**: every user has its own schedule (one ping per interval at a random phase); the
  lag of a ping is how late the user woke up for it (actual send - scheduled send), i.e. greenlet
  and CPU queueing in the generator. A ping the user could not send on time because the previous
  exchange was still running is *not* generator lag: the server held the user (closed loop), and the
  slots skipped meanwhile count as missed by the server.
- **dropped**: scheduled slots the generator skipped because it woke up more than an interval late.
- **CPU share** of each generator process over the full-load window (process CPU time / wall time):
  one Locust process is one gevent thread, so it cannot use more than one core. Every process is
  measured: the local runner, and in distributed mode the master and each worker.
- **event-loop lag** of each process: a monitor greenlet asks to sleep 100 ms and records how much
  longer it took (a gevent hub that cannot get back to a ready greenlet in time).
- **missing workers**: a worker that connected but stopped reporting (killed, crashed, disconnected)
  takes its users' pings with it.
- **spawn**: whether every user was running before the full-load window opened.

`saturation_reasons()` holds those figures against `SaturationLimits`; any reason makes the load
verdict INCONCLUSIVE (never pass, never fail), with the figures and the fix. Service time (send ->
reply) stays what thresholds such as `status_p95_ms` hold; the corrected latency (scheduled ->
reply) is kept next to it.

Capacity is counted, not configured: `served_throughout()` counts the servers that answered every
status ping scheduled for them in the full-load window (none failed, none missed, at least the
pings one full window holds).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = [
    "CAPACITY_RULE",
    "SaturationLimits",
    "accounting_span",
    "advance_schedule",
    "bucket_ms",
    "cpu_share",
    "cpu_us_per_ping",
    "saturation_fix",
    "saturation_reasons",
    "served_throughout",
    "slots_in_span",
]

CAPACITY_RULE = (
    "a server counts as served when every status ping scheduled for it in the full-load window was sent and "
    "answered (right version, within the timeout): none failed, none missed, at least {min_slots} each"
)


@dataclass(frozen=True)
class SaturationLimits:
    """Documented limits past which the generator, not the platform, sets the figures.

    `max_cpu_share`: CPU time / wall time of any one generator process (1.0 = one full core).
    `max_lag_p95_ms`: 95th percentile of schedule lag. `late_after_ms`: a ping sent later than this
    after its slot is not on time. `max_late_ratio`: share of scheduled pings late or dropped.
    `max_loop_lag_p95_ms`: 95th percentile of event-loop lag in any one generator process.
    """

    max_cpu_share: float = 0.90
    max_lag_p95_ms: float = 100.0
    late_after_ms: float = 500.0
    max_late_ratio: float = 0.01
    max_loop_lag_p95_ms: float = 100.0

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> SaturationLimits:
        names = set(cls.__dataclass_fields__)
        return cls(**{k: float(v) for k, v in (data or {}).items() if k in names})


def advance_schedule(due: float, sent_at: float, interval: float) -> tuple[float, int]:
    """The next slot after a ping due at `due` was sent at `sent_at`, keeping the phase; and the slots skipped.

    >>> advance_schedule(10.0, 10.003, 1.0)
    (11.0, 0)
    >>> advance_schedule(10.0, 12.5, 1.0)   # woke 2.5 s late: the slots at 11 and 12 are skipped
    (13.0, 2)
    """
    if interval <= 0:
        return sent_at, 0
    steps = max(1, math.floor((sent_at - due) / interval) + 1)
    return due + steps * interval, steps - 1


def slots_in_span(due: float, interval: float, skipped: int, span: tuple[float, float]) -> int:
    """How many of the `skipped` slots after `due` (at due + k * interval, k = 1..skipped) fall in `span`.

    >>> slots_in_span(10.0, 1.0, 5, (12.0, 14.0))
    2
    """
    if skipped <= 0 or interval <= 0:
        return 0
    first_k = max(1, math.ceil((span[0] - due) / interval))
    last_k = min(skipped, math.ceil((span[1] - due) / interval) - 1)
    return max(0, last_k - first_k + 1)


def accounting_span(started: float, window: tuple[float, float], tail_s: float = 0.0) -> tuple[float, float]:
    """Epoch span over which slots are accounted: the full-load window of a process started at `started`,
    less `tail_s` at the end (a ping due then may still be in flight when the shape stops the users).

    Its length depends only on the window, so every worker's span is as long.

    >>> accounting_span(1000.5, (5.0, 20.0), tail_s=3.0)
    (1005.5, 1017.5)
    """
    start = started + window[0]
    return start, max(start, started + window[1] - tail_s)


def bucket_ms(value_ms: float) -> float:
    """Histogram bucket: 0.1 ms below 10 ms, 1 ms below 100, 10 ms below 1 s, then 100 ms.

    >>> [bucket_ms(v) for v in (0.234, 42.4, 436.0, 1234.0)]
    [0.2, 42.0, 440.0, 1200.0]
    """
    v = max(0.0, value_ms)
    step = 0.1 if v < 10 else 1.0 if v < 100 else 10.0 if v < 1000 else 100.0
    return round(round(v / step) * step, 1)


def cpu_share(samples: Mapping[int, tuple[float, float]], span: tuple[float, float]) -> float | None:
    """CPU time / wall time between the first and last sample inside `span` ({second: (epoch, cpu_s)}).

    >>> cpu_share({10: (10.1, 5.0), 11: (11.0, 5.5), 12: (12.1, 6.8)}, (10.0, 13.0))
    0.9
    """
    inside = sorted(v for v in samples.values() if span[0] <= v[0] <= span[1])
    if len(inside) < 2 or inside[-1][0] <= inside[0][0]:
        return None
    return round((inside[-1][1] - inside[0][1]) / (inside[-1][0] - inside[0][0]), 3)


def cpu_us_per_ping(shares: Mapping[str, float | None], pings_per_s: float | None) -> float | None:
    """CPU-microseconds per status ping of the processes that send pings (a master sends none).

    `shares`: CPU share by process label over the same span as `pings_per_s` (all processes' pings).

    >>> cpu_us_per_ping({"master h:1": 0.05, "worker-1 h:2": 0.5, "worker-2 h:3": 0.3}, 2000.0)
    400.0
    """
    senders = [v for k, v in shares.items() if v is not None and not k.startswith("master")]
    if not senders or not pings_per_s or pings_per_s <= 0:
        return None
    return round(sum(senders) * 1e6 / pings_per_s, 1)


def _pct(value: float) -> str:
    return f"{value * 100:.3g} %"


def saturation_reasons(figures: Mapping[str, Any], limits: SaturationLimits) -> list[str]:
    """Why the generator was saturated (empty when it kept up); `figures` as `LoadSession` computes them.

    Keys read: cpu_share_max, schedule_lag_p95_ms, late_or_dropped, generator_slots (slots the
    generator was free to send: sent + dropped; slots a server held the user through are not its
    doing), scheduled, paced, peak_reached_s, window_start_s, users, peak_users. A run whose window
    held no scheduled ping is unmeasured, not saturated: `judge_run` says so.

    >>> saturation_reasons({"cpu_share_max": 0.97, "schedule_lag_p95_ms": 1200.0, "generator_slots": 1000,
    ...     "scheduled": 1000, "late_or_dropped": 300, "paced": True}, SaturationLimits())
    ... # doctest: +NORMALIZE_WHITESPACE
    ['97 % CPU of one core in a generator process (limit 90 %)', 'schedule lag p95 1,200 ms (limit 100 ms)',
     '30 % of scheduled pings late (> 500 ms) or dropped (limit 1 %)']
    """
    reasons = []
    cpu = figures.get("cpu_share_max")
    if cpu is not None and cpu > limits.max_cpu_share:
        reasons.append(f"{_pct(cpu)} CPU of one core in a generator process (limit {_pct(limits.max_cpu_share)})")
    lag = figures.get("schedule_lag_p95_ms")
    if figures.get("paced", True) and lag is not None and lag > limits.max_lag_p95_ms:
        reasons.append(f"schedule lag p95 {lag:,.0f} ms (limit {limits.max_lag_p95_ms:,.0f} ms)")
    scheduled = int(figures.get("scheduled") or 0)
    own = int(figures.get("generator_slots", scheduled) or 0)
    late = int(figures.get("late_or_dropped") or 0)
    if figures.get("paced", True) and own and late / own > limits.max_late_ratio:
        reasons.append(
            f"{_pct(late / own)} of scheduled pings late (> {limits.late_after_ms:,.0f} ms) or dropped "
            f"(limit {_pct(limits.max_late_ratio)})"
        )
    loop = figures.get("loop_lag_p95_ms_max")
    if loop is not None and loop > limits.max_loop_lag_p95_ms:
        where = figures.get("loop_lag_worst_process") or "a generator process"
        reasons.append(f"event-loop lag p95 {loop:,.0f} ms in {where} (limit {limits.max_loop_lag_p95_ms:,.0f} ms)")
    for missing in figures.get("missing_workers") or []:
        at = missing.get("missing_at_s")
        when = f" {float(at):.1f} s into the run" if at is not None else ""
        reasons.append(
            f"worker {missing.get('worker')} went missing{when} (killed, crashed or disconnected): "
            "its users stopped pinging"
        )
    users, peak = figures.get("users"), figures.get("peak_users")
    if users is not None and peak is not None and int(peak) < int(users):
        reasons.append(f"only {int(peak):,} of {int(users):,} users were ever running")
    reached, start = figures.get("peak_reached_s"), figures.get("window_start_s")
    if reached is not None and start is not None and float(reached) > float(start):
        reasons.append(
            f"all users were running only {float(reached):.1f} s after start, after the full-load window "
            f"opened at {float(start):g} s"
        )
    return reasons


def saturation_fix(workers: int, needed: int | None = None) -> str:
    """What to do about a saturated generator (`needed`: workers the run's own CPU per ping says it takes).

    >>> saturation_fix(0)[:44]
    'run with --workers N (Locust worker processe'
    >>> saturation_fix(0, needed=3)[:22]
    'run with --workers 3 ('
    """
    if needed is not None and needed > max(1, workers):
        more = f"--workers {needed}"
    else:
        more = f"more than {workers} workers" if workers else "--workers N"
    return (
        f"run with {more} (Locust worker processes, on other cores or hosts), on a machine with more free cores, "
        "or ask for less per process (raise load.ping_interval_s or lower load.users); "
        "'mcproof load --plan' sizes it"
    )


def served_throughout(per_target: Mapping[str, Mapping[str, int]], min_slots: int) -> int:
    """Servers that answered every status ping scheduled for them in the window, at least `min_slots` of them.

    `per_target`: {target: {"ok", "failed", "missed", "dropped"}} counted over the full-load window.

    >>> served_throughout({"a": {"ok": 5}, "b": {"ok": 4, "failed": 1}, "c": {"ok": 5, "missed": 1},
    ...     "d": {"ok": 2}}, min_slots=4)
    1
    """
    served = 0
    for counts in per_target.values():
        ok = int(counts.get("ok", 0))
        bad = sum(int(counts.get(k, 0)) for k in ("failed", "missed", "dropped"))
        if bad == 0 and ok >= max(1, min_slots):
            served += 1
    return served
