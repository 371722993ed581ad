"""Building LoadEvidence (defined with the other records in mcproof.evidence.records) from a load run."""

from __future__ import annotations

from typing import Any

from mcproof.evidence.records import LoadEvidence, SloMeasurement

__all__ = ["LoadEvidence", "capacity_measurement", "load_evidence"]


def _latency(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("requests", "failures", "min", "p50", "p90", "p95", "p99", "max", "avg", "histogram")
    return {k: entry[k] for k in keys if k in entry}


def _players(result: dict[str, Any], stats: dict[str, Any]) -> dict[str, Any]:
    """The players part of the result plus Locust's own rows for it ("join", "session")."""
    players = dict(result.get("players") or {})
    if players:
        players["locust"] = {k.split(":", 1)[1]: _latency(v) for k, v in stats.items() if k.startswith("PLAYER:")}
    return players


def load_evidence(config: Any, result: dict[str, Any], *, check: str, outputs: list[str]) -> LoadEvidence:
    """LoadEvidence from a LoadConfig and the result dict a Locust process wrote."""
    stats = result.get("stats", {})
    method = (
        f"Locust {result.get('mode', '')}; each user = one simulated server, a sync Server List Ping (mcstatus "
        f"protocol client on a deadline socket) every {config.ping_interval_s:g}s on its own schedule (random "
        f"phase; one try, whole exchange bounded by {config.timeout_s:g}s)"
        + (f", Query every {config.query_every} pings" if config.query_every else "")
        + "; response time (service time) = send -> reply (connect + handshake + status); corrected latency = "
        "scheduled send -> reply; latency thresholds and pings/s hold the pings sent in the full-load window (ramp "
        "excluded); generator CPU share, event-loop lag and schedule lag measured per process over that window"
    )
    plan = getattr(config, "players", None)
    if plan is not None:
        rush = (
            f" plus a rush of {plan.rush_joins} joins within {plan.rush_within_s:g}s from {plan.rush_at_s:g}s"
            if plan.rush_joins
            else ""
        )
        method += (
            f"; in the same Locust run, {plan.population} player users{rush}: each joins (offline-mode login, protocol "
            f"{plan.protocol}, every phase bounded by {plan.join_timeout_s:g}s) with the blocking player client, "
            f"holds a {plan.session_s:g}s session answering keep-alives, leaves and joins again; time to join = "
            "connect -> first play packet; a session that ends other than by leaving is a drop; TPS from world-time "
            "updates (mcproof.load.player_judge); held to the same generator saturation rules"
        )
    return LoadEvidence(
        environment=config.environment,
        method=method,
        check=check,
        started_at=str(result.get("started_at", "")),
        ended_at=str(result.get("ended_at", "")),
        duration_s=float(result.get("duration_s", 0.0)),
        shape=config.plan.name,
        plan=config.plan.as_dict(),
        users=config.users,
        distinct_targets=config.distinct_targets,
        workers=config.workers,
        ping_interval_s=config.ping_interval_s,
        timeout_s=config.timeout_s,
        passed=bool(result.get("passed", False)),
        thresholds=list(result.get("thresholds", [])),
        metrics=dict(result.get("metrics", {})),
        status_ms=_latency(stats.get("SLP", {})),
        query_ms=_latency(stats.get("QUERY", {})),
        failures_by_kind=dict(result.get("failures_by_kind", {})),
        failed_targets=int(result.get("failed_targets", 0)),
        failures_by_target=list(result.get("failures_by_target", [])),
        slow_targets=int(result.get("slow_targets", 0)),
        slow_by_target=list(result.get("slow_by_target", [])),
        errors=list(stats.get("errors", [])),
        status_per_second=[list(map(int, row)) for row in result.get("status_per_second", [])],
        outputs=outputs,
        verdict=str(result.get("verdict") or ("pass" if result.get("passed") else "fail")),
        reason=str(result.get("reason", "")),
        fix=str(result.get("fix", "")),
        stated=str(result.get("stated", "")),
        servers_served=None if result.get("servers_served") is None else int(result["servers_served"]),
        capacity_rule=str(result.get("capacity_rule", "")),
        generator=dict(result.get("generator", {})),
        schedule_lag_ms=dict(result.get("schedule_lag_ms", {})),
        corrected_ms=dict(result.get("corrected_ms", {})),
        status_window_ms=dict(result.get("status_window_ms", {})),
        players=_players(result, stats),
    )


def capacity_measurement(record: LoadEvidence, objective: int, check: str) -> SloMeasurement | None:
    """The `concurrent_servers` SLO: servers served throughout the full-load window with every threshold met.

    None when the run could not measure it (generator saturated, or no count): the SLO then stays
    unevidenced, never passed. With a threshold missed the measured figure is 0 (nothing was sustained
    at the objectives); the count served is in the load record either way.
    """
    if record.load_verdict == "inconclusive" or record.servers_served is None:
        return None
    sustained = record.servers_served if record.passed else 0
    return SloMeasurement(
        environment=record.environment,
        slo="concurrent_servers",
        objective=f"servers served throughout the full-load window with load thresholds met >= {objective}",
        target=float(objective),
        measured=float(sustained),
        unit="servers",
        comparator=">=",
        passed=record.passed and sustained >= objective,
        method=f"{record.shape} load run: {record.stated or f'{record.users} users'}, full-load window "
        f"{record.plan.get('full_load_window')} s of {record.duration_s:g}s; {record.servers_served} of "
        f"{record.distinct_targets} servers served ({record.capacity_rule}); thresholds: "
        f"{', '.join(t['expression'] for t in record.thresholds)}",
        check=check,
        samples=int(record.metrics.get("requests") or 0),
    )
