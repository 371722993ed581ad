"""Per-process bookkeeping of the player users of a load run (pure; the ping side is `LoadCollector`).

Player users (`mcproof.load.player_users`) fire Locust request events of type ``PLAYER``: ``join``
(context: the `JoinAttempt` as a dict, and the join's schedule lag for rush joins) and ``session``
(context: the `SessionEnd` dict and the session's world-time updates). `LoadSession` hands those
contexts here. Like `LoadCollector`, workers `drain()` into each report to the master and the master
`merge()`s; everything is JSON-safe.

Memory is bounded whatever the run's length:

- counts and time-to-join histograms (`bucket_ms` buckets) are exact and small;
- raw samples (`JoinAttempt`, `SessionEnd` dicts) are kept up to ``samples_cap`` (20,000) of each: every
  one while under 90 % of the cap, then only failed joins and drops (``samples_seen`` says how many there
  were; the SLI figures of `mcproof.players.slis` are exact only while nothing was left out);
- world-time updates are kept per (generator process, server): at most one per ``step`` seconds of that
  process's monotonic clock (the first arrival in each bucket: several players on one server see one
  world clock), at most ``tps_cap`` of them; past the cap the step doubles and the series is re-bucketed
  (halving its resolution, never its span). Monotonic times of different hosts never mix in a series.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from mcproof.load.generator import bucket_ms

__all__ = ["PlayerCollector", "thin_series"]


def thin_series(
    series: dict[int, tuple[int, float]], step: float, cap: int, update: tuple[int, float]
) -> tuple[dict[int, tuple[int, float]], float]:
    """Add one world-time `update` (world_age, received_mono) to a bucketed series; thin past `cap`.

    >>> s, step = {}, 1.0
    >>> for t in range(10):
    ...     s, step = thin_series(s, step, 4, (t * 20, float(t)))
    >>> step, sorted(v[1] for v in s.values())
    (4.0, [0.0, 4.0, 8.0])
    """
    age, mono = update
    bucket = int(mono // step)
    if bucket not in series or series[bucket][1] > mono:
        series[bucket] = (int(age), float(mono))
    while len(series) > cap:
        step *= 2
        thinned: dict[int, tuple[int, float]] = {}
        for value in sorted(series.values(), key=lambda v: v[1]):
            thinned.setdefault(int(value[1] // step), value)
        series = thinned
    return series, step


class PlayerCollector:
    """Joins, sessions and world-time series of one generator process (see the module docstring).

    >>> c = PlayerCollector(process="p1")
    >>> c.record_join({"server": "mc-1", "ok": True, "join_s": 0.042, "error_kind": None})
    >>> c.record_join({"server": "mc-2", "ok": False, "join_s": None, "error_kind": "refused"})
    >>> c.snapshot()["joins"], c.snapshot()["join_hist"]
    ({'attempts': 2, 'ok': 1}, {'42.0': 1})
    """

    def __init__(self, *, samples_cap: int = 20_000, tps_cap: int = 600, process: str = "?") -> None:
        self.samples_cap = samples_cap
        self.tps_cap = tps_cap
        self.process = process
        self._reset()

    def _reset(self) -> None:
        self.joins: dict[str, int] = {"attempts": 0, "ok": 0}
        self.join_hist: dict[float, int] = defaultdict(int)
        self.join_lag_hist: dict[float, int] = defaultdict(int)
        self.join_failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # target -> kind -> n
        self.sessions: dict[str, int] = {"ended": 0, "dropped": 0}
        self.drops: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # target -> reason -> n
        self.join_samples: list[dict[str, Any]] = []
        self.session_samples: list[dict[str, Any]] = []
        self.samples_seen: dict[str, int] = {"joins": 0, "sessions": 0}
        self.time_series: dict[str, dict[int, tuple[int, float]]] = {}  # "process|server" -> bucket -> (age, mono)
        self.time_step: dict[str, float] = {}
        self.servers: set[str] = set()

    def _keep(self, samples: list[dict[str, Any]], sample: dict[str, Any], bad: bool) -> None:
        if len(samples) < (self.samples_cap if bad else self.samples_cap * 9 // 10):
            samples.append(sample)

    def record_join(self, attempt: dict[str, Any], lag_ms: float | None = None) -> None:
        """One `JoinAttempt` (as a dict); `lag_ms`: actual start - scheduled start of a scheduled join."""
        server = str(attempt.get("server", "?"))
        self.servers.add(server)
        self.joins["attempts"] += 1
        self.samples_seen["joins"] += 1
        ok = bool(attempt.get("ok"))
        if ok:
            self.joins["ok"] += 1
            self.join_hist[bucket_ms(float(attempt.get("join_s") or 0.0) * 1000)] += 1
        else:
            self.join_failures[server][str(attempt.get("error_kind") or "error")] += 1
        if lag_ms is not None:
            self.join_lag_hist[bucket_ms(lag_ms)] += 1
        self._keep(self.join_samples, dict(attempt), not ok)

    def record_session(self, end: dict[str, Any], time_updates: list[list[float]] | None = None) -> None:
        """One `SessionEnd` (as a dict) and its world-time updates ``[[world_age, received_mono], ...]``."""
        server = str(end.get("server", "?"))
        self.servers.add(server)
        self.sessions["ended"] += 1
        self.samples_seen["sessions"] += 1
        dropped = str(end.get("reason")) != "left"
        if dropped:
            self.sessions["dropped"] += 1
            self.drops[server][str(end.get("reason"))] += 1
        self._keep(self.session_samples, dict(end), dropped)
        key = f"{self.process}|{server}"
        for age, mono in time_updates or []:
            series, step = self.time_series.get(key, {}), self.time_step.get(key, 1.0)
            self.time_series[key], self.time_step[key] = thin_series(series, step, self.tps_cap, (int(age), mono))

    def snapshot(self) -> dict[str, Any]:
        return {
            "joins": dict(self.joins),
            "join_hist": {str(b): n for b, n in self.join_hist.items()},
            "join_lag_hist": {str(b): n for b, n in self.join_lag_hist.items()},
            "join_failures": {t: dict(k) for t, k in self.join_failures.items()},
            "sessions": dict(self.sessions),
            "drops": {t: dict(k) for t, k in self.drops.items()},
            "join_samples": list(self.join_samples),
            "session_samples": list(self.session_samples),
            "samples_seen": dict(self.samples_seen),
            "time_series": {
                k: [list(v) for v in sorted(s.values(), key=lambda v: v[1])] for k, s in self.time_series.items()
            },
            "time_step": dict(self.time_step),
            "servers": sorted(self.servers),
        }

    def drain(self) -> dict[str, Any]:
        data = self.snapshot()
        self._reset()
        return data

    def merge(self, data: dict[str, Any]) -> None:
        """Add a drained snapshot (from a worker, or an earlier report of this one)."""
        for key, n in data.get("joins", {}).items():
            self.joins[key] = self.joins.get(key, 0) + int(n)
        for key, n in data.get("sessions", {}).items():
            self.sessions[key] = self.sessions.get(key, 0) + int(n)
        for key, n in data.get("samples_seen", {}).items():
            self.samples_seen[key] = self.samples_seen.get(key, 0) + int(n)
        for name, hist in (("join_hist", self.join_hist), ("join_lag_hist", self.join_lag_hist)):
            for bucket, n in data.get(name, {}).items():
                hist[float(bucket)] += int(n)
        for name, table in (("join_failures", self.join_failures), ("drops", self.drops)):
            for target, kinds in data.get(name, {}).items():
                for kind, n in kinds.items():
                    table[target][kind] += int(n)
        for sample in data.get("join_samples", []):
            self._keep(self.join_samples, sample, not sample.get("ok"))
        for sample in data.get("session_samples", []):
            self._keep(self.session_samples, sample, str(sample.get("reason")) != "left")
        for key, values in data.get("time_series", {}).items():
            step = max(self.time_step.get(key, 1.0), float(data.get("time_step", {}).get(key, 1.0)))
            merged = [*self.time_series.get(key, {}).values(), *((int(a), float(m)) for a, m in values)]
            series: dict[int, tuple[int, float]] = {}
            for value in sorted(merged, key=lambda v: v[1]):  # re-bucketed at the coarser step of the two
                series, step = thin_series(series, step, self.tps_cap, value)
            self.time_series[key], self.time_step[key] = series, step
        self.servers.update(data.get("servers", []))

    def series(self) -> dict[str, list[tuple[int, float]]]:
        """Each (process, server) world-time series, oldest first: ``{"proc|mc-1": [(age, mono), ...]}``."""
        return {k: sorted(s.values(), key=lambda v: v[1]) for k, s in self.time_series.items()}
