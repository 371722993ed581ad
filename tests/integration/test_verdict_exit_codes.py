"""Three verdicts end to end through pytest with the mcproof plugin: exit codes, terminal, JUnit, report.

Each case runs a real pytest subprocess on a small check module marked as a suite, against a static
environment whose only server is a closed loopback port (the checks here never connect).
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]

CHECKS = """
import pytest
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.smoke

def test_measured():
    assert 1 + 1 == 2

def test_could_not_measure():
    if "{mode}" in ("inconclusive", "both"):
        inconclusive("fault action failed: GuardError refused", "allow namespace minecraft in guards")

def test_target_broken():
    assert "{mode}" not in ("fail", "both"), "mc-1 answered version 1.8.9, expected 1.21.4"
"""


def _environment(path: Path, waive: bool) -> Path:
    data = {
        "name": "verdicts",
        "tier": "dev",
        "minecraft": {"discovery": {"kind": "static", "servers": [{"host": "127.0.0.1", "port": 9, "name": "mc-1"}]}},
        "slo": {"status_latency_p95_ms": 250, "serving_ratio": 0.999},
    }
    if waive:
        data["waivers"] = [
            {"slo": "status_latency_p95_ms", "reason": "measured by the nightly run", "owner": "sre"},
            {"slo": "serving_ratio", "reason": "measured by the nightly run", "owner": "sre"},
        ]
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _run(tmp_path: Path, mode: str, *, waive: bool = True) -> tuple[int, str, Path]:
    checks = tmp_path / f"test_checks_{mode}.py"
    checks.write_text(CHECKS.replace("{mode}", mode), encoding="utf-8")
    env_file = _environment(tmp_path / "env.yaml", waive)
    reports = tmp_path / "reports"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(checks),
        "--env",
        str(env_file),
        "--reports-dir",
        str(reports),
        "--run-id",
        f"run-{mode}-{int(waive)}",
        "--rootdir",
        str(tmp_path),
        "-p",
        "no:cacheprovider",
        "-rA",
    ]
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    return done.returncode, done.stdout + done.stderr, reports / f"run-{mode}-{int(waive)}"


def _junit_cases(run_dir: Path) -> dict[str, str]:
    cases = {}
    for case in ET.parse(run_dir / "junit.xml").getroot().iter("testcase"):  # noqa: S314 (our own file)
        kinds = [child.tag for child in case if child.tag in {"failure", "error", "skipped"}]
        cases[case.get("name", "")] = kinds[0] if kinds else "passed"
    return cases


def test_all_measured_and_met_is_pass_exit_0(tmp_path: Path) -> None:
    code, output, run_dir = _run(tmp_path, "pass")
    assert code == 0, output
    assert json.loads((run_dir / "report.json").read_text())["verdict"] == "pass"


def test_inconclusive_check_exits_3_and_is_never_shown_as_passed(tmp_path: Path) -> None:
    code, output, run_dir = _run(tmp_path, "inconclusive")
    assert code == 3, output
    assert "INCONCLUSIVE" in output
    assert "fault action failed: GuardError refused" in output
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"] == "inconclusive"
    assert report["counts"]["inconclusive"] == 1
    [failure] = report["failures"]
    assert failure["outcome"] == "inconclusive"
    assert failure["hint"] == "allow namespace minecraft in guards"
    assert _junit_cases(run_dir)["test_could_not_measure"] == "failure"  # JUnit: failed with the reason, not passed
    junit = (run_dir / "junit.xml").read_text()
    assert "INCONCLUSIVE: fault action failed" in junit


def test_failure_exits_1_even_with_an_inconclusive_check(tmp_path: Path) -> None:
    code, output, run_dir = _run(tmp_path, "both")
    assert code == 1, output
    assert json.loads((run_dir / "report.json").read_text())["verdict"] == "fail"


def test_unmeasured_declared_slo_is_inconclusive_exit_3(tmp_path: Path) -> None:
    code, output, run_dir = _run(tmp_path, "pass", waive=False)
    assert code == 3, output
    report = json.loads((run_dir / "report.json").read_text())
    assert report["verdict"] == "inconclusive"
    assert set(report["not_evidenced"]) == {"status_latency_p95_ms", "serving_ratio"}
    assert "SLO serving_ratio declared but not measured" in output
