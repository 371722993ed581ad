"""DR drills for real: sandbox fleet + platform API + restic; figures re-computed from the markers on disk."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof.dr.drill import APPEND, READ, parse_storage_reply, run_drill, slo_records, wait_serving
from mcproof.dr.settings import DrSettings
from mcproof.platform.adapter import ApiCallError
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof.verdict import Verdict
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.world import STORAGE_FILE, parse_marks, read_marks

pytestmark = pytest.mark.integration

# the platform's schedule backs each server up every second; the drill waits for two of those
SCHEDULE = EngineConfig(environment="itest", autosave_s=0.7, filler_bytes=512 * 1024, backup_interval_s=1.0)
FAST = DrSettings(backups=2, schedule_timeout_s=15, warmup_s=0.5, settle_s=0.5, serving_timeout_s=15, keep_server=True)


@pytest.fixture
def platform_factory(
    sandbox_factory: Callable[..., Sandbox],
) -> Iterator[Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]]]:
    started: list[PlatformServices] = []

    def make(config: EngineConfig = SCHEDULE) -> tuple[Sandbox, PlatformInfo, PlatformClient]:
        sandbox = sandbox_factory(servers=3, boot_delay_s=0.5)
        services = PlatformServices(sandbox.state_dir)
        started.append(services)
        info = services.up(config, timeout=30)
        client = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
        return sandbox, info, client

    yield make
    for services in started:
        services.down()


@pytest.fixture
def platform(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> tuple[Sandbox, PlatformInfo, PlatformClient]:
    return platform_factory(SCHEDULE)


def _restic_out(info: PlatformInfo, *args: str, timeout: float = 60.0) -> str:
    """Run restic on the platform's repository; retried while the platform's scheduled prune holds the lock."""
    backups = info.platform_dir / "backups" / "itest"
    env = {
        "PATH": os.environ["PATH"],
        "RESTIC_REPOSITORY": str(backups / "repo"),
        "RESTIC_PASSWORD_FILE": str(backups / "password"),
    }
    deadline = time.monotonic() + timeout
    while True:
        done = subprocess.run(
            ["restic", "--no-cache", *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode == 0:
            return done.stdout
        assert "lock" in done.stderr, done.stderr
        assert time.monotonic() < deadline, f"restic repository still locked after {timeout:g}s: {done.stderr}"
        time.sleep(0.2)


def _restic(info: PlatformInfo, *args: str) -> Any:
    return json.loads(_restic_out(info, *args, "--json"))


def _storage_on_disk(info: PlatformInfo, server: str) -> list[int]:
    return [m.seq for m in read_marks(info.platform_dir / "worlds" / server / STORAGE_FILE)]


def _storage_in_snapshot(info: PlatformInfo, snapshot: str, server: str) -> list[int]:
    path = str(info.platform_dir / "worlds" / server / STORAGE_FILE)
    return [m.seq for m in parse_marks(_restic_out(info, "dump", snapshot, path))]


def test_drill_figures_agree_with_markers_on_disk(platform: tuple[Sandbox, PlatformInfo, PlatformClient]) -> None:
    _, info, client = platform
    result = run_drill(client, FAST, environment="itest", rpo_target_s=30, rto_target_s=30)
    ev = result.evidence
    assert result.passed, (result.verdict, result.reason, result.problems)
    assert ev.integrity_ok
    assert ev.recovered
    assert ev.mode == "scheduled"
    # the drill took no backup: every backup it relied on came from the platform's schedule
    assert ev.backups
    assert all(b["trigger"] == "schedule" for b in ev.backups)
    assert ev.schedule["scheduled_seen"] >= 2
    assert ev.timeline[[e["event"] for e in ev.timeline].index("disaster")]["at"] == ev.disaster_at
    # independent computation: the harness's own acknowledged writes vs the restored world's markers on disk
    written = [m for m in ev.written_marks if m["ts"] <= ev.disaster_at]
    on_disk = _storage_on_disk(info, ev.server)
    assert written
    assert on_disk
    assert on_disk == list(range(1, on_disk[-1] + 1))  # a prefix: a backup is one consistent save
    acked = {m["seq"]: m["ts"] for m in written}
    assert ev.last_written == {"seq": written[-1]["seq"], "ts": written[-1]["ts"]}
    assert ev.last_recovered == {"seq": on_disk[-1], "ts": acked[on_disk[-1]]}
    assert ev.rpo_s == pytest.approx(ev.disaster_at - acked[on_disk[-1]], abs=1e-5)
    assert ev.markers_written == len(written)
    assert ev.markers_recovered == len(on_disk)
    assert ev.markers_lost == len(written) - len(on_disk)
    # the newest backup holds exactly what was recovered; markers after it were really lost
    assert _storage_in_snapshot(info, ev.snapshot, ev.server) == on_disk
    assert written[-1]["seq"] > on_disk[-1]
    assert ev.markers_lost > 0
    # the restored backup's newest marker was acknowledged before its save, which precedes created_at
    assert ev.rpo_s >= ev.disaster_at - ev.backup_created_at > 0  # no upper bound: tests never fail on timing
    # RTO: disaster -> verified in four contiguous parts, and it contains the restore itself
    events = {e["event"]: e["at"] for e in ev.timeline}
    assert ev.rto_s == pytest.approx(events["verified"] - ev.disaster_at, abs=1e-5)
    assert [p["part"] for p in ev.rto_parts] == ["detection", "restore", "boot", "verification"]
    assert sum(p["s"] for p in ev.rto_parts) == pytest.approx(ev.rto_s, abs=1e-4)
    assert ev.rto_parts[0]["end"] == events["detected"]
    assert ev.rto_parts[-1]["end"] == events["verified"]
    assert ev.restore_duration_s < ev.rto_s
    assert ev.restore_bytes >= 512 * 1024
    assert ev.restore_throughput_mib_s > 0
    # the snapshot is real: restic lists it, and restic check passes
    snaps = _restic(info, "snapshots")
    assert any(s["short_id"] == ev.snapshot or s["id"].startswith(ev.snapshot) for s in snaps)
    assert client.check_repository()["ok"] is True
    records = {r.slo: r for r in slo_records(ev)}
    assert records["rpo_s"].passed
    assert records["rto_s"].passed


def test_stale_backup_fails_rpo(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> None:
    # the schedule stops after one backup: the disaster 2.5 s later loses more than the 1 s RPO allows
    _, _, client = platform_factory(replace(SCHEDULE, weak_schedule_stops_after=1))
    stale = FAST.model_copy(update={"backups": 1, "settle_s": 2.5})
    result = run_drill(client, stale, environment="itest", rpo_target_s=1.0, rto_target_s=30)
    ev = result.evidence
    assert ev.integrity_ok
    assert ev.recovered
    assert ev.rpo_s >= 2.4
    assert not result.passed
    assert result.verdict == Verdict.FAIL
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": False, "rto_s": True}


def test_stopped_schedule_fails_the_drill_naming_the_server(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> None:
    _, _, client = platform_factory(replace(SCHEDULE, weak_schedule_stops_after=1))
    result = run_drill(
        client,
        FAST.model_copy(update={"schedule_timeout_s": 4.0}),
        environment="itest",
        rpo_target_s=30,
        rto_target_s=30,
    )
    ev = result.evidence
    assert result.verdict == Verdict.FAIL
    assert ev.verdict == "fail"
    assert ev.schedule["stale"] is True
    assert ev.schedule["newest_backup_age_s"] >= 4.0
    assert f"no scheduled backup of server {ev.server} appeared within 4s" in result.reason
    assert "newest backup is" in result.reason
    assert "s old" in result.reason
    assert ev.disaster_at == 0.0  # nothing destroyed: the verdict was already known
    assert not any(b["trigger"] != "schedule" for b in client.list_backups(ev.server))
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": False}


def test_platform_without_schedule_fails_the_drill(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> None:
    _, _, client = platform_factory(replace(SCHEDULE, backup_interval_s=0.0))
    result = run_drill(
        client,
        FAST.model_copy(update={"backups": 1, "schedule_timeout_s": 2.0}),
        environment="itest",
        rpo_target_s=30,
        rto_target_s=30,
    )
    assert result.verdict == Verdict.FAIL
    assert f"server {result.evidence.server}" in result.reason
    assert "it has no backup at all" in result.reason


def test_crash_loses_unsaved_markers(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> None:
    # autosave once an hour: only save-all (power stop) puts markers on disk during this test
    _, info, client = platform_factory(replace(SCHEDULE, autosave_s=3600.0, backup_interval_s=0.0))
    server = client.create_server("crash")
    assert wait_serving(server, 15) is not None
    for seq in (1, 2, 3):
        client.command(server.id, APPEND.format(seq=seq))
    client.power(server.id, "stop")  # save-all, then down
    assert _storage_on_disk(info, server.id) == [1, 2, 3]
    client.power(server.id, "start")
    assert wait_serving(server, 15) is not None
    for seq in (4, 5, 6):
        assert client.command(server.id, APPEND.format(seq=seq))["reply"] == "Modified storage mcproof:dr"
    assert parse_storage_reply(client.command(server.id, READ)["reply"]) == [1, 2, 3, 4, 5, 6]  # in memory
    client.power(server.id, "kill")  # a crash: 4..6 were never saved
    assert _storage_on_disk(info, server.id) == [1, 2, 3]
    world = client.world(server.id)
    assert world["lost_storage"] == 3
    assert world["saved"]["ok"]
    with pytest.raises(ApiCallError) as refused:
        client.command(server.id, APPEND.format(seq=7))  # a dead server takes no command
    assert refused.value.status == 409
    client.power(server.id, "start")
    assert wait_serving(server, 15) is not None
    deadline = time.monotonic() + 15
    reply = None
    while reply is None and time.monotonic() < deadline:
        try:
            reply = parse_storage_reply(client.command(server.id, READ)["reply"])
        except ApiCallError:
            time.sleep(0.2)
    assert reply == [1, 2, 3]  # the server came back with what was on disk
    assert _storage_on_disk(info, server.id) == [1, 2, 3]


class _CorruptingClient(PlatformClient):
    """Corrupts every pack of the restic repository right before the restore (bit rot on the backup disk)."""

    repo: Path

    def restore_backup(self, server_id: str, backup_id: str) -> dict[str, Any]:
        for pack in (self.repo / "data").rglob("*"):
            if pack.is_file():
                os.chmod(pack, 0o600)
                data = bytearray(pack.read_bytes())
                data[len(data) // 2] ^= 0xFF
                pack.write_bytes(bytes(data))
        return super().restore_backup(server_id, backup_id)


def test_corrupted_snapshot_fails_integrity(platform: tuple[Sandbox, PlatformInfo, PlatformClient]) -> None:
    _, info, _ = platform
    client = _CorruptingClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    client.repo = info.platform_dir / "backups" / "itest" / "repo"
    result = run_drill(
        client, FAST.model_copy(update={"backups": 1}), environment="itest", rpo_target_s=30, rto_target_s=30
    )
    ev = result.evidence
    assert not ev.integrity_ok
    assert not ev.recovered
    assert not result.passed
    assert any("422" in p for p in ev.integrity_problems), ev.integrity_problems
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": False, "rto_s": False}
    assert client.check_repository()["ok"] is False


def test_dr_suite_records_rpo_rto_evidence(
    platform: tuple[Sandbox, PlatformInfo, PlatformClient], tmp_path: Path
) -> None:
    sandbox, _, _ = platform
    env_file = write_environment(
        tmp_path / "env.yaml",
        sandbox.state_dir,
        slo__rpo_s=20,
        slo__rto_s=30,
        dr={"backups": 1, "warmup_s": 0.3, "settle_s": 0.3, "serving_timeout_s": 15},
    )
    run = run_suite(env_file, tmp_path / "reports", suite="dr", timeout=120)
    assert run.code == 0, run.output
    assert check_outcomes(run)["test_dr_drill_meets_rpo_and_rto"]["outcome"] == "passed"
    records = run.evidence()
    dr = [r for r in records if r["type"] == "dr"]
    slos = {r["slo"]: r for r in records if r["type"] == "slo"}
    assert len(dr) == 1
    assert dr[0]["written_marks"]
    assert dr[0]["recovered_marks"]
    assert slos["rpo_s"]["passed"]
    assert slos["rto_s"]["passed"]
    assert slos["rpo_s"]["measured"] == dr[0]["rpo_s"]


def test_provisioned_server_makes_the_smoke_backup_check_measure(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]], tmp_path: Path
) -> None:
    # what `sandbox_for_run` starts: one server for the DR tenant, its first scheduled backup taken at start
    sandbox, _, client = platform_factory(replace(SCHEDULE, backup_interval_s=30.0, provision_tenant="alpha"))
    servers = client.list_servers()
    assert [s.name for s in servers] == ["provisioned"]
    assert [b["trigger"] for b in client.list_backups(servers[0].id)] == ["schedule"]
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, slo__rpo_s=60)
    check = "test_last_backup_within_rpo"
    run = run_suite(env_file, tmp_path / "reports", "-k", check, suite="smoke/test_platform.py", timeout=60)
    assert check_outcomes(run)[check]["outcome"] == "passed", run.output
    ages = [r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "backup_age_s"]
    assert len(ages) == 1
    assert ages[0]["samples"] == 1
    assert ages[0]["passed"]


class _NoDisasterClient(PlatformClient):
    """A platform that refuses the disaster action: the harness cannot apply its fault."""

    def delete_files(self, server_id: str, files: list[str], root: str = "/") -> dict[str, Any]:
        raise ApiCallError(f"POST /v1/servers/{server_id}/files/delete -> 403: forbidden", 403)


def test_disaster_not_applied_is_inconclusive(platform: tuple[Sandbox, PlatformInfo, PlatformClient]) -> None:
    _, info, _ = platform
    client = _NoDisasterClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    result = run_drill(
        client, FAST.model_copy(update={"backups": 1}), environment="itest", rpo_target_s=30, rto_target_s=30
    )
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "could not apply the disaster (delete)" in result.reason
    assert result.fix
    assert result.evidence.verdict == "inconclusive"
    assert slo_records(result.evidence) == []  # nothing measured, nothing claimed


def test_dr_suite_fails_naming_the_server_when_the_schedule_stopped(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]], tmp_path: Path
) -> None:
    sandbox, _, _ = platform_factory(replace(SCHEDULE, weak_schedule_stops_after=1))
    env_file = write_environment(
        tmp_path / "env.yaml",
        sandbox.state_dir,
        slo__rpo_s=20,
        slo__rto_s=30,
        dr={"backups": 2, "schedule_timeout_s": 3, "warmup_s": 0.3, "serving_timeout_s": 15},
    )
    run = run_suite(env_file, tmp_path / "reports", "-k", "test_dr_drill", suite="dr", timeout=120)
    outcome = check_outcomes(run)["test_dr_drill_meets_rpo_and_rto"]
    assert outcome["outcome"] == "failed", run.output
    dr = [r for r in run.evidence() if r["type"] == "dr"]
    assert f"no scheduled backup of server {dr[0]['server']} appeared within 3s" in outcome["message"]
    assert "s old" in outcome["message"]
    assert run.code == 1


def test_on_demand_drill_is_labelled_as_such(
    platform_factory: Callable[[EngineConfig], tuple[Sandbox, PlatformInfo, PlatformClient]],
) -> None:
    _, _, client = platform_factory(replace(SCHEDULE, backup_interval_s=0.0))
    settings = FAST.model_copy(update={"mode": "on_demand", "backups": 1})
    result = run_drill(client, settings, environment="itest", rpo_target_s=30, rto_target_s=30)
    ev = result.evidence
    assert result.passed, (result.reason, result.problems)
    assert ev.mode == "on_demand"
    assert "on-demand backups taken by the drill" in ev.method
    assert [b["trigger"] for b in ev.backups] == ["api"]
    assert "on_demand_backup" in [e["event"] for e in ev.timeline]
    assert all("on-demand" in r.method for r in slo_records(ev))


class _NoFileManagerClient(PlatformClient):
    """A panel token without file permissions: the drill's disaster could never be applied."""

    def list_files(self, server_id: str, directory: str = "/") -> list[dict[str, Any]]:
        raise ApiCallError(f"GET /v1/servers/{server_id}/files/list -> 403: forbidden", 403)


def test_a_platform_without_a_file_manager_is_refused_before_anything_is_written(
    platform: tuple[Sandbox, PlatformInfo, PlatformClient],
) -> None:
    _, info, _ = platform
    client = _NoFileManagerClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    result = run_drill(
        client, FAST.model_copy(update={"backups": 1}), environment="itest", rpo_target_s=30, rto_target_s=30
    )
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "needs the platform's file manager" in result.reason
    assert "nothing was changed" in result.fix
    assert result.evidence.markers_written == 0
    assert slo_records(result.evidence) == []
