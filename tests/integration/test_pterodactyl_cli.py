"""`mcproof dr drill` through the Pterodactyl adapter: a drill with figures, and refusals (exit 2, one line)
before anything destructive: a wrong API key, a server identifier the panel does not know, no drill server."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.integration.suite_runs import ROOT, check_outcomes, run_suite, write_environment

from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.pterodactyl_face import identifier_for

pytestmark = pytest.mark.integration

DR = {"backups": 1, "schedule_timeout_s": 15, "warmup_s": 0.5, "settle_s": 0.5, "serving_timeout_s": 15}


@pytest.fixture
def running(sandbox_factory: Callable[..., Sandbox]) -> Any:
    sandbox = sandbox_factory(servers=2, boot_delay_s=0.5)
    services = PlatformServices(sandbox.state_dir)
    info = services.up(
        EngineConfig(environment="itest", autosave_s=0.7, filler_bytes=128 * 1024, backup_interval_s=1.0), timeout=30
    )
    native = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
    server = native.create_server("cli-drill")
    yield sandbox, info, identifier_for(server.id)[0]
    services.down()


def _drill(env_file: Path, reports: Path, **env: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "mcproof.cli",
        "dr",
        "drill",
        "--env",
        str(env_file),
        "--reports-dir",
        str(reports),
        "--keep-platform",
    ]
    return subprocess.run(
        cmd,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **env},
    )


def _env(tmp_path: Path, sandbox: Sandbox, platform: dict[str, Any]) -> Path:
    return write_environment(
        tmp_path / "panel.yaml", sandbox.state_dir, platform=platform, dr=DR, slo={"rpo_s": 30, "rto_s": 30}
    )


def test_drill_cli_through_the_panel_face(running: tuple[Sandbox, PlatformInfo, str], tmp_path: Path) -> None:
    sandbox, _, ident = running
    done = _drill(_env(tmp_path, sandbox, {"kind": "pterodactyl", "server": ident, "poll_s": 0.1}), tmp_path / "r")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    line = next(x for x in done.stdout.splitlines() if x.startswith(f"mcproof: DR drill on {ident}"))
    assert "RPO" in line
    assert "RTO" in line
    assert "integrity ok" in line


def test_wrong_api_key_is_refused_in_one_line(running: tuple[Sandbox, PlatformInfo, str], tmp_path: Path) -> None:
    sandbox, info, ident = running
    platform = {
        "kind": "pterodactyl",
        "url": info.url,
        "ca_file": str(info.ca_file),
        "server": ident,
        "api_key": {"env": "MCPROOF_TEST_PTERO_KEY"},
    }
    wrong = "ptlc_" + "w" * 43
    done = _drill(_env(tmp_path, sandbox, platform), tmp_path / "r", MCPROOF_TEST_PTERO_KEY=wrong)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    errors = [x for x in done.stderr.splitlines() if x.startswith("mcproof: error:")]
    assert len(errors) == 1, done.stderr
    assert "401" in errors[0]
    assert "API key" in errors[0]
    assert "env:MCPROOF_TEST_PTERO_KEY" in errors[0]
    assert wrong not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())  # refused before any run


def test_unknown_or_missing_drill_server_is_refused(running: tuple[Sandbox, PlatformInfo, str], tmp_path: Path) -> None:
    sandbox, _, _ = running
    done = _drill(_env(tmp_path, sandbox, {"kind": "pterodactyl", "server": "deadbeef"}), tmp_path / "r")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "404" in done.stderr
    assert "platform.server" in done.stderr
    assert "Traceback" not in done.stderr
    done = _drill(_env(tmp_path, sandbox, {"kind": "pterodactyl"}), tmp_path / "r")
    assert done.returncode == 2
    assert "cannot create a drill server; set platform.server" in done.stderr


def test_provisioning_load_is_refused_for_the_panel(running: tuple[Sandbox, PlatformInfo, str], tmp_path: Path) -> None:
    sandbox, _, ident = running
    env_file = _env(tmp_path, sandbox, {"kind": "pterodactyl", "server": ident})
    cmd = [
        sys.executable,
        "-m",
        "mcproof.cli",
        "load",
        "--provisioning",
        "--env",
        str(env_file),
        "--reports-dir",
        str(tmp_path / "r"),
    ]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "no create-server route" in done.stderr
    assert "application API" in done.stderr
    suite = run_suite(env_file, tmp_path / "s", "-k", "test_provisioning_time_to_ready", suite="load")
    outcomes = {name: o["outcome"] for name, o in check_outcomes(suite).items()}
    assert outcomes == {"test_provisioning_time_to_ready": "inconclusive"}, suite.output[-3000:]
    assert "no create-server route" in check_outcomes(suite)["test_provisioning_time_to_ready"]["message"]
