"""The Pterodactyl client-API adapter for real: the sandbox platform's panel face (same engine, TLS, restic,
world data as the native API), the DR drill through it with RPO/RTO figures, and its negative cases."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from mcproof.dr.disaster import apply_disaster
from mcproof.dr.drill import APPEND, READ, parse_storage_reply, run_drill, slo_records, wait_serving, wait_stopped
from mcproof.dr.settings import DrSettings
from mcproof.platform.adapter import (
    ApiCallError,
    ConflictError,
    CredentialsError,
    NotFoundError,
    RateLimitedError,
    ServerRecord,
    Unsupported,
)
from mcproof.platform.client import PlatformClient
from mcproof.platform.pterodactyl import PterodactylAdapter
from mcproof.secrets import Secret, SecretRef
from mcproof.verdict import Verdict
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.world import STORAGE_FILE, read_marks

pytestmark = pytest.mark.integration

SCHEDULE = EngineConfig(environment="itest", autosave_s=0.7, filler_bytes=256 * 1024, backup_interval_s=1.0)
FAST = DrSettings(backups=2, schedule_timeout_s=15, warmup_s=0.5, settle_s=0.5, serving_timeout_s=15)

Panel = tuple[PlatformInfo, PterodactylAdapter, ServerRecord]


@pytest.fixture
def panel_factory(sandbox_factory: Callable[..., Sandbox]) -> Iterator[Callable[[EngineConfig], Panel]]:
    """A sandbox + platform daemon; one server assigned to tenant alpha; the adapter on the panel face."""
    started: list[PlatformServices] = []

    def make(config: EngineConfig = SCHEDULE) -> Panel:
        sandbox = sandbox_factory(servers=2, boot_delay_s=0.5)
        services = PlatformServices(sandbox.state_dir)
        started.append(services)
        info = services.up(config, timeout=30)
        native = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
        created = native.create_server("panel-drill")  # an admin's job on a real panel (application API)
        adapter = PterodactylAdapter(
            info.url,
            SecretRef(file=info.api_key_file("alpha")).resolve(),
            ca_file=info.ca_file,
            poll_s=0.1,
            timeout=15,
            backup_timeout_s=30,
            restore_timeout_s=30,
        )
        [listed] = [s for s in adapter.list_servers() if s.name == "panel-drill"]
        assert (listed.host, listed.port) == (created.host, created.port)
        return info, adapter, adapter.get_server(listed.id)

    yield make
    for services in started:
        services.down()


def _storage_on_disk(info: PlatformInfo, server: str) -> list[int]:
    return [m.seq for m in read_marks(info.platform_dir / "worlds" / server / STORAGE_FILE)]


def _sandbox_id(info: PlatformInfo, record: ServerRecord) -> str:
    native = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    return next(s.id for s in native.list_servers() if (s.host, s.port) == (record.host, record.port))


def test_drill_through_the_panel_face_measures_rpo_and_rto(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(SCHEDULE)
    assert len(server.id) == 8
    result = run_drill(adapter, FAST, environment="itest", rpo_target_s=30, rto_target_s=30, server_id=server.id)
    ev = result.evidence
    assert result.passed, (result.verdict, result.reason, result.problems)
    assert ev.server == server.id
    assert ev.recovered
    assert ev.integrity_ok
    assert all(b["trigger"] == "schedule" for b in ev.backups)  # the platform's own schedule, seen through the panel
    assert ev.schedule["scheduled_seen"] >= 2
    events = [e["event"] for e in ev.timeline]
    assert events[0] == "server_named"
    assert events.index("disaster") < events.index("detected") < events.index("restored") < events.index("verified")
    # figures re-computed from the markers on disk of the restored world
    on_disk = _storage_on_disk(info, _sandbox_id(info, server))
    written = [m for m in ev.written_marks if m["ts"] <= ev.disaster_at]
    assert on_disk == list(range(1, on_disk[-1] + 1))
    acked = {m["seq"]: m["ts"] for m in written}
    assert ev.last_recovered == {"seq": on_disk[-1], "ts": acked[on_disk[-1]]}
    assert ev.rpo_s == pytest.approx(ev.disaster_at - acked[on_disk[-1]], abs=1e-5)
    assert ev.markers_lost == len(written) - len(on_disk) > 0  # power kill lost what was not saved
    assert [p["part"] for p in ev.rto_parts] == ["detection", "restore", "boot", "verification"]
    assert sum(p["s"] for p in ev.rto_parts) == pytest.approx(ev.rto_s, abs=1e-4)
    assert ev.restore_bytes > 0
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": True, "rto_s": True}
    # the panel recorded what the drill did, and the drill server is kept (the client API cannot delete it)
    activity = adapter._json("GET", f"/api/client/servers/{server.id}/activity", params={"per_page": 100})
    names = {a["attributes"]["event"] for a in activity["data"]}
    paged = list(adapter._pages(f"/api/client/servers/{server.id}/activity", 3))  # follows every page
    assert len(paged) >= len(activity["data"]) > 3
    assert {
        "server:power.kill",
        "server:file.delete",
        "server:backup.restore",
        "server:backup.restore-complete",
        "server:power.start",
    } <= names
    assert adapter.get_server(server.id).id == server.id
    audit = [json.loads(line) for line in info.audit_log.read_text().splitlines() if line.strip()]
    assert any(e["action"] == "POST ptero:files" for e in audit)
    assert not any("x-sandbox" in e["target"] or "disaster" in e["action"] for e in audit)  # real panel routes only


def test_kill_loses_unsaved_data_and_stop_saves(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(replace(SCHEDULE, autosave_s=3600.0, backup_interval_s=0.0))
    sid = _sandbox_id(info, server)
    assert wait_serving(server, 15) is not None
    for seq in (1, 2):
        assert adapter.command(server.id, APPEND.format(seq=seq))["reply"] == "Modified storage mcproof:dr"
    replies = [adapter.command(server.id, READ)["reply"] for _ in range(20)]  # each reply reaches its socket
    assert replies == ["Storage mcproof:dr has the following contents: [1, 2]"] * 20
    adapter.power(server.id, "stop")  # save-all, then down
    assert adapter.wait_state(server.id, {"offline"}, 15) == "offline"
    assert _storage_on_disk(info, sid) == [1, 2]
    adapter.power(server.id, "start")
    assert wait_serving(server, 15) is not None
    adapter.command(server.id, APPEND.format(seq=3))
    assert parse_storage_reply(adapter.command(server.id, READ)["reply"]) == [1, 2, 3]
    adapter.power(server.id, "kill")  # a crash: 3 was never saved
    assert wait_stopped(server, 15) is not None
    assert _storage_on_disk(info, sid) == [1, 2]
    with pytest.raises(ApiCallError, match="502") as offline:
        adapter.command(server.id, APPEND.format(seq=4))
    assert "Server must be online" in str(offline.value)


def test_on_demand_backup_restore_and_file_delete(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(replace(SCHEDULE, backup_interval_s=0.0))
    sid = _sandbox_id(info, server)
    world = info.platform_dir / "worlds" / sid
    assert wait_serving(server, 15) is not None
    backup = adapter.create_backup(server.id)  # asynchronous on the panel: the adapter waits for completed_at
    assert backup["state"] == "available"
    assert backup["trigger"] == "api"
    assert backup["completed_at"] >= backup["created_at"]
    assert [b["id"] for b in adapter.list_backups(server.id)] == [backup["id"]]
    disaster = apply_disaster(adapter, server.id, "delete")
    assert disaster["steps"] == ["power kill", "stopped", "files/delete / ['world']"]
    assert not world.exists()  # the file API really deleted the world
    restored = adapter.restore_backup(server.id, backup["id"])
    assert restored["outcome"] is True
    assert (world / "level.dat").is_file()
    assert wait_serving(server, 15) is not None  # the adapter powered it on after the restore


def test_backup_that_never_completes_fails_the_drill(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    _, adapter, server = panel_factory(replace(SCHEDULE, backup_interval_s=0.0, weak_backup_never_completes=True))
    adapter.backup_timeout_s = 2.0
    on_demand = FAST.model_copy(update={"mode": "on_demand", "backups": 1})
    result = run_drill(adapter, on_demand, environment="itest", rpo_target_s=30, rto_target_s=30, server_id=server.id)
    assert result.verdict == Verdict.FAIL
    assert "not completed 2s after it was started" in result.reason
    assert result.evidence.disaster_at == 0.0  # nothing destroyed: the verdict was known before the disaster
    with pytest.raises(ConflictError, match="409"):  # that backup is still in progress
        adapter.create_backup(server.id)
    scheduled = FAST.model_copy(update={"backups": 1, "schedule_timeout_s": 2.0})
    stale = run_drill(adapter, scheduled, environment="itest", rpo_target_s=30, rto_target_s=30, server_id=server.id)
    assert stale.verdict == Verdict.FAIL
    assert "it has no backup at all" in stale.reason  # the in-progress backup is not restorable


def test_wrong_api_key_and_unknown_server_are_one_line_errors(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(replace(SCHEDULE, backup_interval_s=0.0))
    wrong = PterodactylAdapter(info.url, Secret("ptlc_" + "x" * 43, "env:PTERO_KEY"), ca_file=info.ca_file)
    with pytest.raises(CredentialsError) as refused:
        wrong.preflight(server.id)
    message = str(refused.value)
    assert "401" in message
    assert "env:PTERO_KEY" in message
    assert "ptlc_x" not in message
    assert "\n" not in message
    beta = PterodactylAdapter(info.url, SecretRef(file=info.api_key_file("beta")).resolve(), ca_file=info.ca_file)
    with pytest.raises(NotFoundError):  # another tenant's key: that server does not exist for it
        beta.power(server.id, "kill")
    assert wait_serving(server, 15) is not None
    with pytest.raises(NotFoundError) as missing:
        adapter.preflight("deadbeef")
    assert "platform.server" in str(missing.value)
    result = run_drill(adapter, FAST, environment="itest", rpo_target_s=30, rto_target_s=30, server_id="deadbeef")
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "deadbeef" in result.reason
    unnamed = run_drill(adapter, FAST, environment="itest", rpo_target_s=30, rto_target_s=30)
    assert unnamed.verdict == Verdict.INCONCLUSIVE
    assert "no create-server route" in unnamed.reason
    with pytest.raises(Unsupported):
        adapter.delete_server(server.id)


def test_rate_limit_is_waited_out_within_the_deadline(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(
        replace(SCHEDULE, backup_interval_s=0.0, pterodactyl_rate_limit=3, pterodactyl_rate_period_s=1.0)
    )
    states = [adapter.state(server.id) for _ in range(4)]  # over budget: 429 + Retry-After, waited out
    assert len(states) == 4
    hurried = PterodactylAdapter(
        info.url, SecretRef(file=info.api_key_file("alpha")).resolve(), ca_file=info.ca_file, timeout=0.5
    )
    burst = [lambda: hurried.state(server.id)] * 10
    with pytest.raises(RateLimitedError, match="Retry-After"):
        [call() for call in burst]


def test_api_key_lives_in_the_platform_state_only(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, _, _ = panel_factory(replace(SCHEDULE, backup_interval_s=0.0))
    key_file = info.api_key_file("alpha")
    key = key_file.read_text().strip()
    assert key.startswith("ptlc_")
    assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    for path in Path(info.platform_dir).rglob("*"):
        if path.is_file() and path != key_file and path.stat().st_size < 10 << 20:
            assert key.encode() not in path.read_bytes(), path


def test_failed_restore_on_the_panel_fails_the_drill_integrity(panel_factory: Callable[[EngineConfig], Panel]) -> None:
    info, adapter, server = panel_factory(replace(SCHEDULE, backup_interval_s=0.0))
    repo = info.platform_dir / "backups" / "itest" / "repo"
    original = adapter.restore_backup

    def rot_then_restore(server_id: str, backup_id: str) -> dict[str, Any]:
        for pack in (repo / "data").rglob("*"):  # bit rot on the backup disk, right before the restore
            if pack.is_file():
                os.chmod(pack, 0o600)
                data = bytearray(pack.read_bytes())
                data[len(data) // 2] ^= 0xFF
                pack.write_bytes(bytes(data))
        return original(server_id, backup_id)

    adapter.restore_backup = rot_then_restore  # type: ignore[method-assign]
    on_demand = FAST.model_copy(update={"mode": "on_demand", "backups": 1})
    result = run_drill(adapter, on_demand, environment="itest", rpo_target_s=30, rto_target_s=30, server_id=server.id)
    ev = result.evidence
    assert result.verdict == Verdict.FAIL
    assert not ev.integrity_ok
    assert not ev.recovered
    assert any("server.backup.restore-failed" in p for p in ev.integrity_problems), ev.integrity_problems
    assert {r.slo: r.passed for r in slo_records(ev)} == {"rpo_s": False, "rto_s": False}
