"""Evidence records: frozen, JSON-safe, timestamped (UTC), naming environment and method.

Every record serializes with `as_dict()` to a flat dict whose `type` is the class name; the run
store writes one per line to `evidence.jsonl` and `load_record()` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from mcproof.minecraft.status import utc_now


@dataclass(frozen=True)
class _Record:
    record_type: ClassVar[str] = "record"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.record_type, **asdict(self)}


@dataclass(frozen=True)
class RunInfo(_Record):
    """Who ran what, where: the first record of every run."""

    record_type: ClassVar[str] = "run"
    run_id: str
    environment: str
    tier: str
    started_at: str
    mcproof_version: str
    argv: list[str]
    environment_snapshot: dict[str, Any]
    host: str


@dataclass(frozen=True)
class RunEnd(_Record):
    """The last record of a run that finished; a run without it is reported as incomplete."""

    record_type: ClassVar[str] = "run_end"
    run_id: str
    ended_at: str
    exit_status: int
    checks: int


@dataclass(frozen=True)
class CheckOutcome(_Record):
    """The outcome of one check (a pytest test) in one suite."""

    record_type: ClassVar[str] = "check"
    environment: str
    suite: str
    check: str
    nodeid: str
    outcome: str  # passed | failed | skipped | error
    duration_s: float
    message: str = ""
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class SloMeasurement(_Record):
    """A measured figure held against one SLO."""

    record_type: ClassVar[str] = "slo"
    environment: str
    slo: str
    objective: str
    target: float
    measured: float
    unit: str
    comparator: str  # "<=" or ">="
    passed: bool
    method: str
    check: str
    samples: int
    recorded_at: str = field(default_factory=utc_now)

    @property
    def margin(self) -> float:
        """Room left before the objective is missed (negative when missed)."""
        return self.target - self.measured if self.comparator == "<=" else self.measured - self.target


@dataclass(frozen=True)
class FleetStatusEvidence(_Record):
    """A fleet sweep: every server's status result and what was wrong with the failing ones."""

    record_type: ClassVar[str] = "fleet_status"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    duration_s: float
    total: int
    serving: int
    serving_ratio: float
    threshold: float
    concurrency: int
    timeout_s: float
    pings_per_s: float
    failures: list[dict[str, str]]
    results: list[dict[str, Any]]


@dataclass(frozen=True)
class LatencyEvidence(_Record):
    """Repeated sequential status pings: raw samples and their summary."""

    record_type: ClassVar[str] = "latency"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    servers: int
    rounds: int
    samples_ms: list[float]
    sample_times: list[str]
    failures: int
    summary: dict[str, float]


@dataclass(frozen=True)
class QueryEvidence(_Record):
    """Query (UDP) full-stat results for the sampled servers."""

    record_type: ClassVar[str] = "query"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    total: int
    answered: int
    failures: list[dict[str, str]]
    results: list[dict[str, Any]]


RECORD_TYPES: dict[str, type[_Record]] = {
    cls.record_type: cls
    for cls in (RunInfo, RunEnd, CheckOutcome, SloMeasurement, FleetStatusEvidence, LatencyEvidence, QueryEvidence)
}


def load_record(data: dict[str, Any]) -> _Record:
    """Rebuild a record from its dict (unknown keys ignored, so older readers survive additions)."""
    kind = data.get("type")
    cls = RECORD_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown evidence record type {kind!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


Record = _Record
