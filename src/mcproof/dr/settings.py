"""The ``dr`` section of an environment file (defined here so the config module stays generic).

Example::

    dr:
      tenant: alpha
      disaster: delete        # or corrupt
      mode: scheduled         # wait for the platform's own scheduled backups (on_demand: the drill takes them)
      backups: 1              # scheduled backups to see after the harness started writing
      schedule_timeout_s: 60  # deadline for each of them (default: the RPO SLO); missing -> FAIL
      write_interval_s: 0.2   # the harness writes one marker through the console this often
      settle_s: 1.0           # writing goes on this long after the newest backup, then the disaster
      serving_timeout_s: 60
      player_join: true       # after the restore, time the first player join (false: not checked, said so)
      player_join_timeout_s: 60  # default: serving_timeout_s; no player in play by then -> FAIL
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DrSettings"]


class DrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = "alpha"
    disaster: Literal["delete", "corrupt"] = "delete"
    mode: Literal["scheduled", "on_demand"] = "scheduled"
    backups: int = Field(1, ge=1, le=100)
    backup_interval_s: float = Field(2.0, gt=0, le=3600)  # on_demand only: spacing of the drill's own backups
    schedule_timeout_s: float | None = Field(None, gt=0, le=86400)  # None: the environment's RPO SLO
    write_interval_s: float = Field(0.2, gt=0, le=60)
    warmup_s: float = Field(1.0, ge=0, le=3600)
    settle_s: float = Field(1.0, ge=0, le=3600)
    detection_timeout_s: float = Field(30.0, gt=0, le=3600)
    serving_timeout_s: float = Field(60.0, gt=0, le=3600)
    status_timeout_s: float = Field(1.0, gt=0, le=60)
    keep_server: bool = False
    player_join: bool = True
    player_join_timeout_s: float | None = Field(None, gt=0, le=3600)  # None: serving_timeout_s
    player_retry_s: float = Field(0.5, gt=0, le=60)
    player_phase_timeout_s: float = Field(5.0, gt=0, le=120)  # each join phase's deadline
