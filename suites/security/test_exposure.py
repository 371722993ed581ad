"""Exposure: from the harness's vantage point, the declared public ports answer on every Minecraft host
and the ports that must not be reachable (RCON, admin, metrics) do not. Management ports the
environment explicitly accepts are recorded with their reason. A declared port that could not be probed
on any host (no port number: the targets do not say where it is) is inconclusive, never a pass."""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.security.exposure import PortProbe, exposure_violations
from mcproof.security.settings import PortSpec, SecuritySettings
from mcproof.verdict import inconclusive

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
    _untried(exposure_scan, security.exposure.public)


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
    _untried(exposure_scan, security.exposure.forbidden)


def _untried(probes: list[PortProbe], declared: list[PortSpec]) -> None:
    """Inconclusive when a declared port was probed on no host at all (nothing tried is not a pass)."""
    probed = {p.name for p in probes}
    missing = [d for d in declared if d.name not in probed]
    if missing:
        names = ", ".join(f"{d.name}/{d.protocol} (role {d.role})" for d in missing)
        inconclusive(
            f"{len(missing)} declared port(s) were probed on no host: {names}; the targets give no port for that "
            f"role and the policy names none, so the scan tried nothing for them",
            "give the port number in security.exposure (port: ...) or make discovery report it (query_port/rcon_port)",
        )


def _message(bad: list[dict[str, str]], total: int, what: str, fix: str, cap: int) -> str:
    shown = "; ".join(f"{b['target']}: {b['problem']}" for b in bad[:cap])
    more = f"; +{len(bad) - cap} more in evidence.jsonl" if len(bad) > cap else ""
    return f"{len(bad)} of {total} {what}: {shown}{more}. Fix: {fix}"
