"""Load: every discovered server watched by one simulated server-list user, held to the environment's thresholds.

Environment-agnostic: targets from discovery, shape/duration/users/thresholds from the `load:` section
(defaults when absent). One bounded headless Locust run per session; its LoadEvidence keeps percentiles,
throughput, failures by kind and by target, the generator's own figures (CPU share, schedule lag,
late/dropped pings) and the servers served throughout; Locust's CSV + HTML land in `<run>/load/`.
With `load.players` the same run also holds player users (join, stay, leave, join again): the record keeps
their join time, drops and TPS with sample counts, and `test_player_thresholds_met` holds their thresholds.
A saturated generator makes the checks INCONCLUSIVE (reason + fix), never pass or fail.
"""

from __future__ import annotations

import dataclasses

import pytest

from mcproof.config import Environment
from mcproof.connect import local_target_pids
from mcproof.connect.targets import Target
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.load.evidence import LoadEvidence, capacity_measurement, load_evidence
from mcproof.load.launcher import run_load
from mcproof.load.plan import load_config_for
from mcproof.load.player_evidence import load_player_records
from mcproof.load.report import describe_run, generator_line, players_line
from mcproof.load.target_side import ShardSampler, judge_sandbox
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.load


@pytest.fixture(scope="module")
def load_record(environment: Environment, targets: list[Target], evidence: RunStore) -> LoadEvidence:
    """Run the environment's load shape once (bounded) and record its evidence."""
    try:
        config = load_config_for(environment, targets)
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)  # the environment's load section is wrong: refuse, it is ours to fix
    pids = local_target_pids(environment)  # the target's own processes on this host, if mcproof may measure them
    try:
        with ShardSampler(pids) as sampler:
            run = run_load(config, evidence.run_dir / "load")
    except McproofError as err:  # the generator crashed, overran its deadline or wrote nothing: nothing measured
        inconclusive(
            f"the load generator did not finish: {err}",
            "see load/ in the run directory; re-run, or give the run more time (load.stop_grace_s) on a slow machine",
        )
    result = run.result
    if pids:  # is the target keeping up? a FAIL it may have caused is inconclusive, naming the process
        result = judge_sandbox(result, sampler.samples, float((config.saturation or {}).get("max_cpu_share", 0.9)))
    record = load_evidence(config, result, check="load_thresholds", outputs=[f"load/{o}" for o in run.outputs])
    record = dataclasses.replace(record, sandbox=dict(result.get("sandbox") or {}))
    evidence.append(record)
    # the players' samples through the player SLIs every context uses (panel + SLO table; none if saturated)
    waiver = lambda slo: environment.waiver_for(slo=slo)  # noqa: E731
    for player_record in load_player_records(record, environment.players, check="load_players", waiver_for=waiver):
        evidence.append(player_record)
    return record


def _conclusive(record: LoadEvidence) -> None:
    if record.load_verdict == "inconclusive":
        inconclusive(record.reason, record.fix)


def test_load_thresholds_met(load_record: LoadEvidence) -> None:
    _conclusive(load_record)
    assert load_record.passed, f"{describe_run(load_record)}; {generator_line(load_record)}"


def test_load_error_types_kept_apart(load_record: LoadEvidence) -> None:
    """Every failure is attributed to a protocol, an error kind and a target (nothing unexplained)."""
    by_kind = sum(load_record.failures_by_kind.values())
    failures = int(load_record.metrics.get("failures") or 0)
    assert by_kind == failures, f"{failures} failed requests but {by_kind} attributed to an error kind"
    if failures:
        assert load_record.failures_by_target, "failures recorded but no failing target named"


def test_capacity_concurrent_servers(load_record: LoadEvidence, environment: Environment, evidence: RunStore) -> None:
    objective = environment.slo.concurrent_servers
    if load_record.distinct_targets < objective:
        pytest.skip(
            f"this load run watched {load_record.distinct_targets} servers; the concurrent_servers SLO "
            f"({objective}) needs a capacity run: mcproof load --env {environment.name} --users {objective}"
        )
    _conclusive(load_record)
    measurement = capacity_measurement(load_record, objective, "test_capacity_concurrent_servers")
    if measurement is None:
        inconclusive(
            f"the load run could not count the servers served throughout ({load_record.capacity_rule})",
            "lengthen load.duration_s so the full-load window holds at least one ping interval",
        )
    evidence.append(measurement)
    assert measurement.passed, (
        f"{load_record.servers_served} of {load_record.distinct_targets} servers served throughout "
        f"(objective {objective}); {describe_run(load_record)}"
    )


def test_player_thresholds_met(load_record: LoadEvidence, environment: Environment) -> None:
    """Players in the same run (load.players): joins succeed and are quick, sessions are not dropped, the
    servers tick at speed; held to the generator's saturation rules like the pings."""
    players = load_record.players
    if not players:
        pytest.skip(
            f"environment {environment.name!r} asks for no players in its load run; set load.players.population "
            "(and load.players.thresholds) to hold player joins, drops and TPS under load"
        )
    if players["verdict"] == "inconclusive":
        inconclusive(players["reason"], players["fix"])
    assert players["verdict"] == "pass", players_line(load_record)
