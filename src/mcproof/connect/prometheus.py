"""Which Prometheus an environment offers: ``monitoring.prometheus_url``, or the sandbox's own."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from mcproof.errors import NoPrometheus, TargetError
from mcproof.monitoring.promql import PromClient
from mcproof.monitoring.settings import SANDBOX, MonitoringSettings
from mcproof.target import is_loopback

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["NoPrometheus", "monitoring_settings", "prometheus_client"]


def monitoring_settings(env: Environment) -> MonitoringSettings:
    settings: MonitoringSettings | None = getattr(env, "monitoring", None)
    if settings is None:
        raise NoPrometheus(f"environment '{env.name}' has no monitoring section; add monitoring.prometheus_url")
    return settings


def prometheus_client(env: Environment) -> PromClient:
    """A client for the environment's Prometheus; NoPrometheus says what to configure or start."""
    settings = monitoring_settings(env)
    if settings.prometheus_url != SANDBOX:
        host = urlsplit(settings.prometheus_url).hostname or ""
        if (env.guards.loopback_only or env.uses_sandbox) and not is_loopback(host):
            raise TargetError(
                f"environment '{env.name}' is loopback-only but monitoring.prometheus_url is {settings.prometheus_url}; "
                "use a 127.0.0.0/8 address or set guards.loopback_only: false"
            )
        return PromClient(settings.prometheus_url, timeout=settings.request_timeout_s)
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        raise NoPrometheus(f"monitoring.prometheus_url is 'sandbox' but environment '{env.name}' has no sandbox")
    from mcproof.connect.sandbox import prometheus_url

    url = prometheus_url(state_dir)
    if url is None:
        raise NoPrometheus(
            f"no sandbox Prometheus runs in {state_dir}/monitoring; start the sandbox with "
            f"`mcproof sandbox up --env {env.name}` (it starts Prometheus when monitoring.prometheus_url is 'sandbox')"
        )
    return PromClient(url, timeout=settings.request_timeout_s)
