"""Per-process bookkeeping Locust's stats do not keep: failures by kind and by target, slow targets,
completed status pings per wall-clock second (for throughput over the full-load window), and the
generator's own figures over the full-load window (`record_slot`): schedule lag and corrected latency
histograms, late/dropped/missed slots, per-target slot outcomes (capacity), CPU-time samples and
event-loop lag per process, and the service-time histograms of the pings inside the full-load window
(what latency thresholds hold: the ramp is excluded, as it is from pings_per_s).

Locust's stats table stays small (one row per protocol); this collector is where per-target detail
lives. Workers `drain()` it into each report to the master, the master `merge()`s; all values are
JSON-safe. Memory is bounded by the number of targets and of seconds in the run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mcproof.load.generator import bucket_ms, slots_in_span

__all__ = ["LoadCollector"]

_SLOT_KEYS = ("sent", "late", "dropped", "missed")


class LoadCollector:
    """Counts by (protocol, error kind), failures and slow replies by target, status pings per second.

    >>> c = LoadCollector(slow_ms=100)
    >>> c.record("SLP", "mc-1", ok=False, kind="timeout", response_time_ms=1000, at=10.2)
    >>> c.record("SLP", "mc-2", ok=True, kind=None, response_time_ms=150, at=10.7)
    >>> c.drain()["failures_by_target"]
    {'mc-1': {'timeout': 1}}
    """

    def __init__(
        self, slow_ms: float = 250.0, *, interval_s: float = 0.0, late_after_ms: float = 500.0, process: str = "?"
    ) -> None:
        self.slow_ms = slow_ms
        self.interval_s = interval_s
        self.late_after_ms = late_after_ms
        self.process = process
        self.span: tuple[float, float] | None = None  # epoch seconds: the full-load window (set at test start)
        self._reset()

    def _reset(self) -> None:
        self.kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.failures_by_target: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.slow_by_target: dict[str, int] = defaultdict(int)
        self.status_per_second: dict[int, int] = defaultdict(int)
        self.targets_seen: set[str] = set()
        self.slots: dict[str, int] = dict.fromkeys(_SLOT_KEYS, 0)
        self.slots_by_target: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.lag_hist: dict[float, int] = defaultdict(int)
        self.corrected_hist: dict[float, int] = defaultdict(int)
        self.cpu: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)
        self.runq: dict[str, dict[int, tuple[float, float]]] = defaultdict(dict)  # run-queue wait (schedstat)
        self.loop_hist: dict[str, dict[float, int]] = defaultdict(lambda: defaultdict(int))
        self.service_hist: dict[float, int] = defaultdict(int)  # status send -> reply, pings in the span
        self.query_hist: dict[float, int] = defaultdict(int)  # Query exchanges started in the span

    def record(
        self, request_type: str, target: str, *, ok: bool, kind: str | None, response_time_ms: float, at: float
    ) -> None:
        """One completed request (`at`: wall-clock epoch seconds when it completed)."""
        self.kinds[request_type][kind or "ok"] += 1
        self.targets_seen.add(target)
        if not ok:
            self.failures_by_target[target][kind or "error"] += 1
        elif response_time_ms > self.slow_ms:
            self.slow_by_target[target] += 1
        if request_type == "SLP":
            self.status_per_second[int(at)] += 1
        span = self.span
        if span is not None and (request_type != "SLP" or self.interval_s <= 0):  # paced status: record_slot
            sent = at - response_time_ms / 1000
            if span[0] <= sent < span[1]:
                hist = self.service_hist if request_type == "SLP" else self.query_hist
                hist[bucket_ms(response_time_ms)] += 1

    def sample_cpu(self, at: float, cpu_s: float) -> None:
        """This process's CPU time `cpu_s` at epoch `at` (the last sample of each second is kept)."""
        self.cpu[self.process][int(at)] = (at, cpu_s)

    def sample_runq(self, at: float, wait_s: float) -> None:
        """Seconds this process has waited for a CPU while runnable (Linux schedstat) at epoch `at`."""
        self.runq[self.process][int(at)] = (at, wait_s)

    def sample_loop_lag(self, at: float, lag_ms: float) -> None:
        """How late this process's event loop woke a sleeper at epoch `at` (counted inside the span only)."""
        if self.span is not None and self.span[0] <= at < self.span[1]:
            self.loop_hist[self.process][bucket_ms(lag_ms)] += 1

    def record_slot(
        self,
        target: str,
        *,
        ok: bool,
        due: float,
        lag_ms: float,
        corrected_ms: float,
        skipped: int = 0,
        server_skipped: int = 0,
        service_ms: float | None = None,
    ) -> None:
        """One status ping against its schedule (`due`: scheduled send, epoch s; `lag_ms`: generator lag).

        `skipped` slots after this one were not sent; the first `server_skipped` of them because the
        server still held the user (missed), the rest because the generator woke up late (dropped).
        Only slots inside `span` are counted.

        >>> c = LoadCollector(interval_s=1.0)
        >>> c.span = (100.0, 110.0)
        >>> c.record_slot("mc-1", ok=True, due=101.5, lag_ms=700.0, corrected_ms=702.0, skipped=2)
        >>> c.slots
        {'sent': 1, 'late': 1, 'dropped': 2, 'missed': 0}
        """
        if self.span is None:
            return
        if self.span[0] <= due < self.span[1]:
            self.slots["sent"] += 1
            self.slots_by_target[target]["ok" if ok else "failed"] += 1
            self.lag_hist[bucket_ms(lag_ms)] += 1
            self.corrected_hist[bucket_ms(corrected_ms)] += 1
            if service_ms is not None:
                self.service_hist[bucket_ms(service_ms)] += 1
            if lag_ms > self.late_after_ms:
                self.slots["late"] += 1
        missed = slots_in_span(due, self.interval_s, server_skipped, self.span)
        dropped = slots_in_span(due, self.interval_s, skipped, self.span) - missed
        for key, n in (("missed", missed), ("dropped", dropped)):
            if n > 0:
                self.slots[key] += n
                self.slots_by_target[target][key] += n

    def snapshot(self) -> dict[str, Any]:
        return {
            "kinds": {rt: dict(k) for rt, k in self.kinds.items()},
            "failures_by_target": {t: dict(k) for t, k in self.failures_by_target.items()},
            "slow_by_target": dict(self.slow_by_target),
            "status_per_second": {str(s): n for s, n in self.status_per_second.items()},
            "targets_seen": sorted(self.targets_seen),
            "slots": dict(self.slots),
            "slots_by_target": {t: dict(k) for t, k in self.slots_by_target.items()},
            "lag_hist": {str(b): n for b, n in self.lag_hist.items()},
            "corrected_hist": {str(b): n for b, n in self.corrected_hist.items()},
            "cpu": {p: {str(s): list(v) for s, v in by_s.items()} for p, by_s in self.cpu.items()},
            "runq": {p: {str(s): list(v) for s, v in by_s.items()} for p, by_s in self.runq.items()},
            "loop_hist": {p: {str(b): n for b, n in h.items()} for p, h in self.loop_hist.items()},
            "service_hist": {str(b): n for b, n in self.service_hist.items()},
            "query_hist": {str(b): n for b, n in self.query_hist.items()},
        }

    def drain(self) -> dict[str, Any]:
        """Snapshot and reset (what a worker sends with each stats report)."""
        data = self.snapshot()
        self._reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        """Add a drained snapshot (from a worker) into this collector."""
        for rt, kinds in data.get("kinds", {}).items():
            for kind, n in kinds.items():
                self.kinds[rt][kind] += int(n)
        for target, kinds in data.get("failures_by_target", {}).items():
            for kind, n in kinds.items():
                self.failures_by_target[target][kind] += int(n)
        for target, n in data.get("slow_by_target", {}).items():
            self.slow_by_target[target] += int(n)
        for second, n in data.get("status_per_second", {}).items():
            self.status_per_second[int(second)] += int(n)
        self.targets_seen.update(data.get("targets_seen", []))
        for key, n in data.get("slots", {}).items():
            self.slots[key] = self.slots.get(key, 0) + int(n)
        for target, counts in data.get("slots_by_target", {}).items():
            for key, n in counts.items():
                self.slots_by_target[target][key] += int(n)
        hists = (
            ("lag_hist", self.lag_hist),
            ("corrected_hist", self.corrected_hist),
            ("service_hist", self.service_hist),
            ("query_hist", self.query_hist),
        )
        for name, hist in hists:
            for bucket, n in data.get(name, {}).items():
                hist[float(bucket)] += int(n)
        for process, by_second in data.get("cpu", {}).items():
            for second, (at, cpu_s) in by_second.items():
                self.cpu[process][int(second)] = (float(at), float(cpu_s))
        for process, by_second in data.get("runq", {}).items():
            for second, (at, wait_s) in by_second.items():
                self.runq[process][int(second)] = (float(at), float(wait_s))
        for process, loop in data.get("loop_hist", {}).items():
            for bucket, n in loop.items():
                self.loop_hist[process][float(bucket)] += int(n)

    def rate_over(self, start: float, end: float, period_s: float = 0.0) -> float | None:
        """Mean status pings/s over the whole seconds inside [start, end); None when none fit.

        With `period_s` (the ping interval) the span is cut to a whole number of periods where whole
        seconds allow it: users keep fixed random phases, so per-second counts repeat with that period
        and a span of 3.5 periods would be off by up to a few per cent.

        >>> c = LoadCollector()
        >>> c.status_per_second.update({s: (301 if s % 4 == 1 else 233) for s in range(100, 120)})
        >>> round(c.rate_over(100.5, 115.0), 2), c.rate_over(100.5, 115.0, period_s=4.0)  # 250 asked
        (252.43, 250.0)
        """
        first, last = int(start) + (0 if start == int(start) else 1), int(end)
        if last <= first or not self.status_per_second:
            return None
        if period_s > 0:
            for length in range(last - first, 0, -1):
                periods = length / period_s
                if periods >= 1 and abs(periods - round(periods)) < 1e-6:
                    last = first + length
                    break
        return sum(self.status_per_second.get(s, 0) for s in range(first, last)) / (last - first)

    def failures_by_kind(self) -> dict[str, int]:
        """Failed requests by '<protocol>:<kind>' (e.g. 'SLP:timeout')."""
        out: dict[str, int] = {}
        for rt, kinds in sorted(self.kinds.items()):
            for kind, n in sorted(kinds.items()):
                if kind != "ok":
                    out[f"{rt}:{kind}"] = n
        return out
