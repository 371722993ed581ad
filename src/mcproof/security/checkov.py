"""Checkov over a manifests directory, from its own virtualenv (tools/checkov/install.sh), offline.

Checkov's pins conflict with the harness's venv, so it is never imported: it runs as a subprocess
with ``--skip-download``, ``BC_SKIP_MAPPING=TRUE``, ``CKV_SKIP_PACKAGE_UPDATE_CHECK=TRUE`` and a
dead loopback proxy (any call out that remains fails locally). Exit code 1 means findings, not an
error: the JSON report is parsed either way (:func:`parse_report`, pure).

>>> parse_report('{"check_type": "kubernetes", "results": {"failed_checks": [{"check_id": "CKV_K8S_16",'
...              ' "check_name": "Container should not be privileged", "resource": "Deployment.t.mc",'
...              ' "file_path": "/m.yaml", "file_line_range": [1, 9]}]}, "summary": {"passed": 3}}')[0][0].check_id
'CKV_K8S_16'
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mcproof.errors import McproofError

__all__ = ["CheckovFinding", "CheckovRun", "checkov_path", "parse_report", "run_checkov"]

_INSTALL_HINT = "run tools/checkov/install.sh (tools/bootstrap.sh does) or set security.manifests.checkov"


@dataclass(frozen=True)
class CheckovFinding:
    check_id: str
    check_name: str
    resource: str
    file: str
    lines: list[int]
    framework: str
    guideline: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return (
            f"{self.check_id} {self.resource} ({self.file}:{self.lines[0] if self.lines else '?'}): {self.check_name}"
        )


@dataclass(frozen=True)
class CheckovRun:
    command: list[str]
    exit_code: int
    passed: int
    failed: list[CheckovFinding]
    parsing_errors: int
    resources: int
    version: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "failed": [f.as_dict() for f in self.failed]}


def checkov_path(configured: Path | None = None) -> Path:
    """The checkov executable: configured, else $MCPROOF_CACHE/checkov-venv/bin/checkov."""
    if configured is not None:
        return configured
    cache = os.environ.get("MCPROOF_CACHE") or str(
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "mcproof"
    )
    return Path(cache) / "checkov-venv" / "bin" / "checkov"


def parse_report(text: str) -> tuple[list[CheckovFinding], dict[str, Any]]:
    """Checkov's ``-o json`` (one object, or a list with one per framework) -> (failures, summed summary)."""
    data = json.loads(text) if text.strip() else []
    reports = data if isinstance(data, list) else [data]
    failed: list[CheckovFinding] = []
    summary: dict[str, Any] = {
        "passed": 0,
        "failed": 0,
        "parsing_errors": 0,
        "resource_count": 0,
        "checkov_version": "",
    }
    for report in reports:
        if not isinstance(report, dict):
            continue
        framework = str(report.get("check_type", ""))
        for item in (report.get("results") or {}).get("failed_checks") or []:
            failed.append(
                CheckovFinding(
                    check_id=str(item.get("check_id")),
                    check_name=str(item.get("check_name")),
                    resource=str(item.get("resource")),
                    file=str(item.get("file_path")),
                    lines=[int(x) for x in item.get("file_line_range") or []],
                    framework=framework,
                    guideline=str(item.get("guideline") or ""),
                )
            )
        for key in ("passed", "failed", "parsing_errors", "resource_count"):
            summary[key] += int((report.get("summary") or {}).get(key, 0) or 0)
        summary["checkov_version"] = (report.get("summary") or {}).get("checkov_version", summary["checkov_version"])
    return failed, summary


def run_checkov(
    directory: Path, *, frameworks: list[str], executable: Path | None = None, timeout: float = 180.0
) -> CheckovRun:
    """Scan ``directory``; McproofError (one line, with the fix) when checkov is missing, hangs or breaks."""
    exe = checkov_path(executable)
    if not exe.is_file():
        raise McproofError(f"checkov not found at {exe}; {_INSTALL_HINT}")
    if not directory.is_dir():
        raise McproofError(f"manifests directory {directory} does not exist; fix security.manifests.directory")
    cmd = [
        str(exe),
        "-d",
        str(directory),
        "--framework",
        *frameworks,
        "--skip-download",
        "-o",
        "json",
        "--compact",
        "--quiet",
    ]
    env = {
        **os.environ,
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
        "NO_PROXY": "",
        "LOG_LEVEL": "ERROR",
    }
    env.pop("BC_API_KEY", None)
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, check=False)
    except subprocess.TimeoutExpired:
        raise McproofError(
            f"checkov did not finish within {timeout:g}s on {directory}; raise security.manifests.timeout_s"
        ) from None
    if done.returncode not in (0, 1):
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise McproofError(f"checkov exited {done.returncode} on {directory} ({tail[0][:200]}); {_INSTALL_HINT}")
    try:
        failed, summary = parse_report(done.stdout)
    except json.JSONDecodeError as err:
        raise McproofError(
            f"checkov printed no JSON report ({err}); run the command by hand: {' '.join(cmd)}"
        ) from None
    return CheckovRun(
        command=cmd,
        exit_code=done.returncode,
        passed=int(summary["passed"]),
        failed=failed,
        parsing_errors=int(summary["parsing_errors"]),
        resources=int(summary["resource_count"]),
        version=str(summary["checkov_version"]),
    )
