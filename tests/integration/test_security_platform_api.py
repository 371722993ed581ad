"""The security suite's platform-API checks against the real sandbox API: the hardened API passes every
check (schemathesis run included); each weakening switch of EngineConfig makes its check FAIL naming the
route and the fix."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from suite_runs import SuiteRun, check_outcomes, run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration

OPENAPI = Path(__file__).resolve().parents[2] / "docs" / "platform-api.openapi.yaml"
API_CHECKS = {
    "test_api_requires_token",
    "test_api_security_headers",
    "test_api_cross_tenant_denied",
    "test_api_auth_failures_rate_limited",
    "test_api_conforms_to_openapi",
}
WEAK = EngineConfig(
    environment="itest",
    autosave_s=0.5,
    filler_bytes=4096,
    security_headers=False,
    rate_limit=False,
    weak_unauthenticated_route=True,
    weak_tenant_isolation=True,
    weak_crash_route=True,
)
HARDENED = EngineConfig(environment="itest", autosave_s=0.5, filler_bytes=4096, auth_lockout_s=2.0)

PlatformFactory = Callable[[EngineConfig], tuple[Sandbox, PlatformInfo]]


@pytest.fixture
def platform(sandbox_factory: Callable[..., Sandbox]) -> Iterator[PlatformFactory]:
    started: list[PlatformServices] = []

    def make(config: EngineConfig) -> tuple[Sandbox, PlatformInfo]:
        sandbox = sandbox_factory(servers=4, boot_delay_s=0.5)
        services = PlatformServices(sandbox.state_dir)
        started.append(services)
        return sandbox, services.up(config, timeout=30)

    yield make
    for services in started:
        services.down()


def _run(sandbox: Sandbox, tmp_path: Path) -> SuiteRun:
    env = write_environment(
        tmp_path / "env.yaml",
        sandbox.state_dir,
        security={"api_fuzz": {"openapi": str(OPENAPI), "max_examples": 6, "deadline_s": 60}},
    )
    return run_suite(env, tmp_path / "reports", "-k", "test_api_", suite="security", timeout=240)


def test_hardened_api_passes_every_check(platform: PlatformFactory, tmp_path: Path) -> None:
    sandbox, info = platform(HARDENED)
    run = _run(sandbox, tmp_path)
    assert run.code == 0, run.output
    outcomes = check_outcomes(run)
    assert {n for n, o in outcomes.items() if o["outcome"] == "passed"} >= API_CHECKS, outcomes
    scan = next(r for r in run.evidence() if r["type"] == "policy_scan" and r["tool"] == "schemathesis")
    assert scan["passed"] is True
    assert scan["passed_checks"] > 20
    assert "seed 20261125" in scan["method"]
    assert any("/files/delete" in a["operation"] for a in scan["accepted"])
    text = (run.run_dir / "evidence.jsonl").read_text()  # type: ignore[operator]
    for tenant in ("alpha", "beta"):
        assert info.token_file(tenant).read_text().strip() not in text


def test_weak_api_fails_each_check_naming_route_and_fix(platform: PlatformFactory, tmp_path: Path) -> None:
    sandbox, _ = platform(WEAK)
    run = _run(sandbox, tmp_path)
    assert run.code == 1, run.output
    outcomes = check_outcomes(run)
    assert {n for n, o in outcomes.items() if o["outcome"] == "failed"} >= API_CHECKS, outcomes

    unauth = outcomes["test_api_requires_token"]["message"]
    assert "GET /v1/servers with no token -> 200" in unauth
    assert "GET /v1/servers with an invalid token -> 200" in unauth
    assert "answered with data" in unauth
    assert "Fix: authenticate every /v1 route" in unauth
    assert "/power with no token" not in unauth  # the other routes stay protected

    headers = outcomes["test_api_security_headers"]["message"]
    for fragment in (
        "GET /v1/servers (200): Strict-Transport-Security",
        "X-Content-Type-Options: nosniff missing",
        "Cache-Control: no-store missing",
        "Content-Security-Policy missing",
        "Fix: add these headers",
    ):
        assert fragment in headers, fragment

    xt = outcomes["test_api_cross_tenant_denied"]["message"]
    assert "GET /v1/servers/mc-" in xt
    assert "as tenant B -> 200" in xt
    assert "shows tenant A's data" in xt
    assert "Fix: scope every lookup by the caller's tenant" in xt

    limited = outcomes["test_api_auth_failures_rate_limited"]["message"]
    assert "GET /v1/servers: 30 requests with an invalid token" in limited
    assert "429 with Retry-After" in limited

    fuzz = outcomes["test_api_conforms_to_openapi"]["message"]
    assert "GET /v1/servers/{server_id}/backups: Server error" in fuzz
    assert "-> 500" in fuzz
    assert "Fix: handle every input" in fuzz
    scan = next(r for r in run.evidence() if r["type"] == "policy_scan" and r["tool"] == "schemathesis")
    assert scan["passed"] is False
    assert {f["operation"] for f in scan["findings"]} == {"GET /v1/servers/{server_id}/backups"}
