"""The release gate's SLO rows: written only for what was measured, failed whenever the gate saw the miss."""

from __future__ import annotations

from typing import Any

from mcproof.rollout.settings import RolloutSettings
from mcproof.rollout.slos import ALWAYS_ROWS, SLO_ROWS, rollout_slos

SETTINGS = RolloutSettings(readiness_gap_s=1.0, max_server_downtime_s=5.0, rollout_deadline_s=10, ready_deadline_s=5)


def _pod(**over: Any) -> dict[str, Any]:
    pod = {"pod": "p-1", "samples": 10, "failed": 0, "failed_before_answer": 0, "readiness_gap_s": 0.0}
    pod.update(serving_samples=10, serving_failed=0)
    pod.update(over)
    return pod


def _ev(**over: Any) -> dict[str, Any]:
    ticks = [{"t_s": 0.0, "phase": "baseline"}] + [{"t_s": 0.2 * i, "phase": "rollout"} for i in range(1, 11)]
    ev: dict[str, Any] = {
        "template_changed": True,
        "samples": 20,
        "routed_failures": 0,
        "max_unavailable_observed": 0,
        "max_unavailable_allowed": 0,
        "ticks": ticks,
        "new_pods": [_pod()],
        "server_downtime": [],
        "rollout_completed": True,
        "rollout_s": 1.8,
        "rollback": {"requested": True, "performed": False},
        "interval_s": 0.2,
    }
    ev.update(over)
    return ev


def _rows(ev: dict[str, Any]) -> dict[str, Any]:
    rows = rollout_slos(ev, SETTINGS, environment="e", check="c")
    assert all(r.slo in SLO_ROWS for r in rows)
    return {r.slo: r for r in rows}


def test_a_sound_deployment_release_writes_passing_rows_with_samples() -> None:
    rows = _rows(_ev())
    assert set(rows) == {*ALWAYS_ROWS, "rollout.rollout_s", "rollout.readiness_gap_s", "rollout.error_ratio"}
    assert all(r.passed and r.samples > 0 for r in rows.values())
    assert rows["rollout.routed_failures"].samples == 20
    assert rows["rollout.rollout_s"].measured == 1.8


def test_nothing_rolled_or_nothing_sampled_writes_no_row() -> None:
    assert _rows(_ev(template_changed=False)) == {}
    assert _rows(_ev(samples=0)) == {}
    assert _rows(_ev(verdict="inconclusive")) == {}  # e.g. the cluster lost mid-rollout: a partial window


def test_each_miss_fails_its_row() -> None:
    assert not _rows(_ev(routed_failures=3))["rollout.routed_failures"].passed
    assert not _rows(_ev(max_unavailable_observed=1))["rollout.max_unavailable"].passed
    late = _rows(_ev(new_pods=[_pod(failed_before_answer=4, readiness_gap_s=1.6)]))["rollout.readiness_gap_s"]
    assert not late.passed
    assert late.measured == 1.6
    ratio = _rows(_ev(new_pods=[_pod(serving_failed=1)]))["rollout.error_ratio"]
    assert not ratio.passed
    assert ratio.measured == 0.1


def test_a_pod_routed_that_never_answered_fails_the_gap_row_whatever_its_span() -> None:
    never = _pod(failed_before_answer=2, readiness_gap_s=None, samples=2, serving_samples=0)
    row = _rows(_ev(new_pods=[never]))["rollout.readiness_gap_s"]
    assert row.measured == 0.4  # at least its observed span, below the target: still failed
    assert not row.passed


def test_a_rollout_not_completed_fails_its_duration_row_however_slow_the_ticks() -> None:
    # slow ticks: the last one started before the deadline, so the span is short of it; still at least that long
    slow = [{"t_s": 0.3 + 0.6 * i, "phase": "rollout"} for i in range(16)]
    row = _rows(_ev(rollout_completed=False, rollout_s=None, ticks=slow))["rollout.rollout_s"]
    assert not row.passed
    assert row.measured == 10.0


def test_a_rollout_stopped_at_a_wrong_version_writes_only_its_failed_rows() -> None:
    wrong = _pod(versions=["1.20.1/760"])
    ev = _ev(rollout_completed=False, rollout_s=None, new_pods=[wrong], expected_version="1.21.5", routed_failures=2)
    rows = _rows(ev)
    assert set(rows) == {"rollout.routed_failures"}  # the met ones over 2 s of the rollout prove nothing
    assert not rows["rollout.routed_failures"].passed
    assert _rows({**ev, "routed_failures": 0}) == {}
    # the same versions on a completed rollout that expected them: every row
    assert "rollout.error_ratio" in _rows(_ev(new_pods=[wrong], expected_version="1.20.1"))


def test_a_tiny_error_ratio_is_not_rounded_to_zero() -> None:
    row = _rows(_ev(new_pods=[_pod(serving_samples=3000, serving_failed=1)]))["rollout.error_ratio"]
    assert not row.passed
    assert row.measured > 0


def test_statefulset_downtime_row_fails_when_over_the_slo_or_never_closed() -> None:
    ok = [{"server": "mc-0", "last_old_answer_s": 1.0, "first_new_answer_s": 3.0, "downtime_s": 2.0}]
    assert _rows(_ev(server_downtime=ok))["rollout.max_server_downtime_s"].passed
    over = [{**ok[0], "downtime_s": 6.5}]
    assert not _rows(_ev(server_downtime=over))["rollout.max_server_downtime_s"].passed
    unclosed = [{"server": "mc-1", "last_old_answer_s": 0.4, "first_new_answer_s": None, "downtime_s": None}]
    row = _rows(_ev(server_downtime=unclosed))["rollout.max_server_downtime_s"]
    assert not row.passed
    assert row.measured == 1.6  # from its last old answer to the last observation


def test_rollback_row_times_health_and_fails_when_never_healthy() -> None:
    healthy = {"performed": True, "undo_applied_s": 2.0, "time_to_healthy_s": 3.5, "ticks": 12}
    row = _rows(_ev(rollback=healthy))["rollout.time_to_healthy_s"]
    assert row.passed
    assert row.measured == 3.5
    stuck = {"performed": True, "undo_applied_s": 2.0, "time_to_healthy_s": None, "ticks": 40}
    ticks = [{"t_s": 0.2, "phase": "rollout"}, {"t_s": 9.0, "phase": "rollback"}]
    row = _rows(_ev(rollback=stuck, ticks=ticks))["rollout.time_to_healthy_s"]
    assert not row.passed
    assert row.measured == 7.0
    assert "rollout.time_to_healthy_s" not in _rows(_ev(rollback={"requested": True, "performed": False}))
    # the wait cut off by a lost cluster: not measured, no row; a never-healthy rollback after an
    # inconclusive gate still fails its row
    lost = {**stuck, "health_wait": "lost", "problem": "the undo was applied but the gate lost the cluster (x)"}
    assert "rollout.time_to_healthy_s" not in _rows(_ev(rollback=lost, ticks=ticks))
    after = _rows(_ev(rollback={**stuck, "health_wait": "deadline"}, ticks=ticks, verdict="inconclusive"))
    assert set(after) == {"rollout.time_to_healthy_s"}
    assert not after["rollout.time_to_healthy_s"].passed
