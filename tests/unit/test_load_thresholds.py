"""Threshold parsing/evaluation and the load: section of an environment file (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.config import parse_environment
from mcproof.errors import ConfigError
from mcproof.load.settings import LoadSettings
from mcproof.load.thresholds import METRICS, ThresholdError, evaluate, parse_threshold


@pytest.mark.parametrize(
    ("text", "metric", "op", "value"),
    [
        ("status_p95_ms < 250", "status_p95_ms", "<", 250.0),
        ("failure_ratio<0.001", "failure_ratio", "<", 0.001),
        ("  pings_per_s >= 2000  ", "pings_per_s", ">=", 2000.0),
        ("failures == 0", "failures", "==", 0.0),
        ("status_p99_ms <= 1e3", "status_p99_ms", "<=", 1000.0),
    ],
)
def test_parse_valid(text: str, metric: str, op: str, value: float) -> None:
    t = parse_threshold(text)
    assert (t.metric, t.op, t.value) == (metric, op, value)


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("status_p95_ms", "malformed"),
        ("status_p95_ms < fast", "malformed"),
        ("status_p95_ms => 3", "malformed"),
        ("p95 < 250", "unknown metric 'p95'"),
        ("", "malformed"),
        ("status_p95_ms < 250 ms", "malformed"),
    ],
)
def test_parse_malformed_is_one_line_config_error(text: str, needle: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_threshold(text)
    message = str(info.value)
    assert needle in message
    assert "\n" not in message
    assert isinstance(info.value, ThresholdError)


def test_evaluate_pass_fail_and_missing_metric() -> None:
    thresholds = [parse_threshold(t) for t in ("status_p95_ms < 250", "pings_per_s >= 2000", "query_p95_ms < 50")]
    results = evaluate(thresholds, {"status_p95_ms": 12.0, "pings_per_s": 1999.5, "query_p95_ms": None})
    assert [r.passed for r in results] == [True, False, False]
    assert results[1].observed == 1999.5
    assert results[2].observed is None  # no samples never passes


def test_boundaries_are_strict_or_inclusive_as_written() -> None:
    assert not parse_threshold("failure_ratio < 0.001").holds(0.001)
    assert parse_threshold("failure_ratio <= 0.001").holds(0.001)
    assert not parse_threshold("pings_per_s > 1").holds(float("nan"))


def test_every_metric_has_a_description() -> None:
    assert all(METRICS.values())


def _env_yaml(load_block: str) -> str:
    return (
        "name: t\ntier: dev\nminecraft:\n  discovery:\n    kind: static\n    servers: [{host: 127.0.0.1}]\n"
        + load_block
    )


def test_environment_with_malformed_threshold_is_one_line_config_error() -> None:
    text = _env_yaml("load:\n  thresholds: ['status_p95_ms <<< 250']\n")
    with pytest.raises(ConfigError) as info:
        parse_environment(text, Path("environments/t.yaml"))
    message = str(info.value)
    assert "load.thresholds" in message
    assert "malformed" in message
    assert "\n" not in message


def test_environment_load_section_parses_and_is_optional() -> None:
    env = parse_environment(_env_yaml("load:\n  shape: spike\n  users: 50\n"), Path("t.yaml"))
    assert env.load is not None
    assert (env.load.shape, env.load.users) == ("spike", 50)
    assert parse_environment(_env_yaml(""), Path("t.yaml")).load is None


@pytest.mark.parametrize("bad", ["shape: wave", "users: 0", "duration_s: -1", "unknown_field: 1"])
def test_bad_load_settings_rejected(bad: str) -> None:
    with pytest.raises(ConfigError, match="load"):
        parse_environment(_env_yaml(f"load:\n  {bad}\n"), Path("t.yaml"))


def test_settings_frozen() -> None:
    settings = LoadSettings()
    with pytest.raises(ValueError, match="frozen"):
        settings.users = 3  # type: ignore[misc]


def test_settings_module_does_not_import_config() -> None:
    import mcproof.load.settings as module

    source = Path(module.__file__).read_text(encoding="utf-8")
    assert "mcproof.config" not in source.replace("`mcproof.config`", "")
