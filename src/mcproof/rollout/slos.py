"""The release gate's SLO rows: what `mcproof rollout gate` measured, held against the `rollout:` SLOs.

A row is written only for what the gate measured and judged (an inconclusive gate: it applied nothing, took
no sample or lost the cluster, writes none, so a partial window never shows as a met SLO); a row that
failed is never left out. The rows carry the same figures the gate's verdict judged, so
the report's SLO table, the controls catalog and the verdict cannot disagree.

>>> from mcproof.rollout.settings import RolloutSettings
>>> ev = {"template_changed": True, "samples": 40, "routed_failures": 0, "max_unavailable_observed": 0,
...       "max_unavailable_allowed": 0, "ticks": [{"t_s": 0.0, "phase": "baseline"}], "new_pods": [],
...       "server_downtime": [], "rollout_completed": True, "rollout_s": 3.2, "rollback": {}, "interval_s": 0.2}
>>> [(r.slo, r.measured, r.passed) for r in rollout_slos(ev, RolloutSettings(), environment="e", check="c")]
[('rollout.routed_failures', 0.0, True), ('rollout.max_unavailable', 0.0, True), ('rollout.rollout_s', 3.2, True)]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mcproof.evidence.records import SloMeasurement
from mcproof.rollout.gate import other_release
from mcproof.rollout.settings import RolloutSettings

__all__ = ["ALWAYS_ROWS", "SLO_ROWS", "rollout_slos"]

SLO_ROWS = (
    "rollout.routed_failures",
    "rollout.max_unavailable",
    "rollout.rollout_s",
    "rollout.readiness_gap_s",
    "rollout.error_ratio",
    "rollout.max_server_downtime_s",
    "rollout.time_to_healthy_s",
)
# written for every gate that applied a change and took a sample: what a control may require of any release
ALWAYS_ROWS = ("rollout.routed_failures", "rollout.max_unavailable")

_Row = Callable[[str, str, float, float, str, bool, int], SloMeasurement]


def _times(ticks: Sequence[Mapping[str, Any]], phase: str) -> list[float]:
    """The tick times of one phase (``rollout``, ``rollback``), in order."""
    return [float(t["t_s"]) for t in ticks if t.get("phase") == phase]


def rollout_slos(
    evidence: Mapping[str, Any], settings: RolloutSettings, *, environment: str, check: str
) -> list[SloMeasurement]:
    """The SLO rows of one gate run (``evidence``: a ``RolloutGateEvidence`` as a dict). A rollout the gate
    stopped early (a new pod answered a wrong version) was observed only in part: of its rows only the
    failed ones are written. A performed rollback is measured on its own, whatever the gate's verdict."""
    interval = float(evidence["interval_s"])
    ticks: Sequence[Mapping[str, Any]] = evidence["ticks"]
    method = (
        f"release gate: every Ready endpoint pinged every {interval:g}s (mcstatus, {settings.ping_timeout_s:g}s "
        "deadline each) through the rollout"
    )

    def row(slo: str, objective: str, target: float, measured: float, unit: str, ok: bool, n: int) -> SloMeasurement:
        shown = float(measured) if unit == "ratio" else round(float(measured), 3)  # a tiny ratio never shows as 0
        return SloMeasurement(environment, slo, objective, float(target), shown, unit, "<=", ok, method, check, n)

    rollback = _rollback_rows(evidence["rollback"], settings, max(_times(ticks, "rollback"), default=None), row)
    if evidence.get("verdict") == "inconclusive" or not evidence["template_changed"] or not evidence["samples"]:
        return rollback  # nothing rolled, nothing sampled or the gate could not judge it: its reason says why
    window = _rollout_rows(evidence, settings, interval, row)
    if not evidence["rollout_completed"] and _wrong_version_seen(evidence):
        window = [r for r in window if not r.passed]  # a partial window: a met SLO there proves nothing
    return window + rollback


def _wrong_version_seen(evidence: Mapping[str, Any]) -> bool:
    """A new pod answered another release than expected: what stops the gate before the rollout ends."""
    expected = (evidence.get("expected_version"), evidence.get("expected_protocol"))
    return any(other_release(str(seen), expected) for pod in evidence["new_pods"] for seen in pod.get("versions") or ())


def _rollout_rows(
    evidence: Mapping[str, Any], settings: RolloutSettings, interval: float, row: _Row
) -> list[SloMeasurement]:
    times = _times(evidence["ticks"], "rollout")
    rollout_ticks = len(times)
    routed = int(evidence["routed_failures"])
    rows = [
        row(
            "rollout.routed_failures",
            "requests to serving, routed endpoints that failed during the rollout = 0",
            0,
            routed,
            "requests",
            routed == 0,
            int(evidence["samples"]),
        ),
        row(
            "rollout.max_unavailable",
            f"replicas not serving at once <= the strategy's maxUnavailable ({evidence['max_unavailable_allowed']})",
            int(evidence["max_unavailable_allowed"]),
            int(evidence["max_unavailable_observed"]),
            "replicas",
            int(evidence["max_unavailable_observed"]) <= int(evidence["max_unavailable_allowed"]),
            rollout_ticks,
        ),
    ]
    last = max(times, default=None)
    span = last - min(times) if last is not None else 0.0
    done = evidence["rollout_completed"] and evidence["rollout_s"] is not None
    if done or not _wrong_version_seen(evidence):
        # not completed and not stopped at a wrong version: the gate watched it to its deadline, so it took
        # at least that long (a lower bound, failed); stopped at a wrong version: neither, no row
        measured = float(evidence["rollout_s"]) if done else max(span, settings.rollout_deadline_s)
        rows.append(
            row(
                "rollout.rollout_s",
                f"update applied -> every replica updated and available <= {settings.rollout_deadline_s:g}s",
                settings.rollout_deadline_s,
                measured,
                "s",
                bool(done) and measured <= settings.rollout_deadline_s,
                rollout_ticks,
            )
        )
    rows += _new_pod_rows(evidence["new_pods"], settings, interval, row)
    rows += _server_rows(evidence["server_downtime"], settings, last, row)
    return rows


def _new_pod_rows(
    new_pods: Sequence[Mapping[str, Any]], settings: RolloutSettings, interval: float, row: _Row
) -> list[SloMeasurement]:
    out = []
    sampled = [p for p in new_pods if int(p.get("samples") or 0)]
    if sampled:
        # a pod routed (Ready) before it answered: its gap; one that never answered: at least its observed span
        late = [p for p in sampled if p.get("failed_before_answer")]
        gaps = [
            float(p["readiness_gap_s"]) if p.get("readiness_gap_s") is not None else int(p["samples"]) * interval
            for p in late
        ]
        never = any(p.get("readiness_gap_s") is None for p in late)
        worst = max(gaps, default=0.0)
        out.append(
            row(
                "rollout.readiness_gap_s",
                f"a new pod routed (Ready) before its server answers, worst <= {settings.readiness_gap_s:g}s "
                "(samples: new pods judged)",
                settings.readiness_gap_s,
                worst,
                "s",
                not never and worst <= settings.readiness_gap_s,
                len(sampled),
            )
        )
    serving = sum(int(p.get("serving_samples", 0)) for p in new_pods)
    if serving:
        ratio = sum(int(p.get("serving_failed", 0)) for p in new_pods) / serving
        out.append(
            row(
                "rollout.error_ratio",
                f"failed pings of the new pods once serving / their pings <= {settings.max_error_ratio:g}",
                settings.max_error_ratio,
                ratio,
                "ratio",
                ratio <= settings.max_error_ratio,
                serving,
            )
        )
    return out


def _server_rows(
    servers: Sequence[Mapping[str, Any]], settings: RolloutSettings, last_t: float | None, row: _Row
) -> list[SloMeasurement]:
    if not servers:
        return []
    downs = []
    for s in servers:  # a server whose new release never answered: down at least until the last observation
        if s.get("downtime_s") is not None:
            downs.append(float(s["downtime_s"]))
        else:
            downs.append(max(0.0, (last_t or 0.0) - float(s.get("last_old_answer_s") or 0.0)))
    closed = all(s.get("downtime_s") is not None for s in servers)
    worst = max(downs)
    return [
        row(
            "rollout.max_server_downtime_s",
            f"a StatefulSet server's old release's last answer -> its new release's first, worst <= "
            f"{settings.max_server_downtime_s:g}s",
            settings.max_server_downtime_s,
            worst,
            "s",
            closed and worst <= settings.max_server_downtime_s,
            len(servers),
        )
    ]


def _rollback_rows(
    rb: Mapping[str, Any], settings: RolloutSettings, last_t: float | None, row: _Row
) -> list[SloMeasurement]:
    if not rb.get("performed"):
        return []
    if rb.get("health_wait") == "lost":
        return []  # the wait for health was cut off: not measured either way
    healthy = rb.get("time_to_healthy_s")
    measured = (
        float(healthy) if healthy is not None else max(0.0, (last_t or 0.0) - float(rb.get("undo_applied_s") or 0.0))
    )
    return [
        row(
            "rollout.time_to_healthy_s",
            f"rollback applied -> every replica available and answering the old release <= "
            f"{settings.healthy_deadline_s:g}s (samples: ticks)",
            settings.healthy_deadline_s,
            measured,
            "s",
            healthy is not None and measured <= settings.healthy_deadline_s,
            int(rb.get("ticks") or 0),
        )
    ]
