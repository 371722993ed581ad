"""Scale the embedded cluster to N Minecraft pods on kwok nodes and time it.

Measures, from the moment the StatefulSets are submitted: time until every pod is Ready (API), and
time until every pod's server answers an mcstatus status ping at its pod IP (through the pod
bridge, endpoints derived from Services as the smoke checks do); plus the RSS of each control-plane
component and of the bridge (peak over the run, sampled every poll). A throwaway cluster in a temp
dir, torn down at the end. Loopback only (pod CIDR 127.80.0.0/16 by default).

    .venv/bin/python bench/kube_scale.py --pods 10000 --namespaces 10 --nodes 20 --shards 3
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from mcproof.connect.kubernetes import endpoint_target, service_endpoint_map
from mcproof.kubeapi.endpoints import pod_is_ready
from mcproof.minecraft.sweep import sweep_fleet
from mcproof_sandbox.kube.cluster import ClusterSpec, EmbeddedCluster
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--shards", type=int, default=3, help="pod bridge processes (3 sockets per server)")
    ap.add_argument("--pod-cidr", default="127.80.0.0/16")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--poll", type=float, default=5.0)
    ap.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    args = ap.parse_args()
    per_ns = -(-args.pods // args.namespaces)
    state = Path(tempfile.mkdtemp(prefix="mcproof-kube-scale-"))
    cluster = EmbeddedCluster(state)
    peak: dict[str, int] = {}
    result: dict[str, object] = {"pods": args.pods, "namespaces": args.namespaces, "nodes": args.nodes,
                                 "bridge_shards": args.shards}  # fmt: skip

    def sample() -> None:
        status = cluster.status()
        for name, rss in (status.rss_bytes if status else {}).items():
            peak[name] = max(peak.get(name, 0), rss)

    try:
        t = time.monotonic()
        cluster.up(ClusterSpec(name="scale", nodes=args.nodes, node_pods=-(-args.pods * 2 // args.nodes),
                               pod_cidr=args.pod_cidr, bridge_shards=args.shards, server_boot_s=0.0),
                   echo=lambda line: print(line, file=sys.stderr))  # fmt: skip
        result["cluster_up_s"] = round(time.monotonic() - t, 1)
        api = cluster.api(timeout=60.0)
        namespaces = [f"scale-{i:02d}" for i in range(args.namespaces)]
        t0 = time.monotonic()
        for ns in namespaces:
            deploy_tenant(api, Tenant(ns, releases=1, replicas=per_ns, cpu="10m", memory="32Mi"))
        result["submit_s"] = round(time.monotonic() - t0, 1)
        ready_at = serving_at = None
        last_sweep = None
        while time.monotonic() - t0 < args.timeout:
            pods = api.objects("pods", None, label_selector="app.kubernetes.io/name=minecraft")
            ready = sum(1 for p in pods if pod_is_ready(p))
            sample()
            elapsed = time.monotonic() - t0
            print(f"[{elapsed:6.1f}s] pods {len(pods)} ready {ready}", file=sys.stderr)
            if ready >= per_ns * len(namespaces) and ready_at is None:
                ready_at = elapsed
            if ready_at is not None:
                services = api.objects("services", None, label_selector="app.kubernetes.io/name=minecraft")
                targets = [endpoint_target(e) for eps in service_endpoint_map(services, pods).values() for e in eps]
                last_sweep = sweep_fleet(targets, timeout=3.0, concurrency=512, processes=2)
                print(f"[{time.monotonic() - t0:6.1f}s] serving {last_sweep.serving}/{len(targets)} "
                      f"({last_sweep.duration_s:.1f}s sweep)", file=sys.stderr)  # fmt: skip
                if last_sweep.serving == len(targets) == per_ns * len(namespaces):
                    serving_at = time.monotonic() - t0
                    break
            time.sleep(args.poll)
        sample()
        result.update(
            all_ready_s=round(ready_at, 1) if ready_at is not None else None,
            all_serving_s=round(serving_at, 1) if serving_at is not None else None,
            serving=last_sweep.serving if last_sweep else 0,
            sweep_s=round(last_sweep.duration_s, 1) if last_sweep else None,
            peak_rss_mib={k: round(v / 2**20) for k, v in sorted(peak.items())},
            peak_rss_total_mib=round(sum(peak.values()) / 2**20),
        )
    finally:
        cluster.down()
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if result.get("all_serving_s") is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
