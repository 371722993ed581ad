"""What `mcproof load --provisioning` does: the server-lifecycle load against the environment's platform
API (``load.provisioning`` bounds), recorded as ProvisioningEvidence in a run directory with its report."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi
from mcproof.errors import ConfigError
from mcproof.evidence import CheckOutcome
from mcproof.load.provisioning import ProvisioningUnsupported, provisioning_config_for, run_provisioning
from mcproof.load.provisioning_evidence import describe_provisioning, provisioning_evidence
from mcproof.load.settings import LoadSettings
from mcproof.session import RunSession

__all__ = ["run_provisioning_command"]


def run_provisioning_command(
    env: Environment, *, users: int | None, reports_dir: Path, echo: Callable[[str], None]
) -> int:
    """Run, record evidence + report; 0 when every lifecycle completed within the p95 threshold, else 1."""
    settings = (env.load or LoadSettings()).provisioning
    try:
        config = provisioning_config_for(
            env,
            users=users or settings.users,
            cycles_per_user=settings.cycles_per_user,
            ready_timeout_s=settings.ready_timeout_s,
            deadline_s=settings.deadline_s,
            status_timeout_s=env.minecraft.status_timeout_s,
        )
    except ProvisioningUnsupported as err:
        raise ConfigError(f"{err}; {err.fix}") from None
    except NoPlatformApi as err:
        raise ConfigError(f"{err}; provisioning load needs one") from None
    session = RunSession.start(env, reports_dir)
    session.scope(["load"], checks=1)
    echo(f"mcproof: provisioning load: {config.users} users x {config.cycles_per_user} lifecycles on {config.base_url}")
    result = run_provisioning(config, session.store.run_dir / "provisioning")
    record = provisioning_evidence(
        result, environment=env.name, threshold_p95_s=settings.time_to_ready_p95_s, check="mcproof load --provisioning"
    )
    session.store.append(record)
    echo(f"mcproof: {describe_provisioning(record)}")
    code = 0 if record.passed else 1
    session.store.append(
        CheckOutcome(
            environment=env.name,
            suite="load",
            check="mcproof load --provisioning",
            nodeid="load::mcproof load --provisioning",
            outcome="passed" if record.passed else "failed",
            duration_s=0.0,
            message="" if record.passed else describe_provisioning(record),
        )
    )
    problem = session.finish(code, checks=1)
    if problem is not None:  # the verdict stands even if the report cannot be rendered
        echo(f"mcproof: report not written ({problem})")
    echo(f"mcproof: provisioning verdict {'PASS' if record.passed else 'FAIL'}; run directory {session.store.run_dir}")
    return code
