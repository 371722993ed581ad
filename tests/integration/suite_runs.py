"""Helpers for running the product's suites against a real sandbox in a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def default_sigint() -> None:
    """``preexec_fn`` for a child a test will SIGINT: Ctrl-C's default disposition, whatever the test inherited.

    A shell running the test run in the background without job control (``make test &`` in a script, some
    CI runners) starts it with SIGINT *ignored*; that is inherited across exec, and Python then installs no
    KeyboardInterrupt handler, so the child would never see the test's SIGINT.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def write_environment(path: Path, state_dir: Path, **overrides: Any) -> Path:
    """An environment file for a test sandbox (loopback-only, short timeouts)."""
    data: dict[str, Any] = {
        "name": "itest",
        "tier": "dev",
        "minecraft": {
            "discovery": {"kind": "sandbox", "state_dir": str(state_dir)},
            "expect": {"name": "1.21.4", "protocol": 769},
            "query_enabled": True,
            "status_timeout_s": 1.0,
            "sweep_concurrency": 64,
            "latency_servers": 20,
            "latency_rounds": 3,
        },
        "slo": {"status_latency_p95_ms": 250, "serving_ratio": 0.999},
        "guards": {"loopback_only": True},
        "sandbox": {"servers": 20},
    }
    for key, value in overrides.items():
        section, _, field = key.partition("__")
        if field:
            data.setdefault(section, {})[field] = value
        else:
            data[section] = value
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@dataclass(frozen=True)
class SuiteRun:
    code: int
    output: str
    run_dir: Path | None

    def report(self) -> dict[str, Any]:
        assert self.run_dir is not None, self.output
        return dict(json.loads((self.run_dir / "report.json").read_text()))

    def evidence(self) -> list[dict[str, Any]]:
        assert self.run_dir is not None, self.output
        lines = (self.run_dir / "evidence.jsonl").read_text().splitlines()
        return [json.loads(line) for line in lines if line.strip()]


def run_suite(env_file: Path, reports_dir: Path, *args: str, suite: str = "smoke", timeout: float = 180) -> SuiteRun:
    """`pytest suites/<suite> --env <file>` in a subprocess; returns exit code, output and run dir."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        f"suites/{suite}",
        "--env",
        str(env_file),
        "--reports-dir",
        str(reports_dir),
        "-p",
        "no:cacheprovider",
        "-q",
        "-rfEs",
        *args,
    ]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    runs = sorted(p for p in reports_dir.glob("*") if p.is_dir() and not p.is_symlink()) if reports_dir.exists() else []
    return SuiteRun(done.returncode, done.stdout + done.stderr, runs[-1] if runs else None)


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The `mcproof` console script in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "mcproof.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def check_outcomes(run: SuiteRun) -> dict[str, dict[str, Any]]:
    """check name -> its CheckOutcome record."""
    return {r["check"]: r for r in run.evidence() if r["type"] == "check"}
