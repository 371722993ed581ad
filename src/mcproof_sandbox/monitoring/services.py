"""Start and stop the sandbox monitoring stack: the fleet exporter and a Prometheus of our own.

``MonitoringServices(state_dir).up(spec)`` writes, under ``<state_dir>/monitoring/``: ``targets.json``
(the sandbox fleet, capped at ``spec.max_servers``), ``prometheus.yml`` + ``rules.yml``, ``tsdb/``, logs,
and ``monitoring.json`` (URLs, pids) once Prometheus is ready. Prometheus is the Debian binary run
directly (never its systemd service) with ``--web.listen-address=127.0.0.1:<free port>``; it scrapes
only loopback targets (the exporter, the platform API when one runs, the embedded cluster's control plane
when one runs in ``kube_dir`` — see :mod:`mcproof_sandbox.monitoring.kube_scrape` — and itself), has no remote
write and no alertmanager. Start the platform API and the cluster first if they should be scraped.

CLI: ``python -m mcproof_sandbox.monitoring.services up|down|info --state-dir S``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from mcproof.errors import SandboxError
from mcproof.monitoring.settings import MonitoringSettings
from mcproof_sandbox.monitoring.kube_scrape import KubeScrapeTarget, prepare_kube_scrape
from mcproof_sandbox.monitoring.prometheus import prometheus_config, render_config
from mcproof_sandbox.monitoring.rules import render_rules, rule_groups
from mcproof_sandbox.processes import alive
from mcproof_sandbox.state import MONITORING_INFO_FILE as INFO_FILE
from mcproof_sandbox.state import MonitoringInfo, read_monitoring_info

__all__ = ["INFO_FILE", "MonitoringInfo", "MonitoringServices", "PrometheusSpec", "read_monitoring_info"]


@dataclass(frozen=True)
class PrometheusSpec:
    """How the sandbox Prometheus and its rules are built."""

    environment: str = "local"
    scrape_interval_s: float = 1.0
    evaluation_interval_s: float = 1.0
    down_for_s: float = 2.0
    latency_alert_ms: float = 500.0
    latency_for_s: float = 5.0
    backup_max_age_s: float = 300.0
    max_servers: int = 1000
    # A ping's whole-exchange deadline and the sweep's concurrency: 1 s and 64 in flight keep a busy host's
    # event-loop queueing (256 in flight on 2 busy cores) from turning healthy servers "down".
    exporter_timeout_s: float = 1.0
    exporter_concurrency: int = 64
    extra_alerts: tuple[dict[str, Any], ...] = field(default_factory=tuple)

    @classmethod
    def from_settings(cls, settings: MonitoringSettings, environment: str, backup_max_age_s: float) -> PrometheusSpec:
        """The spec an environment's ``monitoring`` section asks for (``backup_max_age_s``: its RPO)."""
        return cls(
            environment=environment,
            scrape_interval_s=settings.sandbox_scrape_interval_s,
            evaluation_interval_s=settings.sandbox_evaluation_interval_s,
            down_for_s=settings.sandbox_server_down_for_s,
            latency_alert_ms=settings.sandbox_latency_alert_ms,
            backup_max_age_s=backup_max_age_s,
            max_servers=settings.sandbox_max_servers,
        )


def _ours(pid: int, needle: str) -> bool:
    try:
        return needle in Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 3) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(path.read_text(errors="replace").strip().splitlines()[-lines:])
    return ""


def _scrape_pending(session: requests.Session, url: str, jobs: list[str]) -> dict[str, str]:
    """Jobs not scrape-ready yet -> why (target health and last error, or no sample of its own yet)."""
    active = session.get(url + "/api/v1/targets", params={"state": "active"}, timeout=2.0).json()
    pending: dict[str, str] = {j: "no target yet" for j in jobs}
    for t in active["data"]["activeTargets"]:
        job = t["labels"]["job"]
        if job in pending and t["health"] != "up":
            pending[job] = f"target {t.get('scrapeUrl', '')} {t['health']} {t.get('lastError', '')}".strip()
        elif job in pending and pending[job] == "no target yet":
            pending[job] = "up, no sample yet"
    ready = [j for j in jobs if pending.get(j) == "up, no sample yet"]
    if ready:
        selector = "|".join(ready)
        body = session.get(
            url + "/api/v1/query",
            params={"query": f'count by (job) ({{job=~"{selector}",__name__!~"up|scrape_.+"}})'},
            timeout=2.0,
        ).json()
        for item in body["data"]["result"]:
            if float(item["value"][1]) > 0:
                pending.pop(item["metric"]["job"], None)
    return pending


class MonitoringServices:
    """Handle on the monitoring stack of the sandbox whose state lives in ``state_dir``."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.dir = self.state_dir / "monitoring"
        self._procs: list[subprocess.Popen[bytes]] = []

    def info(self) -> MonitoringInfo | None:
        info = read_monitoring_info(self.state_dir)
        return info if info is not None and alive(info.prometheus_pid) and alive(info.exporter_pid) else None

    def up(
        self, spec: PrometheusSpec | None = None, timeout: float = 30.0, *, kube_dir: Path | None = None
    ) -> MonitoringInfo:
        """Start exporter + Prometheus (the sandbox fleet must run) and wait until Prometheus is ready.

        ``kube_dir``: the embedded cluster's state dir (default ``<state_dir>/kube``); scraped when it runs."""
        running = self.info()
        if running is not None:
            return running
        self.down()
        spec = spec or PrometheusSpec()
        binary = shutil.which("prometheus")
        if binary is None:
            raise SandboxError("no prometheus binary on PATH; install the Debian package (tools/debian-packages.txt)")
        from mcproof_sandbox.fleet import Sandbox
        from mcproof_sandbox.platform.control import read_platform_info
        from mcproof_sandbox.state import fleet_pool

        pool = fleet_pool(self.state_dir)  # the platform's game-server fleet: reached through its API, not scraped
        servers = [s for s in Sandbox(self.state_dir).servers() if s.id not in pool]
        if not servers:
            raise SandboxError(f"no sandbox fleet runs in {self.state_dir}; start it first (`mcproof sandbox up`)")
        self.dir.mkdir(parents=True, exist_ok=True)
        targets = [{"id": s.id, "host": s.host, "port": s.port} for s in servers[: spec.max_servers]]
        (self.dir / "targets.json").write_text(json.dumps(targets), encoding="utf-8")
        deadline = time.monotonic() + timeout
        try:
            exporter = self._start_exporter(spec, deadline)
            platform = read_platform_info(self.state_dir)
            kube = prepare_kube_scrape(kube_dir or self.state_dir / "kube", self.dir)
            rules = rule_groups(
                down_for_s=spec.down_for_s,
                latency_alert_ms=spec.latency_alert_ms,
                latency_for_s=spec.latency_for_s,
                backup_max_age_s=spec.backup_max_age_s,
                evaluation_interval_s=spec.evaluation_interval_s,
                extra_alerts=spec.extra_alerts,
                kube=bool(kube),
            )
            (self.dir / "rules.yml").write_text(render_rules(rules), encoding="utf-8")
            url, pid, jobs = self._start_prometheus(binary, spec, exporter, platform, deadline, kube)
        except BaseException:
            self.down()
            raise
        data = {
            "prometheus_url": url,
            "prometheus_pid": pid,
            "exporter_address": exporter["address"],
            "exporter_pid": exporter["pid"],
            "directory": str(self.dir),
            "scrape_jobs": jobs,
            "started_at": time.time(),
            "spec": {**spec.__dict__, "extra_alerts": list(spec.extra_alerts)},
        }
        tmp = self.dir / (INFO_FILE + ".tmp")
        tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
        tmp.replace(self.dir / INFO_FILE)
        info = read_monitoring_info(self.state_dir)
        assert info is not None
        return info

    def _spawn(self, cmd: list[str], log_name: str) -> subprocess.Popen[bytes]:
        with open(self.dir / log_name, "ab") as log:
            proc = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
                close_fds=True,
                cwd=self.dir,
            )
        self._procs.append(proc)
        return proc

    def _start_exporter(self, spec: PrometheusSpec, deadline: float) -> dict[str, Any]:
        info_path = self.dir / "exporter.json"
        info_path.unlink(missing_ok=True)
        proc = self._spawn(
            [
                sys.executable,
                "-m",
                "mcproof_sandbox.monitoring.exporter",
                "--targets",
                str(self.dir / "targets.json"),
                "--info",
                str(info_path),
                "--timeout",
                str(spec.exporter_timeout_s),
                "--concurrency",
                str(spec.exporter_concurrency),
                "--min-interval",
                str(spec.scrape_interval_s),
            ],  # one sweep per scrape interval
            "exporter.log",
        )
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError, ValueError):
                data: dict[str, Any] = json.loads(info_path.read_text(encoding="utf-8"))
                return data
            if proc.poll() is not None:
                raise SandboxError(f"fleet exporter exited at start-up ({_tail(self.dir / 'exporter.log')})")
            time.sleep(0.05)
        raise SandboxError(f"fleet exporter not listening in time; see {self.dir / 'exporter.log'}")

    def _start_prometheus(
        self,
        binary: str,
        spec: PrometheusSpec,
        exporter: dict[str, Any],
        platform: Any,
        deadline: float,
        kube: list[KubeScrapeTarget],
    ) -> tuple[str, int, list[str]]:
        platform_address = None
        if platform is not None:
            parts = urlsplit(platform.url)
            platform_address = f"{parts.hostname}:{parts.port}"
        last = ""
        for _ in range(3):  # a port picked at run time can be taken in between: try another one
            port = _free_port()
            config = prometheus_config(
                exporter=str(exporter["address"]),
                rule_file=str(self.dir / "rules.yml"),
                platform=platform_address,
                platform_ca_file=str(platform.ca_file) if platform is not None else None,
                self_address=f"127.0.0.1:{port}",
                scrape_interval_s=spec.scrape_interval_s,
                evaluation_interval_s=spec.evaluation_interval_s,
                environment=spec.environment,
                kube=kube,
            )
            (self.dir / "prometheus.yml").write_text(render_config(config), encoding="utf-8")
            proc = self._spawn(
                [
                    binary,
                    f"--config.file={self.dir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={self.dir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=2d",
                    "--log.level=warn",
                    "--query.lookback-delta=5s",
                ],
                "prometheus.log",
            )
            url = f"http://127.0.0.1:{port}"
            session = requests.Session()
            session.trust_env = False
            while time.monotonic() < deadline and proc.poll() is None:
                with contextlib.suppress(requests.RequestException):
                    if session.get(url + "/-/ready", timeout=1.0).status_code == 200:
                        jobs = [j["job_name"] for j in config["scrape_configs"]]
                        self._wait_scraped(session, url, jobs, deadline)
                        return url, proc.pid, jobs
                time.sleep(0.1)
            last = _tail(self.dir / "prometheus.log")
            if proc.poll() is None:
                break
        raise SandboxError(f"prometheus did not become ready ({last or 'no log'}); see {self.dir / 'prometheus.log'}")

    def _wait_scraped(self, session: requests.Session, url: str, jobs: list[str], deadline: float) -> None:
        """Scrape readiness: every target of every job ``up`` and a first sample of each job's own metrics
        queryable (Prometheus applies new targets after up to 5 s; a first scrape can fail or time out)."""
        pending: dict[str, str] = {j: "no target yet" for j in jobs}
        while True:
            with contextlib.suppress(requests.RequestException, ValueError, KeyError, TypeError):
                pending = _scrape_pending(session, url, jobs)
                if not pending:
                    return
            if time.monotonic() >= deadline:
                break
            time.sleep(0.2)
        detail = "; ".join(f"{job}: {why}" for job, why in sorted(pending.items()))
        raise SandboxError(f"prometheus is not scraping every job yet ({detail}); see {self.dir / 'prometheus.log'}")

    def down(self, timeout: float = 10.0) -> None:
        """SIGTERM Prometheus and the exporter, SIGKILL after ``timeout``; idempotent; keeps the TSDB."""
        info = read_monitoring_info(self.state_dir)
        pids = {p.pid for p in self._procs}
        if info is not None:
            if _ours(info.prometheus_pid, "prometheus"):
                pids.add(info.prometheus_pid)
            if _ours(info.exporter_pid, "mcproof_sandbox.monitoring.exporter"):
                pids.add(info.exporter_pid)
        for pid in pids:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGTERM)
        end = time.monotonic() + timeout
        while any(alive(p) for p in pids) and time.monotonic() < end:
            for proc in self._procs:
                proc.poll()
            time.sleep(0.05)
        for pid in pids:
            if alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        for proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5.0)
        self._procs.clear()
        (self.dir / INFO_FILE).unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mcproof sandbox monitoring (fleet exporter + Prometheus)")
    parser.add_argument("action", choices=["up", "down", "info"])
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--environment", default="local")
    args = parser.parse_args(argv)
    services = MonitoringServices(args.state_dir)
    if args.action == "up":
        info = services.up(PrometheusSpec(environment=args.environment))
        print(
            f"prometheus {info.prometheus_url} (jobs: {', '.join(info.scrape_jobs)}); exporter {info.exporter_address}"
        )
    elif args.action == "down":
        services.down()
    else:
        running = services.info()
        print(json.dumps(running.__dict__, default=str) if running else "not running")
    return 0


if __name__ == "__main__":
    sys.exit(main())
