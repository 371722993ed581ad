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
import contextlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psutil

from mcproof.connect.kubernetes import endpoint_target, service_endpoint_map
from mcproof.errors import McproofError
from mcproof.kubeapi.endpoints import pod_is_ready
from mcproof.kubeapi.listwatch import ListWatch
from mcproof.minecraft.sweep import sweep_fleet
from mcproof_sandbox.kube.cluster import ClusterSpec, EmbeddedCluster
from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant

SELECTOR = "app.kubernetes.io/name=minecraft"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pods", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=10)
    ap.add_argument("--nodes", type=int, default=20)
    ap.add_argument("--shards", type=int, default=3, help="pod bridge processes (3 sockets per server)")
    ap.add_argument("--pod-cidr", default="127.80.0.0/16")
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--poll", type=float, default=5.0, help="seconds between progress lines")
    ap.add_argument("--out", type=Path, default=None, help="write the result JSON here")
    args = ap.parse_args()
    per_ns = -(-args.pods // args.namespaces)
    state = Path(tempfile.mkdtemp(prefix="mcproof-kube-scale-"))
    cluster = EmbeddedCluster(state)
    peak: dict[str, int] = {}
    result: dict[str, object] = {
        "pods": args.pods,
        "namespaces": args.namespaces,
        "nodes": args.nodes,
        "bridge_shards": args.shards,
    }

    cpu: dict[str, float] = {}  # CPU seconds per process since it started (where the run's time went)

    def sample() -> None:
        status = cluster.status()
        for name, rss in (status.rss_bytes if status else {}).items():
            peak[name] = max(peak.get(name, 0), rss)
        if status is not None:
            procs = [*status.components.items(), *((f"bridge-{i}", p) for i, p in enumerate(status.bridge_pids))]
            for name, pid in procs:
                with contextlib.suppress(psutil.Error):
                    times = psutil.Process(pid).cpu_times()
                    cpu[name] = max(cpu.get(name, 0.0), times.user + times.system)

    load_start = round(os.getloadavg()[0], 2)  # > ~1 before the run: the machine was shared
    t = time.monotonic()
    try:
        cluster.up(
            ClusterSpec(
                name="scale",
                nodes=args.nodes,
                node_pods=-(-args.pods * 2 // args.nodes),
                pod_cidr=args.pod_cidr,
                bridge_shards=args.shards,
                server_boot_s=0.0,
            ),
            echo=lambda line: print(line, file=sys.stderr),
        )
        result["cluster_up_s"] = round(time.monotonic() - t, 1)
        api = cluster.api(timeout=60.0)
        namespaces = [f"scale-{i:02d}" for i in range(args.namespaces)]
        t0 = time.monotonic()
        for ns in namespaces:
            deploy_tenant(api, Tenant(ns, releases=1, replicas=per_ns, cpu="10m", memory="32Mi"))
        result["submit_s"] = round(time.monotonic() - t0, 1)
        ready_at = serving_at = None
        last_sweep = None
        want = per_ns * len(namespaces)
        # One paginated list, then a watch: the bench never re-reads 10,000 pods (the old polling sent
        # the whole 13.5 MB list every few seconds and broke off with a ProtocolError under load).
        pods = ListWatch(api, "pods", None, label_selector=SELECTOR, watch_timeout_s=60)

        def progress(ready: int, seen: int) -> None:
            sample()
            print(f"[{time.monotonic() - t0:6.1f}s] pods {seen} ready {ready}", file=sys.stderr)

        what = f"{want} pods Ready"
        pods.wait_count(
            pod_is_ready, want, timeout=args.timeout, what=what, progress=progress, progress_every_s=args.poll
        )
        ready_at = time.monotonic() - t0
        services = api.objects("services", None, label_selector=SELECTOR)
        while time.monotonic() - t0 < args.timeout:
            emap = service_endpoint_map(services, list(pods.objects.values()))
            targets = [endpoint_target(e) for eps in emap.values() for e in eps]
            last_sweep = sweep_fleet(targets, timeout=3.0, concurrency=512, processes=2)
            sample()
            print(
                f"[{time.monotonic() - t0:6.1f}s] serving {last_sweep.serving}/{len(targets)} "
                f"({last_sweep.duration_s:.1f}s sweep)",
                file=sys.stderr,
            )
            if last_sweep.serving == len(targets) == want:
                serving_at = time.monotonic() - t0
                break
            for _ in pods.events(until=time.monotonic() + 1.0):  # take in what changed, then sweep again
                pass
        result["watch"] = {"lists": pods.lists, "reconnects": pods.reconnects}
        sample()
        result.update(
            all_ready_s=round(ready_at, 1) if ready_at is not None else None,
            all_serving_s=round(serving_at, 1) if serving_at is not None else None,
            serving=last_sweep.serving if last_sweep else 0,
            sweep_s=round(last_sweep.duration_s, 1) if last_sweep else None,
            peak_rss_mib={k: round(v / 2**20) for k, v in sorted(peak.items())},
            peak_rss_total_mib=round(sum(peak.values()) / 2**20),
            cpu_s={k: round(v, 1) for k, v in sorted(cpu.items())},
        )
    except McproofError as err:  # one line, never a traceback
        result["error"] = str(err)
        print(f"kube_scale: {err}", file=sys.stderr)
    finally:
        cluster.down()
    if result.get("all_serving_s") is not None:
        shutil.rmtree(state, ignore_errors=True)  # kept (with the component logs) when the run failed
    else:
        result["logs"] = str(state / "last-logs")
    result["wall_s"] = round(time.monotonic() - t, 1)
    own = resource.getrusage(resource.RUSAGE_SELF)
    result["bench_cpu_s"] = round(own.ru_utime + own.ru_stime, 1)
    result["bench_peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    result["loadavg_1m_start_end"] = [load_start, round(os.getloadavg()[0], 2)]
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return 0 if result.get("all_serving_s") is not None else 1


if __name__ == "__main__":
    raise SystemExit(main())
