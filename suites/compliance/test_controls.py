"""Compliance: the controls catalog is consistent with the suites, every control is judged against
EVERY record of this run and earlier runs within the catalog's window (mcproof.compliance.score: one
failing record in the window fails the control, naming the record's run; inconclusive records and
checks this run skipped never satisfy), the score per framework counts satisfied / failing /
unevidenced / waived, an unevidenced control not waived in the environment file makes the suite
inconclusive, and the evidence-based controls hold (DR drill and game day within the window, audit logs)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from mcproof.compliance.audit import admin_actions, apiserver_audit_log
from mcproof.compliance.catalog import Catalog, catalog_problems, known_slos, load_catalog, suite_check_names
from mcproof.compliance.score import FAILING, UNEVIDENCED, WAIVED, ScoreResult, gather_runs, score_catalog
from mcproof.compliance.settings import ComplianceSettings
from mcproof.config import Environment
from mcproof.errors import ConfigError
from mcproof.evidence import RunStore
from mcproof.evidence.records import RECORD_TYPES, ComplianceScoreEvidence
from mcproof.paths import project_root
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.compliance


@pytest.fixture(scope="module")
def compliance(environment: Environment) -> ComplianceSettings:
    return environment.compliance or ComplianceSettings()


@pytest.fixture(scope="module")
def catalog_path(compliance: ComplianceSettings, environment: Environment) -> Path:
    path = compliance.catalog
    return path if path.is_absolute() else project_root() / path


@pytest.fixture(scope="module")
def catalog(catalog_path: Path) -> Catalog:
    try:
        return load_catalog(catalog_path)
    except ConfigError as err:
        pytest.fail(str(err), pytrace=False)


def _window(compliance: ComplianceSettings, catalog: Catalog) -> int:
    return compliance.window_days or catalog.window_days


def _records(
    compliance: ComplianceSettings, catalog: Catalog, environment: Environment, evidence: RunStore
) -> tuple[list[dict[str, Any]], list[str]]:
    reports = (
        compliance.reports_dir
        if compliance.reports_dir.is_absolute()
        else environment.base_dir / compliance.reports_dir
    )
    return gather_runs(
        evidence.run_dir, reports, environment=environment.name, window_days=_window(compliance, catalog)
    )


def test_catalog_consistent(catalog: Catalog, environment: Environment) -> None:
    problems = catalog_problems(
        catalog,
        checks=suite_check_names(project_root() / "suites"),
        record_types=set(RECORD_TYPES),
        slos=known_slos(),
    )
    ids = {c.id for c in catalog.controls}
    problems += [
        f"waiver names control {w.control!r}, which is not in the catalog; fix the waiver in {environment.source}"
        for w in environment.waivers
        if w.control is not None and w.control not in ids
    ]
    assert not problems, "; ".join(problems)


# --- retention: backups and logs kept at least as long as the catalog says ----------------------------
# (before `scored`, so this run's outcomes count in this run's score)


def test_backup_retention_meets_catalog(catalog: Catalog, environment: Environment) -> None:
    """The platform's backup retention policy (``GET /v1/backups/policy``) keeps retention.backups_days."""
    from mcproof.compliance.retention import backup_covered_days, backup_retention_problem
    from mcproof.connect.platform import NoPlatformApi, platform_client
    from mcproof.platform.adapter import ApiCallError

    try:
        client = platform_client(environment)
        policy = client.backup_policy()
    except NoPlatformApi as err:
        pytest.skip(f"no platform API to read the backup retention policy from: {err}")
    except ApiCallError as err:
        pytest.fail(f"cannot read the backup retention policy: {err}; the platform must serve GET /v1/backups/policy")
    required = catalog.retention.backups_days
    problem = backup_retention_problem(policy, required)
    print(f"backup retention covers {backup_covered_days(policy):g} day(s), catalog requires {required}: {policy}")
    assert problem is None, problem


def test_log_retention_meets_catalog(
    catalog: Catalog, compliance: ComplianceSettings, environment: Environment
) -> None:
    """The API server's audit log (its ``--audit-log-max*`` flags) and the platform's audit log (its
    rotation policy, ``GET /v1/audit/policy``) keep retention.logs_days."""
    from mcproof.compliance.retention import (
        apiserver_args,
        apiserver_audit_retention,
        log_retention_problem,
        platform_audit_retention,
    )
    from mcproof.connect.platform import NoPlatformApi, platform_client
    from mcproof.platform.adapter import ApiCallError

    required = catalog.retention.logs_days
    problems: list[str] = []
    checked: list[str] = []
    try:
        found = apiserver_args(environment, compliance)
    except OSError as err:
        pytest.fail(f"cannot read the API server's flags ({err}); check compliance.apiserver_args_file", pytrace=False)
    if found is not None:
        args, source = found
        kept = apiserver_audit_retention(args)
        checked.append(f"{kept.log} from {source}: {kept.setting}")
        problem = log_retention_problem(
            kept,
            required,
            f"run kube-apiserver with --audit-log-maxage>={required} and --audit-log-maxbackup=0 "
            "(or ship the audit log to a store that keeps it that long)",
        )
        if problem:
            problems.append(f"{problem} [read from {source}]")
    try:
        policy = platform_client(environment).audit_policy()
    except NoPlatformApi:
        policy = None
    except ApiCallError as err:
        pytest.fail(f"cannot read the platform audit log policy: {err}; the platform must serve GET /v1/audit/policy")
    if policy is not None:
        kept = platform_audit_retention(policy)
        checked.append(f"{kept.log}: {kept.setting} ({kept.detail})")
        problem = log_retention_problem(
            kept, required, f"set the platform's audit_max_age_days >= {required} (or 0: never rotated)"
        )
        if problem:
            problems.append(problem)
    if not checked:
        pytest.skip(
            "no log retention to check: no embedded cluster or compliance.apiserver_args_file (the API server's "
            "flags, e.g. its static pod manifest) and no platform API; declare where to read them"
        )
    print("; ".join(checked))
    assert not problems, "; ".join(problems)


def _newest_within(records: list[dict[str, Any]], kind: str, days: int) -> list[dict[str, Any]]:
    cutoff = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    out = []
    for r in records:
        if r.get("type") != kind:
            continue
        stamp = str(r.get("ended_at") or r.get("observed_to") or r.get("recorded_at") or "")
        try:
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError:
            when = cutoff  # undated evidence from a run inside the window: the run's date counts
        if when >= cutoff:
            out.append(r)
    return out


def _can_drill(env: Environment) -> bool:
    from mcproof.connect.platform import platform_source

    return platform_source(env) is not None


def test_dr_drill_within_window(
    catalog: Catalog, compliance: ComplianceSettings, environment: Environment, evidence: RunStore
) -> None:
    records, runs = _records(compliance, catalog, environment, evidence)
    days = _window(compliance, catalog)
    drills = _newest_within(records, "dr", days)
    good = [d for d in drills if d.get("recovered") and d.get("integrity_ok") and d.get("verdict", "pass") == "pass"]
    cannot = (
        ""
        if _can_drill(environment)
        else (
            f" (environment '{environment.name}' offers no platform API, so mcproof cannot drill it: declare "
            "platform_api, or waive this control in the environment file with the evidence you hold)"
        )
    )
    assert good, (
        f"no passing DR drill in the last {days} days ({len(drills)} drill(s) in runs {', '.join(runs)}); "
        f"run the DR drill (pytest suites/dr --env ENV or mcproof signoff) and fix what it finds{cannot}"
    )


def test_gameday_within_window(
    catalog: Catalog, compliance: ComplianceSettings, environment: Environment, evidence: RunStore
) -> None:
    records, runs = _records(compliance, catalog, environment, evidence)
    days = _window(compliance, catalog)
    experiments = _newest_within(records, "recovery", days)
    good = [e for e in experiments if e.get("passed")]
    assert good, (
        f"no passing chaos experiment (game day) in the last {days} days ({len(experiments)} experiment(s) in runs "
        f"{', '.join(runs)}); run `mcproof gameday --env ENV` and fix what kept the fleet from recovering"
    )


def test_audit_log_records_admin_actions(compliance: ComplianceSettings, environment: Environment) -> None:
    """The platform's audit log and/or the Kubernetes API server's hold admin actions with who and an ID."""
    kube_log = apiserver_audit_log(environment, compliance)
    if compliance.platform_audit_log is None and kube_log is None:
        pytest.skip(
            "no audit log declared (compliance.platform_audit_log, compliance.apiserver_audit_log) and no embedded "
            "cluster; declare the platform's or the API server's audit log"
        )
    if compliance.platform_audit_log is not None:
        _check_platform_audit_log(environment.resolve_path(compliance.platform_audit_log))
    if kube_log is not None:
        _check_apiserver_audit_log(kube_log)


def _check_platform_audit_log(path: Path) -> None:
    try:
        lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    except (OSError, ValueError) as err:
        pytest.fail(f"platform audit log {path} unreadable ({err}); check compliance.platform_audit_log", pytrace=False)
    admin = [x for x in lines if isinstance(x, dict) and x.get("action")]  # the log holds mutating calls only
    without_cid = [x for x in admin if not x.get("correlation_id")]
    assert admin, (
        f"platform audit log {path} holds no admin (mutating) action; turn audit logging on for every POST/DELETE"
    )
    assert not without_cid, f"{len(without_cid)} audit entries in {path} lack a correlation_id; log it with every entry"


def _check_apiserver_audit_log(path: Path) -> None:
    try:
        with path.open(encoding="utf-8") as handle:
            summary = admin_actions(handle)
    except OSError as err:
        pytest.fail(
            f"API server audit log {path} unreadable ({err}); check compliance.apiserver_audit_log", pytrace=False
        )
    assert summary.actions, (
        f"API server audit log {path} holds no completed create/update/patch/delete ({summary.events} events); "
        "give kube-apiserver an audit policy that logs mutating requests at Metadata level or above"
    )
    assert not summary.without_user, (
        f"{summary.without_user} mutating audit events in {path} lack user.username; use the audit.k8s.io/v1 Event "
        "format (--audit-log-format=json)"
    )
    assert not summary.without_id, f"{summary.without_id} mutating audit events in {path} lack an auditID"


# --- the score: last, so every outcome of this run (window, retention, audit checks) counts in it ---


@pytest.fixture(scope="module")
def scored(
    catalog: Catalog, catalog_path: Path, compliance: ComplianceSettings, environment: Environment, evidence: RunStore
) -> ScoreResult:
    records, runs = _records(compliance, catalog, environment, evidence)
    waivers = {w.control: w for w in environment.waivers if w.control is not None}
    result = score_catalog(catalog, records, current_run=evidence.run_dir.name, waivers=waivers)
    days = _window(compliance, catalog)
    evidence.append(
        ComplianceScoreEvidence(
            environment=environment.name,
            method=(
                f"controls catalog judged against every record of {len(runs)} run(s) within {days} days: one failing "
                "record fails a control, inconclusive records and checks this run skipped never satisfy one"
            ),
            check="test_no_failing_controls",
            catalog=str(catalog_path),
            catalog_version=catalog.version,
            scores=result.scores,
            controls=[c.as_dict() for c in result.controls],
            runs=runs,
            window_days=days,
            failing=[c.id for c in result.with_status(FAILING)],
            unevidenced=[c.id for c in result.with_status(UNEVIDENCED)],
            waived=[{"control": c.id, **(c.waiver or {})} for c in result.with_status(WAIVED)],
        )
    )
    return result


def test_no_failing_controls(scored: ScoreResult) -> None:
    failing = scored.with_status(FAILING)
    assert not failing, f"{len(failing)} control(s) failing: " + " | ".join(c.summary() for c in failing)


def test_every_control_evidenced(
    scored: ScoreResult, catalog: Catalog, compliance: ComplianceSettings, environment: Environment
) -> None:
    """Every control not failing is satisfied or waived in the environment file; else inconclusive."""
    for control in scored.with_status(WAIVED):
        print(f"waived: {control.summary()}")
    missing = scored.with_status(UNEVIDENCED)
    if missing:
        inconclusive(
            f"{len(missing)} control(s) unevidenced in the {_window(compliance, catalog)}-day window: "
            + " | ".join(c.summary() for c in missing),
            "run the checks that evidence them (the requirement says which; mcproof signoff runs every suite), or "
            f"waive a control with a reason in {environment.source or 'the environment file'}: "
            "waivers: [{control: ID, reason: ..., owner: ...}]",
        )


def test_framework_scores_meet_minimum(scored: ScoreResult, compliance: ComplianceSettings) -> None:
    if not compliance.min_scores:
        summary = ", ".join(f"{fw} {s['satisfied']}/{s['controls']}" for fw, s in scored.scores.items())
        pytest.skip(f"no compliance.min_scores declared; scores recorded in evidence ({summary})")
    short = []
    for fw, minimum in compliance.min_scores.items():
        score = scored.scores.get(fw)
        if score is None:
            short.append(f"framework {fw!r} is not in the catalog (known: {', '.join(scored.scores)})")
        elif score["score"] < minimum:
            missing = [c for c in scored.not_satisfied() if c.framework == fw]
            short.append(f"{fw} score {score['score']:.2f} < {minimum}: " + " | ".join(c.summary() for c in missing))
    assert not short, "; ".join(short)
