"""Retention as compliance evidence: how many days of backups and logs a policy guarantees.

Pure functions (tested with recorded policies and command lines) plus one reader
(:func:`apiserver_args`) that finds the API server's command line.

Backups (restic ``forget`` vocabulary, ``GET /v1/backups/policy``): :func:`backup_covered_days` is the
age of the oldest restore point the policy is *guaranteed* to keep, assuming at least one backup a day:
the largest of ``keep_within`` (a restic duration: ``y`` = 365 d, ``m`` = 28 d, the shortest month,
``d``, ``h``), ``keep_daily`` (N days), ``keep_weekly`` (7 N), ``keep_monthly`` (28 N), ``keep_yearly``
(365 N) and ``keep_hourly`` (N / 24). ``keep_last`` counts snapshots, not time, so it guarantees nothing
in days and adds 0.

API server audit log (kube-apiserver's lumberjack flags): ``--audit-log-maxage=N`` deletes rotated
files older than N days (0 or unset: never by age); ``--audit-log-maxbackup=M`` (M > 0) keeps only M
rotated files, so retention then depends on traffic and is not provable in days (0 or unset: all kept).
No ``--audit-log-path`` (or ``-``, stdout) means no file log at all.

Example::

    >>> backup_covered_days({"keep_last": 10, "keep_hourly": 24, "keep_daily": 7})
    7.0
    >>> backup_covered_days({"keep_daily": 7, "keep_within": "1m2d"})
    30.0
    >>> apiserver_audit_retention(["--audit-log-path=/a.log", "--audit-log-maxage=90"]).days
    90.0
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.compliance.settings import ComplianceSettings
from mcproof.config import Environment

__all__ = [
    "LogRetention",
    "apiserver_args",
    "apiserver_audit_retention",
    "backup_covered_days",
    "backup_retention_problem",
    "duration_days",
    "flag_values",
    "log_retention_problem",
    "platform_audit_retention",
]

_UNIT_DAYS = {"y": 365.0, "m": 28.0, "w": 7.0, "d": 1.0, "h": 1.0 / 24.0}
_DURATION = re.compile(r"(\d+)([ymwdh])")
_PER_COUNT = {"keep_daily": 1.0, "keep_weekly": 7.0, "keep_monthly": 28.0, "keep_yearly": 365.0, "keep_hourly": 1 / 24}


def duration_days(text: str) -> float:
    """A restic duration (``2y5m7d3h``) in days, months counted as 28 days; '' is 0.

    >>> duration_days("30d"), duration_days("1y"), duration_days("")
    (30.0, 365.0, 0.0)
    """
    text = text.strip()
    if not text:
        return 0.0
    parts = _DURATION.findall(text)
    if "".join(n + u for n, u in parts) != text:
        raise ValueError(f"not a restic duration: {text!r} (expected e.g. '30d', '1y2m', '72h')")
    return sum(int(n) * _UNIT_DAYS[u] for n, u in parts)


def backup_covered_days(policy: Mapping[str, Any]) -> float:
    """Days of backups the restic forget policy is guaranteed to keep (see the module docstring)."""
    days = [duration_days(str(policy.get("keep_within") or ""))]
    for key, per in _PER_COUNT.items():
        n = policy.get(key) or 0
        if int(n) < 0:  # restic: -1 keeps all of that kind
            return math.inf
        days.append(int(n) * per)
    return float(max(days))


def backup_retention_problem(policy: Mapping[str, Any], required_days: int) -> str | None:
    """None when the policy covers ``required_days``; else one line naming the setting and the fix."""
    covered = backup_covered_days(policy)
    if covered >= required_days:
        return None
    shown = ", ".join(f"{k}={policy.get(k)}" for k in ("keep_within", *_PER_COUNT, "keep_last") if policy.get(k))
    return (
        f"backup retention covers {covered:g} day(s) < catalog retention.backups_days={required_days} "
        f"(policy: {shown or 'nothing kept by time'}); set keep_daily >= {required_days} "
        f"(or keep_within={required_days}d) in the platform's backup retention (EngineConfig.keep_daily)"
    )


@dataclass(frozen=True)
class LogRetention:
    """How long a log is kept: ``days`` (inf: never deleted; 0: not provable), the setting it comes from."""

    log: str
    days: float
    setting: str
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["days"] = None if math.isinf(self.days) else self.days
        return out


def flag_values(args: Sequence[str]) -> dict[str, str]:
    """``--name=value`` and ``--name value`` flags of a command line (also YAML list items ``- --x=y``).

    >>> flag_values(["kube-apiserver", "--audit-log-maxage=30", "--v", "2"])
    {'audit-log-maxage': '30', 'v': '2'}
    """
    out: dict[str, str] = {}
    items = list(args)
    for i, raw in enumerate(items):
        tok = raw.strip().strip("\"'")
        if not tok.startswith("--"):
            continue
        name, sep, value = tok[2:].partition("=")
        if not sep and i + 1 < len(items) and not items[i + 1].startswith("-"):
            value = items[i + 1].strip().strip("\"'")
        out[name] = value
    return out


def apiserver_audit_retention(args: Sequence[str]) -> LogRetention:
    """The API server audit log's retention from its command line (see the module docstring)."""
    flags = flag_values(args)
    path = flags.get("audit-log-path", "")
    if not path or path == "-":
        return LogRetention("apiserver audit log", 0.0, "--audit-log-path", "no audit log file (flag unset or '-')")
    try:
        maxage = int(flags.get("audit-log-maxage") or 0)
        maxbackup = int(flags.get("audit-log-maxbackup") or 0)
    except ValueError:
        return LogRetention("apiserver audit log", 0.0, "--audit-log-maxage", f"unparsable flags {flags}")
    if maxbackup > 0:
        return LogRetention(
            "apiserver audit log",
            0.0,
            f"--audit-log-maxbackup={maxbackup}",
            "rotated files are kept by count, not age, so the days kept depend on traffic",
        )
    if maxage > 0:
        return LogRetention("apiserver audit log", float(maxage), f"--audit-log-maxage={maxage}", path)
    return LogRetention("apiserver audit log", math.inf, "--audit-log-maxage unset (0: never deleted by age)", path)


def platform_audit_retention(policy: Mapping[str, Any]) -> LogRetention:
    """The platform audit log's retention from ``GET /v1/audit/policy``.

    >>> platform_audit_retention({"append_only": True, "max_age_days": None}).days
    inf
    """
    age = policy.get("max_age_days")
    if age is None or int(age) <= 0:
        detail = "append-only, never rotated" if policy.get("append_only") else "no age limit"
        return LogRetention("platform audit log", math.inf, "audit_max_age_days unset", detail)
    return LogRetention("platform audit log", float(age), f"audit_max_age_days={int(age)}", "rotated by age")


def log_retention_problem(retention: LogRetention, required_days: int, fix: str) -> str | None:
    """None when ``retention`` keeps ``required_days``; else one line with the setting and ``fix``."""
    if retention.days >= required_days:
        return None
    kept = "an unprovable number of" if retention.days == 0 else f"{retention.days:g}"
    return (
        f"{retention.log} keeps {kept} day(s) < catalog retention.logs_days={required_days} "
        f"({retention.setting}{'; ' + retention.detail if retention.detail else ''}); {fix}"
    )


def apiserver_args(env: Environment, settings: ComplianceSettings) -> tuple[list[str], str] | None:
    """The API server's command line and where it came from: ``compliance.apiserver_args_file`` (a static
    pod manifest or any text holding the flags), else the embedded cluster's; None when nothing declares one."""
    from mcproof.connect.kubernetes import apiserver_args as args

    return args(env, settings.apiserver_args_file)
