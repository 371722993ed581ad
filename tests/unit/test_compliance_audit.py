"""The API server audit-log reader, on recorded audit.k8s.io/v1 Event lines (kube-apiserver 1.3x format)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from mcproof.compliance.audit import admin_actions, apiserver_audit_log
from mcproof.compliance.settings import ComplianceSettings
from mcproof.config import Environment

DELETE_POD = {
    "kind": "Event",
    "apiVersion": "audit.k8s.io/v1",
    "level": "Request",
    "auditID": "5a1c2c9e-3f7b-4b0e-9d43-0f5e",
    "stage": "ResponseComplete",
    "requestURI": "/api/v1/namespaces/minecraft/pods/mc-001-0",
    "verb": "delete",
    "user": {"username": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"]},
    "objectRef": {"resource": "pods", "namespace": "minecraft", "name": "mc-001-0", "apiVersion": "v1"},
    "responseStatus": {"metadata": {}, "code": 200},
}
GET_SECRET = {**DELETE_POD, "verb": "get", "level": "Metadata", "objectRef": {"resource": "secrets"}}


def _lines(*events: Mapping[str, object]) -> list[str]:
    return [json.dumps(e) for e in events]


def test_counts_completed_mutating_requests_with_their_users() -> None:
    started = {**DELETE_POD, "stage": "RequestReceived"}
    summary = admin_actions([*_lines(DELETE_POD, GET_SECRET, started), "", "not json"])
    assert (summary.events, summary.actions, summary.unparsable) == (3, 1, 1)
    assert summary.users == ("kubernetes-admin",)
    assert (summary.without_user, summary.without_id) == (0, 0)


def test_flags_actions_without_user_or_audit_id() -> None:
    anonymous = {**DELETE_POD, "user": {}}
    no_id = {k: v for k, v in DELETE_POD.items() if k != "auditID"}
    summary = admin_actions(_lines(anonymous, no_id))
    assert (summary.actions, summary.without_user, summary.without_id) == (2, 1, 1)


def _env(tmp_path: Path, kubernetes: dict[str, object] | None) -> Environment:
    data = {
        "name": "t",
        "tier": "dev",
        "minecraft": {"discovery": {"kind": "sandbox", "state_dir": str(tmp_path)}},
        "sandbox": {},
        "kubernetes": kubernetes,
    }
    return Environment.model_validate(data)


def test_audit_log_path_explicit_then_embedded_then_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCPROOF_STATE_DIR", raising=False)
    env = _env(tmp_path, {"embedded": {}})
    assert apiserver_audit_log(env, ComplianceSettings(apiserver_audit_log=tmp_path / "a.log")) == tmp_path / "a.log"
    assert apiserver_audit_log(env, ComplianceSettings()) is None  # no cluster record yet
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "cluster.json").write_text(json.dumps({"audit_log": "/x/audit.log"}), encoding="utf-8")
    assert apiserver_audit_log(env, ComplianceSettings()) == Path("/x/audit.log")
    assert apiserver_audit_log(_env(tmp_path, None), ComplianceSettings()) is None
