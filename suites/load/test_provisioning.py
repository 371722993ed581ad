"""Load (destructive): the server lifecycle through the platform API under concurrent users — create, wait
until the new server answers a status ping, ping, delete — with time-to-ready percentiles held to
``load.provisioning.time_to_ready_p95_s``.

Environment-agnostic: the platform API is the environment's ``platform_api`` (or the sandbox's own); skipped
with the reason when there is none; inconclusive with the reason for a ``platform`` (Pterodactyl's client
API) that has no create-server route. Bounded by ``load.provisioning`` (users x cycles, a deadline). Creates
and deletes servers, hence ``destructive``.
"""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.load.provisioning import (
    ProvisioningConfig,
    ProvisioningUnsupported,
    provisioning_config_for,
    run_provisioning,
)
from mcproof.load.provisioning_evidence import describe_provisioning, provisioning_evidence
from mcproof.load.settings import LoadSettings
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.load, pytest.mark.destructive]


@pytest.fixture(scope="module")
def provisioning_config(environment: Environment) -> ProvisioningConfig | ProvisioningUnsupported:
    settings = (environment.load or LoadSettings()).provisioning
    try:
        return provisioning_config_for(
            environment,
            users=settings.users,
            cycles_per_user=settings.cycles_per_user,
            ready_timeout_s=settings.ready_timeout_s,
            deadline_s=settings.deadline_s,
            status_timeout_s=environment.minecraft.status_timeout_s,
        )
    except ProvisioningUnsupported as err:
        return err  # the check ends inconclusive with the reason (its platform cannot create servers)
    except NoPlatformApi as err:
        pytest.skip(f"provisioning load needs a platform API: {err}")


def test_provisioning_time_to_ready(
    provisioning_config: ProvisioningConfig | ProvisioningUnsupported, environment: Environment, evidence: RunStore
) -> None:
    if isinstance(provisioning_config, ProvisioningUnsupported):
        inconclusive(str(provisioning_config), provisioning_config.fix)
    settings = (environment.load or LoadSettings()).provisioning
    try:
        result = run_provisioning(provisioning_config, evidence.run_dir / "provisioning")
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    record = provisioning_evidence(
        result,
        environment=environment.name,
        threshold_p95_s=settings.time_to_ready_p95_s,
        check="test_provisioning_time_to_ready",
    )
    evidence.append(record)
    assert record.passed, describe_provisioning(record)
