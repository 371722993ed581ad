"""Latency with failures: every ping is a sample, dead servers never improve a p95 (no network)."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from mcproof.evidence.records import LatencyEvidence, load_record
from mcproof.minecraft.deadline import DeadlineSocket, ExchangeTimeout, ReplyTooLarge
from mcproof.minecraft.latency import assess_latency, failed_samples, failure_budget, min_samples_for
from mcproof.minecraft.status import StatusResult, classify_error


def ok(target: str, ms: float) -> StatusResult:
    return StatusResult(target, f"{target}:25565", True, "2026-12-01T00:00:00.000Z", latency_ms=ms)


def dead(target: str, kind: str = "timeout", error: str = "reply not complete within 1 s") -> StatusResult:
    return StatusResult(target, f"{target}:25565", False, "2026-12-01T00:00:01.000Z", error_kind=kind, error=error)


def test_all_answering_passes_on_the_p95() -> None:
    results = [ok(f"mc-{i % 10:05d}", 1.0 + i / 100) for i in range(40)]
    a = assess_latency(results, slo_ms=250, timeout_s=1.0)
    assert a.passed is True
    assert a.failed == 0
    assert a.pings == 40
    assert a.percentile_ms is not None
    assert a.percentile_ms < 2
    assert "p95" in a.reason
    assert "is within the SLO 250 ms over 40 pings (0 failed)" in a.reason


def test_ten_servers_seven_broken_fails_and_names_them() -> None:
    """The field case: 7 of 10 dead used to PASS at p95 0.9 ms because failures were not samples."""
    broken = {f"mc-{i:05d}" for i in (1, 2, 3, 5, 6, 7, 9)}
    results = [dead(t) if t in broken else ok(t, 0.9) for _ in range(3) for t in (f"mc-{i:05d}" for i in range(10))]
    a = assess_latency(results, slo_ms=250, timeout_s=1.0)
    assert a.passed is False
    assert a.failed == 21
    assert a.pings == 30
    assert a.failure_share == pytest.approx(0.7)
    assert a.percentile_ms == 1000.0  # failed pings count at the timeout
    assert {t for t, _ in a.failing_servers} == broken
    assert a.failing_servers[0][1] == "timeout: reply not complete within 1 s (3 of 3 pings)"
    assert "21 of 30 pings failed (70.0%), more than the 5% a p95 objective allows" in a.reason


def test_failures_never_lower_the_percentile() -> None:
    base = [ok("a", float(ms)) for ms in range(1, 41)]
    before = assess_latency(base, slo_ms=1e9, timeout_s=3.0).percentile_ms
    assert before is not None
    for k in range(1, 30):
        after = assess_latency(base + [dead("b")] * k, slo_ms=1e9, timeout_s=3.0).percentile_ms
        assert after is not None
        assert after >= before


def test_failure_share_at_the_allowance_is_held_to_the_p95_and_above_it_fails() -> None:
    good = [ok(f"s{i}", 1.0) for i in range(38)]
    at_allowance = assess_latency(good + [dead("x")] * 2, slo_ms=250, timeout_s=1.0)  # 2 of 40 = 5 %
    assert at_allowance.passed is True
    assert at_allowance.failed == 2
    over = assess_latency(good + [dead("x")] * 3, slo_ms=250, timeout_s=1.0)  # 3 of 41 > 5 %
    assert over.passed is False
    assert over.failing_servers == [("x", "timeout: reply not complete within 1 s (3 of 3 pings)")]


def test_a_refused_ping_counts_at_the_timeout_not_at_its_fast_failure() -> None:
    """A refused connection fails in 0.1 ms; counting that would make a dead server look fast."""
    results = [ok("a", 100.0)] * 19 + [dead("b", "refused", "connection refused")]
    a = assess_latency(results, slo_ms=250, timeout_s=3.0)
    assert a.samples_ms[-1] == 3000.0
    assert a.summary["max"] == 3000.0


def test_an_early_stop_fails_on_the_planned_budget_not_inconclusive() -> None:
    """10 servers x 2 rounds planned (budget 1 failure); 7 failed in round 1 -> decided after 10 pings."""
    results = [dead(f"mc-{i:05d}") if i in (1, 2, 3, 5, 6, 7, 9) else ok(f"mc-{i:05d}", 0.9) for i in range(10)]
    a = assess_latency(results, slo_ms=250, timeout_s=1.0, planned=20)
    assert a.passed is False
    assert a.pings == 10
    assert "7 of 10 pings failed (70.0%), more than the 5% of the 20 planned pings a p95 objective allows" in a.reason
    assert failure_budget(20) == 1
    assert failure_budget(250) == 12
    one = assess_latency(results[:1] + results[2:3], slo_ms=250, timeout_s=1.0, planned=20)
    assert one.passed is None  # 1 failure is within the budget of 1, and 2 pings are too few


def test_too_few_pings_is_inconclusive() -> None:
    a = assess_latency([ok("a", 1.0)] * 19, slo_ms=250, timeout_s=1.0)
    assert a.passed is None
    assert a.percentile_ms is None
    assert a.reason == "19 pings are too few for a p95 (need >= 20)"
    assert min_samples_for(95) == 20
    assert min_samples_for(90) == 10


def test_failed_samples_keep_their_kind_and_evidence_round_trips() -> None:
    results = [ok("a", 1.0), dead("b", "malformed", "oversized reply: more than 1,048,576 bytes"), dead("c")]
    failed = failed_samples(results, 1.0)
    assert [(f["index"], f["target"], f["error_kind"], f["counted_ms"]) for f in failed] == [
        (1, "b", "malformed", 1000.0),
        (2, "c", "timeout", 1000.0),
    ]
    a = assess_latency(results, slo_ms=250, timeout_s=1.0)
    record = LatencyEvidence(
        environment="e",
        method="m",
        check="c",
        started_at="t0",
        ended_at="t1",
        servers=3,
        rounds=1,
        samples_ms=a.samples_ms,
        sample_times=[r.at for r in results],
        failures=a.failed,
        summary=a.summary,
        timeout_s=1.0,
        failed_samples=failed,
        failure_share=a.failure_share,
        verdict="inconclusive",
        reason=a.reason,
    )
    assert load_record(record.as_dict()) == record
    older = {k: v for k, v in record.as_dict().items() if k not in {"failed_samples", "timeout_s", "verdict"}}
    assert isinstance(load_record(older), LatencyEvidence)  # records written before this change still load


def test_classify_bounded_exchange_errors() -> None:
    assert classify_error(ExchangeTimeout(3.0)) == ("timeout", "reply not complete within 3 s")
    assert classify_error(ReplyTooLarge(1 << 20)) == ("malformed", "oversized reply: more than 1,048,576 bytes")


def _trickle(peer: socket.socket, count: int, interval: float) -> None:
    try:
        for _ in range(count):
            peer.sendall(b"x")
            time.sleep(interval)  # the hostile peer's pace, not a wait on our side
    except OSError:
        pass


def test_deadline_socket_bounds_a_trickle_over_the_whole_exchange() -> None:
    """Per-operation timeouts would never fire here: a byte arrives every 0.05 s."""
    ours, peer = socket.socketpair()
    writer = threading.Thread(target=_trickle, args=(peer, 200, 0.05), daemon=True)
    writer.start()
    wrapped = DeadlineSocket(ours, deadline=time.monotonic() + 0.5, timeout=0.5)
    started = time.monotonic()
    got = 0

    def read_all() -> None:
        nonlocal got
        for _ in range(1000):
            got += len(wrapped.recv(1024))

    with pytest.raises(ExchangeTimeout, match=r"reply not complete within 0.5 s"):
        read_all()
    assert time.monotonic() - started < 0.5 * 3
    assert 0 < got < 200
    ours.close()
    peer.close()
    writer.join(timeout=5)


def test_deadline_socket_refuses_an_oversized_reply() -> None:
    ours, peer = socket.socketpair()
    writer = threading.Thread(target=lambda: _flood(peer), daemon=True)
    writer.start()
    wrapped = DeadlineSocket(ours, deadline=time.monotonic() + 5.0, timeout=5.0, max_bytes=64 * 1024)

    def read_all() -> None:
        for _ in range(10_000):
            wrapped.recv(8192)

    with pytest.raises(ReplyTooLarge, match="more than 65,536 bytes"):
        read_all()
    ours.close()
    peer.close()
    writer.join(timeout=5)


def _flood(peer: socket.socket) -> None:
    try:
        for _ in range(64):
            peer.sendall(b"y" * 4096)
    except OSError:
        pass
