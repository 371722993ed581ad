"""Generic evidence summaries: any registered record type the report has no specific view for.

New record types (load, recovery, DR, security, compliance...) land in `RECORD_TYPES` while the
report evolves; each still gets an evidence entry with its check, method, time window and scalar
figures (numbers, flags, short text; list fields as their length), so verdict rows can link to it.

>>> generic_totals({"type": "x", "check": "c", "rpo_s": 1.5, "ok": True, "marks": [1, 2], "blob": {"a": 1}})
{'rpo_s': 1.5, 'ok': 'true', 'marks (count)': 2}
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from mcproof.evidence.records import CheckOutcome, Record, RunEnd, RunInfo, RunScope, SloMeasurement

META_TYPES = (RunInfo, RunScope, RunEnd, CheckOutcome, SloMeasurement)
SKIP = {"type", "check", "method", "environment", "started_at", "ended_at", "recorded_at"}
MAX_TOTALS = 16
MAX_TEXT = 80
START_KEYS = ("started_at", "observed_from", "window_start", "injected_at", "recorded_at")
END_KEYS = ("ended_at", "observed_to", "window_end", "recorded_at")

Scalar = int | float | str


def is_raw(record: Record) -> bool:
    """Everything except the run, run-scope, run-end, check-outcome and SLO records is raw evidence."""
    return not isinstance(record, META_TYPES)


def generic_totals(data: Mapping[str, Any]) -> dict[str, Scalar]:
    """Up to MAX_TOTALS scalar figures of a record, in field order."""
    totals: dict[str, Scalar] = {}
    for key, value in data.items():
        if key in SKIP or len(totals) >= MAX_TOTALS:
            continue
        if isinstance(value, bool):
            totals[key] = "true" if value else "false"
        elif isinstance(value, int | float):
            if not isinstance(value, float) or math.isfinite(value):
                totals[key] = value
        elif isinstance(value, str) and 0 < len(value) <= MAX_TEXT:
            totals[key] = value
        elif isinstance(value, list):
            totals[f"{key} (count)"] = len(value)
    return totals


def _first(data: Mapping[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = data.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def generic_fields(record: Record) -> tuple[str, str, str, str, str, dict[str, Scalar]]:
    """(type, check, method, started_at, ended_at, totals) of any record."""
    data = record.as_dict()
    return (
        str(data.get("type", type(record).__name__)),
        str(data.get("check", "")),
        str(data.get("method", "")),
        _first(data, START_KEYS),
        _first(data, END_KEYS),
        generic_totals(data),
    )
