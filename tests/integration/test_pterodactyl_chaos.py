"""Chaos through the panel's API for real: Chaos Toolkit runs the ``mcproof.chaos.panel`` actions against the
sandbox's Pterodactyl face (power kill through the panel, the rollback powers it on)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from chaoslib.experiment import run_experiment
from chaoslib.types import Strategy
from tests.integration.suite_runs import write_environment

from mcproof.chaos.effect import FleetSnapshot, fault_effect
from mcproof.chaos.panel import panel_kill_server
from mcproof.dr.drill import wait_serving, wait_stopped
from mcproof.errors import GuardError
from mcproof.platform.adapter import ServerRecord
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.pterodactyl_face import identifier_for

pytestmark = pytest.mark.integration


def _probe(name: str, func: str, tolerance: Any = None, **arguments: Any) -> dict[str, Any]:
    activity: dict[str, Any] = {
        "type": "probe",
        "name": name,
        "provider": {"type": "python", "module": "mcproof.chaos.panel", "func": func, "arguments": arguments},
    }
    if tolerance is not None:
        activity["tolerance"] = tolerance
    return activity


def test_panel_kill_and_start_through_chaostoolkit(sandbox_factory: Callable[..., Sandbox], tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=2, boot_delay_s=0.5)
    services = PlatformServices(sandbox.state_dir)
    try:
        info = services.up(EngineConfig(environment="itest", backup_interval_s=0.0), timeout=30)
        native = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
        created = native.create_server("chaos")
        ident = identifier_for(created.id)[0]
        record = ServerRecord(created.id, "chaos", created.host, created.port, "running")
        assert wait_serving(record, 15) is not None
        env_file = write_environment(
            tmp_path / "panel.yaml", sandbox.state_dir, platform={"kind": "pterodactyl", "server": ident, "poll_s": 0.1}
        )
        experiment = {
            "title": "a server killed through the panel serves again once powered on",
            "description": "panel power kill, the operator's power start; the rollback starts it too",
            "configuration": {"mcproof_env": str(env_file)},
            "steady-state-hypothesis": {
                "title": "running",
                "probes": [_probe("running", "panel_server_running", tolerance=True)],
            },
            "method": [
                {
                    "type": "action",
                    "name": "kill",
                    "provider": {"type": "python", "module": "mcproof.chaos.panel", "func": "panel_kill_server"},
                },
                _probe("running-after-kill", "panel_server_running"),
                {
                    "type": "action",
                    "name": "operator-starts",
                    "provider": {
                        "type": "python",
                        "module": "mcproof.chaos.panel",
                        "func": "panel_start_server",
                        "arguments": {"timeout_s": 20},
                    },
                },
            ],
            "rollbacks": [
                {
                    "type": "action",
                    "name": "start",
                    "provider": {
                        "type": "python",
                        "module": "mcproof.chaos.panel",
                        "func": "panel_start_server",
                        "arguments": {"timeout_s": 20},
                    },
                }
            ],
        }
        journal = run_experiment(
            experiment, settings={"runtime": {"rollbacks": {"strategy": "always"}}}, strategy=Strategy.DEFAULT
        )
        assert journal["status"] == "completed", journal
        assert journal["deviated"] is False
        kill, after, start = journal["run"]
        assert kill["status"] == "succeeded"
        assert kill["output"]["servers"] == [created.id]  # the observer's target id of that allocation
        assert after["output"] is False  # the panel saw it down
        assert start["output"]["state"] == "running"
        [rollback] = journal["rollbacks"]
        assert rollback["status"] == "succeeded"
        assert rollback["output"] == {"server": ident, "state": "running", "waited_s": rollback["output"]["waited_s"]}
        effect = fault_effect(journal, FleetSnapshot((created.id,)))
        assert effect.targets == (created.id,)
        assert wait_serving(record, 15) is not None
        # a kill outside chaoslib really stops it; without a platform section the action refuses with the reason
        panel_kill_server(configuration={"mcproof_env": str(env_file)})
        assert wait_stopped(record, 15) is not None
        plain = write_environment(tmp_path / "plain.yaml", sandbox.state_dir)
        with pytest.raises(GuardError, match="no platform section"):
            panel_kill_server(configuration={"mcproof_env": str(plain)})
    finally:
        services.down()
