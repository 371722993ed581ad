"""CPU-microseconds per status ping of mcproof's Locust load user against fair baselines, in the same run.

    .venv/bin/python bench/load_throughput.py [--servers 200] [--seconds 8] [--users 50] [--workers 1,2]

Starts its own sandbox on 127.160.0.0/16 (loopback only), then measures, one after the other, each in
its own process, every one at the SAME concurrency (--users greenlets / Locust users, unpaced):

1. raw-socket SLP client on gevent: a hand-written handshake + status request, the reply read by its
   length prefix and parsed as JSON (no mcstatus) -- the floor of what a Python client costs;
2. raw mcstatus loop on gevent: `JavaServer(host, port, timeout=3).status(tries=1)`, one greenlet per user;
3. mcproof load user, 1 process: the headless runner (Locust local runner), users without pacing;
4. mcproof load user, master + N workers for each N in --workers (skipped past the usable cores unless
   --force-workers).

CPU per ping = process CPU time / status pings answered, over a measured interval after a warm-up (the
load user: its full-load window, from `generator.cpu_us_per_ping`, workers' CPU only; the master's share
is printed beside it). CPU-µs per ping holds across machines better than pings/s: here the sandbox
shares the cores, so pings/s is bounded by whichever side is busier. Prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcproof.load.launcher import run_load
from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.shapes import plan_shape
from mcproof_sandbox.fleet import Sandbox, SandboxSpec

# One child per baseline: gevent monkey-patching first, `users` greenlets pinging round-robin over the servers
# for warm-up + measured seconds; prints {"pings", "failures", "cpu_s", "wall_s"} of the measured part.
_GEVENT_LOOP = r"""
from gevent import monkey; monkey.patch_all()
import json, socket, struct, sys, time
import gevent
kind, users, warm, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
servers = [(h, int(p)) for h, p in (a.split(":") for a in sys.argv[5:])]

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F; n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n: return bytes(out)

def packet(body): return varint(len(body)) + body

def read_varint(sock):
    n = shift = 0
    while True:
        b = sock.recv(1)
        if not b: raise ConnectionError("closed")
        n |= (b[0] & 0x7F) << shift; shift += 7
        if not b[0] & 0x80: return n

def raw_status(host, port):
    with socket.create_connection((host, port), timeout=3) as sock:
        h = host.encode()
        sock.sendall(packet(b"\x00" + varint(47) + varint(len(h)) + h + struct.pack(">H", port) + varint(1))
                     + packet(b"\x00"))
        length = read_varint(sock)
        data = bytearray()
        while len(data) < length:
            chunk = sock.recv(length - len(data))
            if not chunk: raise ConnectionError("short reply")
            data += chunk
        view = memoryview(data)[1:]  # packet id 0
        n = shift = i = 0
        while True:
            b = view[i]; i += 1; n |= (b & 0x7F) << shift; shift += 7
            if not b & 0x80: break
        return json.loads(bytes(view[i:i + n]))

if kind == "mcstatus":
    from mcstatus import JavaServer
    clients = [JavaServer(h, p, timeout=3) for h, p in servers]
    def ping(i): clients[i % len(clients)].status(tries=1)
else:
    def ping(i): raw_status(*servers[i % len(servers)])

counts = {"pings": 0, "failures": 0}
measuring = [False]
stop_at = time.monotonic() + warm + seconds

def user(u):
    i = u
    while time.monotonic() < stop_at:
        try:
            ping(i)
            if measuring[0]: counts["pings"] += 1
        except Exception:
            if measuring[0]: counts["failures"] += 1
        i += users

greenlets = [gevent.spawn(user, u) for u in range(users)]
gevent.sleep(warm)
measuring[0] = True
cpu0, wall0 = time.process_time(), time.monotonic()
gevent.joinall(greenlets, timeout=seconds + 10)
cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
print(json.dumps({**counts, "cpu_s": cpu, "wall_s": wall}))
"""


def gevent_loop(kind: str, addresses: list[str], users: int, seconds: float, warm: float = 1.0) -> dict[str, Any]:
    cmd = [sys.executable, "-c", _GEVENT_LOOP, kind, str(users), str(warm), str(seconds), *addresses]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=warm + seconds + 60, check=True)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    pings = max(1, int(data["pings"]))
    return {
        "pings_per_s": round(data["pings"] / data["wall_s"], 1),
        "cpu_us_per_ping": round(data["cpu_s"] * 1e6 / pings, 1),
        "cpu_share": round(data["cpu_s"] / data["wall_s"], 3),
        "failures": data["failures"],
    }


def load_user(targets: tuple[TargetRef, ...], users: int, seconds: float, workers: int, out: Path) -> dict[str, Any]:
    duration = seconds + 2.0  # users spawn in the first second; the window starts after it
    config = LoadConfig(
        environment="bench",
        targets=targets,
        users=users,
        plan=plan_shape("steady", users=users, duration_s=duration, ping_interval_s=0, warmup_s=1.0),
        ping_interval_s=0.0,
        timeout_s=3.0,
        thresholds=("failure_ratio < 0.001",),
        workers=workers,
        stop_grace_s=5.0,
        max_pings_per_user=int(duration * 40_000 / users) + 100,
    )
    result = run_load(config, out).result
    generator = result["generator"]
    shares = generator["cpu_share_by_process"]
    return {
        "pings_per_s": result["metrics"]["pings_per_s"],
        "cpu_us_per_ping": generator["cpu_us_per_ping"],
        "cpu_share_by_process": shares,
        "loop_lag_p95_ms_by_process": generator.get("loop_lag_p95_ms_by_process"),
        "failures": result["metrics"]["failures"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", default="1,2", help="worker counts for distributed runs (comma-separated)")
    parser.add_argument("--force-workers", action="store_true", help="run worker counts past the usable cores")
    args = parser.parse_args()
    cores = len(os.sched_getaffinity(0))
    counts = [int(n) for n in args.workers.split(",") if n.strip()]
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        sandbox.up(SandboxSpec(servers=args.servers, base_address="127.160.0.1", boot_delay_s=0.5), timeout=120)
        try:
            servers = sandbox.servers()
            targets = tuple(TargetRef(s.id, s.host, s.port, s.query_port) for s in servers)
            addresses = [f"{s.host}:{s.port}" for s in servers]
            raw_socket = gevent_loop("socket", addresses, args.users, args.seconds)
            raw_mcstatus = gevent_loop("mcstatus", addresses, args.users, args.seconds)
            one = load_user(targets, args.users, args.seconds, 0, Path(tmp) / "one")
            distributed = {
                n: load_user(targets, args.users, args.seconds, n, Path(tmp) / f"w{n}")
                for n in counts
                if n <= cores or args.force_workers
            }
        finally:
            sandbox.down()
    base = raw_mcstatus["cpu_us_per_ping"]
    report = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "usable_cores": cores,
        "servers": args.servers,
        "seconds": args.seconds,
        "concurrency": args.users,
        "raw_socket_gevent": raw_socket,
        "raw_mcstatus_gevent": raw_mcstatus,
        "load_user_1_process": one,
        **{f"load_user_{n}_workers": figures for n, figures in distributed.items()},
        "load_user_cpu_per_ping_vs_raw_mcstatus": round(one["cpu_us_per_ping"] / base, 3) if base else None,
        "goal_load_user_vs_raw_mcstatus": "<= 1.2",
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
