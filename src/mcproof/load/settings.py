"""The `load:` section of an environment file: users, shape, pacing, thresholds, run mode.

Kept apart from `mcproof.config` (which imports this module) so the load package stays importable
on its own. Every field is bounded: a load run always has a count and a deadline.

Example (YAML)::

    load:
      shape: steady            # ramp | steady | spike | soak
      users: 200               # simulated servers; default: slo.concurrent_servers
      duration_s: 15
      ping_interval_s: 1.0
      thresholds: ["status_p95_ms < 250", "failure_ratio < 0.001"]
      players:                 # player sessions in the same Locust run (0 = none)
        population: 5          # held for the whole run: join, stay session_s, leave, join again
        session_s: 8
        rush: {joins: 5, within_s: 2, at_s: 8}   # an event rush on top of the population
        # thresholds: from the players.slo section unless given here (e.g. ["join_p95_ms <= 500"])
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from mcproof.load.thresholds import PLAYER_METRICS, parse_threshold

ShapeName = Literal["ramp", "steady", "spike", "soak"]
SHAPE_NAMES: tuple[str, ...] = ("ramp", "steady", "spike", "soak")
DEFAULT_THRESHOLDS = ("status_p95_ms < 250", "failure_ratio < 0.001")


class ProvisioningSettings(BaseModel):
    """``load.provisioning``: the server-lifecycle load (create -> ready -> ping -> delete), bounded."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    users: int = Field(2, ge=1, le=200)
    cycles_per_user: int = Field(3, ge=1, le=1000)
    ready_timeout_s: float = Field(30.0, gt=0, le=3600)
    deadline_s: float = Field(120.0, gt=0, le=6 * 3600)
    time_to_ready_p95_s: float = Field(10.0, gt=0, le=3600)  # the threshold the check holds


class FleetBufferSettings(BaseModel):
    """``load.fleet_buffer``: a join rush against the platform's game-server fleet autoscaler (a buffer of
    ready servers, Agones-style) and the SLOs it is held to; bounded by its deadlines."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rush: int = Field(3, ge=1, le=500)  # allocations made at once
    keep: int = Field(2, ge=1, le=500)  # of them, held with a player on each through the scale-in
    interval_s: float = Field(0.25, ge=0.05, le=10)  # one observation of the buffer (listed + pinged) per tick
    ping_timeout_s: float = Field(1.0, gt=0, le=10)
    allocation_deadline_s: float = Field(30.0, gt=0, le=600)  # one allocation, retried while the buffer is dry
    refill_deadline_s: float = Field(60.0, gt=0, le=3600)  # the buffer full again after the rush
    scale_in_deadline_s: float = Field(60.0, gt=0, le=3600)  # the surplus gone after the releases
    settle_s: float = Field(3.0, ge=0, le=600)  # the held servers still observed this long after the scale-in
    ready_min: int = Field(1, ge=1)  # SLO: ready servers answering, at least this many throughout the rush
    allocation_p95_s: float = Field(5.0, gt=0, le=600)  # SLO: request -> allocated server answering, p95
    scale_out_s: float = Field(30.0, gt=0, le=3600)  # SLO: buffer below its size -> full again

    @model_validator(mode="after")
    def _keep_within_rush(self) -> FleetBufferSettings:
        if self.keep > self.rush:
            raise ValueError(f"load.fleet_buffer.keep ({self.keep}) must not exceed rush ({self.rush})")
        return self


class SaturationSettings(BaseModel):
    """``load.saturation``: past these the generator, not the platform, set the figures -> INCONCLUSIVE.

    See `mcproof.load.generator.SaturationLimits` (same fields, same defaults).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_cpu_share: float = Field(0.90, gt=0, le=1.0)  # CPU time / wall time of one generator process
    max_lag_p95_ms: float = Field(100.0, gt=0, le=60_000)  # schedule lag (actual - scheduled send) p95
    late_after_ms: float = Field(500.0, gt=0, le=60_000)  # a ping sent later than this is not on time
    max_late_ratio: float = Field(0.01, ge=0, le=1)  # share of scheduled pings late or dropped
    max_loop_lag_p95_ms: float = Field(100.0, gt=0, le=60_000)  # event-loop lag p95 of any one generator process


class PlayerRushSettings(BaseModel):
    """``load.players.rush``: an event rush, `joins` extra players joining evenly within `within_s` from `at_s`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    joins: int = Field(0, ge=0, le=20_000)
    within_s: float = Field(10.0, gt=0, le=3600)
    at_s: float = Field(5.0, ge=0, le=86400)  # run time of the first rush join


class PlayerLoadSettings(BaseModel):
    """``load.players``: Locust users that are players (`mcproof.load.player_users`), beside the server-list users.

    The SLO objectives stay in the environment's `players:` section: the load run's thresholds on the
    player figures (join success ratio, join p50/p95, drops, TPS) are derived from ``players.slo`` unless
    ``thresholds`` is given; session length and deadlines default to ``players.session_s`` etc.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    population: int = Field(0, ge=0, le=20_000)  # players held for the whole run (steady population)
    session_s: float | None = Field(None, gt=0, le=86400)  # each session's length (default players.session_s)
    rejoin_pause_s: float = Field(0.0, ge=0, le=3600)  # between leaving and the next join
    join_timeout_s: float | None = Field(None, gt=0, le=120)  # each join phase's deadline (players.phase_timeout_s)
    keepalive_timeout_s: float | None = Field(None, gt=0, le=600)  # silent this long: dropped (players.*)
    name_prefix: str = Field("mcproof", min_length=1, max_length=8, pattern=r"^[A-Za-z0-9_]+$")
    rush: PlayerRushSettings = PlayerRushSettings()
    # empty: derived from the environment's players.slo (`mcproof.load.shapes.thresholds_from_slo`); give
    # expressions only for load-specific bounds beyond the SLOs
    thresholds: tuple[str, ...] = ()
    tps_updates_per_server: int = Field(600, ge=10, le=100_000)  # world-time samples kept per server (thinned)

    @field_validator("thresholds")
    @classmethod
    def _thresholds_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for expression in value:
            parse_threshold(expression, PLAYER_METRICS)
        return value


class LoadSettings(BaseModel):
    """How the load suite and `mcproof load` drive the environment's servers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    shape: ShapeName = "steady"
    users: int | None = Field(None, ge=1, le=100_000)
    duration_s: float = Field(60.0, gt=0, le=7 * 86400)
    ramp_s: float = Field(10.0, ge=0, le=86400)
    ping_interval_s: float = Field(5.0, gt=0, le=3600)
    query_every: int = Field(0, ge=0, le=10_000)
    timeout_s: float | None = Field(None, gt=0, le=60)
    spike_base_ratio: float = Field(0.2, gt=0, le=1)
    spike_at_s: float = Field(10.0, ge=0)
    spike_hold_s: float = Field(20.0, gt=0)
    warmup_s: float | None = Field(None, ge=0)
    stop_grace_s: float = Field(10.0, ge=0, le=600)
    thresholds: tuple[str, ...] = DEFAULT_THRESHOLDS
    workers: int = Field(0, ge=0, le=64)
    failure_targets_cap: int = Field(50, ge=1, le=10_000)
    web_port: int = Field(8089, ge=1, le=65535)
    provisioning: ProvisioningSettings = ProvisioningSettings()
    fleet_buffer: FleetBufferSettings = FleetBufferSettings()
    saturation: SaturationSettings = SaturationSettings()
    players: PlayerLoadSettings = PlayerLoadSettings()

    @field_validator("thresholds")
    @classmethod
    def _thresholds_parse(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for expression in value:
            parse_threshold(expression)  # ValueError -> one-line ConfigError via config loading
        return value
