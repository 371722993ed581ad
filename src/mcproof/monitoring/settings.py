"""The `monitoring:` section of an environment file (defined here so the config module stays generic).

Example (YAML)::

    monitoring:
      prometheus_url: sandbox          # or https://prometheus.example:9090 (read-only API access)
      detection_window_s: 30           # an injected outage must raise its alert within this
      availability_tolerance: 0.001    # |observer - PromQL| availability may differ by this much
      availability_window_s: 180       # smoke: how long availability is observed
      availability_servers: 30         # smoke: how many servers the observer pings (evenly picked)
      observer_interval_s: 0.15        # smoke: the observer pings each of them this often

The window must resolve the availability objective (``observer_interval_s / availability_window_s <=
1 - slo.availability``) and the tolerance must hold one down episode's sampling error
(``(observer_interval_s + scrape interval) / (availability_servers * availability_window_s)``);
otherwise the check is inconclusive with the fix. The derivation is in mcproof.monitoring.availability.

``prometheus_url: sandbox`` means the Prometheus that the embedded sandbox
runs in the sandbox state dir; the ``sandbox_*`` fields shape that Prometheus only (a real environment
has its own scrape intervals and rules, and names its alert and metric in ``server_down_alert`` and
``up_metric``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from mcproof.monitoring.runbooks import DEFAULT_SECTIONS

__all__ = ["SANDBOX", "MonitoringSettings", "RunbookSettings"]

SANDBOX = "sandbox"


class RunbookSettings(BaseModel):
    """``monitoring.runbooks``: where the alert rules and their runbooks are (docs/runbooks.md).

    ``alert_rules``: a Prometheus rules file, or ``api`` (``/api/v1/rules`` of ``monitoring.prometheus_url``);
    ``runbooks``: a directory (or an http(s) base URL: not fetched, inconclusive); ``experiments``: the chaos
    library whose experiments must name their alert and runbook ("": not checked)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    alert_rules: str
    runbooks: str
    required_sections: tuple[str, ...] = DEFAULT_SECTIONS
    experiments: str = "suites/chaos/experiments"

    @field_validator("alert_rules", "runbooks")
    @classmethod
    def _not_empty(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must name a file, directory or URL (see docs/runbooks.md)")
        return v

    @field_validator("required_sections")
    @classmethod
    def _sections(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v or any(not s.strip() for s in v):
            raise ValueError("list at least one non-empty section name, e.g. [symptoms, mitigation]")
        return v


class MonitoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    prometheus_url: str = SANDBOX
    detection_window_s: float = Field(30.0, gt=0, le=3600)
    availability_tolerance: float = Field(0.001, ge=0, le=1)
    availability_window_s: float = Field(180.0, gt=0, le=3600)
    availability_servers: int = Field(30, ge=1, le=1000)
    observer_interval_s: float = Field(0.15, gt=0, le=60)
    request_timeout_s: float = Field(5.0, gt=0, le=120)
    # what the checks look for (a real environment names its own)
    server_down_alert: str = "MinecraftServerDown"
    server_label: str = "server"
    up_metric: str = "mcproof_server_up"
    # smoke: the scrape job of the cluster's kube-apiserver, required when the environment has `kubernetes`
    # ("": not checked)
    kube_apiserver_job: str = "kube-apiserver"
    # runbook coverage (suites/smoke/test_runbooks.py); None: not checked
    runbooks: RunbookSettings | None = None
    # the sandbox Prometheus only
    sandbox_scrape_interval_s: float = Field(1.0, ge=0.2, le=300)
    sandbox_evaluation_interval_s: float = Field(1.0, ge=0.2, le=300)
    sandbox_server_down_for_s: float = Field(2.0, ge=0, le=3600)
    sandbox_latency_alert_ms: float = Field(500.0, gt=0)
    sandbox_max_servers: int = Field(1000, ge=1, le=20_000)  # servers the fleet exporter pings per scrape
