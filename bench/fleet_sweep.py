"""Benchmark: a 10,000-server sandbox (startup time, memory) and a full smoke sweep against it.

The baseline is measured in the same run: a raw mcstatus loop (asyncio + semaphore, one process)
over the same servers. The sandbox side is measured too: CPU-microseconds of the shard processes per
answered ping (psutil CPU times of every shard around each mcproof sweep), once per event loop named in
--loops (`mcproof_sandbox.fleet.eventloop`: a fresh sandbox per loop). Prints a table and, with --json, JSON.

    .venv/bin/python bench/fleet_sweep.py --servers 10000 [--loops asyncio,uvloop]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psutil
from mcstatus import JavaServer

from mcproof.connect.targets import Target, sandbox_targets
from mcproof.minecraft.sweep import sweep_fleet
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.fleet.eventloop import LOOP_ENV


async def _raw_loop(targets: list[Target], concurrency: int, timeout: float) -> int:
    semaphore = asyncio.Semaphore(concurrency)
    ok = 0

    async def one(t: Target) -> None:
        nonlocal ok
        async with semaphore:
            try:
                await JavaServer(t.host, t.port, timeout=timeout).async_status(tries=1)
                ok += 1
            except Exception:  # noqa: S110 - the baseline counts successes only
                pass

    await asyncio.gather(*(one(t) for t in targets))
    return ok


def raw_mcstatus(targets: list[Target], concurrency: int, timeout: float) -> tuple[float, int]:
    start = time.perf_counter()
    ok = asyncio.run(_raw_loop(targets, concurrency, timeout))
    return time.perf_counter() - start, ok


def _shard_cpu_s(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def measure(args: argparse.Namespace) -> dict[str, object]:
    """One sandbox on the current loop: startup, RSS, rounds of raw loop vs mcproof sweep, shard CPU per ping."""
    figures: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-") as tmp:
        sandbox = Sandbox(Path(tmp))
        start = time.perf_counter()
        status = sandbox.up(SandboxSpec(servers=args.servers, base_address=args.base_address), timeout=300)
        figures["startup_s"] = round(time.perf_counter() - start, 2)
        figures["rss_mb"] = round((status.rss_bytes or 0) / 2**20, 1)
        pids = list(status.shard_pids)
        try:
            targets = sandbox_targets(Path(tmp))
            ours, raw, shard_us = [], [], []
            for _ in range(args.rounds):
                duration, ok = raw_mcstatus(targets, args.concurrency, 3.0)
                raw.append((duration, ok))
                cpu0 = _shard_cpu_s(pids)
                sweep = sweep_fleet(targets, timeout=3.0, concurrency=args.concurrency, processes=args.processes)
                shard_us.append((_shard_cpu_s(pids) - cpu0) * 1e6 / max(1, sweep.serving))
                ours.append((sweep.duration_s, sweep.serving))
            after = sandbox.status()
            figures["rss_after_mb"] = round(((after.rss_bytes if after else 0) or 0) / 2**20, 1)
        finally:
            sandbox.down()
    best_ours, best_raw = min(ours), min(raw)
    figures.update(
        sweep_s=round(best_ours[0], 3),
        sweep_serving=best_ours[1],
        sweep_pings_per_s=round(args.servers / best_ours[0]),
        sweep_runs_s=[round(d, 3) for d, _ in ours],
        raw_s=round(best_raw[0], 3),
        raw_serving=best_raw[1],
        raw_pings_per_s=round(args.servers / best_raw[0]),
        raw_runs_s=[round(d, 3) for d, _ in raw],
        shard_cpu_us_per_answered_ping=round(min(shard_us), 1),
        shard_cpu_us_runs=[round(v, 1) for v in shard_us],
    )
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3, help="sweeps of each kind (best and median reported)")
    parser.add_argument("--base-address", default="127.60.0.1")
    parser.add_argument("--loops", default="asyncio,uvloop", help="sandbox event loops to measure, comma-separated")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    figures: dict[str, object] = {"servers": args.servers}
    by_loop: dict[str, dict[str, object]] = {}
    for loop in [name.strip() for name in args.loops.split(",") if name.strip()]:
        os.environ[LOOP_ENV] = loop  # the supervisor and its shards inherit it
        by_loop[loop] = measure(args)
    best = min(by_loop.items(), key=lambda kv: float(kv[1]["sweep_s"]))  # type: ignore[arg-type]
    figures.update(best[1])
    figures.update(loop=best[0], by_loop=by_loop, concurrency=args.concurrency, processes=args.processes)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for loop, f in by_loop.items():
            print(
                f"[{loop}] sweep best {f['sweep_s']} s (runs {f['sweep_runs_s']}), raw best {f['raw_s']} s, "
                f"shard CPU {f['shard_cpu_us_per_answered_ping']} µs per answered ping (runs {f['shard_cpu_us_runs']})"
            )
        print(f"best loop: {figures['loop']}")
        print(
            f"sandbox of {args.servers} servers: up in {figures['startup_s']} s, RSS {figures['rss_mb']} MB "
            f"(after sweeps {figures['rss_after_mb']} MB)"
        )
        print(
            f"mcproof sweep ({args.processes} proc, concurrency {args.concurrency}): best {figures['sweep_s']} s, "
            f"{figures['sweep_pings_per_s']} pings/s, serving {figures['sweep_serving']}/{args.servers}; "
            f"runs {figures['sweep_runs_s']}"
        )
        print(
            f"raw mcstatus loop (1 proc, same concurrency): best {figures['raw_s']} s, "
            f"{figures['raw_pings_per_s']} pings/s, serving {figures['raw_serving']}/{args.servers}; "
            f"runs {figures['raw_runs_s']}"
        )
    return 0 if figures["sweep_serving"] == args.servers else 1


if __name__ == "__main__":
    sys.exit(main())
