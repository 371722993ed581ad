"""The player figures of a load run and their verdict (pure): join success ratio, time to join, drops, TPS.

Figures come from a `PlayerCollector` (exact counts and histograms; raw samples capped). Every figure
states its sample count. TPS is estimated per (generator process, server) from the world-time updates
the players received: world-age ticks gained / monotonic seconds elapsed, over consecutive windows of
at least `TPS_WINDOW_S` seconds (a 20-tick update every second; loopback jitter of a few ms is then
under 1 %), then the minimum and the 5th percentile over every window of every server.

Verdict order, as for the pings (`mcproof.load.judge`): a saturated generator (the reasons
`saturation_reasons` found for the run, or scheduled joins started late) makes the player verdict
INCONCLUSIVE, except when thresholds failed and servers refused players in ways no generator queue
causes (connection refused, a disconnect at login, an unsupported version, an online-mode server):
that is the servers' FAIL, named. No join attempted is INCONCLUSIVE. Otherwise the thresholds decide.
"""

from __future__ import annotations

import math
from typing import Any

from mcproof.load.metrics import histogram_summary
from mcproof.load.player_collector import PlayerCollector
from mcproof.load.shapes import PlayerPlan
from mcproof.load.thresholds import PLAYER_METRICS, evaluate, parse_thresholds

__all__ = ["TPS_WINDOW_S", "judge_players", "player_metrics", "tps_windows"]

TPS_WINDOW_S = 5.0
# Join failures a busy generator cannot produce: the server refused the connection or the login outright.
SERVER_REFUSALS = ("refused", "disconnected", "unsupported_version", "online_mode")


def tps_windows(series: list[tuple[int, float]], window_s: float = TPS_WINDOW_S) -> list[float]:
    """Tick rates over consecutive windows of >= `window_s` of one server's (world_age, mono) series.

    A world age that goes backwards (the server restarted: a new world clock) starts a new series.

    >>> tps_windows([(t * 20, float(t)) for t in range(11)])
    [20.0, 20.0]
    >>> tps_windows([(0, 0.0), (50, 5.0), (100, 10.0)])
    [10.0, 10.0]
    """
    out: list[float] = []
    start = 0
    for i in range(1, len(series)):
        age0, t0 = series[start]
        age, t = series[i]
        if age < age0:
            start = i
            continue
        if t - t0 >= window_s:
            out.append(round((age - age0) / (t - t0), 3))
            start = i
    return out


def _percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..1).

    >>> _percentile([20.0, 19.0, 5.0, 20.0], 0.05)
    5.0
    """
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def player_metrics(collector: PlayerCollector, plan: PlayerPlan) -> dict[str, float | None]:
    """Every metric of `PLAYER_METRICS` (None when it has no samples)."""
    attempts, ok = collector.joins.get("attempts", 0), collector.joins.get("ok", 0)
    joins = histogram_summary(collector.join_hist)
    lag = histogram_summary(collector.join_lag_hist)
    ended, dropped = collector.sessions.get("ended", 0), collector.sessions.get("dropped", 0)
    windows = [w for series in collector.series().values() for w in tps_windows(series)]
    return {
        "join_success_ratio": _ratio(ok, attempts),
        "join_p50_ms": joins["p50"],
        "join_p95_ms": joins["p95"],
        "join_p99_ms": joins["p99"],
        "join_attempts": float(attempts),
        "joins_failed": float(attempts - ok),
        "drop_ratio": _ratio(dropped, ended),
        "drops": float(dropped),
        "sessions": float(ended),
        "tps_min": min(windows) if windows else None,
        "tps_p5": _percentile(windows, 0.05),
        "join_lag_p95_ms": lag["p95"],
        "players": float(plan.players),
    }


def unresolved(checks: list[Any], metrics: dict[str, float | None]) -> list[str]:
    """Passed ratio thresholds too few samples resolve (`mcproof.players.judge`'s rule: a ratio with a budget
    b needs 1/b samples; budget 0 resolves with any count, one miss fails).

    >>> from mcproof.load.thresholds import ThresholdResult as R
    >>> unresolved([R("join_success_ratio >= 0.99", "join_success_ratio", ">=", 0.99, 1.0, True)],
    ...            {"join_attempts": 40.0})
    ['join_success_ratio >= 0.99 holds on 40 join attempts; resolving a 1 % budget takes 100']
    """
    out = []
    for c in checks:
        if not c.passed:
            continue
        if c.metric == "join_success_ratio" and c.op in (">=", ">"):
            budget, count, what = 1.0 - c.value, metrics.get("join_attempts") or 0.0, "join attempts"
        elif c.metric == "drop_ratio" and c.op in ("<=", "<"):
            budget, count, what = c.value, metrics.get("sessions") or 0.0, "sessions"
        else:
            continue
        needed = math.ceil(1 / budget - 1e-9) if budget > 1e-9 else 0
        if count < needed:
            out.append(
                f"{c.expression} holds on {count:.0f} {what}; resolving a {budget * 100:g} % budget takes {needed}"
            )
    return out


def _refusing_servers(collector: PlayerCollector) -> list[str]:
    return sorted(t for t, kinds in collector.join_failures.items() if any(kinds.get(k) for k in SERVER_REFUSALS))


def _figures(collector: PlayerCollector) -> dict[str, Any]:
    windows = {k: tps_windows(s) for k, s in collector.series().items()}
    per_server = {k.split("|", 1)[-1]: min(v) for k, v in sorted(windows.items()) if v}
    return {
        "join_ms": histogram_summary(collector.join_hist),  # joins that reached play; count = samples
        "join_lag_ms": histogram_summary(collector.join_lag_hist),
        "joins": dict(collector.joins),
        "join_failures_by_kind": _by_kind(collector.join_failures),
        "join_failures_by_target": {t: dict(k) for t, k in sorted(collector.join_failures.items())[:50]},
        "sessions": dict(collector.sessions),
        "drops_by_reason": _by_kind(collector.drops),
        "drops_by_target": {t: dict(k) for t, k in sorted(collector.drops.items())[:50]},
        "tps": {
            "method": f"world-age ticks / monotonic seconds over consecutive windows of >= {TPS_WINDOW_S:g} s, "
            "per generator process and server",
            "windows": sum(len(v) for v in windows.values()),
            "series": len(windows),
            "updates_kept": sum(len(s) for s in collector.time_series.values()),
            "min_by_server": per_server,
        },
        "servers": len(collector.servers),
        "samples_seen": dict(collector.samples_seen),
        "samples_kept": {"joins": len(collector.join_samples), "sessions": len(collector.session_samples)},
    }


def _by_kind(table: dict[str, dict[str, int]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for kinds in table.values():
        for kind, n in kinds.items():
            out[kind] = out.get(kind, 0) + int(n)
    return dict(sorted(out.items()))


def judge_players(
    plan: PlayerPlan,
    collector: PlayerCollector,
    *,
    saturation_reasons: list[str],
    saturation_fix: str,
    max_lag_p95_ms: float,
) -> dict[str, Any]:
    """The players part of a load result: verdict, reason, fix, metrics, thresholds, figures, samples."""
    metrics = player_metrics(collector, plan)
    checks = evaluate(parse_thresholds(plan.thresholds, PLAYER_METRICS), metrics)
    passed = all(c.passed for c in checks)
    reasons = list(saturation_reasons)
    lag = metrics["join_lag_p95_ms"]
    if lag is not None and lag > max_lag_p95_ms:
        reasons.append(f"scheduled joins started late: join lag p95 {lag:g} ms > {max_lag_p95_ms:g} ms")
    refusing = _refusing_servers(collector) if not passed else []
    failed = [c.expression for c in checks if not c.passed]
    if refusing:
        shown = ", ".join(refusing[:10]) + (f" (+{len(refusing) - 10} more)" if len(refusing) > 10 else "")
        kinds = _by_kind({t: collector.join_failures[t] for t in refusing})
        verdict = "fail"
        reason = (
            f"player thresholds failed ({'; '.join(failed)}): {len(refusing)} server(s) refused players "
            f"({shown}; {', '.join(f'{k} x{n}' for k, n in kinds.items())}), failures no generator queue causes"
            + (f"; the generator was also saturated ({'; '.join(reasons)})" if reasons else "")
        )
        fix = "see the join samples for the phase each join stopped in; fix those servers (or the expected protocol)"
    elif reasons:
        verdict, reason = "inconclusive", "generator saturated: " + "; ".join(reasons)
        fix = saturation_fix
    elif not checks:
        verdict = "inconclusive"
        reason = "no player threshold to hold: neither load.players.thresholds nor players.slo declares one"
        fix = "declare the player SLOs in the environment's players.slo (or load.players.thresholds)"
    elif not metrics["join_attempts"]:
        verdict = "inconclusive"
        reason = "no player join was attempted: the player figures were not measured"
        fix = "lengthen load.duration_s, or check load.players (population, rush.at_s)"
    elif failed:
        verdict, reason, fix = "fail", "player thresholds failed: " + "; ".join(failed), ""
    elif coarse := unresolved(checks, metrics):
        verdict, reason = "inconclusive", "too few player samples: " + "; ".join(coarse)
        fix = "lengthen load.duration_s, shorten load.players.session_s or add players (load.players.population)"
    else:
        verdict, reason, fix = "pass", "", ""
    return {
        "verdict": verdict,
        "reason": reason,
        "fix": fix,
        "plan": plan.as_dict(),
        "metrics": metrics,
        "thresholds": [c.as_dict() for c in checks],
        "figures": _figures(collector),
        "samples": {
            "joins": list(collector.join_samples),
            "session_ends": list(collector.session_samples),
            "time_updates": {k: [list(v) for v in s] for k, s in collector.series().items()},
        },
    }
