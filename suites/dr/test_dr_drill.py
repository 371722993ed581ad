"""DR drill: restore the newest backup after a disaster and hold RPO and RTO against the SLOs.

The drill waits for the platform's own scheduled backups (``dr.mode: scheduled``); a schedule that
leaves the server without a fresh backup fails the check naming the server and the backup's age. A drill
that could not measure (no server, markers not writable, disaster not applied) is inconclusive. After the
restore the drill times the first player join (``first_player_join_s``, from the restore end): a restored
server no player can join fails it; one the player client cannot log in to (unknown protocol, online mode)
makes it inconclusive (``dr.player_join: false`` drills without that check, and says so).

Environment-agnostic: the platform adapter comes from the environment (``platform``, e.g. a Pterodactyl
panel, whose drill server is ``platform.server``; ``platform_api``; or the sandbox's own API); without one
the check is skipped with the reason. Destructive: the drill server's world is deleted.
"""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi, panel_server, platform_adapter
from mcproof.dr.drill import run_drill, slo_records
from mcproof.dr.settings import DrSettings
from mcproof.evidence import RunStore
from mcproof.platform.adapter import PlatformAdapter
from mcproof.verdict import Verdict, inconclusive

pytestmark = [pytest.mark.dr, pytest.mark.destructive]


@pytest.fixture(scope="module")
def dr_settings(environment: Environment) -> DrSettings:
    return environment.dr or DrSettings()


@pytest.fixture(scope="module")
def platform_api(environment: Environment, dr_settings: DrSettings) -> PlatformAdapter:
    try:
        return platform_adapter(environment, dr_settings.tenant)
    except NoPlatformApi as err:
        pytest.skip(str(err))


def test_dr_drill_meets_rpo_and_rto(
    platform_api: PlatformAdapter, environment: Environment, dr_settings: DrSettings, evidence: RunStore
) -> None:
    result = run_drill(
        platform_api,
        dr_settings,
        environment=environment.name,
        rpo_target_s=environment.slo.rpo_s,
        rto_target_s=environment.slo.rto_s,
        check="test_dr_drill_meets_rpo_and_rto",
        server_id=panel_server(environment),
    )
    ev = result.evidence
    evidence.append(ev)
    for record in slo_records(ev):
        evidence.append(record)
    if result.verdict == Verdict.INCONCLUSIVE:
        inconclusive(f"DR drill on {ev.server or 'no server'} measured nothing: {result.reason}", result.fix)
    if ev.schedule.get("stale"):
        pytest.fail(f"{result.reason}; {result.fix}", pytrace=False)
    assert ev.integrity_ok, f"restored world of {ev.server} failed integrity: {'; '.join(ev.integrity_problems[:3])}"
    assert ev.recovered, f"{ev.server} did not serve verified data after restore: {'; '.join(result.problems[:3])}"
    assert ev.rpo_s <= ev.rpo_target_s, (
        f"RPO {ev.rpo_s:.2f}s exceeds the SLO {ev.rpo_target_s:g}s on {ev.server}: backup {ev.backup_id} ends at "
        f"marker {(ev.last_recovered or {}).get('seq')}, the last marker acknowledged before the disaster was "
        f"{(ev.last_written or {}).get('seq')} ({ev.markers_lost} lost); back up more often or check the backup schedule"
    )
    parts = ", ".join(f"{p['part']} {p['s']:.2f}s" for p in ev.rto_parts if p["s"] is not None)
    assert ev.rto_s <= ev.rto_target_s, (
        f"RTO {ev.rto_s:.2f}s exceeds the SLO {ev.rto_target_s:g}s on {ev.server} ({parts}); see the timeline"
    )
    assert result.passed, result.reason
