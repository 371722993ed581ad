"""The ``dr`` section of an environment file (defined here so the config module stays generic).

Example::

    dr:
      tenant: alpha
      disaster: delete        # or corrupt
      backups: 2
      backup_interval_s: 2.0
      settle_s: 1.0           # time from the last backup to the disaster
      serving_timeout_s: 60
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["DrSettings"]


class DrSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    tenant: str = "alpha"
    disaster: Literal["delete", "corrupt"] = "delete"
    backups: int = Field(2, ge=1, le=100)
    backup_interval_s: float = Field(2.0, gt=0, le=3600)
    warmup_s: float = Field(1.0, ge=0, le=3600)
    settle_s: float = Field(1.0, ge=0, le=3600)
    serving_timeout_s: float = Field(60.0, gt=0, le=3600)
    status_timeout_s: float = Field(1.0, gt=0, le=60)
    keep_server: bool = False
