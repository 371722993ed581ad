"""``kubernetes.autoscaling``: what the static autoscaling checks (suites/smoke/test_autoscaling.py) demand."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = ["METRIC_API_GROUPS", "AutoscalingSettings"]

# The aggregated APIs an HPA's metrics are read from (metric type -> API group).
METRIC_API_GROUPS = {
    "Resource": "metrics.k8s.io",
    "ContainerResource": "metrics.k8s.io",
    "Pods": "custom.metrics.k8s.io",
    "Object": "custom.metrics.k8s.io",
    "External": "external.metrics.k8s.io",
}


class AutoscalingSettings(BaseModel):
    """Every Deployment/StatefulSet in scope needs an autoscaling/v2 HPA with sane bounds and served metrics,
    and a PodDisruptionBudget that allows one disruption but not all; ``platform_scaled`` workloads (scaled by
    the platform's own autoscaler, e.g. game servers) need only the PDB."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_replicas_ceiling: int = Field(100, ge=1, le=100_000)  # an HPA's maxReplicas above this is a finding
    # Entries: a label selector ("k=v[,k=v]") or a glob over "namespace/kind/name" (kind lower-case: "*/statefulset/*").
    platform_scaled: list[str] = []
    # Metric APIs the environment knows it does not serve, with the reason: the metrics check is then SKIPPED
    # with that reason (never passed), and FAILS if the API is in fact served (the declaration is stale).
    metrics_api_gaps: dict[str, str] = {}

    @field_validator("platform_scaled")
    @classmethod
    def _entries(cls, value: list[str]) -> list[str]:
        for entry in value:
            if not entry.strip():
                raise ValueError("kubernetes.autoscaling.platform_scaled: an empty entry; use 'k=v' or 'ns/kind/name'")
            if "=" not in entry and entry.count("/") != 2:
                raise ValueError(
                    f"kubernetes.autoscaling.platform_scaled: {entry!r} is neither a label selector 'k=v' nor "
                    "'namespace/kind/name' (globs allowed, e.g. '*/statefulset/*')"
                )
        return value

    @model_validator(mode="after")
    def _gaps(self) -> AutoscalingSettings:
        known = sorted(set(METRIC_API_GROUPS.values()))
        for group, reason in self.metrics_api_gaps.items():
            if group not in known:
                raise ValueError(f"kubernetes.autoscaling.metrics_api_gaps: unknown API {group!r}; use one of {known}")
            if len(reason.strip()) < 3:
                raise ValueError(f"kubernetes.autoscaling.metrics_api_gaps.{group}: give the reason")
        return self
