"""Protocol robustness: a bounded, seeded set of malformed handshakes, oversized VarInts and truncated
packets does not take a Minecraft server down; it still answers a status ping after every case. No case
sent to any server (zero cases, or no server answering before fuzzing) is inconclusive, never a pass."""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.connect.targets import Target
from mcproof.evidence import RunStore
from mcproof.evidence.records import FuzzEvidence
from mcproof.minecraft.latency import pick_evenly
from mcproof.minecraft.status import status_ping
from mcproof.security.fuzz import fuzz_cases, run_cases
from mcproof.security.settings import SecuritySettings
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.security, pytest.mark.destructive]


def test_malformed_packets_do_not_take_servers_down(
    targets: list[Target], security: SecuritySettings, environment: Environment, evidence: RunStore
) -> None:
    java = [t for t in targets if t.edition == "java"]
    if not java:
        pytest.skip("no Java Edition target to send Server List Ping cases to")
    settings = security.fuzz
    cases = fuzz_cases(seed=settings.seed, count=settings.cases)
    timeout = environment.minecraft.status_timeout_s
    problems: list[str] = []
    servers: list[dict[str, object]] = []
    sent = 0
    for t in pick_evenly(java, settings.servers):

        def alive(t: Target = t) -> bool:
            return status_ping(t.host, t.port, timeout=timeout, target=t.id).ok

        if not alive():
            problems.append(f"{t.id} ({t.address}) did not answer a status ping BEFORE fuzzing; fix it first (smoke)")
            servers.append({"target": t.id, "address": t.address, "alive_before": False, "outcomes": []})
            continue
        outcomes, killers = run_cases(t.host, t.port, cases, alive=alive, read_timeout=settings.read_timeout_s)
        sent += len(outcomes)
        servers.append(
            {
                "target": t.id,
                "address": t.address,
                "alive_before": True,
                "alive_after": not killers,
                "stopped_answering_after": killers[0] if killers else None,
                "outcomes": [o.as_dict() for o in outcomes],
            }
        )
        if killers:
            case = next(c for c in cases if c.name == killers[0])
            problems.append(
                f"{t.id} ({t.address}) stopped answering status pings after case '{case.name}' ({case.description}); "
                "fix the server's packet decoder: bound VarInt/frame lengths, close the connection on bad input"
            )
    evidence.append(
        FuzzEvidence(
            environment=environment.name,
            method=f"{len(cases)} seeded cases (seed {settings.seed}) each on a fresh TCP connection, "
            f"a status ping after every case, read timeout {settings.read_timeout_s}s",
            check="test_malformed_packets_do_not_take_servers_down",
            seed=settings.seed,
            cases=[c.as_dict() for c in cases],
            servers=servers,
            passed=not problems and sent > 0,
        )
    )
    fuzzed = [s for s in servers if s["alive_before"]]
    if not sent or not fuzzed:  # nothing sent proves nothing about robustness
        inconclusive(
            f"no fuzz case was sent: {len(cases)} case(s), {len(fuzzed)} of {len(servers)} server(s) answered before "
            "fuzzing" + (f" ({'; '.join(problems)})" if problems else ""),
            "set security.fuzz.cases >= 1 and make sure the fuzzed servers answer a status ping (smoke suite)",
        )
    assert not problems, "; ".join(problems)
