"""Where the load user's CPU per ping goes: cProfile over a fixed count of pings in one Locust process.

    .venv/bin/python bench/load_user_profile.py [--servers 100] [--users 50] [--pings 20000] [--paced]

Starts its own sandbox on 127.161.0.0/16 (loopback only), then runs mcproof's load user in one Locust
local runner (a child process: Locust monkey-patches it) under cProfile until --pings status pings
completed, and prints the CPU-µs per ping of each part, by cumulative time of:
- the mcstatus exchange (`java_status`: connect, handshake, read_status, the deadline socket),
- the Locust request event (`events.request.fire`: Locust's stats plus mcproof's listener), split into
  Locust's stats (`RequestStats.log`) and mcproof's per-target bookkeeping (`LoadSession._on_request`),
- the result classification (`version_problem`), the schedule (`advance_schedule`), gevent's hub,
and the whole process CPU per ping without the profiler (a second, unprofiled run of the same count).
cProfile inflates Python-level calls; read the parts as shares, the unprofiled figure as the cost.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.shapes import plan_shape
from mcproof_sandbox.fleet import Sandbox, SandboxSpec

_CHILD = r"""
import locust  # first: gevent monkey-patching
import cProfile, json, pstats, sys, time
import gevent
from locust.env import Environment
from mcproof.load.plan import LoadConfig
from mcproof.load.locust_process import LoadSession, build_user_class

config = LoadConfig.read(__import__("pathlib").Path(sys.argv[1]))
want, profile = int(sys.argv[2]), sys.argv[3] == "1"
env = Environment(user_classes=[build_user_class(config)], stop_timeout=None)
session = LoadSession(env, config)
runner = env.create_local_runner()
count = [0]
env.events.request.add_listener(lambda **kw: count.__setitem__(0, count[0] + 1))
runner.start(config.users, spawn_rate=config.users)
while count[0] < 200:  # warm-up: every user spawned and pinging
    gevent.sleep(0.05)
prof = cProfile.Profile() if profile else None
start, cpu0 = count[0], time.process_time()
if prof: prof.enable()
while count[0] - start < want:
    gevent.sleep(0.01)
if prof: prof.disable()
cpu, done = time.process_time() - cpu0, count[0] - start
runner.quit()
out = {"pings": done, "cpu_us_per_ping": round(cpu * 1e6 / done, 1)}
if prof:
    stats = pstats.Stats(prof)
    parts = {"mcstatus exchange (java_status)": ("status.py", "java_status"),
             "Locust request event (fire)": ("events.py", "fire"),
             "  Locust stats (RequestStats.log)": ("stats.py", "log"),
             "  mcproof bookkeeping (_on_request)": ("locust_process.py", "_on_request"),
             "classification (version_problem)": ("locust_process.py", "version_problem"),
             "schedule (advance_schedule)": ("generator.py", "advance_schedule"),
             "gevent sleep": ("gevent/hub.py", "sleep"),
             "user task (watch)": ("locust_process.py", "watch")}
    total = sum(v[2] for v in stats.stats.values())  # type: ignore[attr-defined]
    found = {}
    for (file, _line, name), (_cc, _nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        for label, (f, n) in parts.items():
            if file.endswith(f) and name == n:
                found[label] = found.get(label, 0.0) + ct
    scale = out["cpu_us_per_ping"] / (total * 1e6 / done) if total else 1.0
    out["profiled_total_us_per_ping"] = round(total * 1e6 / done, 1)
    out["parts_us_per_ping_scaled"] = {k: round(v * 1e6 / done * scale, 1) for k, v in found.items()}
    top = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:15]  # type: ignore[attr-defined]
    out["top_tottime_us_per_ping"] = [[f"{k[0].split('/')[-1]}:{k[2]}", round(v[2] * 1e6 / done, 1)] for k, v in top]
print(json.dumps(out))
"""


def run_child(config_path: Path, pings: int, profile: bool) -> dict[str, object]:
    cmd = [sys.executable, "-c", _CHILD, str(config_path), str(pings), "1" if profile else "0"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=100)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--pings", type=int, default=20_000)
    parser.add_argument("--paced", action="store_true", help="users on a 1 s schedule (default: back to back)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(SandboxSpec(servers=args.servers, base_address="127.161.0.1"), timeout=120)
        try:
            targets = tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in sandbox.servers())
            interval = 1.0 if args.paced else 0.0
            config = LoadConfig(
                environment="bench",
                targets=targets,
                users=args.users,
                plan=plan_shape("steady", users=args.users, duration_s=600, ping_interval_s=interval),
                ping_interval_s=interval,
                timeout_s=3.0,
                thresholds=("failure_ratio < 1",),
                expect_version="1.21.4",
                expect_protocol=769,
            )
            path = config.write(Path(tmp) / "config.json")
            plain = run_child(path, args.pings, profile=False)
            profiled = run_child(path, args.pings, profile=True)
        finally:
            sandbox.down()
    print(json.dumps({"unprofiled": plain, "profiled": profiled}, indent=2))


if __name__ == "__main__":
    main()
