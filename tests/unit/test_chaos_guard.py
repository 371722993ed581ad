"""Guards (one-line refusals), victim selection, the chaos settings section and the experiment library."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mcproof.chaos import guard
from mcproof.chaos.library import describe, experiment_files
from mcproof.chaos.scope import parse_selector, select_victims, victim_count
from mcproof.config import Environment, parse_environment
from mcproof.connect.targets import Target
from mcproof.errors import ConfigError, GuardError

ROOT = Path(__file__).resolve().parents[2]


def _env(tier: str = "dev", **extra: object) -> Environment:
    data = {
        "name": "t",
        "tier": tier,
        "minecraft": {"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1"}]}},
        "guards": {"allowed_namespaces": ["minecraft"]},
        **extra,
    }
    return parse_environment(yaml.safe_dump(data), Path("t.yaml"))


def _one_line(err: pytest.ExceptionInfo[GuardError]) -> str:
    text = str(err.value)
    assert "\n" not in text
    assert text
    return text


def test_refuses_namespace_outside_allow_list() -> None:
    with pytest.raises(GuardError) as err:
        guard.check_namespace(_env(), "kube-system", "pod-kill")
    assert "namespace 'kube-system' is not in guards.allowed_namespaces (minecraft)" in _one_line(err)
    guard.check_namespace(_env(), "minecraft", "pod-kill")
    guard.check_namespace(_env(), None, "kill")


def test_refuses_over_blast_radius() -> None:
    env = _env(chaos={"max_blast_radius": 0.1})
    with pytest.raises(GuardError) as err:
        guard.check_blast_radius(env, 4, 20, "kill-20-percent")
    assert "would affect 4 of 20 servers (20%) but the blast radius limit is 10%" in _one_line(err)
    guard.check_blast_radius(env, 2, 20, "kill-10")
    guard.check_blast_radius(_env(), 4, 20, "kill-20-percent")  # default guards.max_blast_radius 0.2


def test_refuses_production_without_allowance_or_ack() -> None:
    plain = _env("production")
    with pytest.raises(GuardError) as err:
        guard.check_tier(plain, "kill-one-server", ["dev", "production"], acknowledged=True)
    assert "chaos.allow_production: true" in _one_line(err)
    allowed = _env("production", chaos={"allow_production": True, "allowed_experiments": ["kill-one-server"]})
    with pytest.raises(GuardError) as err:
        guard.check_tier(allowed, "kill-one-server", ["production"], acknowledged=False)
    assert "without --ack-production" in _one_line(err)
    guard.check_tier(allowed, "kill-one-server", ["production"], acknowledged=True)


def test_refuses_untagged_tier_and_unlisted_experiment() -> None:
    with pytest.raises(GuardError) as err:
        guard.check_tier(_env("staging"), "x", ["dev"], acknowledged=False)
    assert "tagged for tiers dev but environment 't' is tier staging" in _one_line(err)
    with pytest.raises(GuardError) as err:
        guard.check_tier(_env(chaos={"allowed_experiments": ["a"]}), "b", ["dev"], acknowledged=False)
    assert "not in chaos.allowed_experiments" in _one_line(err)


def test_refuses_labels_outside_allow_list() -> None:
    env = _env(chaos={"allowed_labels": {"app": "minecraft"}})
    with pytest.raises(GuardError) as err:
        guard.check_labels(env, parse_selector("app=proxy"), "pod-kill")
    assert "must include app=minecraft" in _one_line(err)
    guard.check_labels(env, parse_selector("app=minecraft,tier=gold"), "pod-kill")


def test_victim_selection_is_seeded_and_bounded() -> None:
    targets = [Target(id=f"mc-{i:05d}", host="127.0.0.1", port=1000 + i) for i in range(20)]
    a = select_victims(targets, share=0.2, seed=7)
    assert len(a) == 4
    assert a == select_victims(targets, share=0.2, seed=7)
    assert [t.id for t in a] == sorted(t.id for t in a)
    assert victim_count(20, count=50) == 20
    with pytest.raises(ConfigError):
        victim_count(20)
    with pytest.raises(ConfigError):
        select_victims(targets, count=1, namespace="nope")


def test_settings_section_is_validated() -> None:
    assert _env(chaos={"observer_interval_s": 0.25}).chaos is not None
    with pytest.raises(ConfigError, match=r"chaos\.observer_interval_s"):
        _env(chaos={"observer_interval_s": 0})
    with pytest.raises(ConfigError, match=r"chaos\.bogus"):
        _env(chaos={"bogus": 1})


def test_library_has_hypothesis_rollbacks_and_tier_tags() -> None:
    files = experiment_files()
    names = {p.stem for p in files}
    assert {
        "kill-one-server",
        "kill-20-percent",
        "network-latency",
        "network-partition",
        "k8s-pod-kill",
        "k8s-node-drain",
        "platform-api-outage",
    } <= names
    import json

    for path in files:
        experiment = json.loads(path.read_text())
        plan = describe(experiment, path)
        assert plan.tiers, path.name
        assert plan.rollbacks, path.name
        assert experiment["steady-state-hypothesis"]["probes"], path.name
        assert plan.faults or plan.fault_path or plan.needs_platform_api, path.name
    assert describe(json.loads((files[0].parent / "k8s-pod-kill.json").read_text()), files[0]).needs_kubernetes


@pytest.mark.parametrize("path", experiment_files(), ids=lambda p: p.stem)
def test_chaos_validate_accepts_every_experiment(path: Path) -> None:
    chaos = Path(sys.executable).parent / "chaos"
    done = subprocess.run(
        [str(chaos), "--no-log-file", "validate", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "experiment syntax and semantic look valid" in done.stdout + done.stderr
