"""Experiments take their namespace and selector from the environment, and name the capabilities they need."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mcproof.chaos.experiment import _load
from mcproof.chaos.library import bind_environment, describe, experiment_files, find_experiment
from mcproof.config import parse_environment
from mcproof.errors import ConfigError


def _env(tmp_path: Path, **extra: object) -> object:
    base = {
        "name": "stg",
        "tier": "staging",
        "minecraft": {"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1", "name": "a"}]}},
    }
    return parse_environment(yaml.safe_dump({**base, **extra}), tmp_path / "stg.yaml")


def test_no_library_experiment_hard_codes_a_namespace() -> None:
    for path in experiment_files():
        text = path.read_text()
        assert '"ns": "minecraft"' not in text, path
        assert '"pod_namespace": "minecraft"' not in text, path


def test_the_pod_kill_runs_in_the_environments_namespace_with_its_selector(tmp_path: Path) -> None:
    env = _env(tmp_path, kubernetes={"namespaces": ["tenant-staging"], "label_selector": "game=mc"})
    path = find_experiment("k8s-pod-kill")
    bound = bind_environment(_load(path), env, path.stem)  # type: ignore[arg-type]
    step = describe(bound, path).faults[0]
    assert (step.namespace, step.label_selector) == ("tenant-staging", "game=mc")
    chaos = _env(tmp_path, kubernetes={"namespaces": ["a", "b"]}, chaos={"namespace": "b"})
    assert describe(bind_environment(_load(path), chaos, "x"), path).faults[0].namespace == "b"  # type: ignore[arg-type]


def test_an_experiment_needing_a_value_the_environment_lacks_is_refused(tmp_path: Path) -> None:
    path = find_experiment("k8s-pod-kill")
    with pytest.raises(ConfigError, match=r"sets no chaos\.namespace"):
        bind_environment(_load(path), _env(tmp_path, kubernetes={"label_selector": "x"}), path.stem)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"sets no kubernetes\.label_selector"):
        bind_environment(_load(path), _env(tmp_path), path.stem)  # type: ignore[arg-type]


def test_plans_name_the_fault_capabilities_they_need() -> None:
    needs = {p.stem: dict(describe(_load(p), p).required) for p in experiment_files()}
    assert {"process.kill", "process.restart"} <= set(needs["kill-one-server"])
    assert "platform_api.outage" in needs["platform-api-outage"]
    assert "path.latency" in needs["network-latency"]
    assert "path.partition" in needs["network-partition"]
