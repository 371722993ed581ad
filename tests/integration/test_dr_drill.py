"""DR drills for real: sandbox fleet + platform API + restic; figures re-computed from the markers on disk."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.integration.suite_runs import check_outcomes, run_suite, write_environment

from mcproof.dr.drill import run_drill, slo_records
from mcproof.dr.settings import DrSettings
from mcproof.platform.client import PlatformClient
from mcproof.platform.control import PlatformInfo, PlatformServices
from mcproof.platform.engine import EngineConfig
from mcproof.sandbox import Sandbox
from mcproof.sandbox.services.world import read_marks
from mcproof.secrets import SecretRef

pytestmark = pytest.mark.integration

FAST = DrSettings(backups=2, backup_interval_s=0.5, warmup_s=0.5, settle_s=0.5, serving_timeout_s=15, keep_server=True)


@pytest.fixture
def platform(sandbox_factory: Callable[..., Sandbox]) -> Iterator[tuple[Sandbox, PlatformInfo, PlatformClient]]:
    sandbox = sandbox_factory(servers=3, boot_delay_s=0.5)
    services = PlatformServices(sandbox.state_dir)
    info = services.up(EngineConfig(environment="itest", autosave_s=0.7, filler_bytes=512 * 1024), timeout=30)
    client = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    try:
        yield sandbox, info, client
    finally:
        services.down()


def _restic(info: PlatformInfo, *args: str) -> Any:
    backups = info.platform_dir / "backups" / "itest"
    env = {"PATH": os.environ["PATH"], "RESTIC_REPOSITORY": str(backups / "repo"),
           "RESTIC_PASSWORD_FILE": str(backups / "password")}  # fmt: skip
    done = subprocess.run(["restic", "--no-cache", *args, "--json"], env=env, capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    return json.loads(done.stdout)


def test_drill_figures_agree_with_markers_on_disk(platform: tuple[Sandbox, PlatformInfo, PlatformClient]) -> None:
    _, info, client = platform
    result = run_drill(client, FAST, environment="itest", rpo_target_s=30, rto_target_s=30)
    ev = result.evidence
    assert result.passed, result.problems
    assert ev.integrity_ok
    assert ev.recovered
    # independent computation: the players' journal and the restored world's markers, read from disk
    written = [m for m in read_marks(info.platform_dir / "players" / f"{ev.server}.log") if m.ts <= ev.disaster_at]
    world = info.platform_dir / "worlds" / ev.server / "region" / "markers.log"
    recovered = [m for m in read_marks(world) if m.ts <= ev.disaster_at]
    assert written
    assert recovered
    assert ev.last_written == {"seq": written[-1].seq, "ts": written[-1].ts}
    assert ev.last_recovered == {"seq": recovered[-1].seq, "ts": recovered[-1].ts}
    assert ev.rpo_s == pytest.approx(written[-1].ts - recovered[-1].ts, abs=1e-5)
    # the newest backup holds exactly what was recovered; markers after it were really lost
    newest = ev.backups[-1]
    assert recovered[-1].seq == newest["last_seq"]
    assert written[-1].seq > recovered[-1].seq
    assert ev.rpo_s >= 0.4  # at least settle_s after the last backup (no upper bound: tests never fail on timing)
    # RTO: disaster -> verified, and it contains the restore itself
    events = {e["event"]: e["at"] for e in ev.timeline}
    assert ev.rto_s == pytest.approx(events["verified"] - ev.disaster_at, abs=1e-5)
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


def test_stale_backup_fails_rpo(platform: tuple[Sandbox, PlatformInfo, PlatformClient]) -> None:
    _, _, client = platform
    stale = FAST.model_copy(update={"backups": 1, "settle_s": 2.5})
    result = run_drill(client, stale, environment="itest", rpo_target_s=1.0, rto_target_s=30)
    ev = result.evidence
    assert ev.integrity_ok
    assert ev.recovered
    assert ev.rpo_s >= 2.4
    assert not result.passed
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": False, "rto_s": True}


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
    result = run_drill(client, FAST.model_copy(update={"backups": 1}), environment="itest",
                       rpo_target_s=30, rto_target_s=30)  # fmt: skip
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
        tmp_path / "env.yaml", sandbox.state_dir, slo__rpo_s=20, slo__rto_s=30,
        dr={"backups": 1, "warmup_s": 0.3, "settle_s": 0.3, "serving_timeout_s": 15},
    )  # fmt: skip
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
