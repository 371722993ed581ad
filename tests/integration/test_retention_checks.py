"""Retention checks of the compliance suite against a real platform API and a real kube-apiserver:
the sandbox defaults meet the catalog (30 days of backups, 90 days of logs); a too-short backup policy,
platform audit rotation or apiserver ``--audit-log-maxage`` makes the check FAIL naming the setting and
the fix. ``GET /v1/backups/policy`` and ``GET /v1/audit/policy`` are read-only and need a token."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof.compliance.retention import apiserver_args, apiserver_audit_retention
from mcproof.compliance.settings import ComplianceSettings
from mcproof.config import load_environment
from mcproof.platform.client import PlatformClient
from mcproof.secrets import SecretRef
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.platform.audit import AuditLog
from mcproof_sandbox.platform.control import PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
WEAK = EngineConfig(environment="itest", autosave_s=0.5, filler_bytes=4096, keep_daily=7, audit_max_age_days=30)
SHORT_APISERVER = """\
# kube-apiserver static pod manifest (excerpt)
spec:
  containers:
  - command:
    - kube-apiserver
    - --audit-log-path=/var/log/kubernetes/audit.log
    - --audit-log-maxage=7
"""


def _run(sandbox: Sandbox, tmp_path: Path, config: EngineConfig, **compliance: str) -> dict[str, dict[str, str]]:
    services = PlatformServices(sandbox.state_dir)
    info = services.up(config, timeout=30)
    try:
        client = PlatformClient(info.url, SecretRef(file=info.token_file("alpha")).resolve(), ca_file=info.ca_file)
        assert client.request("GET", "/v1/backups/policy", auth=False).status_code == 401
        policy = client.backup_policy()
        assert (policy["keep_daily"], policy["tool"]) == (config.keep_daily, "restic")
        reports = tmp_path / "reports"
        env = write_environment(
            tmp_path / "env.yaml", sandbox.state_dir, compliance={"reports_dir": str(reports), **compliance}
        )
        run = run_suite(env, reports, "-k", "retention", suite="compliance", timeout=90)
    finally:
        services.down()
    outcomes = check_outcomes(run)
    return {k: {"outcome": v["outcome"], "message": str(v.get("message", ""))} for k, v in outcomes.items()}


def test_sandbox_defaults_meet_the_catalog(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    out = _run(
        sandbox_factory(servers=2), tmp_path, EngineConfig(environment="itest", autosave_s=0.5, filler_bytes=4096)
    )
    assert out["test_backup_retention_meets_catalog"]["outcome"] == "passed", out
    assert out["test_log_retention_meets_catalog"]["outcome"] == "passed", out


def test_short_retention_fails_naming_setting_and_fix(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    manifest = tmp_path / "kube-apiserver.yaml"
    manifest.write_text(SHORT_APISERVER, encoding="utf-8")
    out = _run(sandbox_factory(servers=2), tmp_path, WEAK, apiserver_args_file=str(manifest))
    backups = out["test_backup_retention_meets_catalog"]
    assert backups["outcome"] == "failed"
    assert "covers 7 day(s) < catalog retention.backups_days=30" in backups["message"]
    assert "set keep_daily >= 30" in backups["message"]
    logs = out["test_log_retention_meets_catalog"]
    assert logs["outcome"] == "failed"
    assert (
        "apiserver audit log keeps 7 day(s) < catalog retention.logs_days=90 (--audit-log-maxage=7" in logs["message"]
    )
    assert "--audit-log-maxage>=90" in logs["message"]
    assert str(manifest) in logs["message"]
    assert "platform audit log keeps 30 day(s)" in logs["message"]
    assert "audit_max_age_days >= 90" in logs["message"]


def test_no_platform_and_no_cluster_skips_with_reason(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    env = write_environment(tmp_path / "env.yaml", tmp_path / "no-sandbox", compliance={"reports_dir": str(reports)})
    out = check_outcomes(run_suite(env, reports, "-k", "retention", suite="compliance", timeout=60))
    assert out["test_backup_retention_meets_catalog"]["outcome"] == "skipped"
    assert "no platform API" in str(out["test_backup_retention_meets_catalog"]["message"])
    assert out["test_log_retention_meets_catalog"]["outcome"] == "skipped"
    assert "declare where to read them" in str(out["test_log_retention_meets_catalog"]["message"])


def test_audit_log_rotation_drops_only_old_entries(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    old = {"time": "2020-01-01T00:00:00.000Z", "action": "POST servers", "correlation_id": "a" * 8}
    path.write_text(json.dumps(old) + "\n", encoding="utf-8")
    AuditLog(path)  # 0: never rotated
    assert len(path.read_text().splitlines()) == 1
    log = AuditLog(path, max_age_days=30)
    assert path.read_text() == ""
    log.record(actor="a", tenant="t", action="POST x", target="/x", result="ok", correlation_id="c" * 8, status=201)
    AuditLog(path, max_age_days=30)
    assert len(log.entries()) == 1


@pytest.mark.kubernetes
def test_embedded_apiserver_runs_with_catalog_audit_retention(
    embedded_cluster: EmbeddedCluster, tmp_path: Path
) -> None:
    """The check reads the running kube-apiserver's command line: --audit-log-maxage=90, maxbackup 0."""
    sandbox_dir = tmp_path / "sandbox"
    sandbox_dir.mkdir()
    (sandbox_dir / "kube").symlink_to(embedded_cluster.state_dir)  # the environment's <sandbox>/kube
    reports = tmp_path / "reports"
    env_file = write_environment(
        tmp_path / "env.yaml",
        sandbox_dir,
        kubernetes={"embedded": {"nodes": 1}},
        compliance={"reports_dir": str(reports)},
    )
    found = apiserver_args(load_environment(str(env_file)), ComplianceSettings())
    assert found is not None
    args, source = found
    assert source.startswith("kube-apiserver process ")
    assert apiserver_audit_retention(args).days == 90
    out = check_outcomes(run_suite(env_file, reports, "-k", "log_retention", suite="compliance", timeout=60))
    assert out["test_log_retention_meets_catalog"]["outcome"] == "passed", out
