"""Sizing a load run instead of guessing: the rate asked, what one worker does on this machine, workers needed.

`mcproof load --plan` and the start of every `mcproof load` run print `plan_line()`:

- **asked**: status pings/s the environment asks for (`load.users` / `load.ping_interval_s`);
- **one worker**: a short calibration (`mcproof.load.calibration`) runs one Locust process, unpaced,
  against the environment's own targets, bounded in users, pings and seconds, and measures its CPU
  time per status ping. One worker's rate is what that costs at the saturation limit:
  `max_cpu_share * 1e6 / cpu_us_per_ping` pings/s (CPU-microseconds per ping hold across machines
  better than a pings/s figure measured while the target was busy);
- **needed**: `ceil(asked / one worker)` processes;
- **spare cores** (what `--workers auto` starts one worker per): the cores idle over a 0.5 s sample
  (usable cores x idle share, rounded down), less one for the Locust master (and this CLI), less one
  when mcproof runs the sandbox on this host (its shards answer every ping on the same cores). With
  one spare core or none, `auto` is the local runner (one process; a master plus one worker costs more
  CPU than one process, for the same single core).

Pure except `idle_cores()` (psutil).
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["Calibration", "MachineCores", "auto_workers", "idle_cores", "plan_figures", "plan_line", "spare_cores"]


@dataclass(frozen=True)
class Calibration:
    """What one generator process did in a short unpaced run against the environment's targets."""

    users: int
    seconds: float
    pings: int
    pings_per_s: float | None
    cpu_share: float | None
    cpu_us_per_ping: float | None
    failure_ratio: float | None = None

    def per_worker(self, max_cpu_share: float) -> float | None:
        """Status pings/s one process sustains at the CPU limit (None: not measured)."""
        if not self.cpu_us_per_ping or self.cpu_us_per_ping <= 0:
            return None
        return max_cpu_share * 1e6 / self.cpu_us_per_ping

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MachineCores:
    """Cores of this machine as `--workers auto` sees them."""

    usable: int
    idle: float  # cores idle over the sample (usable x idle share)
    sandbox_here: bool

    @property
    def spare(self) -> int:
        return spare_cores(self.idle, sandbox_here=self.sandbox_here)


def idle_cores(sample_s: float = 0.5) -> MachineCores:
    """Usable cores (CPU affinity) and how many of them were idle over `sample_s` (psutil)."""
    import psutil

    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 1
    busy = psutil.cpu_percent(interval=sample_s) / 100.0
    return MachineCores(usable=usable, idle=round(usable * max(0.0, 1.0 - busy), 2), sandbox_here=False)


def spare_cores(idle: float, *, sandbox_here: bool) -> int:
    """Idle cores less one for the master and one for a sandbox on this host, never below 0.

    >>> spare_cores(1.9, sandbox_here=True), spare_cores(7.6, sandbox_here=True), spare_cores(4.0, sandbox_here=False)
    (0, 5, 3)
    """
    return max(0, math.floor(idle + 1e-9) - 1 - (1 if sandbox_here else 0))


def auto_workers(spare: int) -> int:
    """`--workers auto`: one worker per spare core; 0 (the local runner, one process) when at most one is spare.

    >>> [auto_workers(n) for n in (0, 1, 2, 6)]
    [0, 0, 2, 6]
    """
    return spare if spare >= 2 else 0


def plan_figures(
    *,
    users: int,
    servers: int,
    interval_s: float,
    workers: int,
    calibration: Calibration | None,
    max_cpu_share: float,
    cores: MachineCores | None,
) -> dict[str, Any]:
    """Everything the plan line says, JSON-safe (kept in the load evidence as `sizing`)."""
    asked = users / interval_s if interval_s > 0 else None
    per_worker = calibration.per_worker(max_cpu_share) if calibration else None
    needed = max(1, math.ceil(asked / per_worker - 1e-9)) if asked and per_worker else None
    processes = max(1, workers)
    return {
        "users": users,
        "servers": servers,
        "ping_interval_s": interval_s,
        "asked_pings_per_s": round(asked, 2) if asked is not None else None,
        "calibration": calibration.as_dict() if calibration else None,
        "max_cpu_share": max_cpu_share,
        "one_worker_pings_per_s": round(per_worker) if per_worker else None,
        "workers_needed": needed,
        "workers": workers,
        "enough": None if needed is None else needed <= processes,
        "cores": None if cores is None else {**asdict(cores), "spare": cores.spare},
    }


def plan_line(figures: dict[str, Any]) -> str:
    """The plan in one line.

    >>> cal = Calibration(users=100, seconds=3.0, pings=4000, pings_per_s=1300.0, cpu_share=0.78,
    ...     cpu_us_per_ping=600.0)
    >>> f = plan_figures(users=10000, servers=10000, interval_s=5.0, workers=0, calibration=cal,
    ...     max_cpu_share=0.9, cores=MachineCores(usable=2, idle=1.8, sandbox_here=True))
    >>> print(plan_line(f))  # doctest: +NORMALIZE_WHITESPACE
    plan: 10,000 servers, each pinged every 5 s: 2,000 pings/s asked; one worker on this machine: 1,500 pings/s
    at the 90 % CPU limit (600 µs CPU per ping, calibrated 3 s, 100 users, 4,000 pings); needs 2 workers;
    this run: local runner (1 process): NOT ENOUGH, expect INCONCLUSIVE (generator saturated);
    this machine: 2 cores, 1.8 idle, 0 spare (1 for the master, 1 for the sandbox): run on more cores or
    hosts (--workers 2 needs 4 idle cores here, 1 idle)
    """
    f = figures
    users, servers, interval = int(f["users"]), int(f["servers"]), float(f["ping_interval_s"])
    who = f"{servers:,} servers" if users == servers else f"{users:,} simulated servers over {servers:,} servers"
    if f["asked_pings_per_s"] is None:
        head = f"plan: {who}, pinged back to back (no pacing)"
    else:
        head = f"plan: {who}, each pinged every {interval:g} s: {f['asked_pings_per_s']:,.0f} pings/s asked"
    parts = [head]
    cal = f.get("calibration")
    if f.get("one_worker_pings_per_s") and cal:
        parts.append(
            f"one worker on this machine: {f['one_worker_pings_per_s']:,} pings/s at the "
            f"{f['max_cpu_share'] * 100:.0f} % CPU limit ({cal['cpu_us_per_ping']:,.0f} µs CPU per ping, calibrated "
            f"{cal['seconds']:g} s, {cal['users']:,} users, {cal['pings']:,} pings)"
        )
        n = int(f["workers_needed"])
        parts.append(f"needs {n} worker{'s' if n != 1 else ''}")
    else:
        parts.append("one worker on this machine: not measured (the calibration got no answered pings)")
    workers = int(f["workers"])
    mode = f"{workers} workers + master" if workers else "local runner (1 process)"
    if f.get("enough") is None:
        parts.append(f"this run: {mode}")
    elif f["enough"]:
        parts.append(f"this run: {mode}: enough")
    else:
        parts.append(f"this run: {mode}: NOT ENOUGH, expect INCONCLUSIVE (generator saturated)")
    cores = f.get("cores")
    if cores:
        reserved = "1 for the master" + (", 1 for the sandbox" if cores["sandbox_here"] else "")
        line = f"this machine: {cores['usable']} cores, {cores['idle']:g} idle, {cores['spare']} spare ({reserved})"
        needed = f.get("workers_needed")
        if needed is not None and needed > 1 and needed > cores["spare"]:
            cores_needed = needed + 1 + (1 if cores["sandbox_here"] else 0)
            line += (
                f": run on more cores or hosts (--workers {needed} needs {cores_needed} idle cores here, "
                f"{math.floor(cores['idle'] + 1e-9)} idle)"
            )
        elif needed is not None and needed > 1:
            line += f": --workers {needed} (or --workers auto) fits"
        parts.append(line)
    return "; ".join(parts)
