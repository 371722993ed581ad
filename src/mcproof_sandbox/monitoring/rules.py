"""Recording and alert rules for the sandbox Prometheus, rendered as a rule file (pure).

Prometheus itself evaluates them; the harness only reads ``/api/v1/rules`` and ``/api/v1/alerts``.

- ``mcproof:fleet_up:ratio``: share of exported servers answering a status ping (per evaluation);
- ``mcproof:server_up:avg_5m``: per-server availability over 5 minutes;
- ``MinecraftServerDown``: a server does not answer (``mcproof_server_up == 0`` for ``down_for``);
- ``MinecraftStatusLatencyHigh``: status latency above the bound for ``latency_for``;
- ``BackupTooOld``: the newest backup of a server is older than the RPO;
- ``MonitoringTargetDown``: a scrape target (exporter, platform API) does not answer;
- with ``kube=True`` (the embedded cluster is scraped), group ``mcproof-kubernetes``:
  ``mcproof:kube_apiserver_up`` (1 when the apiserver's /metrics is scraped),
  ``mcproof:kube_apiserver_5xx:ratio_rate1m`` (share of apiserver requests answered 5xx), alert ``KubeApiserverDown``.

>>> prom_duration(1.5), prom_duration(0)
('1500ms', '0s')
>>> [r.get("alert") for r in rule_groups(down_for_s=2)[1]["rules"]][0]
'MinecraftServerDown'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

__all__ = ["ALERT_NAMES", "KUBE_ALERT_NAMES", "kube_rule_group", "prom_duration", "render_rules", "rule_groups"]

ALERT_NAMES = ("MinecraftServerDown", "MinecraftStatusLatencyHigh", "BackupTooOld", "MonitoringTargetDown")
KUBE_ALERT_NAMES = ("KubeApiserverDown",)
# runbook_url of each alert, relative to the platform's runbooks dir (docs/operations/, docs/runbooks.md)
RUNBOOKS = {
    "MinecraftServerDown": "minecraft-server-down.md#mitigation",
    "MinecraftStatusLatencyHigh": "minecraft-status-latency-high.md#mitigation",
    "BackupTooOld": "backup-too-old.md#mitigation",
    "MonitoringTargetDown": "monitoring-target-down.md#mitigation",
    "KubeApiserverDown": "kube-apiserver-down.md#mitigation",
}


def _with_runbooks(group: dict[str, Any]) -> dict[str, Any]:
    for r in group["rules"]:
        if r.get("alert") in RUNBOOKS:
            r.setdefault("annotations", {}).setdefault("runbook_url", RUNBOOKS[r["alert"]])
    return group


def prom_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration (milliseconds resolution)."""
    ms = round(seconds * 1000)
    return "0s" if ms <= 0 else f"{ms}ms"


def rule_groups(
    *,
    down_for_s: float = 2.0,
    latency_alert_ms: float = 500.0,
    latency_for_s: float = 5.0,
    backup_max_age_s: float = 300.0,
    evaluation_interval_s: float = 1.0,
    extra_alerts: Sequence[dict[str, Any]] = (),
    kube: bool = False,
) -> list[dict[str, Any]]:
    """The rule groups (as Prometheus's rule file schema); ``extra_alerts`` are appended to the alerts group;
    ``kube`` adds :func:`kube_rule_group`."""
    every = prom_duration(evaluation_interval_s)
    recording = {
        "name": "mcproof-availability",
        "interval": every,
        "rules": [
            {"record": "mcproof:fleet_up:ratio", "expr": "avg(mcproof_server_up)"},
            {"record": "mcproof:server_up:avg_5m", "expr": "avg_over_time(mcproof_server_up[5m])"},
        ],
    }
    alerts = {
        "name": "mcproof-alerts",
        "interval": every,
        "rules": [
            {
                "alert": "MinecraftServerDown",
                "expr": "mcproof_server_up == 0",
                "for": prom_duration(down_for_s),
                "labels": {"severity": "page"},
                "annotations": {
                    "summary": "{{ $labels.server }} ({{ $labels.address }}) does not answer a status ping"
                },
            },
            {
                "alert": "MinecraftStatusLatencyHigh",
                "expr": f"mcproof_server_status_latency_seconds > {latency_alert_ms / 1000:g}",
                "for": prom_duration(latency_for_s),
                "labels": {"severity": "ticket"},
                "annotations": {"summary": f"{{{{ $labels.server }}}} status latency above {latency_alert_ms:g} ms"},
            },
            {
                "alert": "BackupTooOld",
                "expr": f"time() - mcproof_backup_last_success_timestamp_seconds > {backup_max_age_s:g}",
                "for": "0s",
                "labels": {"severity": "page"},
                "annotations": {
                    "summary": f"newest backup of {{{{ $labels.server }}}} older than {backup_max_age_s:g}s"
                },
            },
            {
                "alert": "MonitoringTargetDown",
                "expr": "up == 0",
                "for": prom_duration(max(down_for_s, evaluation_interval_s)),
                "labels": {"severity": "page"},
                "annotations": {"summary": "scrape target {{ $labels.job }} {{ $labels.instance }} is down"},
            },
            *extra_alerts,
        ],
    }
    _with_runbooks(alerts)
    return (
        [recording, alerts, kube_rule_group(down_for_s=down_for_s, evaluation_interval_s=evaluation_interval_s)]
        if kube
        else [recording, alerts]
    )


def kube_rule_group(*, down_for_s: float = 2.0, evaluation_interval_s: float = 1.0) -> dict[str, Any]:
    """Rules over the embedded cluster's control-plane metrics (job ``kube-apiserver``).

    >>> [r.get("record") or r.get("alert") for r in kube_rule_group()["rules"]]
    ['mcproof:kube_apiserver_up', 'mcproof:kube_apiserver_5xx:ratio_rate1m', 'KubeApiserverDown']
    """
    return _with_runbooks(
        {
            "name": "mcproof-kubernetes",
            "interval": prom_duration(evaluation_interval_s),
            "rules": [
                {"record": "mcproof:kube_apiserver_up", "expr": 'max(up{job="kube-apiserver"})'},
                {
                    "record": "mcproof:kube_apiserver_5xx:ratio_rate1m",
                    "expr": '(sum(rate(apiserver_request_total{code=~"5.."}[1m])) or vector(0)) '
                    "/ clamp_min(sum(rate(apiserver_request_total[1m])), 1e-9)",
                },
                {
                    "alert": "KubeApiserverDown",
                    "expr": 'up{job="kube-apiserver"} == 0 or absent(apiserver_request_total{job="kube-apiserver"})',
                    "for": prom_duration(max(down_for_s, evaluation_interval_s)),
                    "labels": {"severity": "page"},
                    "annotations": {"summary": "the embedded cluster's kube-apiserver /metrics is not scraped"},
                },
            ],
        }
    )


def render_rules(groups: list[dict[str, Any]]) -> str:
    """The rule file text (YAML)."""
    return yaml.safe_dump({"groups": groups}, sort_keys=False)
