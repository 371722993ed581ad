"""The pod bridge: every Running Minecraft pod of the embedded cluster becomes a real server.

kwok fakes nodes and pods; no container runs. The bridge lists, then watches, the Running pods
matching the selector (all namespaces; paginated list, resumable watch) and, for each one that
has a loopback pod IP and is not terminating, serves a simulated Minecraft server
(:class:`mcproof_sandbox.fleet.server.SimServer`: SLP, Query, RCON) at ``<pod IP>:25565`` (and 25575).
The server speaks the cluster's version unless the pod (from its template) carries the annotations
``mcproof.dev/minecraft-version`` and ``mcproof.dev/minecraft-protocol``: then it serves that release, so a
workload update that names another version is a real new release (a wrong protocol a real bad one).
When the pod goes (deleted, terminating, no longer Running, new IP)
the server closes at once: a pod that turns terminating (a graceful delete: the container would get SIGTERM)
stops cleanly, its players kicked with Disconnect "Server closed"; a pod deleted with grace 0 or that vanishes
without terminating (a forced delete, a lost node) drops its connections without a packet, like a killed process. Players log in to these
servers exactly as to the fleet's (same SimServer code: :mod:`mcproof_sandbox.fleet.play`). So ``kubectl delete pod`` or chaosk8s
``terminate_pods`` really takes a server down, and the StatefulSet controller, the scheduler and
kwok really bring it back (at the new pod's IP).

Started by :class:`mcproof_sandbox.kube.cluster.EmbeddedCluster` as ``python -m mcproof_sandbox.kube.bridge``, one
process per shard (pods are split by crc32 of ``namespace/name``; a process holds at most ~8,000
listeners, and each server takes 3 sockets). Exits when ``<state_dir>/cluster.json`` disappears.

Why our own: no library maps Kubernetes pods to protocol-speaking endpoints without a kubelet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.kubeapi import KubeApi, KubeError, connect
from mcproof.kubeapi.listwatch import SYNC, ListWatch
from mcproof.target import is_loopback
from mcproof_sandbox.fleet.server import Fleet, SimServer
from mcproof_sandbox.fleet.spec import SandboxSpec

__all__ = [
    "BOOT_ANNOTATION",
    "PROTOCOL_ANNOTATION",
    "VERSION_ANNOTATION",
    "Bridge",
    "desired_ip",
    "main",
    "pod_boot_s",
    "pod_release",
    "shard_of",
    "slim_pod",
]

log = logging.getLogger("mcproof_sandbox.kube.bridge")
_OPEN_RETRY_S = 0.1
_OPEN_ATTEMPTS = 300  # an IP freed by another shard may take a moment to be released
VERSION_ANNOTATION = "mcproof.dev/minecraft-version"  # on a pod (template): the version name the pod serves
PROTOCOL_ANNOTATION = "mcproof.dev/minecraft-protocol"  # ... and its protocol number (both or neither)
BOOT_ANNOTATION = "mcproof.dev/server-boot-seconds"  # ... and its server's start-up time (default: the cluster's)
RELEASE_ANNOTATIONS = (VERSION_ANNOTATION, PROTOCOL_ANNOTATION, BOOT_ANNOTATION)


def shard_of(namespace: str, name: str, shards: int) -> int:
    """Which bridge shard serves a pod.

    >>> shard_of("t1", "survival-0", 1)
    0
    """
    return zlib.crc32(f"{namespace}/{name}".encode()) % shards


def desired_ip(pod: dict[str, Any]) -> str | None:
    """The IP to serve for ``pod``, or None when it must not be served.

    >>> desired_ip({"metadata": {}, "status": {"phase": "Running", "podIP": "127.64.0.9"}})
    '127.64.0.9'
    >>> desired_ip({"metadata": {"deletionTimestamp": "x"}, "status": {"phase": "Running", "podIP": "127.64.0.9"}})
    """
    status = pod.get("status") or {}
    ip = status.get("podIP")
    if (pod.get("metadata") or {}).get("deletionTimestamp") or status.get("phase") != "Running" or not ip:
        return None
    return str(ip) if is_loopback(str(ip)) else None  # never bind (or invite traffic to) anything else


@dataclass
class _Served:
    uid: str
    ip: str
    server: SimServer
    opener: asyncio.Task[None] | None = None


class Bridge:
    """Reconciles served servers with the pods of one shard."""

    def __init__(
        self, spec: SandboxSpec, password: str, *, shard: int = 0, shards: int = 1, boot_s: float = 0.0
    ) -> None:
        self.fleet = Fleet(spec, password, first=0, count=0)
        self.boot_s = boot_s  # a server's start-up time after its pod turns Running
        self.shard = shard
        self.shards = shards
        self.served: dict[str, _Served] = {}
        self._next_index = 0

    def _mine(self, namespace: str, name: str) -> bool:
        return shard_of(namespace, name, self.shards) == self.shard

    def apply(self, event_type: str, pod: dict[str, Any]) -> None:
        """Apply one pod event (ADDED / MODIFIED / DELETED)."""
        meta = pod.get("metadata") or {}
        ns, name = str(meta.get("namespace", "")), str(meta.get("name", ""))
        if not self._mine(ns, name):
            return
        key = f"{ns}/{name}"
        ip = None if event_type == "DELETED" else desired_ip(pod)
        uid = str(meta.get("uid", ""))
        current = self.served.get(key)
        if current is not None and (ip is None or current.ip != ip or current.uid != uid):
            self._stop(key, graceful=event_type != "DELETED" and _graceful_delete(meta))
            current = None
        if ip is not None and current is None:
            self._start(key, uid, ip, pod_release(pod), pod_boot_s(pod, self.boot_s))

    def sync(self, pods: list[dict[str, Any]]) -> None:
        """Apply a full list: serve what it holds, stop everything else."""
        seen = set()
        for pod in pods:
            meta = pod.get("metadata") or {}
            seen.add(f"{meta.get('namespace')}/{meta.get('name')}")
            self.apply("MODIFIED", pod)
        for key in [k for k in self.served if k not in seen]:
            self._stop(key)

    def _start(
        self, key: str, uid: str, ip: str, release: tuple[str, int] | None = None, boot_s: float | None = None
    ) -> None:
        server = SimServer(self.fleet, self._next_index)
        self._next_index += 1
        server.host = ip
        server.release = release
        entry = _Served(uid, ip, server)
        self.served[key] = entry
        entry.opener = asyncio.ensure_future(self._open(key, entry, self.boot_s if boot_s is None else boot_s))
        log.info("serve %s (uid %s) at %s%s", key, uid[:8], ip, f" as {release[0]}/{release[1]}" if release else "")

    async def _open(self, key: str, entry: _Served, boot_s: float) -> None:
        error = ""
        if boot_s > 0:
            await asyncio.sleep(boot_s)
        for _ in range(_OPEN_ATTEMPTS):
            if self.served.get(key) is not entry:
                return
            error = await entry.server.open()
            if not error:
                return
            await asyncio.sleep(_OPEN_RETRY_S)
        log.error("giving up serving %s: %s", key, error)

    def _stop(self, key: str, graceful: bool = False) -> None:
        entry = self.served.pop(key)
        if entry.opener is not None and not entry.opener.done():
            entry.opener.cancel()
        if graceful:
            entry.server.shutdown()
        else:
            entry.server.close()
        log.info("stop %s at %s", key, entry.ip)

    async def settle(self, timeout: float = 10.0) -> None:
        """Wait until every pending listener opened (or gave up) or ``timeout`` passed."""
        pending = [e.opener for e in self.served.values() if e.opener is not None and not e.opener.done()]
        if pending:
            await asyncio.wait(pending, timeout=timeout)


def _graceful_delete(meta: dict[str, Any]) -> bool:
    """The pod is terminating with a grace period (its container would get SIGTERM and time to stop);
    grace 0 is a kill.

    >>> _graceful_delete({"deletionTimestamp": "t", "deletionGracePeriodSeconds": 30})
    True
    >>> _graceful_delete({"deletionTimestamp": "t", "deletionGracePeriodSeconds": 0})
    False
    """
    return bool(meta.get("deletionTimestamp")) and int(meta.get("deletionGracePeriodSeconds") or 0) > 0


def slim_pod(pod: dict[str, Any]) -> dict[str, Any]:
    """What the bridge needs of a pod (a few hundred bytes, not the pod's ~4 KB).

    >>> slim_pod({"metadata": {"name": "mc-0", "namespace": "t", "uid": "u", "labels": {"a": "b"}},
    ...           "spec": {"containers": []}, "status": {"phase": "Running", "podIP": "127.64.0.9"}})
    {'metadata': {'name': 'mc-0', 'namespace': 't', 'uid': 'u'}, 'status': {'phase': 'Running', 'podIP': '127.64.0.9'}}
    """
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    keep_meta = ("name", "namespace", "uid", "resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds")
    slim = {
        "metadata": {k: meta[k] for k in keep_meta if k in meta},
        "status": {k: status[k] for k in ("phase", "podIP") if k in status},
    }
    release = {k: str(v) for k, v in (meta.get("annotations") or {}).items() if k in RELEASE_ANNOTATIONS}
    if release:
        slim["metadata"]["annotations"] = release
    return slim


def pod_boot_s(pod: dict[str, Any], default: float) -> float:
    """The start-up time a pod's annotation names (0..600 s), else ``default``. kwok marks a pod Ready
    when it turns Running (no probe runs), so a release with a start-up time is Ready before it answers:
    a real readiness gap, which a release gate must catch.

    >>> pod_boot_s({"metadata": {"annotations": {BOOT_ANNOTATION: "0"}}}, 0.5), pod_boot_s({"metadata": {}}, 0.5)
    (0.0, 0.5)
    """
    raw = ((pod.get("metadata") or {}).get("annotations") or {}).get(BOOT_ANNOTATION)
    try:
        return min(600.0, max(0.0, float(raw))) if raw is not None else default
    except ValueError:
        return default


def pod_release(pod: dict[str, Any]) -> tuple[str, int] | None:
    """The (version name, protocol) a pod's annotations name (copied from its template, so a new release
    of the workload really speaks a new version), or None for the cluster-wide spec. A version without a
    protocol, or a protocol that is not an integer, is ignored (logged).

    >>> pod_release({"metadata": {"annotations": {VERSION_ANNOTATION: "1.21.5", PROTOCOL_ANNOTATION: "770"}}})
    ('1.21.5', 770)
    >>> pod_release({"metadata": {"annotations": {PROTOCOL_ANNOTATION: "12"}}, "spec": {}})
    >>> pod_release({"metadata": {}})
    """
    ann = (pod.get("metadata") or {}).get("annotations") or {}
    name, proto = ann.get(VERSION_ANNOTATION), ann.get(PROTOCOL_ANNOTATION)
    if not name or proto is None:
        return None
    try:
        return str(name), int(str(proto))
    except ValueError:
        log.warning("pod annotation %s=%r is not an integer; serving the cluster's version", PROTOCOL_ANNOTATION, proto)
        return None


def _watch(api: KubeApi, selector: str, emit: Any, stop: threading.Event, mine: Any = lambda _ns, _name: True) -> None:
    """List then watch the Running pods (all namespaces) until ``stop``: a cut stream resumes from its
    resourceVersion, 410 Gone relists (:class:`mcproof.kubeapi.listwatch.ListWatch`); an API server that
    is down is logged in one line and tried again until it is back. Runs in a thread.

    Only ``status.phase=Running`` pods are watched (the API server filters): a shard never sees the
    Pending/scheduling churn of 10,000 pods, and a pod that leaves Running arrives as DELETED."""

    def keep(pod: dict[str, Any]) -> dict[str, Any] | None:  # this shard's pods only, slimmed
        meta = pod.get("metadata") or {}
        return slim_pod(pod) if mine(str(meta.get("namespace", "")), str(meta.get("name", ""))) else None

    running = "status.phase=Running"
    lw = ListWatch(api, "pods", None, label_selector=selector, field_selector=running, max_failures=3, transform=keep)
    while not stop.is_set():
        try:
            for kind, obj in lw.events(stop=stop):
                if kind == SYNC:
                    emit(("sync", list(lw.objects.values())))
                elif kind in ("ADDED", "MODIFIED", "DELETED"):
                    emit(("event", kind, obj))
        except Exception as err:  # the API restarts (KubeError) or a surprise: keep trying, bounded by stop
            log.warning("pod watch: %s; retrying in 2 s", err if isinstance(err, KubeError) else repr(err))
            lw.failures = 0
            stop.wait(2.0)


async def run(args: argparse.Namespace) -> None:
    state_dir = Path(args.state_dir)
    cspec = json.loads(args.spec)
    spec = SandboxSpec(
        servers=1,
        version_name=cspec["version_name"],
        protocol=int(cspec["protocol"]),
        motd=cspec["motd"],
        max_players=int(cspec["max_players"]),
        query_enabled=bool(cspec["query_enabled"]),
        tick_rate=float(cspec.get("tick_rate", 20.0)),
        boot_delay_s=1.0,
    )
    password = (state_dir / "rcon.password").read_text(encoding="utf-8").strip()
    bridge = Bridge(spec, password, shard=args.shard, shards=args.shards, boot_s=float(cspec.get("server_boot_s", 0)))
    api = connect(args.kubeconfig, timeout=15.0)
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    stop = threading.Event()

    def emit(item: tuple[Any, ...]) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, item)

    threading.Thread(target=_watch, args=(api, cspec["bridge_selector"], emit, stop, bridge._mine), daemon=True).start()
    ready_file = state_dir / f"bridge-{args.shard}.ready"
    marker = state_dir / "cluster.json"
    try:
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), timeout=1.0)
            except TimeoutError:
                if not marker.exists():
                    log.info("%s is gone: the cluster was stopped; exiting", marker)
                    return
                continue
            if item[0] == "sync":
                bridge.sync(item[1])
                if not ready_file.exists():
                    await bridge.settle(timeout=10.0 + bridge.boot_s)
                    ready_file.write_text(str(os.getpid()), encoding="utf-8")
                    log.info("ready: serving %d pods (shard %d/%d)", len(bridge.served), args.shard, args.shards)
            else:
                bridge.apply(item[1], item[2])
    finally:
        stop.set()
        for key in list(bridge.served):
            bridge._stop(key)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mcproof_sandbox.kube.bridge")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--state-dir", required=True)
    parser.add_argument("--shard", type=int, default=0)
    parser.add_argument("--shards", type=int, default=1)
    parser.add_argument("--spec", required=True, help="ClusterSpec as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s bridge[%(process)d] %(levelname)s %(message)s"
    )
    started = time.monotonic()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(args))
    log.info("stopped after %.0f s", time.monotonic() - started)


if __name__ == "__main__":
    main()
