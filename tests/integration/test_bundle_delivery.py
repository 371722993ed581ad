"""Delivery files: GitHub workflows pass `actionlint` (when installed) and a structural schema check;
the GitLab pipeline, Dockerfile and `deploy/` manifests are well-formed and least-privilege.

actionlint is a Go module: `go install github.com/rhysd/actionlint/cmd/actionlint@<version>` with
GOBIN=$MCPROOF_CACHE/actionlint/bin (found there, on PATH, or via $MCPROOF_ACTIONLINT).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
CACHE = Path(os.environ.get("MCPROOF_CACHE", Path.home() / ".cache" / "mcproof"))
EXPECTED_WORKFLOWS = {"deploy-gate.yml", "nightly-load.yml", "weekly-gameday.yml", "release-signoff.yml"}


def _actionlint() -> str | None:
    for candidate in (os.environ.get("MCPROOF_ACTIONLINT"), CACHE / "actionlint" / "bin" / "actionlint"):
        if candidate and Path(candidate).is_file():
            return str(candidate)
    return shutil.which("actionlint")


def _load_all(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def test_every_expected_workflow_exists() -> None:
    assert {p.name for p in WORKFLOWS} == EXPECTED_WORKFLOWS


def test_workflows_pass_actionlint() -> None:
    binary = _actionlint()
    if binary is None:
        pytest.skip(
            "actionlint not installed (go install github.com/rhysd/actionlint/cmd/actionlint); "
            "the structural check below still runs"
        )
    done = subprocess.run(
        [binary, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_structure(path: Path) -> None:
    """The schema subset that matters: triggers, bounded jobs, steps that use or run, pinned actions."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    triggers = doc.get(True, doc.get("on"))  # YAML 1.1 reads a bare `on` key as True
    assert triggers, f"{path.name}: no triggers"
    assert doc["permissions"], f"{path.name}: set least-privilege permissions"
    for name, job in doc["jobs"].items():
        assert job["runs-on"], name
        assert 0 < job["timeout-minutes"] <= 120, f"{path.name}:{name} must be bounded"
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), f"{path.name}:{name}: {step}"
            if "uses" in step:
                assert "@" in step["uses"], f"{path.name}: pin {step['uses']}"
    text = path.read_text(encoding="utf-8")
    assert "secrets." not in "".join(line for line in text.splitlines() if "echo" in line), "never echo a secret"


def test_release_signoff_bundles_verifies_and_uploads() -> None:
    steps = yaml.safe_load((ROOT / ".github/workflows/release-signoff.yml").read_text())["jobs"]["signoff"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "mcproof signoff" in runs
    assert "mcproof bundle" in runs
    assert "mcproof verify" in runs
    assert any(s.get("uses", "").startswith("actions/upload-artifact@") for s in steps)
    assert "evidence-bundle.tar.gz" in runs


def test_gitlab_pipeline_has_the_same_jobs() -> None:
    doc = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())
    jobs = {k: v for k, v in doc.items() if isinstance(v, dict) and "script" in v}
    assert set(jobs) == {"deploy-gate", "nightly-load", "gameday", "release-signoff"}
    for name, job in jobs.items():
        assert job["stage"] in doc["stages"], name
        assert job["rules"], name
        assert job["timeout"], name
    assert any("mcproof bundle" in line for line in jobs["release-signoff"]["script"])


def test_dockerfile_runs_unprivileged() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "USER 10001" in text
    assert 'ENTRYPOINT ["mcproof"]' in text
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "reports", "*.pem", ".git"} <= set(ignored)


def test_deploy_manifests_are_least_privilege() -> None:
    docs = [doc for path in sorted((ROOT / "deploy").glob("*.yaml")) for doc in _load_all(path)]
    kinds = {(d["kind"], d["metadata"].get("name") or d["metadata"].get("generateName")) for d in docs}
    assert ("Job", "mcproof-signoff-") in kinds
    assert ("CronJob", "mcproof-gameday") in kinds
    assert {("Deployment", "mcproof-locust-master"), ("Deployment", "mcproof-locust-worker")} <= kinds
    accounts = {d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"}
    assert {"mcproof", "mcproof-gameday", "mcproof-locust"} <= accounts
    for role in (d for d in docs if d["kind"] in {"Role", "ClusterRole"}):
        for rule in role["rules"]:
            assert "*" not in rule["verbs"] + rule["resources"] + rule["apiGroups"], role["metadata"]["name"]
            assert "secrets" not in rule["resources"]
            if role["kind"] == "ClusterRole":  # cluster-wide: reads only (proven live in test_deploy_rbac.py)
                assert set(rule["verbs"]) <= {"get", "list", "watch"}, role["metadata"]["name"]
    read_only = next(d for d in docs if d["kind"] == "Role" and d["metadata"]["name"] == "mcproof-discovery")
    assert {v for r in read_only["rules"] for v in r["verbs"]} == {"get", "list", "watch"}
    for workload in (d for d in docs if d["kind"] in {"Job", "Deployment", "CronJob"}):
        spec = workload["spec"]
        pod = (spec["jobTemplate"]["spec"] if workload["kind"] == "CronJob" else spec)["template"]["spec"]
        assert pod["serviceAccountName"] in accounts
        assert pod["securityContext"]["runAsNonRoot"] is True
        for container in pod["containers"]:
            assert container["securityContext"]["allowPrivilegeEscalation"] is False
            assert container["resources"]["limits"]
