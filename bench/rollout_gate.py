"""The release gate's cost and figures on the embedded cluster, against a bare rollout in the same run.

Per round, on one proxy Deployment (``--replicas`` pods, RollingUpdate maxUnavailable 0 / maxSurge 1):

- baseline: a bare rollout (a pod-template annotation patched, the Deployment polled every
  ``--interval`` s until the rollout completed; no ping) -> its duration;
- the gate on a good release (the bridge serves the annotated version) -> the rollout's duration as the
  gate saw it, the gate's whole duration, its samples and this process's CPU per sample;
- the gate on a bad release (wrong protocol) with rollback -> time-to-rollback and time-to-healthy.

Ratios (gate rollout / bare rollout) and CPU per sample hold across machines better than the seconds.
A throwaway cluster in a temp dir, torn down at the end; loopback only (pod CIDR 127.82.0.0/16).

    flock /tmp/mcproof-heavy.lock .venv/bin/python bench/rollout_gate.py --rounds 3
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mcproof.chaos.deploy import rollout_complete
from mcproof.errors import McproofError
from mcproof.kubeapi import KubeApi
from mcproof.rollout.gate import run_gate
from mcproof.rollout.settings import RolloutSettings
from mcproof.rollout.workload import KINDS, patch, read
from mcproof_sandbox.kube.bridge import PROTOCOL_ANNOTATION, VERSION_ANNOTATION
from mcproof_sandbox.kube.cluster import ClusterSpec, EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.embedded import wait_serving
from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment, minecraft_service, tenant_namespace
from mcproof_sandbox.kube.workloads import wait_workloads_ready

NAMESPACE = "bench-gate"
DEPLOYMENT = KINDS["Deployment"]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _bare_rollout(api: KubeApi, round_no: int, interval_s: float, deadline_s: float) -> float:
    body = {"spec": {"template": {"metadata": {"annotations": {"mcproof.dev/bench-round": str(round_no)}}}}}
    started = time.monotonic()
    patch(api, DEPLOYMENT, NAMESPACE, "proxy", body, "roll it")
    while not rollout_complete(read(api, DEPLOYMENT, NAMESPACE, "proxy")):
        if time.monotonic() - started > deadline_s:
            raise McproofError(f"the bare rollout did not complete within {deadline_s:g}s")
        time.sleep(interval_s)
    return time.monotonic() - started


def _release(tmp: Path, version: str, protocol: int) -> str:
    path = tmp / f"release-{version}-{protocol}.json"
    ann = {VERSION_ANNOTATION: version, PROTOCOL_ANNOTATION: str(protocol)}
    path.write_text(json.dumps({"spec": {"template": {"metadata": {"annotations": ann}}}}), encoding="utf-8")
    return str(path)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--interval", type=float, default=0.2, help="the gate's tick and the bare rollout's poll")
    ap.add_argument("--deadline", type=float, default=120.0, help="each rollout's deadline")
    ap.add_argument("--json", action="store_true", help="print the result JSON too")
    args = ap.parse_args()
    if not 1 <= args.rounds <= 20 or not 2 <= args.replicas <= 20:
        print("bench: --rounds must be 1..20 and --replicas 2..20", file=sys.stderr)
        return 2
    state = Path(tempfile.mkdtemp(prefix="mcproof-bench-gate-"))
    cluster = EmbeddedCluster(state)
    settings = RolloutSettings(
        interval_s=args.interval,
        rollout_deadline_s=args.deadline,
        healthy_deadline_s=args.deadline,
        readiness_gap_s=4.0,
    )
    rows: list[dict[str, Any]] = []
    try:
        cluster.up(
            ClusterSpec(name="benchgate", nodes=2, pod_cidr="127.82.0.0/16", ready_timeout_s=120),
            echo=lambda line: print(line, file=sys.stderr),
        )
        api = cluster.api()
        create_or_keep(api, tenant_namespace(NAMESPACE))
        create_or_keep(api, minecraft_service(NAMESPACE, "proxy"))
        create_or_keep(api, minecraft_proxy_deployment(NAMESPACE, replicas=args.replicas, min_ready_s=1))
        wait_workloads_ready(api, [NAMESPACE], timeout=120)
        wait_serving(api, [NAMESPACE], timeout=60)
        workload = f"{NAMESPACE}/deployment/proxy"
        for i in range(args.rounds):
            bare = _bare_rollout(api, i, args.interval, args.deadline)
            version, protocol = ("1.21.5", 770) if i % 2 == 0 else ("1.21.4", 769)
            cpu0, t0 = _cpu_s(), time.monotonic()
            good = run_gate(
                api, workload, _release(state, version, protocol), settings=settings, expected=(version, protocol)
            )
            gate_s, cpu = time.monotonic() - t0, _cpu_s() - cpu0
            bad = run_gate(
                api,
                workload,
                _release(state, version, protocol - 10),
                settings=settings,
                expected=(version, protocol),
                rollback=True,
            )
            row = {
                "round": i + 1,
                "bare_rollout_s": round(bare, 3),
                "gate_verdict": good.verdict,
                "gate_rollout_s": good.rollout_s,
                "gate_total_s": round(gate_s, 3),
                "gate_samples": good.samples,
                "gate_failed": good.failed_requests,
                "cpu_ms_per_sample": round(cpu * 1000 / max(1, good.samples), 2),
                "bad_verdict": bad.verdict,
                "time_to_rollback_s": bad.rollback.get("time_to_rollback_s"),
                "time_to_healthy_s": bad.rollback.get("time_to_healthy_s"),
            }
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    except McproofError as err:
        print(f"bench: {err}", file=sys.stderr)
        return 1
    finally:
        cluster.down()
        shutil.rmtree(state, ignore_errors=True)

    def med(key: str) -> float:
        return float(statistics.median(float(r[key]) for r in rows if r[key] is not None))

    ratio = med("gate_rollout_s") / med("bare_rollout_s")
    print(f"rounds {len(rows)}, {args.replicas} replicas, tick {args.interval:g}s (medians)")
    print(f"bare rollout                 {med('bare_rollout_s'):.2f} s")
    print(f"gate: rollout as it saw it   {med('gate_rollout_s'):.2f} s  (ratio to bare {ratio:.2f})")
    print(f"gate: whole run (good)       {med('gate_total_s'):.2f} s  ({med('gate_samples'):.0f} samples)")
    print(f"gate: CPU per sample         {med('cpu_ms_per_sample'):.2f} ms")
    print(
        f"bad release: time-to-rollback {med('time_to_rollback_s'):.3f} s, time-to-healthy {med('time_to_healthy_s'):.2f} s"
    )
    print(f"verdicts: good {[r['gate_verdict'] for r in rows]}, bad {[r['bad_verdict'] for r in rows]}")
    if args.json:
        print(json.dumps({"rows": rows, "ratio_gate_to_bare": round(ratio, 3)}))
    return 0 if all(r["gate_verdict"] == "pass" and r["bad_verdict"] == "fail" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
