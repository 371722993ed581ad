"""The security suite against a real sandbox: the hardened configuration passes; the weak variant
(RCON exposed with a default password, weak manifests) FAILS each check naming the object and the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof.security.checkov import checkov_path
from mcproof.security.settings import DEFAULT_RCON_PASSWORDS
from mcproof_sandbox.fleet import Sandbox, read_rcon_password

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
ROOT = Path(__file__).resolve().parents[2]
HAVE_CHECKOV = checkov_path().is_file()


def _security(manifests: str, *, rcon: str) -> dict[str, Any]:
    rcon_rule = {"name": "rcon", "protocol": "tcp", "role": "rcon"}
    return {
        "exposure": {
            "public": [
                {"name": "slp", "protocol": "tcp", "role": "slp"},
                {"name": "query", "protocol": "udp", "role": "query"},
            ],
            "forbidden": [rcon_rule] if rcon == "forbidden" else [],
            "management": []
            if rcon == "forbidden"
            else [{**rcon_rule, "reason": "test: harness is the management plane"}],
            "connect_timeout_s": 0.5,
        },
        "rcon_servers": 5,
        "timeout_s": 2.0,
        "fuzz": {"cases": 20, "servers": 2, "read_timeout_s": 0.2},
        "manifests": {"directory": str(ROOT / "fixtures" / "manifests" / manifests)},
    }


def test_hardened_sandbox_passes(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=8)
    assert read_rcon_password(sandbox.state_dir) not in DEFAULT_RCON_PASSWORDS
    env = write_environment(tmp_path / "env.yaml", sandbox.state_dir, security=_security("hardened", rcon="management"))
    run = run_suite(env, tmp_path / "reports", suite="security", timeout=120)
    outcomes = check_outcomes(run)
    assert run.code == 0, run.output
    passed = {name for name, o in outcomes.items() if o["outcome"] == "passed"}
    assert {
        "test_public_ports_answer",
        "test_rcon_refuses_default_passwords",
        "test_rcon_password_not_weak",
        "test_malformed_packets_do_not_take_servers_down",
        "test_manifest_kubernetes_policy",
    } <= passed, outcomes
    if HAVE_CHECKOV:
        assert "test_checkov_manifests" in passed
    skipped = {name: o["message"] for name, o in outcomes.items() if o["outcome"] == "skipped"}
    assert "no must-not-be-reachable ports declared" in skipped["test_non_public_ports_unreachable"]
    assert "test: harness is the management plane" in skipped["test_non_public_ports_unreachable"]
    assert "no kubernetes section" in skipped["test_no_cluster_admin_for_workloads"]
    assert "no sandbox platform API runs" in skipped["test_api_requires_token"]
    assert "no TLS endpoint declared" in skipped["test_tls_endpoints"]
    records = run.evidence()
    exposure = next(r for r in records if r["type"] == "exposure")
    assert exposure["hosts_scanned"] == 8
    assert exposure["violations"] == []
    assert len(exposure["accepted"]) == 8
    assert exposure["counts"]["slp/tcp:open"] == 8
    assert exposure["counts"]["query/udp:open"] == 8
    fuzz = next(r for r in records if r["type"] == "fuzz")
    assert fuzz["passed"] is True
    assert len(fuzz["cases"]) == 20
    assert all(s["alive_after"] for s in fuzz["servers"])
    password = read_rcon_password(sandbox.state_dir)
    assert password not in (run.run_dir / "evidence.jsonl").read_text()  # type: ignore[operator]


def test_weak_sandbox_fails_naming_objects_and_fixes(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=6, rcon_password="minecraft")
    env = write_environment(tmp_path / "env.yaml", sandbox.state_dir, security=_security("weak", rcon="forbidden"))
    run = run_suite(env, tmp_path / "reports", suite="security", timeout=120)
    assert run.code == 1, run.output
    outcomes = check_outcomes(run)

    exposure = outcomes["test_non_public_ports_unreachable"]
    assert exposure["outcome"] == "failed"
    assert "6 of 6 must-not-be-reachable ports are reachable" in exposure["message"]
    assert "mc-00000: rcon " in exposure["message"]
    assert "NetworkPolicy" in exposure["message"]

    rcon = outcomes["test_rcon_refuses_default_passwords"]
    assert rcon["outcome"] == "failed"
    assert "accept a default RCON password" in rcon["message"]
    assert "mc-00000" in rcon["message"]
    assert "default #1" in rcon["message"]
    assert "random RCON password" in rcon["message"]

    weak = outcomes["test_rcon_password_not_weak"]
    assert weak["outcome"] == "failed"
    assert "well-known default" in weak["message"]

    policy = outcomes["test_manifest_kubernetes_policy"]
    assert policy["outcome"] == "failed"
    for fragment in (
        "Deployment/tenant-a/mc-survival container minecraft: runs privileged",
        "image 'itzg/minecraft-server:latest' is not pinned",
        "env RCON_PASSWORD holds a literal secret value",
        "Namespace/tenant-a: label pod-security.kubernetes.io/enforce",
        "no default-deny NetworkPolicy",
        "binds ServiceAccount tenant-a/default to cluster-admin",
    ):
        assert fragment in policy["message"], fragment
    if HAVE_CHECKOV:
        checkov = outcomes["test_checkov_manifests"]
        assert checkov["outcome"] == "failed"
        assert "CKV_K8S_16 Deployment.tenant-a.mc-survival" in checkov["message"]
        scan = next(r for r in run.evidence() if r["type"] == "policy_scan" and r["tool"] == "checkov")
        assert scan["passed"] is False
        assert any(f["check_id"] == "CKV_K8S_16" for f in scan["findings"])
    rcon_ev = next(r for r in run.evidence() if r["type"] == "rcon_auth")
    assert rcon_ev["passed"] is False
    assert "minecraft" not in str(rcon_ev["accepted"])
