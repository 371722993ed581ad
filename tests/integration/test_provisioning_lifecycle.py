"""Provisioning load for real: Locust users create servers through the platform API, wait until they answer
a status ping, ping them, delete them; time-to-ready percentiles come back from the Locust child process."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mcproof.load.provisioning import ProvisioningConfig, provisioning_config_for, run_provisioning
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration


@pytest.fixture
def platform(sandbox_factory: Callable[..., Sandbox]) -> Iterator[PlatformInfo]:
    sandbox = sandbox_factory(servers=4, boot_delay_s=0.3)
    services = PlatformServices(sandbox.state_dir)
    try:
        yield services.up(EngineConfig(environment="itest", autosave_s=1.0, filler_bytes=4096), timeout=30)
    finally:
        services.down()


def test_lifecycle_load_reports_time_to_ready(platform: PlatformInfo, tmp_path: Path) -> None:
    # 3 concurrent users: creates must never collide on one server
    config = ProvisioningConfig(
        environment="itest",
        base_url=platform.url,
        token={"file": str(platform.token_file("alpha"))},
        ca_file=str(platform.ca_file),
        users=3,
        cycles_per_user=4,
        ready_timeout_s=10,
        deadline_s=30,
    )
    started = time.monotonic()
    result = run_provisioning(config, tmp_path / "run")
    assert time.monotonic() - started < 35
    assert result["passed"], result
    assert result["completed"] == 12
    assert len(result["ready_samples_s"]) == 12
    ttr = result["time_to_ready_s"]
    assert 0 < ttr["p50"] <= ttr["p95"] <= ttr["max"] < 10
    for name in ("API create", "API delete", "SLP time_to_ready", "SLP status"):
        assert result["requests"][name]["count"] == 12, name
        assert result["requests"][name]["failures"] == 0, name
    # every server was deleted again, and the token is nowhere in the outputs
    client = PlatformClient(
        platform.url, SecretRef(file=platform.token_file("alpha")).resolve(), ca_file=platform.ca_file
    )
    assert client.list_servers() == []
    token = platform.token_file("alpha").read_text().strip()
    for path in (tmp_path / "run").iterdir():
        assert token not in path.read_text(), path


def test_unreachable_api_fails_every_lifecycle_within_the_deadline(platform: PlatformInfo, tmp_path: Path) -> None:
    config = ProvisioningConfig(
        environment="itest",
        base_url="https://127.0.0.1:9",
        token={"file": str(platform.token_file("alpha"))},
        ca_file=str(platform.ca_file),
        users=1,
        cycles_per_user=2,
        request_timeout_s=2,
        deadline_s=20,
    )
    result = run_provisioning(config, tmp_path / "run")
    assert not result["passed"]
    assert result["completed"] == 0
    assert result["failures"] == 2
    assert {f["step"] for f in result["failure_details"]} == {"create"}
    assert result["time_to_ready_s"] == {"count": 0}


def test_config_from_a_sandbox_environment(platform: PlatformInfo, tmp_path: Path) -> None:
    from tests.integration.suite_runs import write_environment

    from mcproof.config import load_environment

    env = load_environment(str(write_environment(tmp_path / "env.yaml", platform.platform_dir.parent)))
    config = provisioning_config_for(env, users=3)
    assert config.base_url == platform.url
    assert config.token == {"file": str(platform.token_file("alpha"))}
    assert config.users == 3
