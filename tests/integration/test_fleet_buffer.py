"""The game-server fleet autoscaler for real: the sandbox platform keeps an Agones-style buffer of ready
servers over real fleet servers; a join rush of real allocations and real players is observed by pinging,
and the figures come from those observations. A broken scale-in and a buffer too small each FAIL."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof.load.fleet_buffer import (
    FleetUnsupported,
    fleet_buffer_slos,
    judge_fleet_buffer,
    run_fleet_buffer,
)
from mcproof.load.settings import FleetBufferSettings
from mcproof.platform.client import PlatformClient
from mcproof.players.population import Population
from mcproof.secrets import SecretRef
from mcproof.target import Target
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.state import fleet_servers

pytestmark = pytest.mark.integration

SETTINGS = FleetBufferSettings(
    rush=3, keep=2, ready_min=1, allocation_p95_s=10, scale_out_s=30, refill_deadline_s=60, scale_in_deadline_s=60
)


@pytest.fixture
def fleet_sandbox(sandbox_factory: Callable[..., Sandbox]) -> Sandbox:
    return sandbox_factory(servers=12, boot_delay_s=0.3)


@pytest.fixture
def fleet_platform(fleet_sandbox: Sandbox) -> Iterator[Callable[..., PlatformClient]]:
    services = PlatformServices(fleet_sandbox.state_dir)

    def start(**fleet: Any) -> PlatformClient:
        config = EngineConfig(environment="itest", autosave_s=1.0, filler_bytes=4096, **fleet)
        info = services.up(config, timeout=30)
        token = SecretRef(file=info.token_file("alpha")).resolve()
        return PlatformClient(info.url, token, ca_file=info.ca_file)

    try:
        yield start
    finally:
        services.down()


def _join(targets: list[Target]) -> Any:
    return Population(targets, rejoin_deadline_s=3.0, max_duration_s=300).start()


def test_buffer_absorbs_a_rush_refills_and_scales_in_around_players(
    fleet_platform: Callable[..., PlatformClient],
) -> None:
    client = fleet_platform(fleet_buffer_size=4, fleet_pool_size=8, fleet_boot_s=1.0)
    run = run_fleet_buffer(client, SETTINGS, join_players=_join)
    figures = judge_fleet_buffer(run)
    rows = {r.slo: r for r in fleet_buffer_slos(run, figures, SETTINGS, environment="itest", check="t")}
    assert figures.scale_in_observed, run.as_dict()
    assert run.players_joined == 2, run.as_dict()
    assert len(run.held) == 2, run.as_dict()
    assert not run.players_dropped, run.as_dict()
    assert all(r.passed for r in rows.values()), rows
    assert 1 <= figures.ready_min < 4  # 3 of 4 taken at once: the dip is real and observed
    # the refill waits for a boot (1 s) of each replacement: scale-out is measured, not instant
    assert figures.scale_out_s is not None, figures
    assert figures.scale_out_s >= 0.8, figures
    assert rows["fleet_buffer.occupied_stopped"].measured == 0
    assert rows["fleet_buffer.allocation_p95_s"].samples == 3
    # every allocation was given back: the buffer holds its ready servers and nothing is allocated
    counts = client.fleet()["counts"]
    assert counts["allocated"] == 0, counts


def test_scale_in_that_stops_occupied_servers_fails(fleet_platform: Callable[..., PlatformClient]) -> None:
    client = fleet_platform(fleet_buffer_size=4, fleet_pool_size=8, fleet_boot_s=0.5, weak_fleet_scale_in=True)
    run = run_fleet_buffer(client, SETTINGS, join_players=_join)
    figures = judge_fleet_buffer(run)
    rows = {r.slo: r for r in fleet_buffer_slos(run, figures, SETTINGS, environment="itest", check="t")}
    assert figures.scale_in_observed, run.as_dict()
    row = rows["fleet_buffer.occupied_stopped"]
    assert not row.passed, run.as_dict()
    assert row.measured >= 1
    assert set(figures.occupied_stopped) <= set(run.held)
    assert run.players_dropped, "the stopped servers' players were dropped"


def test_buffer_smaller_than_the_rush_runs_dry_and_fails(fleet_platform: Callable[..., PlatformClient]) -> None:
    client = fleet_platform(fleet_buffer_size=2, fleet_pool_size=8, fleet_boot_s=1.0)
    run = run_fleet_buffer(client, SETTINGS, join_players=_join)
    rows = {r.slo: r for r in fleet_buffer_slos(run, judge_fleet_buffer(run), SETTINGS, environment="itest", check="t")}
    ready_min = rows["fleet_buffer.ready_min"]
    assert ready_min.measured == 0, run.as_dict()
    assert not ready_min.passed


def _ready_ids(client: PlatformClient, count: int, deadline_s: float, without: str = "") -> list[str]:
    """The ready servers once ``count`` are listed ready (``without`` not among them), within a deadline."""
    end = time.monotonic() + deadline_s
    while True:
        ready = [s["id"] for s in client.fleet()["servers"] if s["state"] == "ready"]
        if len(ready) >= count and without not in ready:
            return ready
        if time.monotonic() > end:
            pytest.fail(f"no {count} ready servers without {without!r} within {deadline_s}s: {ready}")
        time.sleep(0.1)


def test_a_ready_server_that_goes_down_is_replaced(
    fleet_platform: Callable[..., PlatformClient], fleet_sandbox: Sandbox
) -> None:
    client = fleet_platform(fleet_buffer_size=2, fleet_pool_size=4, fleet_boot_s=0.5)
    victim = _ready_ids(client, 2, 30)[0]
    fleet_sandbox.inject([victim], "kill", restart=False)  # a crash the platform did not ask for
    _ready_ids(client, 2, 30, without=victim)  # the health check took it out and a replacement booted
    assert next(s for s in client.fleet()["servers"] if s["id"] == victim)["state"] in ("cold", "starting")
    # the pool is the platform's: the fleet's discovery leaves every pool server out
    listed = {s["id"] for s in fleet_servers(fleet_sandbox.state_dir)}
    assert listed.isdisjoint(s["id"] for s in client.fleet()["servers"])
    assert len(listed) == 12 - 4


def test_a_platform_without_a_fleet_autoscaler_is_unsupported(fleet_platform: Callable[..., PlatformClient]) -> None:
    client = fleet_platform()
    with pytest.raises(FleetUnsupported, match="no fleet autoscaler"):
        run_fleet_buffer(client, SETTINGS, join_players=_join)


SUITE = "load/test_fleet_buffer.py"
CHECK = "test_fleet_buffer_absorbs_a_join_rush"
DEADLINES = {"allocation_deadline_s": 20, "refill_deadline_s": 30, "scale_in_deadline_s": 30, "settle_s": 2}
LOAD = {"fleet_buffer": {"rush": 3, "keep": 2, "allocation_p95_s": 10, "scale_out_s": 30, **DEADLINES}}


@pytest.mark.parametrize("weak", [False, True], ids=["sound", "weak-scale-in"])
def test_suite_check_passes_and_fails_on_a_scale_in_that_stops_occupied_servers(
    weak: bool, fleet_platform: Callable[..., PlatformClient], fleet_sandbox: Sandbox, tmp_path: Path
) -> None:
    fleet_platform(fleet_buffer_size=4, fleet_pool_size=8, fleet_boot_s=0.5, weak_fleet_scale_in=weak)
    env = write_environment(tmp_path / "env.yaml", fleet_sandbox.state_dir, sandbox={"servers": 12}, load=LOAD)
    run = run_suite(env, tmp_path / "reports", suite=SUITE, timeout=300)
    outcome = check_outcomes(run)[CHECK]
    rows = {r["slo"]: r for r in run.evidence() if r["type"] == "slo"}
    assert set(rows) == {
        "fleet_buffer.ready_min",
        "fleet_buffer.allocation_p95_s",
        "fleet_buffer.scale_out_s",
        "fleet_buffer.occupied_stopped",
    }, run.output[-3000:]
    if weak:
        assert outcome["outcome"] == "failed", run.output[-3000:]
        assert "fleet_buffer.occupied_stopped" in outcome["message"]
        assert not rows["fleet_buffer.occupied_stopped"]["passed"]
    else:
        assert outcome["outcome"] == "passed", run.output[-3000:]
        assert all(r["passed"] for r in rows.values()), rows
    assert (run.run_dir / "fleet_buffer.json").is_file()


def test_suite_check_skips_with_the_reason_without_a_fleet_autoscaler(
    fleet_platform: Callable[..., PlatformClient], fleet_sandbox: Sandbox, tmp_path: Path
) -> None:
    fleet_platform()
    env = write_environment(tmp_path / "env.yaml", fleet_sandbox.state_dir, sandbox={"servers": 12}, load=LOAD)
    run = run_suite(env, tmp_path / "reports", suite=SUITE, timeout=300)
    outcome = check_outcomes(run)[CHECK]
    assert outcome["outcome"] == "skipped", run.output[-3000:]
    assert "no fleet autoscaler" in outcome["message"]
