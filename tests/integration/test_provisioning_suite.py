"""The provisioning load check (suites/load/test_provisioning.py) for real: against the sandbox platform API
it records time-to-ready percentiles as ProvisioningEvidence and passes; against an API that is down, or
one that refuses the creates (a token it does not know), it FAILS naming the step; without a platform API
it is skipped with the reason."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.conftest import random_base_address
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration

SUITE = "load/test_provisioning.py"
CHECK = "test_provisioning_time_to_ready"
BOUNDS = {"users": 2, "cycles_per_user": 2, "ready_timeout_s": 10, "deadline_s": 30}


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, PlatformInfo]]:
    state = tmp_path_factory.mktemp("provsuite")
    sandbox, services = Sandbox(state), PlatformServices(state)
    try:
        sandbox.up(SandboxSpec(servers=4, base_address=random_base_address(), boot_delay_s=0.3), timeout=60)
        yield state, services.up(EngineConfig(environment="itest", autosave_s=1.0, filler_bytes=4096), timeout=30)
    finally:
        services.down()
        sandbox.down(timeout=10)


def _env(tmp_path: Path, state: Path, threshold: float = 10.0, **overrides: object) -> Path:
    load = {"provisioning": {**BOUNDS, "time_to_ready_p95_s": threshold}}
    return write_environment(tmp_path / "env.yaml", state, sandbox={"servers": 4}, load=load, **overrides)


def test_provisioning_check_records_time_to_ready(platform: tuple[Path, PlatformInfo], tmp_path: Path) -> None:
    state, info = platform
    run = run_suite(_env(tmp_path, state), tmp_path / "reports", suite=SUITE, timeout=90)
    assert run.code == 0, run.output
    assert check_outcomes(run)[CHECK]["outcome"] == "passed"
    record = next(r for r in run.evidence() if r["type"] == "provisioning")
    assert record["passed"]
    assert record["planned"] == record["completed"] == 4
    assert len(record["ready_samples_s"]) == 4
    ttr = record["time_to_ready_s"]
    assert 0 < ttr["p50"] <= ttr["p95"] <= ttr["max"] < 10
    assert record["failures_by_step"] == {}
    assert record["base_url"] == info.url
    token = info.token_file("alpha").read_text().strip()
    assert token not in (run.run_dir / "evidence.jsonl").read_text()


def test_threshold_below_the_measured_p95_fails(platform: tuple[Path, PlatformInfo], tmp_path: Path) -> None:
    state, _ = platform
    run = run_suite(_env(tmp_path, state, threshold=0.001), tmp_path / "reports", suite=SUITE, timeout=90)
    outcome = check_outcomes(run)[CHECK]
    assert outcome["outcome"] == "failed", run.output
    assert "above the threshold 0.001 s" in outcome["message"]


@pytest.mark.parametrize("case", ["down", "refuses"])
def test_api_down_or_refusing_creates_fails_naming_the_step(
    case: str, platform: tuple[Path, PlatformInfo], tmp_path: Path
) -> None:
    state, info = platform
    bogus = tmp_path / "token"
    bogus.write_text("not-a-token-the-api-knows\n")
    bogus.chmod(0o600)
    url = "https://127.0.0.1:9" if case == "down" else info.url
    api = {
        "base_url": url,
        "token": {"file": str(bogus if case == "refuses" else info.token_file("alpha"))},
        "ca_file": str(info.ca_file),
    }
    run = run_suite(_env(tmp_path, state, platform_api=api), tmp_path / "reports", suite=SUITE, timeout=90)
    outcome = check_outcomes(run)[CHECK]
    assert outcome["outcome"] == "failed", run.output
    assert "step 'create' failed (create x4)" in outcome["message"], outcome["message"]
    record = next(r for r in run.evidence() if r["type"] == "provisioning")
    assert not record["passed"]
    assert record["completed"] == 0


def test_skipped_with_the_reason_without_a_platform_api(tmp_path: Path) -> None:
    run = run_suite(_env(tmp_path, tmp_path / "no-sandbox-here"), tmp_path / "reports", suite=SUITE, timeout=60)
    outcome = check_outcomes(run)[CHECK]
    assert outcome["outcome"] == "skipped", run.output
    assert "provisioning load needs a platform API" in outcome["message"]


def test_cli_load_provisioning(platform: tuple[Path, PlatformInfo], tmp_path: Path) -> None:
    from tests.integration.suite_runs import run_cli

    state, _ = platform
    done = run_cli(
        "load",
        "--provisioning",
        "--env",
        str(_env(tmp_path, state)),
        "--reports-dir",
        str(tmp_path / "reports"),
        timeout=90,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "provisioning: 4/4 lifecycles, time to ready p95" in done.stdout
    assert "provisioning verdict PASS" in done.stdout
    run_dir = next(p for p in (tmp_path / "reports").iterdir() if p.is_dir() and not p.is_symlink())
    assert '"type": "provisioning"' in (run_dir / "evidence.jsonl").read_text()
    assert (run_dir / "index.html").is_file()
