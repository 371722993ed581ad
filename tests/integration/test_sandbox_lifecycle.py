"""Processes: reuse on a second ``up``, shard crash recovery, clean ``down``, stale state, the CLI."""

from __future__ import annotations

import os
import random
import signal
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
from click.testing import CliRunner
from test_sandbox_faults import refused, wait_for
from test_sandbox_fleet import status

from mcproof.cli.sandbox import sandbox as sandbox_cli
from mcproof.errors import SandboxError
from mcproof_sandbox.fleet import Sandbox, SandboxSpec

pytestmark = pytest.mark.integration


def _gone(pids: list[int]) -> bool:
    return all(not psutil.pid_exists(p) or psutil.Process(p).status() == psutil.STATUS_ZOMBIE for p in pids)


def test_up_twice_reuses_and_rejects_a_different_spec(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=4)
    first = sb.status()
    assert first is not None
    spec = SandboxSpec.from_dict(first.spec)
    again = Sandbox(sb.state_dir).up(spec, timeout=10)
    assert again.pid == first.pid
    with pytest.raises(SandboxError, match=r"different spec.*servers=4 \(wanted 5\).*sandbox down"):
        sb.up(SandboxSpec.from_dict({**first.spec, "servers": 5}))


def test_killed_shard_is_restarted_with_its_faults(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=6, shard_size=3, boot_delay_s=0.5)
    before = sb.status()
    assert before is not None
    assert len(before.shard_pids) == 2
    victim = before.servers[4]  # second shard
    sb.inject([victim.id], "wrong_version", version_name="9.9", protocol=1)
    os.kill(before.shard_pids[1], signal.SIGKILL)
    wait_for(lambda: refused(victim), 2.0)
    assert status(before.servers[0]).version.name == "1.21.4"  # first shard unaffected
    wait_for(lambda: not refused(victim), 6.0)
    assert status(victim).version.name == "9.9"
    after = sb.status()
    assert after is not None
    assert after.shard_pids[0] == before.shard_pids[0]
    assert after.shard_pids[1] != before.shard_pids[1]
    assert after.up_count == 6


def test_down_leaves_no_processes_and_is_idempotent(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=4, shard_size=2)
    info = sb.status()
    assert info is not None
    pids = [info.pid, *info.shard_pids]
    assert len(pids) == 3
    sb.down(timeout=10)
    assert _gone(pids)
    assert sb.status() is None
    assert not (sb.state_dir / "control.sock").exists()
    assert not (sb.state_dir / "state.json").exists()
    sb.down()  # idempotent
    assert refused(info.servers[0])


def test_stale_state_is_detected_and_cleaned(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=2)
    info = sb.status()
    assert info is not None
    os.kill(info.pid, signal.SIGKILL)
    wait_for(lambda: _gone([info.pid, *info.shard_pids]), 5.0)  # shards die with their supervisor
    assert sb.status() is None
    assert not (sb.state_dir / "state.json").exists()


def test_cli_round_trip(tmp_path: Path) -> None:
    runner = CliRunner()
    state_dir = str(tmp_path / "cli")
    base = f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.1"
    try:
        result = runner.invoke(
            sandbox_cli,
            ["up", "--servers", "3", "--state-dir", state_dir, "--boot-delay", "0.5", "--base-address", base],
        )
        assert result.exit_code == 0, result.output
        assert "3 up / 0 down" in result.output
        result = runner.invoke(
            sandbox_cli, ["fault", "mc-00001", "--kind", "slow", "--delay", "0.2", "--state-dir", state_dir]
        )
        assert result.exit_code == 0, result.output
        result = runner.invoke(sandbox_cli, ["status", "--state-dir", state_dir])
        assert "mc-00001: slow" in result.output
        assert "MiB" in result.output
        result = runner.invoke(sandbox_cli, ["fault", "mc-00009", "--kind", "hang", "--state-dir", state_dir])
        assert result.exit_code == 1
        assert "unknown server id" in result.output
        assert runner.invoke(sandbox_cli, ["clear", "--state-dir", state_dir]).exit_code == 0
    finally:
        result = runner.invoke(sandbox_cli, ["down", "--state-dir", state_dir])
    assert result.exit_code == 0, result.output
    result = runner.invoke(sandbox_cli, ["status", "--state-dir", state_dir])
    assert "running     no" in result.output


def test_address_clash_fails_up_with_a_clear_message(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    first = sandbox_factory(servers=2)
    base = first.servers()[0].host
    second = Sandbox(tmp_path / "clash")
    with pytest.raises(SandboxError, match=r"failed to start: .*Address already in use"):
        second.up(SandboxSpec(servers=2, base_address=base), timeout=20)
    assert second.status() is None
    assert first.status() is not None
