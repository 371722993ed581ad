"""The fault injector: capabilities declared, commands run per server with a deadline, refusals named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from mcproof.config import parse_environment
from mcproof.connect import fault_injector
from mcproof.connect.faults import CommandFaults, NoFaults, capabilities_of
from mcproof.errors import CapabilityMissing, GuardError
from mcproof.target import Target

TARGETS = [Target("a", "127.0.0.1", 25565), Target("b", "127.0.0.2", 25566)]


def test_kill_then_start_runs_each_command_per_server_with_its_address(tmp_path: Path) -> None:
    log = tmp_path / "log"
    faults = CommandFaults(TARGETS, f"echo kill {{id}} {{host}} {{port}} >> {log}", f"echo start {{id}} >> {log}", 5)
    done = faults.inject("kill", ["a", "b"], restart=True)
    assert done.servers == ("a", "b")
    assert done.injector == "command"
    assert log.read_text().splitlines() == ["kill a 127.0.0.1 25565", "kill b 127.0.0.2 25566", "start a", "start b"]
    assert faults.faulted() == []


def test_kill_without_restart_is_undone_by_clear(tmp_path: Path) -> None:
    log = tmp_path / "log"
    faults = CommandFaults(TARGETS, f"echo kill {{id}} >> {log}", f"echo start {{id}} >> {log}", 5)
    faults.inject("kill", ["b"], restart=False)
    assert faults.faulted() == ["b"]
    assert faults.clear(None) == ["b"]
    assert log.read_text().splitlines() == ["kill b", "start b"]
    assert faults.faulted() == []


def test_a_failing_or_hanging_command_is_one_line_naming_the_server() -> None:
    failing = CommandFaults(TARGETS, "echo nope >&2; exit 3", None, 5)
    with pytest.raises(GuardError, match=r"fault command for a exited 3 \(nope\)"):
        failing.inject("kill", ["a"], restart=False)
    hanging = CommandFaults(TARGETS, "sleep 5", None, 0.2)
    with pytest.raises(GuardError, match=r"did not finish in 0\.2s"):
        hanging.inject("kill", ["a"], restart=False)


def test_unknown_servers_and_missing_capabilities_are_refused() -> None:
    faults = CommandFaults(TARGETS, "true", None, 5)
    with pytest.raises(GuardError, match="not one of this environment's targets"):
        faults.inject("kill", ["zzz"], restart=False)
    with pytest.raises(CapabilityMissing, match=r"'process\.restart'"):
        faults.inject("kill", ["a"], restart=True)  # no start command: nothing can bring it back
    with pytest.raises(CapabilityMissing, match=r"'process\.hang'"):
        faults.inject("hang", ["a"])
    with pytest.raises(CapabilityMissing, match="offers: none"):
        NoFaults().require("process.kill", "kill_servers")


def test_the_environment_picks_its_injector(tmp_path: Path) -> None:
    base = {
        "name": "x",
        "tier": "dev",
        "minecraft": {"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1", "name": "a"}]}},
    }
    plain = parse_environment(yaml.safe_dump(base), tmp_path / "x.yaml")
    assert isinstance(fault_injector(plain), NoFaults)
    assert capabilities_of(plain, fault_injector(plain)) == {"path.latency", "path.loss", "path.partition"}
    declared = parse_environment(
        yaml.safe_dump({**base, "faults": {"kind": "command", "kill": "true", "start": "true"}}), tmp_path / "x.yaml"
    )
    injector = fault_injector(declared)
    assert isinstance(injector, CommandFaults)
    assert {"process.kill", "process.restart"} <= capabilities_of(declared, injector)
    assert fault_injector(declared) is injector  # one per environment, so a rollback knows what was killed
