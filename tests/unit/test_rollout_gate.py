"""The release gate's pure parts: workload refs, updates, maxUnavailable, the undo template, the verdict
(each failure mode fails, nothing rolled is inconclusive), its settings and its evidence record."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mcproof.errors import ConfigError
from mcproof.evidence.records import RolloutGateEvidence, load_record
from mcproof.rollout.gate import (
    baseline_problem,
    judge,
    load_update,
    parse_workload,
    resolve_max_unavailable,
)
from mcproof.rollout.settings import GateRelease, RolloutSettings
from mcproof.rollout.workload import KINDS, max_unavailable, statefulset_rollout_complete

GOOD = {"pod": "p-1", "samples": 5, "failed": 0, "versions": ["1.21.5/770"], "ready_after_s": 1.0, "restarts": 0}


def _judge(pods: list[dict[str, Any]], **kw: Any) -> tuple[str, str]:
    args: dict[str, Any] = {
        "samples": 10,
        "template_changed": True,
        "completed": True,
        "new_pods": pods,
        "routed_failures": 0,
        "expected": ("1.21.5", 770),
        "settings": RolloutSettings(readiness_gap_s=1.0),
    }
    args.update(kw)
    return judge(**args)


def test_a_good_release_passes() -> None:
    assert _judge([GOOD])[0] == "pass"


@pytest.mark.parametrize(
    ("change", "kw", "text"),
    [
        ({"versions": ["1.21.4/769"]}, {}, "answers 1.21.4/769, expected 1.21.5/770"),
        ({"restarts": 3}, {}, "a crash loop"),
        ({"ready_after_s": None}, {}, "was Ready never"),
        ({"ready_after_s": 99.0}, {}, "was Ready after 99.0s"),
        ({"failed_before_answer": 4, "readiness_gap_s": 2.5}, {}, "readiness probe does not cover"),
        ({}, {"routed_failures": 1}, "a pod stopped answering while still Ready"),
        ({}, {"completed": False}, "did not complete"),
        ({"failed": 5}, {}, "never answered"),
        ({"failed": 1}, {}, "error ratio once serving 0.200"),
        ({"failed": 2, "serving_samples": 4, "serving_failed": 1}, {}, "error ratio once serving 0.250"),
    ],
)
def test_each_failure_mode_fails(change: dict[str, Any], kw: dict[str, Any], text: str) -> None:
    verdict, reason = _judge([{**GOOD, **change}], **kw)
    assert verdict == "fail"
    assert text in reason


def test_a_gap_inside_the_slo_passes_and_is_shown() -> None:
    pod = {**GOOD, "failed": 2, "failed_before_answer": 2, "readiness_gap_s": 0.4, "serving_samples": 3}
    verdict, reason = _judge([{**pod, "serving_failed": 0}])
    assert verdict == "pass"
    assert "2 failed ping(s) on pods still starting" in reason


def test_nothing_rolled_or_observed_is_inconclusive() -> None:
    assert _judge([GOOD], template_changed=False)[0] == "inconclusive"
    assert _judge([GOOD], samples=0)[0] == "inconclusive"
    assert _judge([])[0] == "inconclusive"


def test_workload_refs() -> None:
    assert parse_workload("mc/deploy/proxy") == ("mc", "Deployment", "proxy")
    assert parse_workload("mc/sts/mc-000") == ("mc", "StatefulSet", "mc-000")
    for bad, text in (("proxy", "NS/KIND/NAME"), ("mc/job/a", "unknown kind")):
        with pytest.raises(ConfigError, match=text):
            parse_workload(bad)


def test_updates(tmp_path: Path) -> None:
    patch = tmp_path / "p.yaml"
    patch.write_text("spec:\n  replicas: 3\n", encoding="utf-8")
    assert load_update(str(patch), ["mc"]).patch == {"spec": {"replicas": 3}}
    sts = tmp_path / "s.yaml"
    sts.write_text("kind: StatefulSet\nspec: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="a StatefulSet manifest"):
        load_update(str(sts), ["mc"])
    with pytest.raises(ConfigError, match="no such file"):
        load_update(str(tmp_path / "missing.yaml"), ["mc"])
    bad = tmp_path / "b.yaml"
    bad.write_text("spec: [1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="cannot read it"):
        load_update(str(bad), ["mc"])


def test_max_unavailable() -> None:
    assert resolve_max_unavailable({"rollingUpdate": {"maxUnavailable": 0}}, 2) == 0
    assert resolve_max_unavailable(None, 4) == 1  # the default 25 %


def test_an_unhealthy_baseline_applies_nothing() -> None:
    assert baseline_problem({"endpoints": 2}, [{"pod": "a", "samples": [{"ok": True}]}]) is None
    problem = baseline_problem({"endpoints": 2}, [{"pod": "a", "samples": [{"ok": False, "error": "refused"}]}])
    assert problem is not None
    assert "pod a did not answer before the update (refused)" in problem
    verdict, reason = _judge([GOOD], baseline=problem)
    assert verdict == "inconclusive"
    assert reason.startswith("nothing was applied: pod a")


def test_an_api_failure_mid_rollout_is_inconclusive() -> None:
    verdict, reason = _judge([GOOD], error="the gate lost the cluster mid-rollout (HTTP 503)")
    assert verdict == "inconclusive"
    assert "rerun the gate" in reason


def test_more_unavailable_than_the_strategy_allows_fails() -> None:
    assert _judge([GOOD], unavailable=(0, 0))[0] == "pass"
    verdict, reason = _judge([GOOD], unavailable=(1, 0))
    assert verdict == "fail"
    assert "1 replica(s) were not serving at once" in reason


def test_each_server_downtime_is_judged_against_its_slo() -> None:
    ok = [{"server": "mc-0", "downtime_s": 3.0}]
    assert _judge([GOOD], server_downtime=ok)[0] == "pass"
    verdict, reason = _judge([GOOD], server_downtime=[{"server": "mc-1", "downtime_s": 90.0}])
    assert verdict == "fail"
    assert "server mc-1 was down 90.0s" in reason
    verdict, reason = _judge([GOOD], server_downtime=[{"server": "mc-1", "downtime_s": None}])
    assert verdict == "fail"
    assert "did not answer on its new release" in reason


def test_statefulset_strategy_and_completion() -> None:
    sts = KINDS["StatefulSet"]
    assert (
        max_unavailable(sts, {"spec": {"replicas": 4, "updateStrategy": {"rollingUpdate": {"maxUnavailable": 2}}}}) == 2
    )
    with pytest.raises(ConfigError, match="OnDelete"):
        max_unavailable(sts, {"spec": {"updateStrategy": {"type": "OnDelete"}}})
    done = {
        "metadata": {"generation": 3},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 3, "replicas": 2, "readyReplicas": 2, "updatedReplicas": 2},
    }
    assert not statefulset_rollout_complete(
        {**done, "status": {**done["status"], "currentRevision": "a", "updateRevision": "b"}}
    )
    assert not statefulset_rollout_complete(
        {**done, "status": {**done["status"], "observedGeneration": 2, "currentRevision": "b", "updateRevision": "b"}}
    )
    assert statefulset_rollout_complete(
        {**done, "status": {**done["status"], "currentRevision": "b", "updateRevision": "b"}}
    )


def test_strategy_arithmetic_follows_the_controllers() -> None:
    sts, dep = KINDS["StatefulSet"], KINDS["Deployment"]
    pct = {"spec": {"replicas": 3, "updateStrategy": {"rollingUpdate": {"maxUnavailable": "10%"}}}}
    assert max_unavailable(sts, pct) == 1  # a StatefulSet's percentage rounds up, never below 1
    with pytest.raises(ConfigError, match="partition is above 0"):
        max_unavailable(sts, {"spec": {"updateStrategy": {"rollingUpdate": {"partition": 1}}}})
    zero = {"spec": {"replicas": 3, "strategy": {"rollingUpdate": {"maxUnavailable": "10%", "maxSurge": 0}}}}
    assert max_unavailable(dep, zero) == 1  # both resolve to 0: the Deployment controller allows 1
    assert max_unavailable(dep, {"spec": {"replicas": 2}}) == 0  # 25 % of 2 rounds down, surge rounds up to 1


def test_a_baseline_short_of_replicas_or_mid_rollout_applies_nothing() -> None:
    answered = [{"pod": "a", "samples": [{"ok": True}]}]
    short = baseline_problem({"endpoints": 1}, answered, replicas=3)
    assert short is not None
    assert "only 1 of 3 replicas were Ready" in short
    busy = baseline_problem({"endpoints": 1}, answered, replicas=1, settled=False)
    assert busy is not None
    assert "still in progress" in busy


def test_a_bad_max_unavailable_is_one_line() -> None:
    with pytest.raises(ConfigError, match="neither a count nor a percentage"):
        resolve_max_unavailable({"rollingUpdate": {"maxUnavailable": "lots"}}, 2)


def test_settings() -> None:
    with pytest.raises(ValidationError):
        RolloutSettings(ready_deadline_s=200, rollout_deadline_s=100)
    with pytest.raises(ValidationError):
        GateRelease(to="")
    with pytest.raises(ValidationError):
        RolloutSettings.model_validate({"gate": {"to": "x.yaml", "typo": 1}})
    assert RolloutSettings.model_validate({"gate": {"to": "x.yaml"}}).gate == GateRelease(to="x.yaml")


def test_the_record_round_trips() -> None:
    data: dict[str, Any] = {
        "type": "rollout_gate",
        "environment": "e",
        "method": "m",
        "check": "c",
        "workload": "Deployment a/b",
        "service": "a/b",
        "update": "patch p.yaml",
        "strategy": "RollingUpdate",
        "replicas": 2,
        "max_unavailable_allowed": 0,
        "max_unavailable_observed": 0,
        "expected_version": "1.21.5",
        "expected_protocol": 770,
        "old_versions": ["1.21.4/769"],
        "started_at": "t0",
        "ended_at": "t1",
        "interval_s": 0.2,
        "ping_timeout_s": 0.5,
        "template_changed": True,
        "rollout_completed": True,
        "rollout_s": 3.0,
        "samples": 10,
        "failed_requests": 0,
        "routed_failures": 0,
        "startup_failures": 0,
        "endpoints": [],
        "new_pods": [],
        "verdict": "pass",
        "reason": "r",
        "decision_s": 4.0,
        "rollback": {"requested": True, "performed": False},
        "ticks": [],
        "server_downtime": [{"server": "mc-0", "last_old_answer_s": 1.0, "first_new_answer_s": 2.5, "downtime_s": 1.5}],
    }
    record = load_record(data)
    assert isinstance(record, RolloutGateEvidence)
    assert record.as_dict() == data
