"""The target side of a load run, when mcproof runs it: is the embedded sandbox keeping up?

The sandbox's shard processes answer every ping on the same host (often the same cores) as the
generator. A shard that cannot keep up makes servers look slow; against the sandbox that is mcproof's
own simulation failing, not a platform's latency, so a FAIL it may have caused is INCONCLUSIVE with the
shard named (`judge_sandbox`). A PASS stands (the sandbox kept up well enough).

`ShardSampler` samples each shard's CPU time (psutil) every `period_s` in a thread; `cpu_share` over the
run's full-load window (the same span as the generator's figures) gives each shard's share of one core.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

import psutil

from mcproof.load.generator import cpu_share

__all__ = ["ShardSampler", "judge_sandbox"]


class ShardSampler:
    """CPU-time samples {label: {second: (epoch, cpu_s)}} of the sandbox shards while a load run goes on."""

    def __init__(self, pids: list[int], period_s: float = 0.5) -> None:
        self.period_s = period_s
        self.samples: dict[str, dict[int, tuple[float, float]]] = {}
        self._procs: dict[str, psutil.Process] = {}
        for pid in pids:
            try:
                self._procs[f"sandbox shard {pid}"] = psutil.Process(pid)
            except psutil.Error:
                continue
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="mcproof-shard-sampler", daemon=True)

    def _sample(self) -> None:
        now = time.time()
        for label, proc in self._procs.items():
            try:
                times = proc.cpu_times()
            except psutil.Error:
                continue
            self.samples.setdefault(label, {})[int(now)] = (now, times.user + times.system)

    def _loop(self) -> None:
        while not self._stop.wait(self.period_s):
            self._sample()

    def __enter__(self) -> ShardSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._sample()


def judge_sandbox(
    result: dict[str, Any], samples: Mapping[str, Mapping[int, tuple[float, float]]], max_cpu_share: float
) -> dict[str, Any]:
    """Sandbox figures over the run's span; a FAIL while a shard was past `max_cpu_share` -> INCONCLUSIVE.

    >>> r = {"verdict": "fail", "passed": False, "reason": "", "fix": "", "metrics": {"pings_per_s": 2000.0},
    ...      "generator": {"span_epoch": [10.0, 20.0]}}
    >>> out = judge_sandbox(r, {"sandbox shard 7": {10: (10.0, 0.0), 20: (20.0, 9.7)}}, 0.9)
    >>> out["verdict"], out["sandbox"]["cpu_share_by_shard"], out["sandbox"]["cpu_us_per_answered_ping"]
    ('inconclusive', {'sandbox shard 7': 0.97}, 485.0)
    >>> out["reason"].startswith("sandbox saturated: sandbox shard 7 at 97 % CPU of one core (limit 90 %)")
    True
    """
    span = result.get("generator", {}).get("span_epoch") or [0.0, 0.0]
    shares = {label: cpu_share(dict(by_s), (float(span[0]), float(span[1]))) for label, by_s in sorted(samples.items())}
    measured = [v for v in shares.values() if v is not None]
    rate = result.get("metrics", {}).get("pings_per_s")
    figures: dict[str, Any] = {
        "cpu_share_by_shard": shares,
        "cpu_share_max": max(measured) if measured else None,
        "cpu_us_per_answered_ping": round(sum(measured) * 1e6 / rate, 1) if measured and rate else None,
        "max_cpu_share": max_cpu_share,
    }
    over = [f"{label} at {v * 100:.0f} % CPU of one core" for label, v in shares.items() if v and v > max_cpu_share]
    figures["saturated"] = bool(over)
    out = dict(result, sandbox=figures)
    if over and result.get("verdict") == "fail":
        out["verdict"], out["passed"] = "inconclusive", False
        out["reason"] = (
            f"sandbox saturated: {', '.join(over)} (limit {max_cpu_share * 100:.0f} %): the embedded "
            "target, not a platform, set the latencies; " + str(result.get("reason") or "thresholds failed")
        )
        out["fix"] = (
            "give the sandbox more cores (fewer servers per shard: sandbox.shard_size, or a machine with more "
            "free cores), or run the generator elsewhere; " + str(result.get("fix") or "")
        ).rstrip("; ")
    return out
