"""Smoke: every discovered Minecraft server answers, reports the expected version, and is healthy.

Environment-agnostic: targets come from discovery, expectations and thresholds from the
environment file. Fleet-wide checks are one test each; their failure message names every failing
server (capped) and the evidence keeps all results.
"""

from __future__ import annotations

import pytest

from mcproof.clock import utc_now
from mcproof.config import Environment
from mcproof.connect.targets import Target
from mcproof.evidence import LatencyEvidence, QueryEvidence, RunStore, SloMeasurement
from mcproof.minecraft.expectations import describe_failures, status_problems
from mcproof.minecraft.latency import (
    assess_latency,
    failed_samples,
    failure_budget,
    min_samples_for,
    pick_evenly,
    sample_latency,
)
from mcproof.minecraft.query import query_fleet
from mcproof.minecraft.sweep import SweepResult
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.smoke


def test_every_server_answers_status(fleet_status: SweepResult, environment: Environment) -> None:
    failures = [(r.target, f"{r.error_kind}: {r.error}") for r in fleet_status.results if not r.ok]
    assert not failures, describe_failures(
        failures,
        len(fleet_status.results),
        f"answer a status ping within {fleet_status.timeout_s}s",
        environment.minecraft.failure_list_cap,
    )


def test_version_and_protocol_match(fleet_status: SweepResult, environment: Environment) -> None:
    settings = environment.minecraft
    if not settings.expects_version:
        pytest.skip("environment sets no minecraft.expect version or protocol")
    answered = [r for r in fleet_status.results if r.ok]
    if not answered:
        pytest.fail("no server answered a status ping, so no version could be checked", pytrace=False)
    expected = {r.target: settings.expect_for(r.target) for r in answered}
    failures = [
        (r.target, "; ".join(p))
        for r in answered
        if (p := [x for x in status_problems(r, expected[r.target]) if "version" in x or "protocol" in x])
    ]
    kinds = set(expected.values())
    expect = next(iter(kinds))
    assert not failures, describe_failures(
        failures,
        len(answered),
        f"report version {expect.name!r} / protocol {expect.protocol}"
        if len(kinds) == 1
        else "report the version / protocol their environment entry expects",
        settings.failure_list_cap,
    )


def test_motd_and_player_counts_sane(fleet_status: SweepResult, environment: Environment) -> None:
    answered = [r for r in fleet_status.results if r.ok]
    if not answered:
        pytest.fail("no server answered a status ping, so no status could be checked", pytrace=False)
    failures = [
        (r.target, "; ".join(p))
        for r in answered
        if (
            p := [
                x
                for x in status_problems(r, environment.minecraft.expect_for(r.target))
                if "MOTD" in x or "players" in x
            ]
        )
    ]
    assert not failures, describe_failures(
        failures, len(answered), "show a MOTD and 0 <= online <= max, max > 0", environment.minecraft.failure_list_cap
    )


def test_fleet_serving_ratio(fleet_status: SweepResult, environment: Environment, evidence: RunStore) -> None:
    threshold = environment.slo.serving_ratio
    ratio = fleet_status.serving_ratio
    evidence.append(
        SloMeasurement(
            environment=environment.name,
            slo="serving_ratio",
            objective=f"share of servers answering a status ping >= {threshold}",
            target=threshold,
            measured=round(ratio, 6),
            unit="ratio",
            comparator=">=",
            passed=ratio >= threshold,
            method="one concurrent status sweep of every discovered server",
            check="test_fleet_serving_ratio",
            samples=len(fleet_status.results),
        )
    )
    assert ratio >= threshold, (
        f"fleet serving ratio {ratio:.4f} ({fleet_status.serving} of {len(fleet_status.results)}) "
        f"is below the threshold {threshold}"
    )


def test_status_latency_p95_within_slo(targets: list[Target], environment: Environment, evidence: RunStore) -> None:
    """Every ping is a sample: a failed one counts at its timeout, and more than 5 % failed pings fail
    the check (rule: mcproof.minecraft.latency); too few pings for a p95 -> inconclusive."""
    settings = environment.minecraft
    sampled = pick_evenly(targets, settings.latency_servers)
    slo, timeout = environment.slo.status_latency_p95_ms, settings.status_timeout_s
    started = utc_now()
    planned = len(sampled) * settings.latency_rounds
    results = sample_latency(
        sampled, rounds=settings.latency_rounds, timeout=timeout, max_failures=failure_budget(planned)
    )
    verdict = assess_latency(results, slo_ms=slo, timeout_s=timeout, planned=planned)
    stopped = (
        f"; stopped after {len(results) // len(sampled)} of {settings.latency_rounds} rounds: more than "
        f"{failure_budget(planned)} of the {planned} planned pings had failed"
        if sampled and len(results) < planned
        else ""
    )
    outcome = {True: "pass", False: "fail", None: "inconclusive"}[verdict.passed]
    evidence.append(
        LatencyEvidence(
            environment=environment.name,
            method="sequential mcstatus status() pings (no client queueing), tries=1, bounded over the exchange",
            check="test_status_latency_p95_within_slo",
            started_at=started,
            ended_at=utc_now(),
            servers=len(sampled),
            rounds=settings.latency_rounds,
            samples_ms=verdict.samples_ms,
            sample_times=[r.at for r in results],
            failures=verdict.failed,
            summary=verdict.summary,
            timeout_s=timeout,
            failed_samples=failed_samples(results, timeout),
            failure_share=verdict.failure_share,
            allowed_failure_share=verdict.allowed_failure_share,
            verdict=outcome,
            reason=verdict.reason + stopped,
        )
    )
    if verdict.passed is None:
        inconclusive(
            f"status latency: {verdict.reason} ({len(sampled)} servers x {settings.latency_rounds} rounds)",
            "raise minecraft.latency_rounds or minecraft.latency_servers in the environment file "
            f"so servers x rounds >= {min_samples_for(verdict.quantile)}",
        )
    assert verdict.percentile_ms is not None
    evidence.append(
        SloMeasurement(
            environment=environment.name,
            slo="status_latency_p95_ms",
            objective=f"status ping latency p95 <= {slo} ms, failed pings counted at the {timeout:g} s timeout",
            target=slo,
            measured=verdict.percentile_ms,
            unit="ms",
            comparator="<=",
            passed=bool(verdict.passed),
            method=f"{settings.latency_rounds} sequential rounds over {len(sampled)} servers",
            check="test_status_latency_p95_within_slo",
            samples=verdict.pings,
        )
    )
    if verdict.failing_servers and not verdict.passed:
        pytest.fail(
            f"status latency: {verdict.reason}{stopped}; "
            + describe_failures(
                verdict.failing_servers, len(sampled), "answer every latency ping", settings.failure_list_cap
            ),
            pytrace=False,
        )
    slowest = sorted((r for r in results if r.ok), key=lambda r: r.latency_ms or 0, reverse=True)[:5]
    assert verdict.passed, f"status latency {verdict.reason}; slowest: " + ", ".join(
        f"{r.target} ({r.latency_ms:.0f} ms)" for r in slowest
    )


def test_query_answers(targets: list[Target], environment: Environment, evidence: RunStore) -> None:
    settings = environment.minecraft
    if not settings.query_enabled:
        pytest.skip("Query is not enabled for this environment (minecraft.query_enabled: false)")
    java = [t for t in targets if t.edition == "java"]
    if not java:
        pytest.skip("Query is a Java Edition protocol and no Java Edition server was discovered")
    started = utc_now()
    results = query_fleet(java, timeout=settings.status_timeout_s, concurrency=settings.sweep_concurrency)
    failures = [(r.target, f"{r.error_kind}: {r.error}") for r in results if not r.ok]
    evidence.append(
        QueryEvidence(
            environment=environment.name,
            method="mcstatus async query() full stat over UDP, tries=1",
            check="test_query_answers",
            started_at=started,
            ended_at=utc_now(),
            total=len(results),
            answered=len(results) - len(failures),
            failures=[{"target": t, "error": e} for t, e in failures],
            results=[r.as_dict() for r in results],
        )
    )
    assert not failures, describe_failures(
        failures, len(results), "answer a Query full stat", settings.failure_list_cap
    )
