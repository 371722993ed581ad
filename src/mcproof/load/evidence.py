"""Building LoadEvidence (defined with the other records in mcproof.evidence.records) from a load run."""

from __future__ import annotations

from typing import Any

from mcproof.evidence.records import LoadEvidence, SloMeasurement

__all__ = ["LoadEvidence", "capacity_measurement", "load_evidence"]


def _latency(entry: dict[str, Any]) -> dict[str, Any]:
    keys = ("requests", "failures", "min", "p50", "p90", "p95", "p99", "max", "avg", "histogram")
    return {k: entry[k] for k in keys if k in entry}


def load_evidence(config: Any, result: dict[str, Any], *, check: str, outputs: list[str]) -> LoadEvidence:
    """LoadEvidence from a LoadConfig and the result dict a Locust process wrote."""
    stats = result.get("stats", {})
    method = (
        f"Locust {result.get('mode', '')}; each user = one simulated server, mcstatus sync status() "
        f"every {config.ping_interval_s:g}s (tries=1, timeout {config.timeout_s:g}s)"
        + (f", Query every {config.query_every} pings" if config.query_every else "")
        + "; response time = wall time of connect + handshake + status"
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
    )


def capacity_measurement(record: LoadEvidence, objective: int, check: str) -> SloMeasurement:
    """The `concurrent_servers` SLO: servers sustained at full load with every threshold met (else 0)."""
    sustained = record.distinct_targets if record.passed else 0
    return SloMeasurement(
        environment=record.environment,
        slo="concurrent_servers",
        objective=f"simulated servers sustained with load thresholds met >= {objective}",
        target=float(objective),
        measured=float(sustained),
        unit="servers",
        comparator=">=",
        passed=record.passed and sustained >= objective,
        method=f"{record.shape} load run of {record.users} users over {record.distinct_targets} targets for "
        f"{record.duration_s:g}s; thresholds: {', '.join(t['expression'] for t in record.thresholds)}",
        check=check,
        samples=int(record.metrics.get("requests") or 0),
    )
