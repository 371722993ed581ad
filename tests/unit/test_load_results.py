"""Collector, metrics and LoadEvidence from a recorded run result (no network, no Locust import)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mcproof.evidence import RunStore, read_records
from mcproof.evidence.records import load_record
from mcproof.load.collector import LoadCollector
from mcproof.load.evidence import LoadEvidence, capacity_measurement, load_evidence
from mcproof.load.metrics import compute_metrics
from mcproof.load.plan import LoadConfig, TargetRef
from mcproof.load.report import describe_run
from mcproof.load.shapes import plan_shape

# A trimmed result as mcproof.load.locust_process.stats_snapshot writes it (recorded from a sandbox run).
STATS = {
    "start_time": 1000.0,
    "last_request": 1010.0,
    "SLP": {
        "requests": 1000,
        "failures": 3,
        "p50": 2,
        "p90": 5,
        "p95": 8,
        "p99": 30,
        "min": 0.3,
        "max": 61.0,
        "avg": 2.9,
        "histogram": {"2": 800, "5": 150, "8": 40, "30": 9, "61": 1},
    },
    "QUERY": {
        "requests": 100,
        "failures": 1,
        "p50": 3,
        "p90": 6,
        "p95": 9,
        "p99": 12,
        "min": 1.0,
        "max": 12.0,
        "avg": 3.5,
        "histogram": {"3": 90, "12": 10},
    },
    "errors": [
        {"protocol": "SLP", "name": "status", "error": "ConnectionRefused('connection refused')", "occurrences": 3}
    ],
}


def collector_with_failures() -> LoadCollector:
    c = LoadCollector(slow_ms=250)
    for second in range(1000, 1010):
        for i in range(100):
            c.record("SLP", f"mc-{i:05d}", ok=True, kind=None, response_time_ms=2.0, at=second + 0.5)
    for _ in range(3):
        c.record("SLP", "mc-00007", ok=False, kind="refused", response_time_ms=0.4, at=1005.1)
    c.record("QUERY", "mc-00009", ok=False, kind="timeout", response_time_ms=1000, at=1006.0)
    c.record("SLP", "mc-00011", ok=True, kind=None, response_time_ms=600.0, at=1007.0)
    return c


def test_collector_keeps_kinds_and_targets_apart() -> None:
    c = collector_with_failures()
    assert c.failures_by_kind() == {"QUERY:timeout": 1, "SLP:refused": 3}
    assert dict(c.failures_by_target) == {"mc-00007": {"refused": 3}, "mc-00009": {"timeout": 1}}
    assert dict(c.slow_by_target) == {"mc-00011": 1}


def test_worker_drain_and_master_merge_equal_one_collector() -> None:
    whole = collector_with_failures()
    master, worker_a, worker_b = LoadCollector(), LoadCollector(), LoadCollector()
    for i in range(200):
        worker = worker_a if i % 2 else worker_b
        worker.record("SLP", f"mc-{i}", ok=i % 50 != 0, kind=None if i % 50 else "timeout", response_time_ms=1, at=5.0)
    for worker in (worker_a, worker_b):
        master.merge(json.loads(json.dumps(worker.drain())))  # crosses the wire as JSON-safe data
    assert worker_a.snapshot()["kinds"] == {}  # drained
    assert master.status_per_second == {5: 200}
    assert master.failures_by_kind() == {"SLP:timeout": 4}
    assert len(master.targets_seen) == 200
    assert whole.rate_over(1000.0, 1010.0) == pytest.approx(100.4)


def test_rate_over_uses_whole_seconds_inside_the_window() -> None:
    c = LoadCollector()
    for second, n in ((9, 50), (10, 100), (11, 100), (12, 40)):
        c.status_per_second[second] = n
    assert c.rate_over(9.5, 12.0) == 100.0
    assert c.rate_over(10.2, 10.9) is None


def test_metrics_from_recorded_stats() -> None:
    m = compute_metrics(STATS, collector_with_failures(), full_load_window=(1001.0, 1009.0), peak_users=100)
    assert m["status_p95_ms"] == 8
    assert m["failure_ratio"] == pytest.approx(4 / 1100)
    assert m["status_failure_ratio"] == pytest.approx(0.003)
    assert m["pings_per_s"] == 100.5  # 800 pings + 4 more (3 refused, 1 slow) in 8 whole seconds
    assert m["requests_per_s"] == 110.0
    assert m["failed_targets"] == 2.0


def test_paced_pings_per_s_counts_pings_at_their_send_time() -> None:
    c = collector_with_failures()
    del c.status_per_second[1008]  # a stall at the window's edge pushed these replies out of their second
    by_reply = compute_metrics(STATS, c, full_load_window=(1001.0, 1009.0), peak_users=100)
    by_send = compute_metrics(STATS, c, full_load_window=(1001.0, 1009.0), peak_users=100, sent_in_span=(800, 8.0))
    assert by_reply["pings_per_s"] == 88.0  # 704 replies in 8 whole seconds
    assert by_send["pings_per_s"] == 100.0


def test_metrics_without_samples_are_none() -> None:
    m = compute_metrics({"start_time": 0, "last_request": None}, LoadCollector(), full_load_window=(1, 5), peak_users=0)
    assert m["status_p95_ms"] is None
    assert m["failure_ratio"] is None
    assert m["pings_per_s"] is None


def _config() -> LoadConfig:
    return LoadConfig(
        environment="unit",
        targets=tuple(TargetRef(f"mc-{i:05d}", "127.1.0.1", 25565 + i) for i in range(100)),
        users=100,
        plan=plan_shape("steady", users=100, duration_s=10, ping_interval_s=1),
        ping_interval_s=1.0,
        timeout_s=1.0,
        thresholds=("status_p95_ms < 250", "failure_ratio < 0.001"),
    )


def _result() -> dict[str, object]:
    return {
        "mode": "local runner",
        "started_at": "2026-11-25T18:00:00.000Z",
        "ended_at": "2026-11-25T18:00:10.000Z",
        "duration_s": 10.0,
        "passed": False,
        "metrics": {"failure_ratio": 4 / 1100, "requests": 1100.0},
        "thresholds": [
            {
                "expression": "status_p95_ms < 250",
                "metric": "status_p95_ms",
                "op": "<",
                "value": 250.0,
                "observed": 8,
                "passed": True,
            },
            {
                "expression": "failure_ratio < 0.001",
                "metric": "failure_ratio",
                "op": "<",
                "value": 0.001,
                "observed": 4 / 1100,
                "passed": False,
            },
        ],
        "stats": STATS,
        "failures_by_kind": {"QUERY:timeout": 1, "SLP:refused": 3},
        "failed_targets": 2,
        "failures_by_target": [
            {"target": "mc-00007", "failures": 3, "kinds": {"refused": 3}},
            {"target": "mc-00009", "failures": 1, "kinds": {"timeout": 1}},
        ],
        "slow_targets": 0,
        "slow_by_target": [],
        "status_per_second": [[0, 100], [1, 100]],
    }


def test_load_evidence_round_trips_through_the_run_store(tmp_path: Path) -> None:
    record = load_evidence(_config(), _result(), check="unit", outputs=["load/locust.html"])
    assert record.failed_thresholds == ["failure_ratio < 0.001"]
    assert record.status_ms["p95"] == 8
    store = RunStore(tmp_path)
    store.append(record)
    (back,) = list(read_records(tmp_path))
    assert isinstance(back, LoadEvidence)
    assert back == load_record(record.as_dict())
    assert back.as_dict()["type"] == "load"


def test_describe_run_names_kinds_and_targets() -> None:
    text = describe_run(load_evidence(_config(), _result(), check="unit", outputs=[]))
    assert "FAILED: failure_ratio < 0.001" in text
    assert "SLP:refused=3" in text
    assert "mc-00007 (refused=3)" in text


def test_capacity_measurement_counts_servers_served_only_when_thresholds_hold() -> None:
    failed = load_evidence(_config(), {**_result(), "verdict": "fail", "servers_served": 98}, check="unit", outputs=[])
    m = capacity_measurement(failed, 100, "unit")
    assert m is not None
    assert (m.slo, m.measured, m.passed) == ("concurrent_servers", 0.0, False)
    passed = load_evidence(
        _config(), {**_result(), "passed": True, "verdict": "pass", "servers_served": 100}, check="unit", outputs=[]
    )
    m = capacity_measurement(passed, 100, "unit")
    assert m is not None
    assert (m.measured, m.passed, m.comparator) == (100.0, True, ">=")
    short = load_evidence(
        _config(), {**_result(), "passed": True, "verdict": "pass", "servers_served": 99}, check="unit", outputs=[]
    )
    m = capacity_measurement(short, 100, "unit")
    assert m is not None
    assert (m.measured, m.passed) == (99.0, False)  # a server not served throughout is not counted


def test_capacity_is_not_measured_by_a_saturated_or_uncounted_run() -> None:
    saturated = load_evidence(
        _config(),
        {
            **_result(),
            "passed": False,
            "verdict": "inconclusive",
            "servers_served": None,
            "reason": "generator saturated: schedule lag p95 1,200 ms (limit 100 ms)",
            "fix": "run with --workers N",
        },
        check="unit",
        outputs=[],
    )
    assert saturated.load_verdict == "inconclusive"
    assert capacity_measurement(saturated, 100, "unit") is None  # no SLO pass, and no FAIL either
    assert describe_run(saturated).startswith("load INCONCLUSIVE: generator saturated: schedule lag p95")
    old = load_evidence(_config(), {**_result(), "passed": True}, check="unit", outputs=[])  # no count recorded
    assert capacity_measurement(old, 100, "unit") is None


def test_load_config_json_round_trip(tmp_path: Path) -> None:
    config = _config()
    assert LoadConfig.read(config.write(tmp_path / "c.json")) == config
