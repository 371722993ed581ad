"""Environment files: valid ones load, every malformed one gives one actionable line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.config import Tier, load_environment, parse_environment
from mcproof.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]

MINIMAL = """
name: t1
tier: staging
minecraft:
  discovery: {kind: static, servers: [{host: 127.0.0.1, port: 25565}]}
"""


def _error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse_environment(text, Path("envs/bad.yaml"))
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("envs/bad.yaml")
    return message


@pytest.mark.parametrize("name", ["local", "staging.example", "production.example"])
def test_shipped_environments_load(name: str) -> None:
    env = load_environment(str(ROOT / "environments" / f"{name}.yaml"))
    assert env.slo.availability == 0.999
    # local evidences its sandbox's 1,000 servers; the 10,000-server proof is bench/capacity.yaml
    assert env.slo.concurrent_servers == (1_000 if name == "local" else 10_000)


def test_minimal_file_gets_slo_defaults() -> None:
    env = parse_environment(MINIMAL, Path("x.yaml"))
    assert env.tier is Tier.STAGING
    assert env.slo.mttr_s == 900
    assert env.minecraft.discovery.kind == "static"
    assert not env.uses_sandbox


def test_malformed_yaml_names_line() -> None:
    message = _error("name: x\ntier: [dev\n")
    assert "malformed YAML" in message
    assert "line" in message


def test_missing_field_is_named() -> None:
    message = _error("name: x\ntier: dev\n")
    assert "field minecraft" in message
    assert "missing" in message


def test_wrong_type_shows_expected_and_found() -> None:
    message = _error(MINIMAL.replace("port: 25565", "port: abc"))
    assert "port" in message
    assert "integer" in message
    assert "'abc'" in message


def test_slo_out_of_range() -> None:
    message = _error(MINIMAL + "slo: {availability: 1.5}\n")
    assert "slo.availability" in message
    assert "1.5" in message


def test_unknown_key_rejected() -> None:
    message = _error(MINIMAL + "slos: {}\n")
    assert "slos" in message


def test_not_a_mapping() -> None:
    message = _error("- a\n- b\n")
    assert "expected a mapping" in message


def test_unknown_environment_lists_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPROOF_ENVIRONMENTS_DIR", str(ROOT / "environments"))
    with pytest.raises(ConfigError) as info:
        load_environment("nonexistent")
    assert "unknown environment 'nonexistent'" in str(info.value)
    assert "local" in str(info.value)


def test_missing_path() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_environment("/nonexistent/env.yaml")


def test_sandbox_discovery_needs_sandbox_section() -> None:
    text = "name: x\ntier: dev\nminecraft:\n  discovery: {kind: sandbox}\n"
    assert "sandbox" in _error(text)


def test_secret_reference_needs_exactly_one_source() -> None:
    text = MINIMAL + "  rcon: {enabled: true, password: {env: A, file: b}}\n"
    assert "exactly one" in _error(text)


def test_snapshot_keeps_references_not_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCPROOF_T_RCON", "s3cret-value")
    env = parse_environment(MINIMAL + "  rcon: {enabled: true, password: {env: MCPROOF_T_RCON}}\n", Path("x.yaml"))
    snapshot = str(env.snapshot())
    assert "MCPROOF_T_RCON" in snapshot
    assert "s3cret-value" not in snapshot
