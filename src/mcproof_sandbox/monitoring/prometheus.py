"""Prometheus configuration for the sandbox (pure): loopback scrape targets only, short intervals.

>>> cfg = prometheus_config(exporter="127.0.0.1:9100", rule_file="rules.yml")
>>> cfg["scrape_configs"][0]["static_configs"][0]["targets"]
['127.0.0.1:9100']
>>> prometheus_config(exporter="203.0.113.5:9100", rule_file="r.yml")
Traceback (most recent call last):
...
mcproof.errors.TargetError: scrape target 203.0.113.5:9100 is not on loopback; the sandbox Prometheus scrapes 127.0.0.0/8 only
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import yaml

from mcproof.errors import TargetError
from mcproof.target import is_loopback
from mcproof_sandbox.monitoring.rules import prom_duration

if TYPE_CHECKING:
    from mcproof_sandbox.monitoring.kube_scrape import KubeScrapeTarget

__all__ = ["prometheus_config", "render_config"]


def _loopback(address: str) -> str:
    host = address.rsplit(":", 1)[0].strip("[]")
    if not is_loopback(host):
        raise TargetError(
            f"scrape target {address} is not on loopback; the sandbox Prometheus scrapes 127.0.0.0/8 only"
        )
    return address


def prometheus_config(
    *,
    exporter: str,
    rule_file: str,
    platform: str | None = None,
    platform_ca_file: str | None = None,
    self_address: str | None = None,
    scrape_interval_s: float = 1.0,
    evaluation_interval_s: float = 1.0,
    environment: str = "local",
    kube: Sequence[KubeScrapeTarget] = (),
) -> dict[str, Any]:
    """A prometheus.yml as a dict: the fleet exporter, the platform API (HTTPS, its CA), the embedded
    cluster's control plane (``kube``: TLS with its CA, a bearer token file for the apiserver) and
    Prometheus itself."""
    interval = prom_duration(scrape_interval_s)
    scrape_timeout = prom_duration(min(scrape_interval_s, max(0.5, scrape_interval_s * 0.9)))
    jobs: list[dict[str, Any]] = [
        {"job_name": "mcproof-fleet", "static_configs": [{"targets": [_loopback(exporter)]}]},
    ]
    if platform is not None:
        job: dict[str, Any] = {
            "job_name": "mcproof-platform",
            "scheme": "https",
            "static_configs": [{"targets": [_loopback(platform)]}],
        }
        if platform_ca_file:
            job["tls_config"] = {"ca_file": platform_ca_file}
        jobs.append(job)
    for target in kube:
        kjob: dict[str, Any] = {
            "job_name": target.job,
            "scheme": target.scheme,
            "metrics_path": target.path,
            "static_configs": [{"targets": [_loopback(target.address)]}],
        }
        if target.ca_file:
            kjob["tls_config"] = {"ca_file": target.ca_file}
        if target.token_file:
            kjob["authorization"] = {"type": "Bearer", "credentials_file": target.token_file}
        jobs.append(kjob)
    if self_address is not None:
        jobs.append({"job_name": "prometheus", "static_configs": [{"targets": [_loopback(self_address)]}]})
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": scrape_timeout,
            "evaluation_interval": prom_duration(evaluation_interval_s),
            "external_labels": {"environment": environment},
        },
        "rule_files": [rule_file],
        "scrape_configs": jobs,
    }


def render_config(config: dict[str, Any]) -> str:
    return yaml.safe_dump(config, sort_keys=False)
