"""Exposure: from the harness's vantage point, the declared public ports answer on every Minecraft host
and the ports that must not be reachable (RCON, admin, metrics) do not. Management ports the
environment explicitly accepts are recorded with their reason."""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.security.exposure import PortProbe, exposure_violations
from mcproof.security.settings import SecuritySettings

pytestmark = pytest.mark.security


def test_public_ports_answer(
    exposure_scan: list[PortProbe], security: SecuritySettings, environment: Environment
) -> None:
    public = {p.name for p in security.exposure.public}
    if not public:
        pytest.skip("no public ports declared (security.exposure.public is empty)")
    mine = [p for p in exposure_scan if p.name in public]
    bad = exposure_violations(mine, public=public, forbidden=set())
    assert not bad, _message(
        bad,
        len(mine),
        "declared public ports do not answer",
        "check the service, its firewall and LoadBalancer",
        environment.minecraft.failure_list_cap,
    )


def test_non_public_ports_unreachable(
    exposure_scan: list[PortProbe], security: SecuritySettings, environment: Environment
) -> None:
    forbidden = {p.name for p in security.exposure.forbidden}
    if not forbidden:
        accepted = ", ".join(f"{m.name} ({m.reason})" for m in security.exposure.management) or "none"
        pytest.skip(f"no must-not-be-reachable ports declared (security.exposure.forbidden); accepted: {accepted}")
    mine = [p for p in exposure_scan if p.name in forbidden]
    bad = exposure_violations(mine, public=set(), forbidden=forbidden)
    assert not bad, _message(
        bad,
        len(mine),
        "must-not-be-reachable ports are reachable",
        "bind RCON/admin/metrics to the pod network only, add a NetworkPolicy, never publish them through a "
        "Service (or, if the harness is the management plane, declare the port under security.exposure.management "
        "with a reason)",
        environment.minecraft.failure_list_cap,
    )


def _message(bad: list[dict[str, str]], total: int, what: str, fix: str, cap: int) -> str:
    shown = "; ".join(f"{b['target']}: {b['problem']}" for b in bad[:cap])
    more = f"; +{len(bad) - cap} more in evidence.jsonl" if len(bad) > cap else ""
    return f"{len(bad)} of {total} {what}: {shown}{more}. Fix: {fix}"
