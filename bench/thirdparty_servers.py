"""Start time, resident memory, status latency and crash recovery of the third-party servers.

flying-squid and Minestom (installed by tools/thirdparty/install.sh), each started `--rounds` times on a
free loopback port with tests/integration/thirdparty.py: spawn -> first status ping answered, RSS of the
process group right after start and after `--pings` status pings, ping latency (mcstatus, sequential),
then a SIGKILL of the group and a restart on the same port (kill -> serving again).

    .venv/bin/python bench/thirdparty_servers.py --rounds 3 --pings 200
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from mcstatus import JavaServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration"))
from thirdparty import ThirdPartyServer, flying_squid, kill_and_restart, minestom

MIB = 2**20


def _ping_ms(server: ThirdPartyServer, pings: int) -> list[float]:
    client = JavaServer(server.host, server.port, timeout=2.0)
    samples = []
    for _ in range(pings):
        began = time.perf_counter()
        client.status(tries=1)
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pings", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mcproof-thirdparty-") as tmp:
        for make in (flying_squid, minestom):
            starts, rss_up, rss_after, p50s, p95s, recoveries = [], [], [], [], [], []
            version = ""
            for i in range(args.rounds):
                server = make(Path(tmp) / f"{make.__name__}-{i}")
                try:
                    starts.append(server.start())
                    version = f"{server.version_name} (protocol {server.protocol})"
                    rss_up.append(server.rss_bytes() / MIB)
                    samples = sorted(_ping_ms(server, args.pings))
                    rss_after.append(server.rss_bytes() / MIB)
                    p50s.append(statistics.median(samples))
                    p95s.append(samples[int(0.95 * (len(samples) - 1))])
                    recoveries.append(kill_and_restart(server).serving_s)
                finally:
                    server.stop()
            print(
                f"{make.__name__}: {version}; start {min(starts):.2f}-{max(starts):.2f} s; "
                f"RSS after start {min(rss_up):.0f}-{max(rss_up):.0f} MiB, after {args.pings} pings "
                f"{min(rss_after):.0f}-{max(rss_after):.0f} MiB; status p50 {min(p50s):.1f}-{max(p50s):.1f} ms, "
                f"p95 {min(p95s):.1f}-{max(p95s):.1f} ms; kill -> serving {min(recoveries):.2f}-{max(recoveries):.2f} s "
                f"({args.rounds} rounds)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
