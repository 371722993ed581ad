"""The `players:` section of an environment file: player SLOs and how they are measured.

Kept apart from `mcproof.config` (which imports this module) so the players package stays importable
on its own. An SLO left out (or null) is *not judged*: it is shown as such, never as a pass.

Example (YAML)::

    players:
      slo:
        join_success_ratio: 0.99     # successful joins / attempts (failed and timed-out attempts count)
        join_time_p50_s: 1.0         # connect -> in play, of successful joins
        join_time_p95_s: 3.0
        session_drop_ratio: 0.01     # dropped sessions / sessions (see mcproof.players.slis)
        rejoin_time_max_s: 60        # drop -> back in play, every drop (an unrecovered drop fails)
        tps_min: 18                  # server tick rate from world-time updates, worst interval
        tps_p5: 19                   # 5th percentile of the intervals
      min_samples: 20                # fewer samples behind a figure -> inconclusive
      min_tps_updates: 5             # per server
      tps_window_s: 5.0
      population_per_server: 2
      servers: 10
      session_s: 30
      phase_timeout_s: 5
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PLAYER_SLO_NAMES", "PlayerSettings", "PlayerSlo", "player_slo_name"]


class PlayerSlo(BaseModel):
    """``players.slo``: the objectives; None (the default) = not declared, not judged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    join_success_ratio: float | None = Field(None, gt=0, le=1)  # min
    join_time_p50_s: float | None = Field(None, gt=0, le=600)  # max
    join_time_p95_s: float | None = Field(None, gt=0, le=600)  # max
    session_drop_ratio: float | None = Field(None, ge=0, lt=1)  # max
    rejoin_time_max_s: float | None = Field(None, gt=0, le=86400)  # max, per drop
    tps_min: float | None = Field(None, gt=0, le=1000)  # min, per server, worst interval
    tps_p5: float | None = Field(None, gt=0, le=1000)  # min, per server, 5th percentile of intervals


def player_slo_name(field: str) -> str:
    """The SLO's name in verdicts, evidence, reports and waivers.

    >>> player_slo_name("join_time_p95_s")
    'players.join_time_p95_s'
    """
    return f"players.{field}"


PLAYER_SLO_NAMES: tuple[str, ...] = tuple(player_slo_name(f) for f in PlayerSlo.model_fields)
"""Every player SLO name a waiver may name (``waivers: [{slo: players.tps_min, ...}]``)."""


class PlayerSettings(BaseModel):
    """How the player checks, player load and players-in-chaos measure (and what they are held to)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slo: PlayerSlo = PlayerSlo()
    # fewer samples than this behind a figure (join attempts, successful joins, sessions, drops judged
    # as a ratio) -> that SLO is inconclusive; ratio SLOs also need 1 / (1 - objective) samples to pass
    min_samples: int = Field(20, ge=1, le=1_000_000)
    min_tps_updates: int = Field(5, ge=2, le=100_000)  # per server; fewer -> no TPS figure for it
    # TPS is estimated over spans of consecutive world-time updates at least this long (0: every pair):
    # one late packet of d seconds moves a span's estimate by ~d / tps_window_s, not by d / 1 s
    tps_window_s: float = Field(5.0, ge=0, le=3600)
    tps_series_points: int = Field(120, ge=2, le=2000)  # per server kept in the evidence (downsampled)
    tps_series_servers: int = Field(20, ge=1, le=1000)  # servers whose series the evidence keeps (worst first)
    servers: int = Field(10, ge=1, le=100_000)  # servers the player checks sample (smoke)
    population_per_server: int = Field(2, ge=1, le=1000)  # players kept logged in per server (load, chaos)
    session_s: float = Field(30.0, gt=0, le=7 * 86400)  # how long one session stays before leaving
    phase_timeout_s: float = Field(5.0, gt=0, le=300)  # deadline of each join phase
    keepalive_timeout_s: float = Field(30.0, gt=0, le=600)  # no packet for this long -> the session dropped
