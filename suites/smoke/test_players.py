"""Smoke: can a player join? Offline-mode logins on a sample of the Java servers, each staying about a
second (answering keep-alives) and leaving cleanly.

The sample is `players.servers` servers spread evenly over the fleet; each phase (connect, handshake,
login, configuration, play) has `players.phase_timeout_s` (defaults when the environment has no
`players:` section). The protocol spoken is the
server's expected one (`minecraft.expect.protocol`) or, if none is declared, the one its status ping
reported. A failure names the server and the phase ("mc-00042: configuration phase timed out after 5 s").
Besides the check's own record (`PlayerJoinEvidence`), the attempts become a `PlayerEvidence` (context
``smoke``: join success, join time and session drops, for the report's player panel and SLO table; judged
there when the sample reaches `players.min_samples`, a ratio only when the sample resolves its budget).
An online-mode server is never logged in to (skipped with the reason); an environment without Java
servers (Bedrock only) skips the check.
"""

from __future__ import annotations

import time

import pytest

from mcproof.clock import utc_now
from mcproof.config import Environment
from mcproof.connect.targets import Target
from mcproof.evidence import PlayerJoinEvidence, RunStore
from mcproof.minecraft.latency import pick_evenly
from mcproof.minecraft.player.blocking import join_and_stay
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd
from mcproof.minecraft.player.versions import SUPPORTED
from mcproof.minecraft.sweep import SweepResult
from mcproof.players.evidence import player_evidence, player_slo_records
from mcproof.players.settings import PlayerSettings
from mcproof.verdict import inconclusive

STAY_S = 1.0
PLAYER_NAME = "mcproof_smoke"


def _protocol(target: Target, environment: Environment, fleet_status: SweepResult) -> int | None:
    expected = environment.minecraft.expect_for(target.id).protocol
    if expected is not None:
        return expected
    return next((r.protocol for r in fleet_status.results if r.target == target.id and r.ok), None)


def test_a_player_can_join(
    targets: list[Target], environment: Environment, fleet_status: SweepResult, evidence: RunStore
) -> None:
    """Each sampled Java server lets an offline-mode player join, stay ~1 s and leave."""
    settings = environment.minecraft
    players = environment.players or PlayerSettings()
    java = [t for t in targets if t.edition == "java"]
    if not java:
        pytest.skip("no Java Edition servers in this environment (status-only targets): a player join needs Java")
    sampled = pick_evenly(java, players.servers)
    timeout = players.phase_timeout_s
    started, started_mono = utc_now(), time.monotonic()
    attempts: list[JoinAttempt] = []
    sessions: list[SessionEnd] = []
    skipped: list[dict[str, str]] = []
    for target in sampled:
        protocol = _protocol(target, environment, fleet_status)
        if protocol is None:
            skipped.append({"server": target.id, "reason": "no protocol: none expected and its status ping failed"})
            continue
        attempt, end = join_and_stay(
            target, protocol, PLAYER_NAME, stay_s=STAY_S, phase_timeout_s=timeout, connect_timeout_s=timeout
        )
        attempts.append(attempt)
        if end is not None:
            sessions.append(end)
    online = [a for a in attempts if a.error_kind == "online_mode"]
    unsupported = [a for a in attempts if a.error_kind == "unsupported_version"]
    # "client_timeout": the server kicked us for not answering keep-alives: our stall, not its fault
    stalled = [e for e in sessions if e.reason == "client_timeout"]
    dropped = {e.server: e for e in sessions if e.dropped and e.reason != "client_timeout"}
    failures = [
        a.describe() for a in attempts if not a.ok and a.error_kind not in ("online_mode", "unsupported_version")
    ] + [f"{e.server}: dropped {e.duration_s:.1f} s after joining ({e.reason}: {e.detail})" for e in dropped.values()]
    failures += [f"{s['server']}: {s['reason']}" for s in skipped]
    if failures:
        verdict, reason = "fail", f"{len(failures)} of {len(sampled)} sampled servers did not keep a player"
    elif unsupported:
        verdict, reason = "inconclusive", f"{len(unsupported)} servers speak a protocol the player client lacks"
    elif stalled:
        verdict, reason = "inconclusive", f"{len(stalled)} sessions timed out on the harness's side (kicked: Timed out)"
    elif len(online) == len(attempts):
        verdict, reason = "skipped", "every sampled server is in online mode"
    else:
        verdict, reason = "pass", f"{len(sessions)} players joined and left cleanly"
    evidence.append(
        PlayerJoinEvidence(
            environment=environment.name,
            method=(
                "offline-mode Java login (mcproof.minecraft.player, blocking driver): handshake, login, "
                f"configuration, play; stay {STAY_S:g} s answering keep-alives; leave by closing"
            ),
            check="test_a_player_can_join",
            started_at=started,
            ended_at=utc_now(),
            servers=len(sampled),
            attempts=[a.as_dict() for a in attempts],
            sessions=[e.as_dict() for e in sessions],
            skipped=skipped + [{"server": a.server, "reason": a.error or ""} for a in online],
            phase_timeout_s=timeout,
            stay_s=STAY_S,
            verdict=verdict,
            reason=reason,
        )
    )
    window = (started_mono, time.monotonic())
    figures = player_evidence(
        [a for a in attempts if a.error_kind not in ("online_mode", "unsupported_version")],
        sessions,
        [],
        window=window,
        settings=players,
        environment=environment.name,
        check="test_a_player_can_join",
        context="smoke",
        only=("join_success_ratio", "join_time_p50_s", "join_time_p95_s", "session_drop_ratio"),
        waiver_for=lambda slo: environment.waiver_for(slo=slo),
        started_at=started,
    )
    evidence.append(figures)
    for record in player_slo_records(figures):
        evidence.append(record)
    if failures:
        cap = settings.failure_list_cap
        more = f"; +{len(failures) - cap} more in evidence.jsonl" if len(failures) > cap else ""
        pytest.fail(
            f"player join: {len(failures)} of {len(sampled)} servers did not let a player join and stay: "
            + "; ".join(failures[:cap])
            + more,
            pytrace=False,
        )
    if unsupported:
        names = ", ".join(f"{a.server} (protocol {a.protocol})" for a in unsupported[:5])
        inconclusive(
            f"player join: no packet table for {names}",
            "set minecraft.expect.protocol to one of "
            + ", ".join(f"{p} ({ids.version})" for p, ids in sorted(SUPPORTED.items()))
            + " or add the version to mcproof/minecraft/player/versions.py",
        )
    if stalled:
        inconclusive(
            "player join: the server kicked "
            + ", ".join(f"{e.server} ({e.detail})" for e in stalled[:5])
            + " for not answering keep-alives: the harness stalled, so these sessions say nothing of the server",
            "rerun on a less loaded machine (the smoke check holds one session at a time)",
        )
    if len(online) == len(attempts):
        pytest.skip(
            f"online-mode servers (players must authenticate with Mojang): {', '.join(a.server for a in online)}"
        )
