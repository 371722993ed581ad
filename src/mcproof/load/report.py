"""One-paragraph text of a load run for failure messages and the CLI (pure)."""

from __future__ import annotations

from mcproof.load.evidence import LoadEvidence

__all__ = ["describe_run", "generator_line", "players_line", "threshold_lines"]


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def threshold_lines(record: LoadEvidence) -> list[str]:
    """`PASS status_p95_ms < 250 (observed 12)` lines, one per threshold."""
    return [
        f"{'PASS' if t['passed'] else 'FAIL'} {t['expression']} (observed {_fmt(t['observed'])})"
        for t in record.thresholds
    ]


def generator_line(record: LoadEvidence) -> str:
    """What the generator did: CPU share, schedule lag, late/dropped, rates sent vs asked, servers served.

    >>> from mcproof.load.evidence import LoadEvidence
    >>> r = LoadEvidence("e", "m", "c", "a", "b", 1.0, "steady", {}, 2, 2, 0, 1.0, 1.0, True, [], {}, {}, {},
    ...     {}, 0, [], 0, [], [], [], [], stated="2 servers, each pinged every 1 s (2 pings/s asked)",
    ...     servers_served=2, generator={"processes": 1, "cpu_share_max": 0.12, "schedule_lag_p95_ms": 0.4,
    ...     "scheduled": 20, "late_or_dropped": 0, "sent_pings_per_s": 2.0, "asked_pings_per_s": 2.0})
    >>> generator_line(r)
    'asked 2 servers, each pinged every 1 s (2 pings/s asked); generator: 1 process(es), CPU 12 % of one core (max), schedule lag p95 0.4 ms, 0 of 20 scheduled pings late or dropped, sent 2 of 2 pings/s asked; servers served throughout the full-load window: 2 of 2'
    """
    g = record.generator
    parts = [f"asked {record.stated}"] if record.stated else []
    if g:
        cpu = g.get("cpu_share_max")
        lag = g.get("schedule_lag_p95_ms")
        figures = [f"{g.get('processes', 0)} process(es)"]
        figures.append(f"CPU {cpu * 100:.0f} % of one core (max)" if cpu is not None else "CPU not measured")
        figures.append(f"schedule lag p95 {lag:,.4g} ms" if lag is not None else "schedule lag not measured")
        if g.get("cpu_wait_share_max") is not None:
            figures.append(f"waited for a core {g['cpu_wait_share_max'] * 100:.0f} % of the time (max)")
        if g.get("loop_lag_p95_ms_max") is not None:
            figures.append(f"event-loop lag p95 {g['loop_lag_p95_ms_max']:,.4g} ms (max)")
        if g.get("cpu_us_per_ping") is not None:
            figures.append(f"{g['cpu_us_per_ping']:,.0f} µs CPU per ping")
        for missing in g.get("missing_workers") or []:
            figures.append(f"worker {missing.get('worker')} MISSING")
        figures.append(f"{g.get('late_or_dropped', 0):,} of {g.get('scheduled', 0):,} scheduled pings late or dropped")
        if g.get("asked_pings_per_s") is not None and g.get("sent_pings_per_s") is not None:
            figures.append(f"sent {g['sent_pings_per_s']:,.0f} of {g['asked_pings_per_s']:,.0f} pings/s asked")
        parts.append("generator: " + ", ".join(figures))
    sandbox = getattr(record, "sandbox", None) or {}
    if sandbox.get("cpu_share_max") is not None:
        per = sandbox.get("cpu_us_per_answered_ping")
        parts.append(
            f"sandbox: {len(sandbox.get('cpu_share_by_shard') or {})} shard(s), CPU {sandbox['cpu_share_max'] * 100:.0f} "
            f"% of one core (max)" + (f", {per:,.0f} µs CPU per answered ping" if per is not None else "")
        )
    served = record.servers_served
    parts.append(
        f"servers served throughout the full-load window: {served:,} of {record.distinct_targets:,}"
        if served is not None
        else "servers served throughout the full-load window: not measured"
    )
    return "; ".join(parts)


def players_line(record: LoadEvidence) -> str:
    """The player part of a run in one line: verdict, joins, join p95, drops, TPS, thresholds.

    >>> from mcproof.load.evidence import LoadEvidence
    >>> r = LoadEvidence("e", "m", "c", "a", "b", 1.0, "steady", {}, 2, 2, 0, 1.0, 1.0, True, [], {}, {}, {},
    ...     {}, 0, [], 0, [], [], [], [], players={"verdict": "fail", "reason": "r", "metrics": {"join_attempts": 4.0,
    ...     "join_success_ratio": 0.5, "join_p95_ms": 41.0, "sessions": 2.0, "drops": 0.0, "tps_min": None},
    ...     "thresholds": [{"expression": "join_success_ratio >= 0.99", "observed": 0.5, "passed": False}]})
    >>> players_line(r)
    'players FAIL (r): 4 join attempts, success 0.5, join p95 41 ms, 0 of 2 sessions dropped, TPS min not measured; FAIL join_success_ratio >= 0.99 (observed 0.5)'
    """
    p = record.players
    if not p:
        return "players: none in this run"
    m = p.get("metrics", {})
    verdict = str(p.get("verdict", "")).upper()
    head = f"players {verdict}" + (f" ({p['reason']})" if p.get("reason") else "")
    tps = m.get("tps_min")
    figures = [
        f"{m.get('join_attempts', 0):.0f} join attempts",
        f"success {_fmt(m.get('join_success_ratio'))}",
        f"join p95 {_fmt(m.get('join_p95_ms'))} ms",
        f"{m.get('drops', 0):.0f} of {m.get('sessions', 0):.0f} sessions dropped",
        f"TPS min {_fmt(tps)}" if tps is not None else "TPS min not measured",
    ]
    checks = [
        f"{'PASS' if t['passed'] else 'FAIL'} {t['expression']} (observed {_fmt(t['observed'])})"
        for t in p.get("thresholds", [])
    ]
    return f"{head}: {', '.join(figures)}" + (f"; {'; '.join(checks)}" if checks else "")


def describe_run(record: LoadEvidence, cap: int = 10) -> str:
    """Verdict, failed thresholds, failures by kind and the most affected targets.

    >>> from mcproof.load.evidence import LoadEvidence
    >>> r = LoadEvidence("e", "m", "c", "a", "b", 1.0, "steady", {}, 2, 2, 0, 1.0, 1.0, False,
    ...     [{"expression": "failure_ratio < 0.001", "observed": 0.5, "passed": False}], {}, {}, {},
    ...     {"SLP:refused": 3}, 1, [{"target": "mc-1", "failures": 3, "kinds": {"refused": 3}}], 0, [], [], [], [])
    >>> describe_run(r)
    'load thresholds FAILED: failure_ratio < 0.001 (observed 0.5); failures by kind: SLP:refused=3; failing targets (1): mc-1 (refused=3)'
    """
    failed = [f"{t['expression']} (observed {_fmt(t['observed'])})" for t in record.thresholds if not t["passed"]]
    parts = [f"load thresholds {'FAILED: ' + '; '.join(failed) if failed else 'passed'}"]
    if record.load_verdict == "inconclusive":
        parts.insert(0, f"load INCONCLUSIVE: {record.reason}; fix: {record.fix}")
    if record.failures_by_kind:
        parts.append("failures by kind: " + ", ".join(f"{k}={n}" for k, n in record.failures_by_kind.items()))
    if record.failures_by_target:
        shown = ", ".join(
            f"{f['target']} ({', '.join(f'{k}={n}' for k, n in f['kinds'].items())})"
            for f in record.failures_by_target[:cap]
        )
        more = f", +{record.failed_targets - cap} more" if record.failed_targets > cap else ""
        parts.append(f"failing targets ({record.failed_targets}): {shown}{more}")
    if record.slow_by_target:
        shown = ", ".join(f"{s['target']} ({s['slow_replies']} slow)" for s in record.slow_by_target[:cap])
        parts.append(f"slow targets ({record.slow_targets}, > SLO latency): {shown}")
    if record.players and record.players.get("verdict") != "pass":
        parts.append(players_line(record))
    return "; ".join(parts)
