"""How many concurrent player sessions one generator process holds: mcproof's player client vs a raw loop.

    flock /tmp/mcproof-heavy.lock .venv/bin/python bench/player_sessions.py [--sessions 100,500,1000]
        [--hold-s 15] [--servers 10] [--keepalive-s 1.0] [--json]

Starts its own sandbox on 127.163.0.0/16 (loopback only; its shards are other processes: only the
client process is measured), with a keep-alive every ``--keepalive-s`` seconds (vanilla: 15 s; 1 s makes
the hold exercise the answer path 15x more than vanilla) and the world-time update every second, no
compression (both clients read the same plain frames). For each N, in the same run and each in a fresh
child process on gevent (``monkey.patch_all``: the event loop a Locust generator runs):

- **mcproof**: N greenlets, each ``mcproof.minecraft.player.blocking.join`` then ``BlockingSession.pump``
  until the hold ends, then ``leave`` -- the code path of ``MinecraftPlayerUser`` without Locust (which adds
  two request events per session, none per keep-alive);
- **raw**: N greenlets, each a hand-written login (handshake, login start, login acknowledged, known
  packs, finish configuration) and then a loop that frames packets and answers keep-alives only -- the
  least code that keeps a session open (no world-time parsing, no teleport confirm, no deadlines).

Once all N sessions are in play: RSS delta per session (psutil, after joins - before, in the child),
then CPU time of the child over ``--hold-s`` seconds -> CPU microseconds per session-second, sessions
still open at the end and keep-alives answered. Prints both and the ratios mcproof / raw.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BASE_ADDRESS = "127.163.0.1"

_CHILD = r"""
from gevent import monkey; monkey.patch_all()
import json, os, socket, struct, sys, time, uuid
import gevent, gevent.lock, psutil

kind, n, hold_s, targets = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), json.loads(sys.argv[4])
proc = psutil.Process()
joined, answered, alive = [0], [0], [0]
hold_end = [float("inf")]
joining = gevent.lock.BoundedSemaphore(64)  # at most 64 joins in flight (both kinds); sessions are unbounded

def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F; v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v: return bytes(out)

def frame(pid, body=b""):
    data = varint(pid) + body
    return varint(len(data)) + data

def mcstr(s):
    b = s.encode(); return varint(len(b)) + b

def raw_session(host, port, name):
    with joining:
        raw_login_and_play(host, port, name)

def raw_login_and_play(host, port, name):
    sock = socket.create_connection((host, port), timeout=10)
    sock.settimeout(None)
    sock.sendall(frame(0, varint(769) + mcstr(host) + struct.pack(">H", port) + varint(2))
                 + frame(0, mcstr(name) + uuid.uuid3(uuid.NAMESPACE_OID, name).bytes))
    buf, state = bytearray(), "login"
    try:
        while True:
            data = sock.recv(65536)
            if not data: return
            buf += data
            while True:  # frames: varint length, varint id, body
                length = shift = used = 0
                for i, b in enumerate(buf):
                    length |= (b & 0x7F) << shift; shift += 7
                    if not b & 0x80: used = i + 1; break
                if not used or len(buf) < used + length: break
                packet = bytes(buf[used:used + length]); del buf[:used + length]
                pid, body = packet[0], packet[1:]  # every id this server sends is < 0x80
                if state == "login" and pid == 0x02:
                    sock.sendall(frame(0x03)); state = "config"
                elif state == "config" and pid == 0x0E:
                    sock.sendall(frame(0x07, varint(0)))
                elif state == "config" and pid == 0x03:
                    sock.sendall(frame(0x03)); state = "play"; joined[0] += 1; alive[0] += 1
                    joining.release()  # in play: the next join may start (re-acquired below, for the with)
                elif state == "play" and pid == 0x27:
                    sock.sendall(frame(0x1A, body)); answered[0] += 1
                if state == "play" and time.monotonic() >= hold_end[0]:
                    return
    finally:
        if state == "play":
            alive[0] -= 1
            joining.acquire()
        sock.close()

def mcproof_session(host, port, name):
    from mcproof.minecraft.player.blocking import join
    from mcproof.target import Target
    with joining:
        attempt, session = join(Target(name, host, port), 769, name, phase_timeout_s=10, connect_timeout_s=10)
    if session is None:
        print(json.dumps({"failed": attempt.as_dict()}), file=sys.stderr); return
    joined[0] += 1; alive[0] += 1
    try:
        while time.monotonic() < hold_end[0]:
            end = session.pump(min(hold_end[0], time.monotonic() + 1.0))
            if end is not None: return
    finally:
        alive[0] -= 1
        answered[0] += session.keepalives_answered
        session.leave()

if kind == "mcproof":
    import mcproof.minecraft.player.blocking  # imported before the RSS baseline, like the raw loop's modules
run = raw_session if kind == "raw" else mcproof_session
rss0 = proc.memory_info().rss
greenlets = [gevent.spawn(run, *targets[i % len(targets)], f"bench_{kind[0]}_{i}") for i in range(n)]
deadline = time.monotonic() + 120
while joined[0] < n and time.monotonic() < deadline:
    gevent.sleep(0.05)
gevent.sleep(1.0)  # the first keep-alive/time update of the last sessions
rss1 = proc.memory_info().rss
cpu0, t0, ka0 = time.process_time(), time.monotonic(), answered[0]
hold_end[0] = t0 + hold_s
gevent.sleep(hold_s)
cpu1, t1 = time.process_time(), time.monotonic()
open_at_end = alive[0]
gevent.joinall(greenlets, timeout=30)
print(json.dumps({"kind": kind, "sessions": n, "joined": joined[0], "open_at_end": open_at_end,
                  "hold_s": t1 - t0, "cpu_s": cpu1 - cpu0, "rss_delta": rss1 - rss0,
                  "keepalives_answered": answered[0]}))
"""


def _child(kind: str, n: int, hold_s: float, targets: list[list[Any]]) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, kind, str(n), str(hold_s), json.dumps(targets)],
        capture_output=True,
        text=True,
        timeout=hold_s + 240,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    if out.returncode != 0:
        raise SystemExit(f"{kind} x{n} failed (exit {out.returncode}): {out.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    sess_s = result["open_at_end"] * result["hold_s"]
    result["cpu_us_per_session_s"] = round(result["cpu_s"] * 1e6 / sess_s, 1) if sess_s else None
    result["rss_kib_per_session"] = round(result["rss_delta"] / 1024 / n, 1)
    result["cpu_share"] = round(result["cpu_s"] / result["hold_s"], 3)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", default="100,500,1000", help="comma-separated session counts")
    parser.add_argument("--hold-s", type=float, default=15.0)
    parser.add_argument("--servers", type=int, default=10)
    parser.add_argument("--keepalive-s", type=float, default=1.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    counts = [int(c) for c in args.sessions.split(",") if c.strip()]

    from mcproof_sandbox.fleet import Sandbox, SandboxSpec

    rows = []
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-players-") as tmp:
        sandbox = Sandbox(Path(tmp) / "sandbox")
        spec = SandboxSpec(
            servers=args.servers,
            base_address=BASE_ADDRESS,
            boot_delay_s=0.0,
            max_players=max(counts) // args.servers + 10,
            compression_threshold=-1,
            keepalive_s=args.keepalive_s,
            query_enabled=False,
        )
        sandbox.up(spec, timeout=60.0)
        try:
            targets = [[s.host, s.port] for s in sandbox.servers()]
            for n in counts:
                pair = {kind: _child(kind, n, args.hold_s, targets) for kind in ("raw", "mcproof")}
                ratio = {
                    key: round(pair["mcproof"][key] / pair["raw"][key], 2) if pair["raw"][key] else None
                    for key in ("cpu_us_per_session_s", "rss_kib_per_session")
                }
                rows.append({"sessions": n, **pair, "ratio": ratio})
                if not args.json:
                    for kind in ("raw", "mcproof"):
                        r = pair[kind]
                        print(
                            f"{n:>5} sessions {kind:>7}: {r['open_at_end']}/{n} open at the end, "
                            f"{r['cpu_us_per_session_s']} CPU-us per session-second ({r['cpu_share'] * 100:.1f} % "
                            f"of a core), {r['rss_kib_per_session']} KiB RSS per session, "
                            f"{r['keepalives_answered']} keep-alives answered"
                        )
                    print(f"{n:>5} sessions   ratio: mcproof/raw CPU {ratio['cpu_us_per_session_s']}x, "
                          f"memory {ratio['rss_kib_per_session']}x")  # fmt: skip
        finally:
            sandbox.down(timeout=10.0)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
