"""RCON authentication: a reachable RCON port refuses a short list of default passwords, and the
environment's own RCON password is neither on that list nor short. A default-password check that
could not log in anywhere (no RCON port answered, no password to try) is inconclusive, never pass."""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.connect.targets import Target
from mcproof.evidence import RunStore
from mcproof.evidence.records import RconAuthEvidence
from mcproof.minecraft.latency import pick_evenly
from mcproof.secrets import Secret
from mcproof.security.rcon_audit import rcon_untried, try_default_passwords, weak_password_problems
from mcproof.security.settings import SecuritySettings
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.security


def test_rcon_refuses_default_passwords(
    targets: list[Target], security: SecuritySettings, environment: Environment, evidence: RunStore
) -> None:
    with_rcon = [t for t in targets if t.rcon_port is not None]
    if not with_rcon:
        pytest.skip("no target declares an RCON port (discovery gives none); nothing to log in to")
    picked = pick_evenly(with_rcon, security.rcon_servers)
    passwords = security.rcon_default_passwords
    results = try_default_passwords(
        [(t.id, t.host, int(t.rcon_port or 0)) for t in picked], passwords, timeout=security.timeout_s
    )
    accepted = [r for r in results if r.accepted]
    untried = rcon_untried(results, passwords)
    evidence.append(
        RconAuthEvidence(
            environment=environment.name,
            method=f"one RCON login per connection with each of {len(passwords)} default passwords "
            f"(security.rcon_default_passwords), {len(picked)} of {len(with_rcon)} servers, timeout {security.timeout_s}s",
            check="test_rcon_refuses_default_passwords",
            servers_checked=len(picked),
            passwords_tried=len(passwords),
            accepted=[{"target": r.target, "address": r.address, "password_list_index": r.accepted} for r in accepted],
            unanswered=[
                {"target": r.target, "address": r.address, "why": r.unanswered} for r in results if r.unanswered
            ],
            passed=not accepted and not untried,
        )
    )
    cap = environment.minecraft.failure_list_cap
    shown = "; ".join(f"{r.target} {r.address} (default #{', #'.join(map(str, r.accepted))})" for r in accepted[:cap])
    assert not accepted, (
        f"{len(accepted)} of {len(picked)} servers accept a default RCON password: {shown}. "
        "Fix: set a random RCON password of >= 16 characters (rcon.password in server.properties / the RCON_PASSWORD "
        "Secret) or disable RCON (enable-rcon=false)"
    )
    if untried:
        inconclusive(
            untried,
            "run the check from where RCON is reachable (the management network), check minecraft.rcon / the "
            "targets' RCON ports, or declare RCON under security.exposure.forbidden if it must not be reachable",
        )


def test_rcon_password_not_weak(rcon_password: Secret | None, security: SecuritySettings) -> None:
    if rcon_password is None:
        pytest.skip("the environment declares no RCON password (minecraft.rcon.password) and has no sandbox")
    problems = weak_password_problems(
        rcon_password.reveal(), security.rcon_default_passwords, min_length=security.rcon_min_password_length
    )
    assert not problems, f"{rcon_password.source}: " + "; ".join(problems)
