"""A short, bounded calibration: what one Locust process costs per status ping against the environment's targets.

One headless Locust process (the local runner, as a worker is), unpaced, `users` users spread over the
environment's own targets, for `seconds` of full load and at most `max_pings` status pings in all.
It measures the process's CPU share and completed pings/s over its full-load window; CPU-microseconds
per ping = CPU share x 1e6 / pings/s (`mcproof.load.generator.cpu_us_per_ping`). `mcproof.load.sizing`
turns that into one worker's rate at the saturation CPU limit and the workers a run needs.
"""

from __future__ import annotations

import math
from pathlib import Path

from mcproof.load.launcher import run_load
from mcproof.load.plan import LoadConfig
from mcproof.load.shapes import plan_shape
from mcproof.load.sizing import Calibration

__all__ = ["calibrate", "calibration_config"]


def calibration_config(
    config: LoadConfig, *, seconds: float = 3.0, max_users: int = 100, max_pings: int = 20_000
) -> LoadConfig:
    """The bounded, unpaced one-process run that calibrates `config` (same targets, timeout, Query mix)."""
    users = max(1, min(config.users, max_users))
    duration = seconds + 1.0  # users spawn within the first second (steady shape), then `seconds` at full load
    return config.with_changes(
        users=users,
        plan=plan_shape("steady", users=users, duration_s=duration, ping_interval_s=0, warmup_s=0),
        ping_interval_s=0.0,
        thresholds=("failure_ratio <= 1",),
        workers=0,
        stop_grace_s=min(config.stop_grace_s, 5.0),
        max_pings_per_user=max(1, math.ceil(max_pings / users)),
        run_dir=None,
        players=None,  # the calibration measures one process's ping rate: no player users in it
    )


def calibrate(
    config: LoadConfig, out_dir: Path, *, seconds: float = 3.0, max_users: int = 100, max_pings: int = 20_000
) -> Calibration:
    """Run the calibration in `out_dir` (its own Locust files) and return what it measured."""
    cal = calibration_config(config, seconds=seconds, max_users=max_users, max_pings=max_pings)
    result = run_load(cal, out_dir).result
    generator = result.get("generator", {})
    metrics = result.get("metrics", {})
    slp = result.get("stats", {}).get("SLP", {})
    return Calibration(
        users=cal.users,
        seconds=seconds,
        pings=int(slp.get("requests", 0) or 0),
        pings_per_s=metrics.get("pings_per_s"),
        cpu_share=generator.get("cpu_share_max"),
        cpu_us_per_ping=generator.get("cpu_us_per_ping"),
        failure_ratio=metrics.get("status_failure_ratio"),
    )
