"""Pings/s of mcproof's Locust load user against a raw mcstatus sync loop, measured in the same run.

    .venv/bin/python bench/load_throughput.py [--servers 200] [--seconds 10] [--users 50]

Starts its own sandbox on 127.160.0.0/16 (loopback only), then measures, one after the other:
1. raw: one process, `JavaServer(host, port).status(tries=1)` in a tight loop over the servers;
2. load user, 1 process: the headless runner (Locust local runner), users without pacing;
3. load user, 2 workers: Locust master + 2 worker processes.
Each phase is bounded by --seconds (and the runner's ping count and hard deadline). Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.runner import run_load
from mcproof.load.shapes import plan_shape
from mcproof_sandbox.fleet import Sandbox, SandboxSpec

RAW = """
import sys, time
from mcstatus import JavaServer
servers = [JavaServer(h, int(p), timeout=3) for h, p in (a.split(':') for a in sys.argv[2:])]
deadline = time.perf_counter() + float(sys.argv[1]); n = 0; fails = 0
start = time.perf_counter()
while time.perf_counter() < deadline and n < 10_000_000:
    try:
        servers[n % len(servers)].status(tries=1)
    except Exception:
        fails += 1
    n += 1
print(n / (time.perf_counter() - start), fails)
"""


def raw_loop(addresses: list[str], seconds: float) -> float:
    out = subprocess.run([sys.executable, "-c", RAW, str(seconds), *addresses], capture_output=True, text=True,
                         timeout=seconds + 30, check=True)  # fmt: skip
    return float(out.stdout.split()[0])


def load_user(targets: tuple[TargetRef, ...], users: int, seconds: float, workers: int, out: Path) -> dict[str, float]:
    config = LoadConfig(
        environment="bench",
        targets=targets,
        users=users,
        plan=plan_shape("steady", users=users, duration_s=seconds + 1, ping_interval_s=0, warmup_s=0),
        ping_interval_s=0.0,
        timeout_s=3.0,
        thresholds=("failure_ratio < 0.001",),
        workers=workers,
        stop_grace_s=5.0,
        max_pings_per_user=int(seconds * 20_000 / users) + 100,
    )
    result = run_load(config, out).result
    return {"pings_per_s": float(result["metrics"]["pings_per_s"]), "failures": result["metrics"]["failures"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(SandboxSpec(servers=args.servers, base_address="127.160.0.1", boot_delay_s=0.5), timeout=120)
        try:
            servers = sandbox.servers()
            targets = tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in servers)
            raw = raw_loop([f"{s.host}:{s.port}" for s in servers], args.seconds)
            one = load_user(targets, args.users, args.seconds, 0, Path(tmp) / "one")
            two = load_user(targets, args.users, args.seconds, 2, Path(tmp) / "two")
        finally:
            sandbox.down()
    report = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "servers": args.servers,
        "seconds": args.seconds,
        "users": args.users,
        "raw_mcstatus_sync_loop_pings_per_s": round(raw, 1),
        "load_user_1_process_pings_per_s": round(one["pings_per_s"], 1),
        "load_user_2_workers_pings_per_s": round(two["pings_per_s"], 1),
        "load_user_vs_raw": round(one["pings_per_s"] / raw, 3),
        "two_workers_vs_one": round(two["pings_per_s"] / one["pings_per_s"], 3),
        "failures": {"one": one["failures"], "two": two["failures"]},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
