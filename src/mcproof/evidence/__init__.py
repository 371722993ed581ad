"""Evidence: frozen records and the run store they are written to."""

from mcproof.evidence.records import (
    CheckOutcome,
    FleetStatusEvidence,
    LatencyEvidence,
    PlayerJoinEvidence,
    QueryEvidence,
    Record,
    RunEnd,
    RunInfo,
    RunScope,
    SloMeasurement,
    load_record,
)
from mcproof.evidence.store import RunStore, new_run_id, read_records

__all__ = [
    "CheckOutcome",
    "FleetStatusEvidence",
    "LatencyEvidence",
    "PlayerJoinEvidence",
    "QueryEvidence",
    "Record",
    "RunEnd",
    "RunInfo",
    "RunScope",
    "RunStore",
    "SloMeasurement",
    "load_record",
    "new_run_id",
    "read_records",
]
