"""The environment's `compliance:` section (defined here; mcproof.config imports it)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ComplianceSettings"]


class ComplianceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    catalog: Path = Path("compliance/controls.yaml")  # relative to the project root
    reports_dir: Path = Path("reports")  # earlier runs whose evidence counts (within the catalog window)
    window_days: int | None = Field(None, ge=1, le=3650)  # default: the catalog's window_days
    min_scores: dict[str, float] = {}  # framework id -> minimum share of satisfied controls (0..1)
    platform_audit_log: Path | None = None  # the platform's audit log (JSON lines) to check for admin actions
    # the Kubernetes API server's audit log (audit.k8s.io Events, JSON lines); None: the embedded cluster's, if any
    apiserver_audit_log: Path | None = None
    # a file holding the API server's flags (its static pod manifest, say) for the log retention check;
    # None: the embedded cluster's kube-apiserver command line, if any
    apiserver_args_file: Path | None = None
