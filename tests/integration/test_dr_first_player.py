"""DR drill and players, for real: after the restore the drill times the first player join on the restored
server; a restored server no player can get into fails the drill; one the client cannot log in to (a
protocol it has no packet table for) makes it inconclusive, with the reason."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from mcproof.dr.drill import run_drill, wait_serving
from mcproof.dr.settings import DrSettings
from mcproof.platform.client import PlatformClient
from mcproof.players.population import Population
from mcproof.secrets import SecretRef
from mcproof.target import Target
from mcproof.verdict import Verdict
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration

SCHEDULE = EngineConfig(environment="itest", autosave_s=0.7, filler_bytes=64 * 1024, backup_interval_s=1.0)
FAST = DrSettings(backups=1, schedule_timeout_s=15, warmup_s=0.5, settle_s=0.5, serving_timeout_s=15, keep_server=True)

Platform = tuple[Sandbox, PlatformInfo]


@pytest.fixture
def platform_factory(sandbox_factory: Callable[..., Sandbox]) -> Iterator[Callable[..., Platform]]:
    started: list[PlatformServices] = []

    def make(**spec: Any) -> Platform:
        sandbox = sandbox_factory(servers=3, boot_delay_s=0.5, **spec)
        services = PlatformServices(sandbox.state_dir)
        started.append(services)
        return sandbox, services.up(SCHEDULE, timeout=30)

    yield make
    for services in started:
        services.down()


def _token(info: PlatformInfo) -> str:
    return SecretRef(file=info.token_file("alpha")).resolve()


def test_the_drill_reports_when_the_first_player_joined_the_restored_server(
    platform_factory: Callable[..., Platform],
) -> None:
    _, info = platform_factory()
    client = PlatformClient(info.url, _token(info), ca_file=info.ca_file)
    result = run_drill(client, FAST, environment="itest", rpo_target_s=30, rto_target_s=30)
    ev = result.evidence
    assert result.passed, (result.verdict, result.reason)
    assert ev.player_join["measured_from"] == "restore_end"
    assert ev.player_join["ok"] is True
    assert ev.first_player_join_s is not None
    assert ev.first_player_join_s > 0
    events = {e["event"]: e["at"] for e in ev.timeline}
    assert ev.first_player_join_s == pytest.approx(events["first_player_in_play"] - events["restored"], abs=1e-5)
    assert ev.first_player_join_after_disaster_s == pytest.approx(
        events["first_player_in_play"] - ev.disaster_at, abs=1e-5
    )
    assert events["first_player_in_play"] > events["restored"] > ev.disaster_at


class _Squatted(PlatformClient):
    """The restore works, but the restored server is full (max_players 1) by the time players come back."""

    squatter: Population | None = None

    def restore_backup(self, server_id: str, backup_id: str) -> dict[str, Any]:
        out = super().restore_backup(server_id, backup_id)
        server = self.get_server(server_id)
        assert wait_serving(server, 15) is not None
        target = Target(id=server.id, host=server.host, port=server.port)
        self.squatter = Population([target], protocols={server.id: 769}, name_prefix="sq").start()
        assert self.squatter.wait_all_in_play(15)
        return out


def test_a_restored_server_no_player_can_join_fails_the_drill(platform_factory: Callable[..., Platform]) -> None:
    _, info = platform_factory(max_players=1)
    client = _Squatted(info.url, _token(info), ca_file=info.ca_file)
    try:
        settings = FAST.model_copy(update={"player_join_timeout_s": 3.0})
        result = run_drill(client, settings, environment="itest", rpo_target_s=30, rto_target_s=30)
    finally:
        if client.squatter is not None:
            client.squatter.stop()
    ev = result.evidence
    assert result.verdict == Verdict.FAIL, (result.verdict, result.reason)
    assert f"no player could join {ev.server} within 3s of the restore" in result.reason
    assert "The server is full!" in result.reason
    assert ev.first_player_join_s is None
    assert ev.recovered  # the data came back; players could not
    assert ev.player_join["attempts"] >= 2  # it kept trying until its deadline


class _Unspeakable(PlatformClient):
    """After the restore the server reports a protocol the player client has no packet table for."""

    sandbox: Sandbox | None = None

    def restore_backup(self, server_id: str, backup_id: str) -> dict[str, Any]:
        out = super().restore_backup(server_id, backup_id)
        assert self.sandbox is not None
        self.sandbox.inject([server_id], "wrong_version", version_name="0.0.0-wrong", protocol=1)
        return out


def test_a_restored_server_the_client_cannot_speak_to_is_inconclusive(
    platform_factory: Callable[..., Platform],
) -> None:
    sandbox, info = platform_factory()
    client = _Unspeakable(info.url, _token(info), ca_file=info.ca_file)
    client.sandbox = sandbox
    result = run_drill(client, FAST, environment="itest", rpo_target_s=30, rto_target_s=30)
    assert result.verdict == Verdict.INCONCLUSIVE, (result.verdict, result.reason)
    assert "cannot log in to" in result.reason
    assert "unsupported_version" in result.reason
    assert "dr.player_join" in result.fix
    assert result.evidence.first_player_join_s is None
