"""Run a load test in child processes and bring back its result; never imports Locust itself.

Modes (all bounded: the shape ends by itself, users stop after a ping count, and every child is
killed at the config's hard deadline):

- local: `python -c "import locust; ..." -> mcproof.load.headless` — Locust's programmatic API with a
  local runner in one child process;
- distributed: the `locust` CLI as one master and N workers on loopback (`--master
  --expect-workers N` / `--worker --master-host 127.0.0.1`), each loading suites/load/locustfile.py
  with the same LoadConfig (MCPROOF_LOAD_CONFIG). Workers on other hosts (or a Kubernetes Deployment
  of workers) run the same worker command with `--master-host` pointing at the master;
- web: the `locust` CLI with its web UI bound to 127.0.0.1 (interactive; Ctrl-C or SIGTERM ends it and
  every Locust process it started).

Outputs in the run directory: load-config.json, load-result.json, locust_*.csv, locust.html, locust*.log.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import LoadRunError
from mcproof.load.plan import CONFIG_ENV, RESULT_ENV, LoadConfig
from mcproof.paths import project_root

__all__ = ["LoadRun", "LoadRunError", "locustfile_path", "run_load"]

CONFIG_FILE = "load-config.json"
RESULT_FILE = "load-result.json"
_HEADLESS = "import locust, sys; from mcproof.load.headless import main; sys.exit(main(sys.argv[1:]))"


@dataclass(frozen=True)
class LoadRun:
    """A finished load run: its config, the result dict, the run directory and the files written."""

    config: LoadConfig
    result: dict[str, Any]
    run_dir: Path
    outputs: list[str]

    @property
    def passed(self) -> bool:
        return bool(self.result.get("passed"))

    @property
    def verdict(self) -> str:
        """pass | fail | inconclusive (the generator was saturated)."""
        return str(self.result.get("verdict") or ("pass" if self.passed else "fail"))


def locustfile_path() -> Path:
    path = project_root() / "suites" / "load" / "locustfile.py"
    if not path.is_file():
        raise LoadRunError(f"locustfile {path} not found; run from the mcproof checkout or set MCPROOF_HOME")
    return path


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for the Locust master)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _child_env(config_path: Path, result_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env[CONFIG_ENV] = str(config_path)
    env[RESULT_ENV] = str(result_path)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _stop(proc: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """SIGTERM (Locust writes its reports on it), then SIGKILL after `grace` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(OSError):
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(OSError):
            proc.kill()
        proc.wait(timeout=5)


def _tail(path: Path, lines: int = 5) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


def _read_result(result_path: Path, log: Path, code: int | None) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LoadRunError(
            f"load run wrote no result (exit code {code}); last log lines: {_tail(log) or 'none'}; see {log}"
        ) from None
    return data


def _outputs(run_dir: Path) -> list[str]:
    return sorted(p.name for p in run_dir.iterdir() if p.name.startswith(("locust", "load-")))


def _run_local(config: LoadConfig, run_dir: Path, config_path: Path, result_path: Path) -> int | None:
    log = run_dir / "locust.log"
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _HEADLESS, str(config_path), str(result_path), str(run_dir)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            env=_child_env(config_path, result_path),
        )
        try:
            return proc.wait(timeout=config.hard_deadline_s + 30)
        except subprocess.TimeoutExpired:
            _stop(proc)
            raise LoadRunError(
                f"load run overran its hard deadline of {config.hard_deadline_s + 30:g}s and was killed; see {log}"
            ) from None


def _locust_cmd(locustfile: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "locust", "-f", str(locustfile), "--loglevel", "WARNING", *args]


def _run_distributed(config: LoadConfig, run_dir: Path, config_path: Path, result_path: Path) -> int | None:
    locustfile, port = locustfile_path(), free_port()
    env = _child_env(config_path, result_path)
    master_args = [
        "--headless",
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        str(config.workers),
        "--expect-workers-max-wait",
        "60",
        "--csv",
        str(run_dir / "locust"),
        "--html",
        str(run_dir / "locust.html"),
        "--only-summary",
    ]
    worker_args = ["--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for index in range(config.workers + 1):
            log_path = run_dir / ("locust-master.log" if index == 0 else f"locust-worker-{index}.log")
            logs.append(log_path)
            with log_path.open("ab") as out:
                procs.append(
                    subprocess.Popen(
                        _locust_cmd(locustfile, *(master_args if index == 0 else worker_args)),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                        env=env,
                    )
                )
        master = procs[0]
        try:
            code = master.wait(timeout=config.hard_deadline_s + 60)
        except subprocess.TimeoutExpired:
            raise LoadRunError(
                f"distributed load run overran {config.hard_deadline_s + 60:g}s and was killed; see {logs[0]}"
            ) from None
        deadline = time.monotonic() + 15
        for worker in procs[1:]:  # workers quit when the master tells them; give them a moment
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
        return code
    finally:
        for proc in procs:
            _stop(proc)


def run_load(config: LoadConfig, run_dir: Path, *, echo: Callable[[str], None] | None = None) -> LoadRun:
    """Run `config` headless (local when config.workers == 0, else master + workers); return its result."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = config.with_changes(run_dir=str(run_dir)).write(run_dir / CONFIG_FILE)
    result_path = run_dir / RESULT_FILE
    result_path.unlink(missing_ok=True)
    if echo is not None:
        mode = f"{config.workers} workers + master" if config.workers else "local runner"
        echo(
            f"mcproof: load {config.plan.name}: {config.users} users over {len(config.targets)} targets, "
            f"{config.plan.duration_s:g}s, {mode}; output in {run_dir}"
        )
    if config.workers:
        code = _run_distributed(config, run_dir, config_path, result_path)
        log = run_dir / "locust-master.log"
    else:
        code = _run_local(config, run_dir, config_path, result_path)
        log = run_dir / "locust.log"
    result = _read_result(result_path, log, code)
    return LoadRun(config=config, result=result, run_dir=run_dir, outputs=_outputs(run_dir))


def run_web(config: LoadConfig, run_dir: Path, *, port: int = 8089, with_shape: bool = False) -> int:
    """Locust's web UI on 127.0.0.1:`port` (and workers if config.workers); blocks until Ctrl-C."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = config.with_changes(run_dir=str(run_dir)).write(run_dir / CONFIG_FILE)
    env = _child_env(config_path, run_dir / RESULT_FILE)
    env["MCPROOF_LOAD_WEB_SHAPE"] = "1" if with_shape else "0"
    locustfile = locustfile_path()
    args = [
        "--web-host",
        "127.0.0.1",
        "--web-port",
        str(port),
        "--csv",
        str(run_dir / "locust"),
        "--html",
        str(run_dir / "locust.html"),
    ]
    workers: list[subprocess.Popen[bytes]] = []
    if config.workers:
        master_port = free_port()
        args += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(master_port)]
        for index in range(config.workers):
            with (run_dir / f"locust-worker-{index + 1}.log").open("ab") as out:
                workers.append(
                    subprocess.Popen(
                        _locust_cmd(
                            locustfile, "--worker", "--master-host", "127.0.0.1", "--master-port", str(master_port)
                        ),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=out,
                        env=env,
                    )
                )
    master = subprocess.Popen(_locust_cmd(locustfile, *args), env=env)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if main_thread else None  # no orphans on SIGTERM
    try:
        return master.wait()
    except KeyboardInterrupt:
        return 130
    except _Terminated:
        return 128 + signal.SIGTERM
    finally:
        if main_thread and previous is not None:
            signal.signal(signal.SIGTERM, previous)
        _stop(master)
        for worker in workers:
            _stop(worker)


class _Terminated(Exception):
    """SIGTERM arrived while the web UI ran."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise _Terminated
