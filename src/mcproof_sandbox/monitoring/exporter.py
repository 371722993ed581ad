"""The fleet exporter: per-server ``mcproof_server_up`` and status latency, probed with mcstatus at scrape time.

Why our own: Prometheus has no Minecraft prober, and the probe must be mcstatus (the project's one ping
path). It probes continuously, like smokeping_prober: a background thread sweeps every target back to
back (bounded concurrency, a deadline per ping, at most one sweep per ``min_interval_s``) and a scrape
gets the newest completed sweep at once. So a scrape never times out because the host is busy (with
sweep-at-scrape, a slow machine turned every target "down" with "context deadline exceeded": a false
outage); the price is that a sample can be one sweep old, which ``mcproof_exporter_sweep_timestamp_seconds``
and ``..._sweep_duration_seconds`` expose. The text exposition is prometheus-client's
(:mod:`mcproof_sandbox.exposition`), as is the platform API's ``/metrics``.

Run: ``python -m mcproof_sandbox.monitoring.exporter --targets T.json --info I.json`` (T: ``[{"id", "host",
"port"}]``); listens on 127.0.0.1 (port chosen at run time, written to the info file).

>>> r = ProbeOutcome("mc-1", "127.1.0.1:25565", True, 1.5)
>>> render_metrics([r], swept_at=10.0, duration_s=0.01).splitlines()[2]
'mcproof_server_up{address="127.1.0.1:25565",server="mc-1"} 1.0'
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mcproof.minecraft.status import async_status_ping
from mcproof.target import is_loopback
from mcproof_sandbox.exposition import gauge, render

__all__ = ["ProbeOutcome", "main", "render_metrics", "sweep"]

log = logging.getLogger("mcproof_sandbox.monitoring.exporter")


@dataclass(frozen=True)
class ProbeOutcome:
    server: str
    address: str
    ok: bool
    latency_ms: float | None = None
    error_kind: str = ""


def render_metrics(results: Sequence[ProbeOutcome], *, swept_at: float, duration_s: float) -> str:
    """Prometheus text exposition 0.0.4 of one sweep (prometheus-client)."""
    labels = ["server", "address"]
    return render(
        [
            gauge(
                "mcproof_server_up",
                "1 when the server answered a status ping in the newest sweep.",
                labels,
                (([r.server, r.address], int(r.ok)) for r in results),
            ),
            gauge(
                "mcproof_server_status_latency_seconds",
                "Status ping round trip of answering servers.",
                labels,
                (([r.server, r.address], r.latency_ms / 1000) for r in results if r.ok and r.latency_ms is not None),
            ),
            gauge("mcproof_exporter_servers", "Servers probed per sweep.", [], [([], len(results))]),
            gauge("mcproof_exporter_sweep_duration_seconds", "Duration of the last sweep.", [], [([], duration_s)]),
            gauge(
                "mcproof_exporter_sweep_timestamp_seconds", "Unix time the last sweep started.", [], [([], swept_at)]
            ),
        ]
    )  # fmt: skip  (one family a line reads like the exposition it writes)


async def _sweep(targets: Sequence[dict[str, Any]], timeout: float, concurrency: int) -> list[ProbeOutcome]:
    semaphore = asyncio.Semaphore(concurrency)

    async def one(t: dict[str, Any]) -> ProbeOutcome:
        async with semaphore:
            r = await async_status_ping(str(t["host"]), int(t["port"]), timeout=timeout, target=str(t["id"]))
        return ProbeOutcome(r.target, r.address, r.ok, r.latency_ms, r.error_kind or "")

    return list(await asyncio.gather(*(one(t) for t in targets)))


def sweep(targets: Sequence[dict[str, Any]], *, timeout: float = 0.5, concurrency: int = 256) -> list[ProbeOutcome]:
    """Ping every target once (loopback only); never raises for a bad server."""
    outside = [t["host"] for t in targets if not is_loopback(str(t["host"]))]
    if outside:
        raise ValueError(f"exporter targets must be on loopback; got {outside[:3]}")
    return asyncio.run(_sweep(targets, timeout, concurrency))


class _Exporter:
    """Sweeps in a background thread; `metrics()` serves the newest completed sweep."""

    FIRST_SWEEP_WAIT_S = 30.0

    def __init__(self, targets: list[dict[str, Any]], timeout: float, concurrency: int, min_interval_s: float) -> None:
        self.targets = targets
        self.timeout = timeout
        self.concurrency = concurrency
        self.min_interval_s = min_interval_s
        self._text = ""
        self._ready = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="exporter-sweeps", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            started, t0 = time.time(), time.monotonic()
            results = sweep(self.targets, timeout=self.timeout, concurrency=self.concurrency)
            self._text = render_metrics(results, swept_at=started, duration_s=time.monotonic() - t0)
            self._ready.set()
            self._stop.wait(max(0.0, self.min_interval_s - (time.monotonic() - t0)))

    def metrics(self) -> str:
        """The newest sweep; the first scrape waits (bounded) for the first sweep to finish."""
        if not self._ready.wait(self.FIRST_SWEEP_WAIT_S):
            raise TimeoutError(f"no sweep of {len(self.targets)} targets finished within {self.FIRST_SWEEP_WAIT_S:g} s")
        return self._text


def _handler(exporter: _Exporter) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10.0

        def log_message(self, format: str, *args: Any) -> None:
            log.debug(format, *args)

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                try:
                    body, status, ctype = exporter.metrics().encode(), 200, "text/plain; version=0.0.4"
                except TimeoutError as err:
                    body, status, ctype = f"{err}\n".encode(), 503, "text/plain"
            elif path == "/healthz":
                body, status, ctype = b"ok\n", 200, "text/plain"
            else:
                body, status, ctype = b"not found; try /metrics\n", 404, "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="mcproof fleet exporter (continuous mcstatus status sweeps)")
    parser.add_argument("--targets", type=Path, required=True)
    parser.add_argument("--info", type=Path, required=True)
    parser.add_argument("--timeout", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--min-interval", type=float, default=1.0, help="seconds between sweep starts (>= 0.1)")
    args = parser.parse_args(argv)
    args.min_interval = max(0.1, args.min_interval)  # never a busy loop of sweeps
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    targets = list(json.loads(args.targets.read_text(encoding="utf-8")))
    exporter = _Exporter(targets, args.timeout, args.concurrency, args.min_interval)
    exporter.start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(exporter))
    server.daemon_threads = True

    def _term(signum: int, frame: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    info = {"pid": os.getpid(), "address": f"127.0.0.1:{server.server_address[1]}", "targets": len(targets)}
    tmp = args.info.with_suffix(".tmp")
    tmp.write_text(json.dumps(info), encoding="utf-8")
    tmp.replace(args.info)
    log.info("fleet exporter on %s, %d targets", info["address"], len(targets))
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        exporter.stop()
        server.server_close()


if __name__ == "__main__":
    main()
