"""`mcproof load --web` as a user runs it: Locust's web UI on 127.0.0.1 only, a swarm started and
stopped through Locust's HTTP API counts real pings against a sandbox, and SIGINT/SIGTERM end the
command within a bound, leaving no Locust child and no sandbox service it started behind."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest
from suite_runs import ROOT, default_sigint, write_environment

from mcproof.load.launcher import free_port
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformServices

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
WebCommand = Callable[[], tuple[subprocess.Popen[str], int]]
LOAD = {"shape": "steady", "users": 4, "duration_s": 30, "ping_interval_s": 0.2, "stop_grace_s": 2, "query_every": 0}


def _http(url: str, data: dict[str, Any] | None = None, timeout: float = 3.0) -> tuple[int, str]:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    with urllib.request.urlopen(url, data=body, timeout=timeout) as reply:  # noqa: S310 (loopback URL)
        return int(reply.status), reply.read().decode("utf-8", errors="replace")


def _wait_for(predicate: Callable[[], bool], deadline_s: float, what: str, proc: subprocess.Popen[str]) -> None:
    end = time.monotonic() + deadline_s
    for _ in range(int(deadline_s / 0.25) + 1):
        if predicate():
            return
        if proc.poll() is not None or time.monotonic() > end:
            break
        time.sleep(0.25)
    raise AssertionError(f"{what} not seen within {deadline_s:g}s (exit code {proc.poll()})")


def _answers(url: str) -> bool:
    try:
        return _http(url, timeout=1.0)[0] == 200
    except (OSError, urllib.error.URLError):
        return False


def _listening(procs: list[psutil.Process]) -> set[tuple[str, int]]:
    found: set[tuple[str, int]] = set()
    for proc in procs:
        try:
            conns = proc.net_connections(kind="inet")
        except psutil.Error:
            continue
        found |= {(c.laddr.ip, c.laddr.port) for c in conns if c.status == psutil.CONN_LISTEN}
    return found


def _alive(procs: list[psutil.Process]) -> list[int]:
    return [p.pid for p in procs if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]


@pytest.fixture
def web_command(sandbox_factory: SandboxFactory, tmp_path: Path) -> Iterator[WebCommand]:
    """Start `mcproof load --web` against a 4-server sandbox; kills whatever is left after the test."""
    started: list[subprocess.Popen[str]] = []
    children: list[psutil.Process] = []
    sandbox = sandbox_factory(servers=4)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, load=LOAD)

    def start() -> tuple[subprocess.Popen[str], int]:
        port = free_port()
        cmd = [sys.executable, "-m", "mcproof.cli", "load", "--env", str(env_file), "--web", "--web-port", str(port)]
        out = (tmp_path / "web.log").open("w")
        proc = subprocess.Popen(
            [*cmd, "--reports-dir", str(tmp_path / "reports")],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # signals below go to the command only, as from a supervisor
            preexec_fn=default_sigint,
        )
        started.append(proc)
        _wait_for(lambda: _answers(f"http://127.0.0.1:{port}/"), 60, "the web UI", proc)
        children.extend(psutil.Process(proc.pid).children(recursive=True))
        return proc, port

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    for child in children:
        if child.is_running():
            child.kill()
    PlatformServices(sandbox.state_dir).down()


def _log(tmp_path: Path) -> str:
    return (tmp_path / "web.log").read_text(errors="replace")


def test_web_ui_swarms_stops_and_ends_on_sigint(web_command: WebCommand, tmp_path: Path) -> None:
    proc, port = web_command()
    base = f"http://127.0.0.1:{port}"
    tree = [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]
    assert any("locust" in " ".join(p.cmdline()) for p in tree[1:]), [p.cmdline() for p in tree]
    listening = _listening(tree)
    assert ("127.0.0.1", port) in listening, listening
    assert {ip for ip, _ in listening} == {"127.0.0.1"}, listening  # the UI is loopback-only, nothing else

    code, body = _http(f"{base}/swarm", {"user_count": 4, "spawn_rate": 4})
    assert code == 200
    assert json.loads(body)["success"], body

    def pinged() -> bool:
        stats = json.loads(_http(f"{base}/stats/requests")[1])
        return any(s["name"] == "status" and s["num_requests"] >= 8 for s in stats["stats"])

    _wait_for(pinged, 20, "status pings counted in /stats/requests", proc)
    stats = json.loads(_http(f"{base}/stats/requests")[1])
    status = next(s for s in stats["stats"] if s["name"] == "status")
    assert status["method"] == "SLP"
    assert status["num_failures"] == 0, status
    assert stats["user_count"] == 4

    assert _http(f"{base}/stop", {})[0] == 200  # Locust 2.x: POST
    _wait_for(lambda: json.loads(_http(f"{base}/stats/requests")[1])["state"] == "stopped", 15, "state stopped", proc)

    proc.send_signal(signal.SIGINT)
    try:  # Locust gets SIGTERM, writes its reports (5 s grace), then the command ends
        code = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"mcproof load --web did not end within 60 s of SIGINT; its log:\n{_log(tmp_path)}", pytrace=False)
    assert code == 130, _log(tmp_path)
    time.sleep(0.5)
    assert _alive(tree[1:]) == [], _log(tmp_path)  # no Locust process outlives the command
    assert not _answers(f"{base}/")
    state_dir = Path(next(p for p in tmp_path.iterdir() if p.name.startswith("sandbox-")))
    assert PlatformServices(state_dir).info() is None, "the platform API this command started is still up"
    run_dir = next(p for p in (tmp_path / "reports").iterdir() if p.is_dir() and not p.is_symlink())
    assert (run_dir / "load" / "locust_stats.csv").is_file()  # Locust wrote its CSV on the way out
    assert json.loads((run_dir / "evidence.jsonl").read_text().splitlines()[-1])["type"] == "run_end"


def test_sigterm_ends_the_web_ui_without_orphans(web_command: WebCommand, tmp_path: Path) -> None:
    proc, port = web_command()
    children = psutil.Process(proc.pid).children(recursive=True)
    assert children
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 128 + signal.SIGTERM, _log(tmp_path)
    time.sleep(0.5)
    assert _alive(children) == [], _log(tmp_path)
    assert not _answers(f"http://127.0.0.1:{port}/")
