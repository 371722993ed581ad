"""Per-process bookkeeping Locust's stats do not keep: failures by kind and by target, slow targets,
and completed status pings per wall-clock second (for throughput over the full-load window).

Locust's stats table stays small (one row per protocol); this collector is where per-target detail
lives. Workers `drain()` it into each report to the master, the master `merge()`s; all values are
JSON-safe. Memory is bounded by the number of targets and of seconds in the run.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

__all__ = ["LoadCollector"]


class LoadCollector:
    """Counts by (protocol, error kind), failures and slow replies by target, status pings per second.

    >>> c = LoadCollector(slow_ms=100)
    >>> c.record("SLP", "mc-1", ok=False, kind="timeout", response_time_ms=1000, at=10.2)
    >>> c.record("SLP", "mc-2", ok=True, kind=None, response_time_ms=150, at=10.7)
    >>> c.drain()["failures_by_target"]
    {'mc-1': {'timeout': 1}}
    """

    def __init__(self, slow_ms: float = 250.0) -> None:
        self.slow_ms = slow_ms
        self._reset()

    def _reset(self) -> None:
        self.kinds: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.failures_by_target: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.slow_by_target: dict[str, int] = defaultdict(int)
        self.status_per_second: dict[int, int] = defaultdict(int)
        self.targets_seen: set[str] = set()

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

    def snapshot(self) -> dict[str, Any]:
        return {
            "kinds": {rt: dict(k) for rt, k in self.kinds.items()},
            "failures_by_target": {t: dict(k) for t, k in self.failures_by_target.items()},
            "slow_by_target": dict(self.slow_by_target),
            "status_per_second": {str(s): n for s, n in self.status_per_second.items()},
            "targets_seen": sorted(self.targets_seen),
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

    def rate_over(self, start: float, end: float) -> float | None:
        """Mean status pings/s over the whole seconds inside [start, end); None when none fit."""
        first, last = int(start) + (0 if start == int(start) else 1), int(end)
        if last <= first or not self.status_per_second:
            return None
        return sum(self.status_per_second.get(s, 0) for s in range(first, last)) / (last - first)

    def failures_by_kind(self) -> dict[str, int]:
        """Failed requests by '<protocol>:<kind>' (e.g. 'SLP:timeout')."""
        out: dict[str, int] = {}
        for rt, kinds in sorted(self.kinds.items()):
            for kind, n in sorted(kinds.items()):
                if kind != "ok":
                    out[f"{rt}:{kind}"] = n
        return out
