"""Scraping the embedded cluster (pure parts): kwok.yaml metric endpoints, scrape jobs, RBAC, rules."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mcproof.errors import SandboxError, TargetError
from mcproof_sandbox.monitoring.kube_scrape import CLUSTER_ROLE, KubeScrapeTarget, metric_endpoints, metrics_rbac
from mcproof_sandbox.monitoring.prometheus import prometheus_config, render_config
from mcproof_sandbox.monitoring.rules import KUBE_ALERT_NAMES, render_rules, rule_groups

# recorded from a kwokctl 0.7 `--runtime binary` cluster (kwok/clusters/<name>/kwok.yaml), trimmed
KWOK_YAML = """\
apiVersion: config.kwok.x-k8s.io/v1alpha1
components:
- name: etcd
  metric: {host: 127.0.0.1:32759, path: /metrics, scheme: http}
  ports: [{name: http, port: 32759, protocol: TCP}]
- name: kube-apiserver
  metric: {certPath: /s/pki/admin.crt, host: 127.0.0.1:32758, insecureSkipVerify: true,
           keyPath: /s/pki/admin.key, path: /metrics, scheme: https}
- name: kube-controller-manager
  metric: {host: 127.0.0.1:32756, path: /metrics, scheme: https}
- name: kube-scheduler
  metric: {host: 127.0.0.1:32755, path: /metrics, scheme: https}
- name: kwok-controller
  metric: {host: 127.0.0.1:32757, path: /metrics, scheme: http}
kind: KwokctlConfiguration
---
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {cidr: 127.77.0.0/16}
"""


def test_metric_endpoints_from_recorded_kwok_yaml() -> None:
    eps = {e.component: e for e in metric_endpoints(KWOK_YAML)}
    assert set(eps) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"}
    assert eps["kube-apiserver"].address == "127.0.0.1:32758"
    assert eps["kube-apiserver"].scheme == "https"
    assert eps["etcd"].scheme == "http"


def test_metric_endpoint_off_loopback_is_refused() -> None:
    with pytest.raises(SandboxError, match="not loopback"):
        metric_endpoints(KWOK_YAML.replace("127.0.0.1:32755", "203.0.113.3:32755"))


def test_scrape_jobs_verify_tls_and_send_the_token_to_the_apiserver_only() -> None:
    kube = [
        KubeScrapeTarget("kube-apiserver", "127.0.0.1:6443", ca_file="/k/ca.crt", token_file="/m/kube-token"),
        KubeScrapeTarget("kube-scheduler", "127.0.0.1:10259", ca_file="/m/kube-scheduler-ca.crt"),
        KubeScrapeTarget("etcd", "127.0.0.1:2379", scheme="http"),
    ]
    cfg = prometheus_config(exporter="127.0.0.1:9100", rule_file="r.yml", kube=kube)
    jobs = {j["job_name"]: j for j in cfg["scrape_configs"]}
    api = jobs["kube-apiserver"]
    assert api["scheme"] == "https"
    assert api["tls_config"] == {"ca_file": "/k/ca.crt"}
    assert api["authorization"] == {"type": "Bearer", "credentials_file": "/m/kube-token"}
    assert "authorization" not in jobs["kube-scheduler"]
    assert jobs["kube-scheduler"]["tls_config"] == {"ca_file": "/m/kube-scheduler-ca.crt"}
    assert jobs["etcd"]["scheme"] == "http"
    assert "insecure_skip_verify" not in render_config(cfg)
    with pytest.raises(TargetError):
        prometheus_config(
            exporter="127.0.0.1:9100", rule_file="r.yml", kube=[KubeScrapeTarget("etcd", "203.0.113.1:2379")]
        )


def test_rbac_grants_get_on_metrics_only() -> None:
    role = next(m for m in metrics_rbac() if m["kind"] == "ClusterRole")
    assert role["metadata"]["name"] == CLUSTER_ROLE
    assert role["rules"] == [{"nonResourceURLs": ["/metrics"], "verbs": ["get"]}]
    sa = next(m for m in metrics_rbac() if m["kind"] == "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False


def test_kube_rules_only_when_the_cluster_is_scraped() -> None:
    assert len(rule_groups()) == 2
    groups = rule_groups(kube=True, down_for_s=3)
    kube = groups[2]
    assert kube["name"] == "mcproof-kubernetes"
    alerts = {r["alert"]: r for r in kube["rules"] if "alert" in r}
    assert tuple(alerts) == KUBE_ALERT_NAMES
    assert alerts["KubeApiserverDown"]["for"] == "3000ms"


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool (Debian prometheus) not installed")
def test_kube_rule_file_passes_promtool(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(render_rules(rule_groups(kube=True)), encoding="utf-8")
    done = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "9 rules found" in done.stdout
