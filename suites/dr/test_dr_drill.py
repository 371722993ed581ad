"""DR drill: restore the newest backup after a disaster and hold RPO and RTO against the SLOs.

Environment-agnostic: the platform API comes from the environment (``platform_api``, or the sandbox's own
API); without one the check is skipped with the reason. Destructive: the drill server's world is deleted.
"""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.dr.connect import NoPlatformApi, platform_client
from mcproof.dr.drill import run_drill, slo_records
from mcproof.dr.settings import DrSettings
from mcproof.evidence import RunStore
from mcproof.platform.client import PlatformClient

pytestmark = [pytest.mark.dr, pytest.mark.destructive]


@pytest.fixture(scope="module")
def dr_settings(environment: Environment) -> DrSettings:
    return environment.dr or DrSettings()


@pytest.fixture(scope="module")
def platform_api(environment: Environment, dr_settings: DrSettings) -> PlatformClient:
    try:
        return platform_client(environment, dr_settings.tenant)
    except NoPlatformApi as err:
        pytest.skip(str(err))


def test_dr_drill_meets_rpo_and_rto(
    platform_api: PlatformClient, environment: Environment, dr_settings: DrSettings, evidence: RunStore
) -> None:
    result = run_drill(
        platform_api, dr_settings, environment=environment.name, rpo_target_s=environment.slo.rpo_s,
        rto_target_s=environment.slo.rto_s, check="test_dr_drill_meets_rpo_and_rto",
    )  # fmt: skip
    ev = result.evidence
    evidence.append(ev)
    for record in slo_records(ev):
        evidence.append(record)
    assert ev.integrity_ok, f"restored world of {ev.server} failed integrity: {'; '.join(ev.integrity_problems[:3])}"
    assert ev.recovered, f"{ev.server} did not serve verified data after restore: {'; '.join(result.problems[:3])}"
    assert ev.rpo_s <= ev.rpo_target_s, (
        f"RPO {ev.rpo_s:.2f}s exceeds the SLO {ev.rpo_target_s:g}s: backup {ev.backup_id} ends at marker "
        f"{(ev.last_recovered or {}).get('seq')}, the last marker before the disaster was {(ev.last_written or {}).get('seq')}"
        "; back up more often or check the backup schedule"
    )
    assert ev.rto_s <= ev.rto_target_s, (
        f"RTO {ev.rto_s:.2f}s exceeds the SLO {ev.rto_target_s:g}s (restore {ev.restore_duration_s:.2f}s); see the timeline"
    )
