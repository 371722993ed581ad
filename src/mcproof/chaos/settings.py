"""The `chaos:` section of an environment file: what may run here, how the observer samples.

Kept apart from `mcproof.config` (which imports this module), like `mcproof.load.settings`.

Example (YAML)::

    chaos:
      allowed_experiments: [kill-one-server, kill-20-percent]   # empty: every experiment tagged for the tier
      allow_production: false         # tier production also needs this AND --ack-production
      allowed_labels: {app.kubernetes.io/name: minecraft}
      observer_interval_s: 0.5
      recovery_window_s: 60
      availability_window_s: 2592000  # the SLO period whose error budget an experiment's downtime is a share of
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class ChaosSettings(BaseModel):
    """Safety limits and observer knobs for the chaos suite, `mcproof chaos run` and game days."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_experiments: list[str] = []
    allow_production: bool = False
    allowed_labels: dict[str, str] = {}
    max_blast_radius: float | None = Field(None, gt=0, le=1)
    observer_interval_s: float = Field(0.5, ge=0.05, le=60)
    observer_timeout_s: float = Field(1.0, gt=0, le=30)
    observer_sample: int = Field(50, ge=0, le=10_000)
    observer_max_duration_s: float = Field(1800, gt=0, le=86_400)
    recovery_window_s: float = Field(60, gt=0, le=3600)
    availability_window_s: float = Field(30 * 86_400, gt=0)  # the SLO period of the error budget burn (30 days)
    proxy_base_address: str = "127.250.0.1"
    gameday_serving_floor: float = Field(0.5, ge=0, le=1)
    seed: int | None = None
    namespace: str | None = None  # ${mcproof_namespace} in experiments (default: kubernetes.namespaces[0])
