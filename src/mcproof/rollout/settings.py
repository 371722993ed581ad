"""The `rollout:` section of an environment file: the release gate's deadlines and SLOs.

Kept apart from `mcproof.config` (which imports this module), like `mcproof.chaos.settings`.

Example (YAML)::

    rollout:
      interval_s: 0.2            # one ping of every Ready endpoint per tick
      ping_timeout_s: 0.5        # each ping's deadline (a ping past it is a failed sample)
      rollout_deadline_s: 120    # the update must complete (all replicas updated and available) by then
      ready_deadline_s: 30       # each new pod Ready within this of its creation
      settle_s: 1.0              # keep observing this long after the rollout completed
      healthy_deadline_s: 120    # after a rollback: all replicas available and answering the old version
      max_error_ratio: 0.0       # failed pings of the new pods / their pings (a Deployment also needs 0 routed failures)
      max_restarts: 0            # container restarts a new pod may show (more: a crash loop)
      readiness_gap_s: 0         # how long a new pod may be Ready (routed) before its server first answers
      max_server_downtime_s: 60  # a StatefulSet's server: its old release's last answer to its new one's first
      gate:                      # the release the chaos suite's release-gate check rolls (absent: skipped)
        workload: ns/deployment/proxy   # absent: the first Deployment of 2+ replicas in scope
        to: releases/next.yaml     # a manifest or patch (relative to the environment file) or an image
        expect_version: 1.21.5     # absent: minecraft.expect
        expect_protocol: 770
        rollback: true             # roll a failed release back (rollout undo) and time it
        restore: false             # a rehearsal: put the previous template back after a passed gate
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = ["GateRelease", "RolloutSettings"]


class GateRelease(BaseModel):
    """The release the suite's gate check rolls: what, to which release, what it must answer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workload: str | None = None
    to: str = Field(min_length=1)
    expect_version: str | None = None
    expect_protocol: int | None = Field(None, ge=0)
    rollback: bool = True
    restore: bool = False


class RolloutSettings(BaseModel):
    """Deadlines and SLOs of `mcproof rollout gate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    interval_s: float = Field(0.2, ge=0.05, le=10)
    ping_timeout_s: float = Field(0.5, gt=0, le=10)
    rollout_deadline_s: float = Field(120, gt=0, le=3600)
    ready_deadline_s: float = Field(30, gt=0, le=3600)
    settle_s: float = Field(1.0, ge=0, le=300)
    healthy_deadline_s: float = Field(120, gt=0, le=3600)
    max_error_ratio: float = Field(0.0, ge=0, le=1)
    max_restarts: int = Field(0, ge=0, le=100)
    readiness_gap_s: float = Field(0.0, ge=0, le=60)
    max_server_downtime_s: float = Field(60.0, gt=0, le=3600)  # a StatefulSet server's downtime through its replacement
    port_name: str = "minecraft"
    gate: GateRelease | None = None

    @model_validator(mode="after")
    def _consistent(self) -> RolloutSettings:
        if self.ping_timeout_s > self.rollout_deadline_s:
            raise ValueError("rollout.ping_timeout_s must not exceed rollout.rollout_deadline_s")
        if self.ready_deadline_s > self.rollout_deadline_s:
            raise ValueError("rollout.ready_deadline_s must not exceed rollout.rollout_deadline_s")
        return self
