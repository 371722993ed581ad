"""`mcproof compare` on two REAL smoke runs against one sandbox: the second with planted slow replies."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from suite_runs import run_cli, run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

DELAY_S = 0.05


def test_compare_flags_a_planted_latency_regression(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=20)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    baseline = run_suite(env_file, tmp_path / "reports-a")
    assert baseline.code == 0, baseline.output
    sandbox.inject([s.id for s in sandbox.servers()], "slow", delay_s=DELAY_S)
    slow = run_suite(env_file, tmp_path / "reports-b", timeout=120)
    assert slow.run_dir is not None, slow.output
    a, b = str(baseline.run_dir), str(slow.run_dir)

    done = run_cli("compare", a, b)
    assert done.returncode == 1, done.stdout + done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("compare: REGRESSION:"), done.stdout
    regressions = [line.split()[1] for line in done.stdout.splitlines() if line.strip().startswith("regression")]
    assert "latency:slo.status_latency_p95_ms:measured" in regressions, done.stdout
    assert any(key.startswith("latency:") and key.endswith(":p95_ms") for key in regressions), done.stdout

    as_json = json.loads(run_cli("compare", a, b, "--format", "json").stdout)
    p95 = next(d for d in as_json["deltas"] if d["key"] == "latency:slo.status_latency_p95_ms:measured")
    assert p95["status"] == "regression"
    assert p95["b"] - p95["a"] >= DELAY_S * 1000 * 0.8  # the planted 50 ms shows up, measured independently

    same = run_cli("compare", a, a)
    assert same.returncode == 0, same.stdout + same.stderr
    assert same.stdout.startswith("compare: OK: 0 regressions")

    reverse = run_cli("compare", b, a)  # the slow run as baseline: the healthy one is an improvement
    assert reverse.returncode == 0, reverse.stdout
    assert "improvement" in reverse.stdout

    loose = tmp_path / "thresholds.yaml"
    loose.write_text("latency: {relative: 1000, absolute: 1000}\nthroughput: {ignore: true}\n", encoding="utf-8")
    tolerated = run_cli("compare", a, b, "--thresholds", str(loose))
    assert tolerated.returncode == 0, tolerated.stdout  # within the (absurdly loose) thresholds

    bad = run_cli("compare", a, str(tmp_path / "nope"))
    assert bad.returncode == 2
    assert bad.stderr.startswith("mcproof: error: cannot read")
    assert len(bad.stderr.strip().splitlines()) == 1
