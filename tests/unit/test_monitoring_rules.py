"""Rules, Prometheus config and exposition rendering (pure); rule files also pass `promtool check rules`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mcproof.errors import TargetError
from mcproof_sandbox.monitoring.exporter import ProbeOutcome, render_metrics
from mcproof_sandbox.monitoring.prometheus import prometheus_config, render_config
from mcproof_sandbox.monitoring.rules import ALERT_NAMES, prom_duration, render_rules, rule_groups


def test_rule_groups_hold_every_alert_and_recording_rule() -> None:
    groups = rule_groups(down_for_s=3, latency_alert_ms=250, backup_max_age_s=120, evaluation_interval_s=0.5)
    alerts = {r["alert"]: r for r in groups[1]["rules"]}
    assert tuple(alerts) == ALERT_NAMES
    assert alerts["MinecraftServerDown"]["for"] == "3000ms"
    assert alerts["MinecraftStatusLatencyHigh"]["expr"] == "mcproof_server_status_latency_seconds > 0.25"
    assert alerts["BackupTooOld"]["expr"] == "time() - mcproof_backup_last_success_timestamp_seconds > 120"
    assert [r["record"] for r in groups[0]["rules"]] == ["mcproof:fleet_up:ratio", "mcproof:server_up:avg_5m"]
    assert groups[0]["interval"] == "500ms"


def test_extra_alerts_are_appended() -> None:
    extra = {"alert": "NeverFires", "expr": "absent_metric == 0"}
    assert rule_groups(extra_alerts=[extra])[1]["rules"][-1] == extra


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed")
def test_rule_file_passes_promtool(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(render_rules(rule_groups()), encoding="utf-8")
    done = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "6 rules found" in done.stdout


def test_prom_duration() -> None:
    assert prom_duration(0) == "0s"
    assert prom_duration(0.25) == "250ms"
    assert prom_duration(60) == "60000ms"


def test_config_scrapes_loopback_only_without_remote_write() -> None:
    cfg = prometheus_config(
        exporter="127.0.0.1:9100",
        rule_file="/r.yml",
        platform="127.0.0.1:8443",
        platform_ca_file="/ca.pem",
        self_address="127.0.0.1:9090",
        scrape_interval_s=1,
    )
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    assert set(jobs) == {"mcproof-fleet", "mcproof-platform", "prometheus"}
    assert jobs["mcproof-platform"]["scheme"] == "https"
    assert jobs["mcproof-platform"]["tls_config"] == {"ca_file": "/ca.pem"}
    assert cfg["global"]["scrape_interval"] == "1000ms"
    assert cfg["global"]["scrape_timeout"] == "900ms"
    text = render_config(cfg)
    assert "remote_write" not in text
    assert "alerting" not in text
    assert yaml.safe_load(text) == cfg


@pytest.mark.parametrize("address", ["203.0.113.1:9100", "198.51.100.2:80", "example.com:9100"])
def test_config_refuses_non_loopback_targets(address: str) -> None:
    with pytest.raises(TargetError, match="not on loopback"):
        prometheus_config(exporter=address, rule_file="r.yml")


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed")
def test_config_passes_promtool(tmp_path: Path) -> None:
    (tmp_path / "rules.yml").write_text(render_rules(rule_groups()), encoding="utf-8")
    cfg = prometheus_config(exporter="127.0.0.1:9100", rule_file=str(tmp_path / "rules.yml"))
    (tmp_path / "prometheus.yml").write_text(render_config(cfg), encoding="utf-8")
    done = subprocess.run(
        ["promtool", "check", "config", str(tmp_path / "prometheus.yml")], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_exposition_of_a_sweep() -> None:
    text = render_metrics(
        [ProbeOutcome("mc-1", "127.1.0.1:25565", True, 2.5), ProbeOutcome('we"ird', "127.1.0.2:25565", False)],
        swept_at=100.0,
        duration_s=0.02,
    )
    lines = text.splitlines()
    assert 'mcproof_server_up{address="127.1.0.1:25565",server="mc-1"} 1.0' in lines
    assert 'mcproof_server_up{address="127.1.0.2:25565",server="we\\"ird"} 0.0' in lines
    assert 'mcproof_server_status_latency_seconds{address="127.1.0.1:25565",server="mc-1"} 0.0025' in lines
    assert not any(line.startswith("mcproof_server_status_latency_seconds{") and "ird" in line for line in lines)
    assert "mcproof_exporter_servers 2.0" in lines
    assert text.endswith("\n")
