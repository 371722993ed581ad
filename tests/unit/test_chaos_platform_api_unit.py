"""The platform-api-outage experiment is skipped with the reason where there is no platform API this run
may stop; the /readyz check never leaves loopback; the library sees which experiments touch the API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from mcproof.chaos.experiment import ExperimentSkipped, _load, plan_experiment
from mcproof.chaos.library import describe, find_experiment
from mcproof.chaos.platform_api import api_kind, readyz
from mcproof.config import Environment, parse_environment


def _env(**extra: object) -> Environment:
    data = {
        "name": "t",
        "tier": "dev",
        "minecraft": {"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1"}]}},
        **extra,
    }
    return parse_environment(yaml.safe_dump(data), Path("t.yaml"))


def test_library_marks_the_outage_experiment() -> None:
    path = find_experiment("platform-api-outage")
    plan = describe(_load(path), path)
    assert plan.needs_platform_api
    assert plan.tiers == ("dev",)
    assert plan.rollbacks == ("start-platform-api",)
    kill = find_experiment("kill-one-server")
    assert not describe(_load(kill), kill).needs_platform_api


def test_skipped_without_a_platform_api() -> None:
    env = _env()
    assert api_kind(env) is None
    with pytest.raises(ExperimentSkipped) as err:
        plan_experiment(env, "platform-api-outage")
    assert "\n" not in str(err.value)
    assert "environment 't' has no platform API" in str(err.value)


def test_skipped_with_an_external_platform_api() -> None:
    env = _env(platform_api={"base_url": "https://127.0.0.1:8443"})
    assert api_kind(env) == "external"
    with pytest.raises(ExperimentSkipped, match="names an external platform API"):
        plan_experiment(env, "platform-api-outage")


def test_skipped_when_the_sandbox_daemon_is_not_running(tmp_path: Path) -> None:
    env = _env(minecraft={"discovery": {"kind": "sandbox", "state_dir": str(tmp_path)}}, sandbox={"servers": 1})
    assert api_kind(env) == "sandbox"
    with pytest.raises(ExperimentSkipped, match="sandbox platform API of 't' is not running"):
        plan_experiment(env, "platform-api-outage")


def test_readyz_refuses_a_non_loopback_host_without_connecting() -> None:
    result = asyncio.run(readyz("https://203.0.113.10:8443", None, 0.1))
    assert not result.ok
    assert result.error_kind == "not-loopback"
