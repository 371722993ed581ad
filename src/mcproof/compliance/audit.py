"""The Kubernetes API server's audit log as compliance evidence: who changed what, with an audit ID.

The log is JSON lines of ``audit.k8s.io/v1`` Events. :func:`admin_actions` (pure) keeps the mutating
ones (create, update, patch, delete, deletecollection) at stage ``ResponseComplete`` and says which
lack the user or the audit ID. :func:`apiserver_audit_log` finds the file: ``compliance.
apiserver_audit_log`` when set, else the environment's embedded cluster's log, else None.

Example::

    >>> line = '{"kind":"Event","stage":"ResponseComplete","verb":"delete","auditID":"a1",'
    >>> line += '"user":{"username":"admin"},"objectRef":{"resource":"pods","namespace":"t","name":"p"}}'
    >>> admin_actions([line]).actions, admin_actions([line]).users
    (1, ('admin',))
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mcproof.compliance.settings import ComplianceSettings
from mcproof.config import Environment

__all__ = ["AuditSummary", "admin_actions", "apiserver_audit_log"]

MUTATING = frozenset({"create", "update", "patch", "delete", "deletecollection"})


@dataclass(frozen=True)
class AuditSummary:
    events: int
    actions: int  # mutating events that completed
    without_user: int
    without_id: int
    users: tuple[str, ...]
    unparsable: int


def admin_actions(lines: Iterable[str]) -> AuditSummary:
    """Count the completed mutating requests in audit-log lines and the ones missing who or which."""
    events = actions = no_user = no_id = bad = 0
    users: set[str] = set()
    for line in lines:
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            bad += 1
            continue
        if not isinstance(event, dict) or event.get("kind") != "Event":
            bad += 1
            continue
        events += 1
        if event.get("verb") not in MUTATING or event.get("stage", "ResponseComplete") != "ResponseComplete":
            continue
        actions += 1
        user = str((event.get("user") or {}).get("username") or "")
        if user:
            users.add(user)
        else:
            no_user += 1
        if not event.get("auditID"):
            no_id += 1
    return AuditSummary(events, actions, no_user, no_id, tuple(sorted(users)), bad)


def apiserver_audit_log(env: Environment, settings: ComplianceSettings) -> Path | None:
    """``settings.apiserver_audit_log`` (resolved), else the embedded cluster's audit log, else None."""
    from mcproof.connect.kubernetes import apiserver_audit_log as audit_log

    return audit_log(env, settings.apiserver_audit_log)
