"""Fixtures of the security suite: its settings (the environment's `security:` section, else the
demanding defaults), the RCON password to judge, and one exposure scan shared by the exposure checks."""

from __future__ import annotations

import pytest

from mcproof.clock import utc_now
from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi
from mcproof.connect.rcon import rcon_password as environment_rcon_password
from mcproof.connect.targets import Target
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import ExposureEvidence
from mcproof.minecraft.latency import pick_evenly
from mcproof.secrets import Secret
from mcproof.security.exposure import PortProbe, plan_scan, scan_ports
from mcproof.security.platform_api import ApiTarget, api_target
from mcproof.security.settings import SecuritySettings
from mcproof.session import RunSession


@pytest.fixture(scope="session")
def security(environment: Environment) -> SecuritySettings:
    return environment.security or SecuritySettings()


@pytest.fixture(scope="session")
def rcon_password(environment: Environment, mcproof_run: RunSession) -> Secret | None:
    """The environment's RCON password (minecraft.rcon.password), or the sandbox's generated one."""
    try:
        secret = environment_rcon_password(environment)
        if secret is None:
            return None
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    mcproof_run.add_secret(secret)
    return secret


@pytest.fixture(scope="session")
def platform_api(environment: Environment, mcproof_run: RunSession) -> ApiTarget:
    """The platform API under test (the environment's `platform_api:` section, else the sandbox's own)."""
    try:
        target = api_target(environment)
    except NoPlatformApi as err:
        pytest.skip(str(err))
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    for secret in target.secrets:
        mcproof_run.add_secret(secret)
    return target


@pytest.fixture(scope="session")
def exposure_scan(
    environment: Environment, targets: list[Target], security: SecuritySettings, evidence: RunStore
) -> list[PortProbe]:
    """One bounded scan of every declared port (public, forbidden, management) on up to max_hosts hosts."""
    policy = security.exposure
    hosts: dict[str, Target] = {}
    for t in targets:
        hosts.setdefault(t.host, t)
    picked = pick_evenly(list(hosts.values()), policy.max_hosts)
    chosen = {t.host for t in picked}
    scanned = [t for t in targets if t.host in chosen]
    items = plan_scan(
        scanned,
        [*policy.public, *policy.forbidden, *policy.management],
        default_rcon_port=environment.minecraft.rcon.port,
    )  # fmt: skip  (one call)
    started = utc_now()
    probes = scan_ports(items, timeout=policy.connect_timeout_s, concurrency=policy.concurrency)
    from mcproof.security.exposure import exposure_violations

    violations = exposure_violations(
        probes, public={p.name for p in policy.public}, forbidden={p.name for p in policy.forbidden}
    )
    reasons = {m.name: m.reason for m in policy.management}
    accepted = [
        {"port": f"{p.name} {p.host}:{p.port}/{p.protocol}", "reason": reasons[p.name]}
        for p in probes
        if p.name in reasons and p.state == "open"
    ]
    counts: dict[str, int] = {}
    for p in probes:
        key = f"{p.name}/{p.protocol}:{p.state}"
        counts[key] = counts.get(key, 0) + 1
    evidence.append(
        ExposureEvidence(
            environment=environment.name,
            method=f"TCP connect / UDP protocol hello, timeout {policy.connect_timeout_s}s, concurrency {policy.concurrency}",
            check="test_non_public_ports_unreachable",
            started_at=started,
            ended_at=utc_now(),
            hosts_total=len(hosts),
            hosts_scanned=len(picked),
            timeout_s=policy.connect_timeout_s,
            policy=policy.model_dump(mode="json"),
            counts=counts,
            violations=violations,
            accepted=accepted[:50],
            probes=[p.as_dict() for p in probes],
        )
    )
    return probes
