"""`report.json`: the report as data, for CI gates and dashboards.

Schema `mcproof.report/2` (keys are stable; new keys may be added, never renamed). Changes from /1:
three verdicts (`incomplete` became `inconclusive`), `counts.inconclusive`, SLO verdicts
`inconclusive` / `waived` / `not in scope` (was `not evidenced`), `slos[].waiver`, `waived`::

    schema          "mcproof.report/2"
    run             run_id, environment, tier, started_at, ended_at|null, exit_status|null,
                    mcproof_version, host, argv
    verdict         "pass" | "fail" | "inconclusive";  reasons: [str] (why; for inconclusive the
                    reason and the fix)
    counts          passed, failed, errors, skipped, inconclusive, total (check outcomes)
    suites          [{suite, verdict: pass|fail|inconclusive|skipped, counts, skip_reasons,
                      evidence: [anchor]}]
    slos            [{slo, verdict: pass|fail|inconclusive|waived|"not in scope", suite, objective,
                      target, comparator, unit, measured, margin, method, samples, check, evidence,
                      notes, waiver: {reason, owner}|null,
                      measurements: [{target, measured, unit, comparator, margin, passed, method,
                                      samples, check, recorded_at, evidence, notes}]}]
    not_evidenced   [slo name]  (declared, in scope, not measured: each makes the run inconclusive)
    waived          [slo name]  (waived in the environment file, with reason and owner)
    failures        [{suite, check, nodeid, outcome: failed|error|inconclusive, message, evidence,
                      hint}]  (an inconclusive check's hint is its fix)
    evidence        [{anchor: "ev-N", type: fleet_status|latency|query, check, method, started_at,
                      ended_at, totals: {...}, bar: {ok_label, total, ok, failures_by_kind}|null,
                      latency: {count, min_ms, p50_ms, p95_ms, max_ms, slo_ms, bin_edges,
                                bin_counts, beyond}|null}]
                    (type is any registered record type; types without a specific view carry
                    generic totals: scalar fields and list lengths)
    plots           [{anchor: "plot-...", kind, title, x_label, y_label, evidence: [anchor],
                      series: [{name, points: [[x, y]]}], bars: [[label, value]],
                      lines: [[label, level]], windows: [[x_from, x_to, label]]}]
                    kinds: latency_over_time, load_throughput, load_latency, recovery_time,
                    availability_timeline, dr_objectives, compliance_score (only when evidenced)
    players         {measured: bool, note ("not measured: ..." without player evidence), evidence: [anchor],
                      rows: [{anchor, context: smoke|load|chaos:<experiment>|dr, check, verdict, reason,
                              fix, window_s, join_attempts, joins_ok, join_ratio, join_p50_s,
                              join_p95_s, sessions, dropped, unaccounted, dropped_where: {server: n},
                              rejoin_s: [s|null per drop], unrecovered, tps_min, tps_p5,
                              tps_lowest_server, tps_unmeasured, slos: [{slo, verdict, reason, fix}]}],
                      plots: [plot (kinds player_join_time, player_tps)]}
    runbooks        {measured: bool, note ("not measured: ..." without runbook coverage evidence),
                      rows: [{alert, runbook, link, sections, dry_run, commands}], failed: [str]}
    releases        {measured: bool, note ("not measured: ..." without rollout gate evidence),
                      rows: [{workload, update, verdict, reason, samples, failed_requests,
                              routed_failures, startup_failures, max_unavailable_observed,
                              max_unavailable_allowed, rollout_s|null, servers, worst_server,
                              worst_server_downtime_s|null, rollback_performed,
                              time_to_rollback_s|null, time_to_healthy_s|null, rollback_result}],
                      failed: [str]}

See docs/report-schema.md for the full description.

Margins are positive when the objective is met. Non-finite numbers (NaN, inf) are written as null
so the file is strict JSON.
"""

from __future__ import annotations

import json
import math
from typing import Any

from mcproof.report.model import Report

SCHEMA = "mcproof.report/2"


def _strict(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value


def report_data(report: Report) -> dict[str, Any]:
    """The JSON document as a dict (schema key first)."""
    data: dict[str, Any] = _strict({"schema": SCHEMA, **report.as_dict()})
    return data


def render_json(report: Report) -> str:
    """`report.json` text.

    >>> from mcproof.report.model import build_report
    >>> from mcproof.evidence import RunInfo
    >>> json.loads(render_json(build_report([RunInfo("r", "e", "dev", "t", "0", [], {}, "h")])))["schema"]
    'mcproof.report/2'
    """
    return json.dumps(report_data(report), indent=2, allow_nan=False) + "\n"
