"""The game-server fleet autoscaler's figures on the sandbox, against a buffer too small for the rush.

Per round, on one sandbox (``--servers``) and its platform API restarted with each policy:

- sized: a buffer of ``--buffer`` ready servers, a rush of ``--rush`` (<= buffer) allocations
  -> allocation p95, the ready minimum, scale-out (below size -> full again) and its ratio to the
  boot time (how close to the floor a replacement can be), scale-in (releases -> listing back at size),
  and the harness's CPU per sample (listing + a ping of every ready and held server);
- baseline: the same rush against a buffer of 1: most allocations wait for a boot -> allocation p95,
  and the ratio sized / baseline (what the buffer buys).

Ratios hold across machines better than the seconds. Loopback only; a throwaway state dir.

    flock /tmp/mcproof-heavy.lock .venv/bin/python bench/fleet_buffer.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from mcproof.load.fleet_buffer import judge_fleet_buffer, run_fleet_buffer
from mcproof.load.settings import FleetBufferSettings
from mcproof.platform.client import PlatformClient
from mcproof.players.population import Population
from mcproof.secrets import SecretRef
from mcproof.target import Target
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _join(targets: list[Target]) -> Any:
    return Population(targets, rejoin_deadline_s=3.0, max_duration_s=300).start()


def _rush(services: PlatformServices, buffer: int, args: argparse.Namespace) -> dict[str, Any]:
    services.down()
    config = EngineConfig(
        environment="bench",
        autosave_s=5.0,
        filler_bytes=4096,
        fleet_buffer_size=buffer,
        fleet_pool_size=args.pool,
        fleet_boot_s=args.boot,
    )
    info = services.up(config, timeout=60)
    client = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    settings = FleetBufferSettings(
        rush=args.rush, keep=min(2, args.rush), allocation_deadline_s=60, refill_deadline_s=120, scale_in_deadline_s=60
    )
    cpu = _cpu_s()
    run = run_fleet_buffer(client, settings, join_players=_join)
    cpu = _cpu_s() - cpu
    f = judge_fleet_buffer(run)
    scale_in = (run.scaled_in_at - run.released_at) if run.scaled_in_at and run.released_at else None
    return {
        "buffer": buffer,
        "allocation_p95_s": f.allocation_p95_s,
        "ready_min": f.ready_min,
        "scale_out_s": f.scale_out_s,
        "scale_in_s": scale_in,
        "occupied_stopped": len(f.occupied_stopped),
        "samples": f.samples,
        "cpu_ms_per_sample": 1000 * cpu / max(1, f.samples),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--servers", type=int, default=40)
    parser.add_argument("--pool", type=int, default=32)
    parser.add_argument("--buffer", type=int, default=8)
    parser.add_argument("--rush", type=int, default=6)
    parser.add_argument("--boot", type=float, default=2.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    if args.rush > args.buffer or args.buffer > args.pool or args.pool >= args.servers:
        parser.error("need rush <= buffer <= pool < servers")
    rounds: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="mcproof-bench-fleet-") as tmp:
        state = Path(tmp)
        sandbox, services = Sandbox(state), PlatformServices(state)
        base = f"127.{random.randint(100, 200)}.{random.randint(0, 250)}.1"
        sandbox.up(SandboxSpec(servers=args.servers, base_address=base, boot_delay_s=0.3), timeout=60)
        try:
            for n in range(args.rounds):
                sized, baseline = _rush(services, args.buffer, args), _rush(services, 1, args)
                rounds.append({"sized": sized, "baseline": baseline})
                print(f"round {n + 1}: sized {sized} | baseline {baseline}", file=sys.stderr)
        finally:
            services.down()
            sandbox.down(timeout=10)

    def med(kind: str, key: str) -> float:
        return statistics.median(float(r[kind][key] or 0.0) for r in rounds)

    summary = {
        "allocation_p95_s": med("sized", "allocation_p95_s"),
        "baseline_allocation_p95_s": med("baseline", "allocation_p95_s"),
        "allocation_ratio": med("sized", "allocation_p95_s") / max(1e-9, med("baseline", "allocation_p95_s")),
        "ready_min": med("sized", "ready_min"),
        "scale_out_s": med("sized", "scale_out_s"),
        "scale_out_to_boot": med("sized", "scale_out_s") / args.boot,
        "scale_in_s": med("sized", "scale_in_s"),
        "occupied_stopped": max(int(r["sized"]["occupied_stopped"]) for r in rounds),
        "cpu_ms_per_sample": med("sized", "cpu_ms_per_sample"),
        "rounds": rounds,
    }
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            if key != "rounds":
                print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
