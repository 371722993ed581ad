"""Retention maths: restic forget policies in days, kube-apiserver audit flags, platform audit policy."""

from __future__ import annotations

import math

import pytest

from mcproof.compliance.retention import (
    apiserver_audit_retention,
    backup_covered_days,
    backup_retention_problem,
    duration_days,
    flag_values,
    log_retention_problem,
    platform_audit_retention,
)
from mcproof_sandbox.platform.engine import EngineConfig

# recorded: a kwok kube-apiserver command line (as psutil reports it) and a kubeadm static pod manifest
KWOK_ARGS = [
    "/root/.cache/mcproof/kube/v1.36.3/bin/kube-apiserver",
    "--etcd-prefix=/registry",
    "--audit-policy-file=/tmp/k/kwok/clusters/obs/audit.yaml",
    "--audit-log-path=/tmp/k/kwok/clusters/obs/logs/audit.log",
    "--service-cluster-ip-range=127.96.0.0/16",
]
KUBEADM = """\
spec:
  containers:
  - command:
    - kube-apiserver
    - --audit-log-path=/var/log/kubernetes/audit/audit.log
    - --audit-log-maxage=30
    - --audit-log-maxbackup=10
"""


@pytest.mark.parametrize(
    ("policy", "days"),
    [
        ({"keep_last": 10, "keep_hourly": 24, "keep_daily": 7}, 7.0),  # the old sandbox default
        ({"keep_last": 10, "keep_hourly": 24, "keep_daily": 30}, 30.0),
        ({"keep_last": 500}, 0.0),  # a count, not a time: guarantees nothing in days
        ({"keep_hourly": 72}, 3.0),
        ({"keep_daily": 7, "keep_weekly": 5}, 35.0),
        ({"keep_monthly": 2}, 56.0),  # months counted as 28 days (lower bound)
        ({"keep_daily": 7, "keep_within": "90d"}, 90.0),
        ({"keep_within": "1y"}, 365.0),
        ({"keep_daily": -1}, math.inf),  # restic: -1 keeps every daily snapshot
    ],
)
def test_backup_covered_days(policy: dict[str, object], days: float) -> None:
    assert backup_covered_days(policy) == days


def test_duration_rejects_garbage() -> None:
    assert duration_days("2y5m7d3h") == 2 * 365 + 5 * 28 + 7 + 3 / 24
    with pytest.raises(ValueError, match="not a restic duration"):
        duration_days("30 days")


def test_backup_problem_names_setting_and_fix() -> None:
    problem = backup_retention_problem({"keep_last": 10, "keep_hourly": 24, "keep_daily": 7}, 30)
    assert problem is not None
    assert "covers 7 day(s) < catalog retention.backups_days=30" in problem
    assert "keep_daily=7" in problem
    assert "set keep_daily >= 30" in problem
    assert backup_retention_problem({"keep_daily": 30}, 30) is None


def test_sandbox_default_backup_policy_is_compliant() -> None:
    c = EngineConfig()
    assert (
        backup_covered_days({"keep_last": c.keep_last, "keep_hourly": c.keep_hourly, "keep_daily": c.keep_daily}) >= 30
    )
    assert c.audit_max_age_days == 0  # never rotated


def test_flag_values_forms() -> None:
    assert flag_values(["x", "--a=1", "--b", "2", "--c", "--d=e=f"]) == {"a": "1", "b": "2", "c": "", "d": "e=f"}


def test_apiserver_retention_variants() -> None:
    unset = apiserver_audit_retention(KWOK_ARGS)  # no maxage/maxbackup: never deleted
    assert unset.days == math.inf
    assert apiserver_audit_retention([*KWOK_ARGS, "--audit-log-maxage=90", "--audit-log-maxbackup=0"]).days == 90
    short = apiserver_audit_retention([*KWOK_ARGS, "--audit-log-maxage=7"])
    assert short.days == 7
    assert short.setting == "--audit-log-maxage=7"
    counted = apiserver_audit_retention([*KWOK_ARGS, "--audit-log-maxage=365", "--audit-log-maxbackup=3"])
    assert counted.days == 0
    assert "--audit-log-maxbackup=3" in counted.setting
    assert apiserver_audit_retention(["kube-apiserver"]).days == 0  # no audit log file at all
    assert apiserver_audit_retention(["kube-apiserver", "--audit-log-path=-"]).days == 0


def test_apiserver_retention_from_static_pod_manifest() -> None:
    import shlex

    args = shlex.split(KUBEADM, comments=True)
    kept = apiserver_audit_retention(args)
    assert kept.days == 0
    assert "maxbackup=10" in kept.setting
    problem = log_retention_problem(kept, 90, "fix it")
    assert problem is not None
    assert "unprovable" in problem
    assert "kept by count" in problem


def test_log_problem_names_setting_and_fix() -> None:
    problem = log_retention_problem(apiserver_audit_retention([*KWOK_ARGS, "--audit-log-maxage=30"]), 90, "FIX")
    assert problem is not None
    assert "keeps 30 day(s) < catalog retention.logs_days=90 (--audit-log-maxage=30" in problem
    assert problem.endswith("; FIX")
    assert log_retention_problem(apiserver_audit_retention(KWOK_ARGS), 90, "FIX") is None


def test_platform_audit_retention() -> None:
    assert platform_audit_retention({"append_only": True, "rotation": "none", "max_age_days": None}).days == math.inf
    short = platform_audit_retention({"append_only": True, "rotation": "age", "max_age_days": 14})
    assert short.days == 14
    assert short.setting == "audit_max_age_days=14"
    assert short.as_dict()["days"] == 14
    assert platform_audit_retention({"max_age_days": None}).as_dict()["days"] is None
