"""A mixed fleet: each static server may declare its own expected version/protocol over `minecraft.expect`."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.config import ExpectedVersion, parse_environment
from mcproof.connect import discover_targets
from mcproof.load.locust_process import version_problem
from mcproof.load.plan import load_config_for

MIXED = """
name: mixed
tier: dev
minecraft:
  discovery:
    kind: static
    servers:
      - {name: old, host: 127.0.0.1, port: 25565}
      - {name: new, host: 127.0.0.1, port: 25566, expect: {name: "26.2", protocol: 776}}
      - {host: 127.0.0.1, port: 25567, expect: {protocol: 770}}
  expect: {name: "1.21.4", protocol: 769}
"""


def test_each_server_gets_its_own_expectation_over_the_environments() -> None:
    env = parse_environment(MIXED, Path("mixed.yaml"))
    settings = env.minecraft
    assert settings.expect_for("old") == ExpectedVersion(name="1.21.4", protocol=769)
    assert settings.expect_for("new") == ExpectedVersion(name="26.2", protocol=776)
    assert settings.expect_for("127.0.0.1:25567") == ExpectedVersion(name="1.21.4", protocol=770)  # name inherited
    assert settings.expect_for("not-listed") == settings.expect
    assert settings.expects_version


def test_load_targets_carry_their_expectation() -> None:
    env = parse_environment(MIXED, Path("mixed.yaml"))
    config = load_config_for(env, discover_targets(env), users=3, duration_s=2)
    by_id = {t.id: (t.expect_version, t.expect_protocol) for t in config.targets}
    assert by_id == {"old": ("1.21.4", 769), "new": ("26.2", 776), "127.0.0.1:25567": ("1.21.4", 770)}
    assert type(config).from_dict(config.as_dict()).targets == config.targets  # survives the trip to Locust


def test_a_per_server_expectation_alone_counts_as_an_expectation() -> None:
    text = MIXED.replace('  expect: {name: "1.21.4", protocol: 769}\n', "")
    settings = parse_environment(text, Path("mixed.yaml")).minecraft
    assert not settings.expect.is_set
    assert settings.expects_version
    assert settings.expect_for("old") == ExpectedVersion()


@pytest.mark.parametrize(
    ("reported", "expect", "problem"),
    [
        (("26.2", 776), ("26.2", 776), None),
        (("26.2", 776), ("1.21.4", 769), "reported '26.2'/776, expected '1.21.4'/769"),
    ],
)
def test_version_problem(reported: tuple[str, int], expect: tuple[str, int], problem: str | None) -> None:
    assert version_problem(*reported, *expect) == problem
