"""Evidence records round-trip through the run store; secrets are redacted on write."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.errors import EvidenceError
from mcproof.evidence import CheckOutcome, RunStore, SloMeasurement, load_record, new_run_id, read_records
from mcproof.secrets import Secret


def _slo(measured: float) -> SloMeasurement:
    return SloMeasurement(
        environment="e",
        slo="status_latency_p95_ms",
        objective="p95 <= 250 ms",
        target=250.0,
        measured=measured,
        unit="ms",
        comparator="<=",
        passed=measured <= 250,
        method="m",
        check="c",
        samples=10,
    )


def test_records_are_frozen_and_round_trip() -> None:
    record = _slo(12.5)
    with pytest.raises(AttributeError):
        record.measured = 1.0  # type: ignore[misc]
    again = load_record(record.as_dict())
    assert again == record
    assert record.as_dict()["type"] == "slo"
    assert record.recorded_at.endswith("Z")


def test_margin_sign() -> None:
    assert _slo(200).margin == 50
    assert _slo(300).margin == -50


def test_store_appends_and_reads_back(tmp_path: Path) -> None:
    store = RunStore.create(tmp_path, new_run_id("e"))
    store.append(_slo(1.0))
    store.append(CheckOutcome(environment="e", suite="smoke", check="t", nodeid="n", outcome="passed", duration_s=0.1))
    kinds = [r.record_type for r in read_records(store.run_dir)]
    assert kinds == ["slo", "check"]


def test_store_redacts_secrets(tmp_path: Path) -> None:
    store = RunStore.create(tmp_path, "run1", [Secret("hunter2", "env:X")])
    store.append(
        CheckOutcome(
            environment="e",
            suite="smoke",
            check="t",
            nodeid="n",
            outcome="failed",
            duration_s=0.1,
            message="login with hunter2 failed",
        )
    )
    text = store.evidence_path.read_text()
    assert "hunter2" not in text
    assert "login with *** failed" in text


def test_latest_link_moves(tmp_path: Path) -> None:
    first = RunStore.create(tmp_path, "run-a")
    first.link_latest()
    second = RunStore.create(tmp_path, "run-b")
    second.link_latest()
    assert (tmp_path / "latest").resolve() == second.run_dir.resolve()


def test_damaged_evidence_is_refused(tmp_path: Path) -> None:
    store = RunStore.create(tmp_path, "run-x")
    store.evidence_path.write_text('{"type": "slo"\n')
    with pytest.raises(EvidenceError, match="damaged evidence line"):
        list(read_records(store.run_dir))
    with pytest.raises(EvidenceError, match="not found"):
        list(read_records(tmp_path / "nope"))


def test_unknown_record_type_rejected() -> None:
    with pytest.raises(ValueError, match="unknown evidence record type"):
        load_record({"type": "mystery"})
