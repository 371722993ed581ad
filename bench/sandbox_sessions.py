"""What player sessions cost the sandbox: shard CPU-microseconds per session-second and memory per session.

Starts a sandbox (one shard), logs ``--sessions`` players in with a minimal raw-socket client (asyncio,
one process: handshake, Login Start, acknowledgements, keep-alive answers; the codec framing of
``mcproof_sandbox.fleet.play_protocol`` is symmetric), holds them ``--hold`` seconds, and prints the shard's
CPU time and RSS growth over the hold against the same shard idle for the same time (the baseline in the
same run). Every session must stay in play the whole hold (a keep-alive timeout would show as a drop).

    flock /tmp/mcproof-heavy.lock .venv/bin/python bench/sandbox_sessions.py --sessions 2000 --hold 20
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import struct
import tempfile
import time
from pathlib import Path

import psutil

from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.fleet import play_protocol as pp
from mcproof_sandbox.fleet.protocol import Incomplete, encode_string, encode_varint


class Client:
    def __init__(self) -> None:
        self.in_play = asyncio.Event()
        self.dropped = False
        self.time_updates = 0


async def session(host: str, port: int, name: str, client: Client, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    threshold: int | None = None
    hs = encode_varint(0) + encode_varint(769) + encode_string(host) + struct.pack(">H", port) + encode_varint(2)
    writer.write(encode_varint(len(hs)) + hs)
    writer.write(pp.encode_packet(0x00, encode_string(name) + bytes(16), None))
    buf = bytearray()
    state = "login"
    try:
        while not stop.is_set():
            chunk = await reader.read(65536)
            if not chunk:
                client.dropped = True
                return
            buf += chunk
            while True:
                try:
                    pid, body, used = pp.read_packet(buf, threshold is not None)
                except Incomplete:
                    break
                del buf[:used]
                if state == "login" and pid == 0x03:
                    threshold = pp.read_varint_body(body)
                elif state == "login" and pid == 0x02:
                    writer.write(pp.encode_packet(0x03, b"", threshold))
                    state = "config"
                elif state == "config" and pid == 0x0E:
                    writer.write(pp.encode_packet(0x07, b"\x00", threshold))
                elif state == "config" and pid == 0x03:
                    writer.write(pp.encode_packet(0x03, b"", threshold))
                    state = "play"
                    client.in_play.set()
                elif state == "play" and pid == 0x27:
                    writer.write(pp.encode_packet(0x1A, body, threshold))
                elif state == "play" and pid == 0x6B:
                    client.time_updates += 1
                elif (state, pid) in (("login", 0x00), ("config", 0x02), ("play", 0x1D)):  # a Disconnect
                    client.dropped = True
                    return
    finally:
        writer.close()


def shard_usage(proc: psutil.Process) -> tuple[float, int]:
    cpu = proc.cpu_times()
    return cpu.user + cpu.system, proc.memory_info().rss


async def run(args: argparse.Namespace) -> dict[str, object]:
    per_server = 1000
    servers = -(-args.sessions // per_server)
    base = f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.1"
    state_dir = Path(tempfile.mkdtemp(prefix="mcproof-bench-sessions-"))
    sb = Sandbox(state_dir)
    status = sb.up(SandboxSpec(servers=servers, max_players=per_server, base_address=base, keepalive_s=15.0))
    try:
        shard = psutil.Process(status.shard_pids[0])
        cpu0, rss0 = shard_usage(shard)
        await asyncio.sleep(args.hold)
        cpu1, rss1 = shard_usage(shard)
        idle_cpu = cpu1 - cpu0
        stop = asyncio.Event()
        clients = [Client() for _ in range(args.sessions)]
        hosts = [s.host for s in status.servers]
        t_join = time.monotonic()
        tasks = []
        for k, c in enumerate(clients):
            tasks.append(asyncio.ensure_future(session(hosts[k % servers], 25565, f"b{k:06d}", c, stop)))
            if k % 200 == 199:
                await asyncio.sleep(0.05)
        await asyncio.wait_for(asyncio.gather(*(c.in_play.wait() for c in clients)), 120)
        join_s = time.monotonic() - t_join
        cpu2, _ = shard_usage(shard)
        await asyncio.sleep(args.hold)
        cpu3, rss3 = shard_usage(shard)
        held_cpu = cpu3 - cpu2
        dropped = sum(c.dropped for c in clients)
        updates = sum(c.time_updates for c in clients)
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        sb.down(timeout=10)
    per_session_second = (held_cpu - idle_cpu) / (args.sessions * args.hold) * 1e6
    return {
        "sessions": args.sessions,
        "servers": servers,
        "hold_s": args.hold,
        "all_in_play_after_s": round(join_s, 2),
        "dropped_during_hold": dropped,
        "time_updates_received": updates,
        "shard_cpu_idle_s": round(idle_cpu, 3),
        "shard_cpu_with_sessions_s": round(held_cpu, 3),
        "shard_cpu_us_per_session_second": round(per_session_second, 1),
        "shard_rss_idle_mb": round(rss1 / 2**20, 1),
        "shard_rss_per_session_kb": round((rss3 - rss0) / args.sessions / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=20.0)
    args = parser.parse_args()
    if not 1 <= args.sessions <= 3500:
        parser.error("--sessions must be 1..3500: one shard holds at most 4,000 connections (Fleet.max_conns)")
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
