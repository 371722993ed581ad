"""Provisioning result -> evidence and verdict (pure), with results recorded from real sandbox runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mcproof.evidence.records import RECORD_TYPES, ProvisioningEvidence, load_record
from mcproof.load.provisioning_evidence import describe_provisioning, provisioning_evidence
from mcproof.load.settings import LoadSettings, ProvisioningSettings

# recorded: tests/integration/test_provisioning_suite.py, 2 users x 2 cycles each: against the sandbox API
# ("passed"), an API that is down ("down": https://127.0.0.1:9) and one refusing an unknown token ("refused")
RECORDED = json.loads((Path(__file__).parent / "recorded" / "provisioning_results.json").read_text())
PASSED: dict[str, Any] = RECORDED["passed"]
DOWN: dict[str, Any] = RECORDED["down"]


def _ev(result: dict[str, Any], threshold: float = 2.0) -> ProvisioningEvidence:
    return provisioning_evidence(result, environment="itest", threshold_p95_s=threshold, check="c")


def test_passing_run() -> None:
    ev = _ev(PASSED)
    assert ev.passed
    assert ev.time_to_ready_s["p95"] == 0.0882
    assert ev.ready_samples_s == PASSED["ready_samples_s"]
    assert describe_provisioning(ev) == "provisioning: 4/4 lifecycles, time to ready p95 0.088 s (threshold 2 s)"


def test_threshold_breach_fails() -> None:
    ev = _ev(PASSED, threshold=0.05)
    assert not ev.passed
    assert "time to ready p95 0.088 s above the threshold 0.05 s" in describe_provisioning(ev)


def test_api_down_names_the_step() -> None:
    ev = _ev(DOWN)
    assert not ev.passed
    assert ev.failures_by_step == {"create": 4}
    text = describe_provisioning(ev)
    assert "step 'create' failed (create x4) against https://127.0.0.1:9" in text
    assert "no answer from https://127.0.0.1:9" in text


def test_refused_creates_name_the_step() -> None:
    ev = _ev(RECORDED["refused"])
    assert ev.failures_by_step == {"create": 4}
    assert "step 'create' failed (create x4)" in describe_provisioning(ev)


def test_earliest_step_named_first_and_capped_details_counted() -> None:
    details = [{"step": "delete", "error": "HTTP 500"}, {"step": "ready", "error": "not answering"}]
    ev = _ev({**PASSED, "completed": 3, "failures": 5, "failure_details": details})
    assert ev.failures_by_step == {"delete": 1, "ready": 1, "unattributed": 3}
    assert "step 'ready' failed (ready x1, delete x1, unattributed x3)" in describe_provisioning(ev)


def test_incomplete_run_fails() -> None:
    ev = _ev({**PASSED, "completed": 3, "ready_samples_s": [0.3, 0.3, 0.3]})
    assert not ev.passed
    assert "only 3 completed before the deadline" in describe_provisioning(ev)


def test_record_round_trip() -> None:
    ev = _ev(PASSED)
    assert RECORD_TYPES["provisioning"] is ProvisioningEvidence
    assert load_record(ev.as_dict()) == ev


def test_settings_defaults_and_bounds() -> None:
    assert LoadSettings().provisioning == ProvisioningSettings()
    assert LoadSettings.model_validate({"provisioning": {"users": 3}}).provisioning.users == 3
    with pytest.raises(ValidationError):
        LoadSettings.model_validate({"provisioning": {"users": 0}})
