"""Availability, detection and PromQL reply parsing with recorded data (no network)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from mcproof.chaos.recovery import Sample
from mcproof.config import parse_environment
from mcproof.errors import ConfigError
from mcproof.evidence.records import AvailabilityEvidence, load_record
from mcproof.monitoring.availability import (
    availability_evidence,
    availability_promql,
    availability_slo,
    observer_availability,
)
from mcproof.monitoring.detection import AlertPoll, alert_matches, first_firing
from mcproof.monitoring.promql import ActiveAlert, PromError, parse_alerts, parse_vector
from mcproof.monitoring.settings import MonitoringSettings

# /api/v1/alerts from Prometheus 2.42 during a sandbox outage (trimmed)
ALERTS_REPLY = {
    "status": "success",
    "data": {
        "alerts": [
            {
                "labels": {
                    "alertname": "MinecraftServerDown",
                    "server": "mc-00002",
                    "job": "mcproof-fleet",
                    "severity": "page",
                },
                "annotations": {},
                "state": "firing",
                "activeAt": "2026-11-25T18:49:35.681064096Z",
                "value": "0e+00",
            },
            {
                "labels": {"alertname": "MinecraftServerDown", "server": "mc-00003"},
                "state": "pending",
                "activeAt": "2026-11-25T18:49:36.681Z",
                "value": "0e+00",
            },
        ]
    },
}


def _samples(down: set[int]) -> list[Sample]:
    """Two servers sampled every 0.5 s from t=0 to t=9.5; server b is down at the given tick indexes."""
    out = [Sample("a", i * 0.5, True) for i in range(20)]
    out += [Sample("b", i * 0.5, i not in down) for i in range(20)]
    return out


def test_observer_availability_counts_samples_inside_the_window() -> None:
    samples = _samples(down={4, 5, 6, 7})
    assert observer_availability(samples, 0.0, 9.5) == (36 / 40, 40)
    assert observer_availability(samples, 5.0, 9.5) == (1.0, 20)
    with pytest.raises(ValueError, match="no observer samples"):
        observer_availability(samples, 100.0, 200.0)


def test_promql_selects_the_observed_servers_and_escapes_them() -> None:
    expr = availability_promql("up_m", "server", ["mc-00001", "a.b"], 20)
    assert expr.count('{server=~"mc\\\\-00001|a\\\\.b"}[20000ms]') == 2
    assert availability_promql("up_m", "server", [], 1.5) == (
        "sum(sum_over_time(up_m[1500ms])) / sum(count_over_time(up_m[1500ms]))"
    )


def test_availability_evidence_agreement_and_budget_without_prometheus() -> None:
    ev = availability_evidence(
        None,
        _samples({4, 5}),
        servers=["a", "b"],
        start=0,
        end=9.5,
        objective=0.9,
        tolerance=0.02,
        environment="e",
        check="c",
    )
    assert ev.observer_availability == 0.95
    assert ev.prometheus_availability is None
    assert not ev.agree  # nothing to agree with is not agreement
    assert ev.agreement_verdict == "fail"
    assert ev.error_budget_consumed == 0.5
    assert (ev.samples_per_server, ev.resolution, ev.bad_samples, ev.down_episodes) == (20, 0.05, 2, 1)
    assert load_record(ev.as_dict()) == ev
    slo = availability_slo(ev)
    assert slo is not None  # 20 samples per server resolve a 10 % budget
    assert (slo.slo, slo.passed, slo.measured, slo.comparator) == ("availability", True, 0.95, ">=")


class _FakeProm:
    """Recorded PromQL answers (the client boundary; the real one is exercised in tests/integration):
    the availability ratio, and the sample count for the ``sum(count_over_time(...))`` query."""

    base_url = "http://127.0.0.1:9"

    def __init__(self, value: float | None, count: float | None = 10.0) -> None:
        self.value, self.count = value, count

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        return self.count if expr.startswith("sum(count_over_time(") else self.value


@pytest.mark.parametrize(
    ("prom", "verdict"),
    # 2 servers x 20 samples (N_o 40) and 40 scraped samples (N_p): one down episode explains up to
    # 1/40 + 1/40 = 0.05 <= the tolerance 0.1; the observer saw 3 episodes, so sampling explains up to 0.15
    [(0.925, "pass"), (1.0, "pass"), (0.81, "inconclusive"), (0.77, "fail")],
)
def test_agreement_tolerance_and_sampling_bound(prom: float, verdict: str) -> None:
    ev = availability_evidence(
        _FakeProm(prom, 40),
        _samples({2, 6, 10}),
        servers=["a", "b"],
        start=0,
        end=9.5,  # type: ignore[arg-type]
        objective=0.9,
        tolerance=0.1,
        environment="e",
        check="c",
    )
    assert isinstance(ev, AvailabilityEvidence)
    assert (ev.observer_availability, ev.down_episodes, ev.prometheus_samples) == (0.925, 3, 40)
    assert ev.scrape_interval_s == pytest.approx(0.475)  # 2 servers x 9.5 s / 40 samples: measured, not assumed
    assert ev.agreement_bound == pytest.approx(0.15)
    assert ev.agreement_verdict == verdict, ev.agreement_reason
    assert ev.agree is (verdict == "pass")


def test_tolerance_looser_than_the_error_budget_proves_nothing() -> None:
    ev = availability_evidence(
        _FakeProm(0.95, 10),
        _samples({4, 5}),
        servers=["a", "b"],
        start=0,
        end=9.5,  # type: ignore[arg-type]
        objective=0.999,
        tolerance=0.02,
        environment="e",
        check="c",
    )
    assert ev.agreement_verdict == "inconclusive"
    assert "looser than the error budget" in ev.agreement_reason
    assert "availability_tolerance <= 0.001" in ev.agreement_fix


def test_parse_vector_and_errors() -> None:
    body = {
        "status": "success",
        "data": {
            "resultType": "vector",
            "result": [{"metric": {"server": "a"}, "value": [1.5, "1"]}, {"metric": {}, "value": [1.5, "NaN"]}],
        },
    }
    parsed = parse_vector(body)
    assert parsed[0] == ({"server": "a"}, 1.0)
    assert math.isnan(parsed[1][1])
    assert parse_vector({"status": "success", "data": {"resultType": "scalar", "result": [1.0, "0.5"]}}) == [({}, 0.5)]
    with pytest.raises(PromError, match="bad_data: parse error"):
        parse_vector({"status": "error", "errorType": "bad_data", "error": "bad_data: parse error"})
    with pytest.raises(PromError, match="resultType 'matrix'"):
        parse_vector({"status": "success", "data": {"resultType": "matrix", "result": []}})
    with pytest.raises(PromError, match="unexpected reply"):
        parse_vector(["not", "a", "dict"])


def test_parse_alerts_and_matching() -> None:
    alerts = parse_alerts(ALERTS_REPLY)
    assert [(a.name, a.state) for a in alerts] == [
        ("MinecraftServerDown", "firing"),
        ("MinecraftServerDown", "pending"),
    ]
    assert alert_matches(alerts[0], "MinecraftServerDown", {"server": "mc-00002"})
    assert not alert_matches(alerts[0], "MinecraftServerDown", {"server": "mc-00003"})
    assert not alert_matches(alerts[0], "Other", {})
    assert alert_matches(ActiveAlert("X", "pending", {}, ""), "X", {})


def test_first_firing() -> None:
    assert first_firing([AlertPoll(1.0, "inactive"), AlertPoll(1.5, "pending")]) is None
    assert first_firing([AlertPoll(1.0, "error"), AlertPoll(1.5, "firing"), AlertPoll(2.0, "firing")]) == 1.5
    assert first_firing([]) is None


def test_monitoring_section_in_an_environment_file() -> None:
    text = """
name: e
tier: dev
minecraft: {discovery: {kind: static, servers: [{host: 127.0.0.1}]}}
monitoring: {prometheus_url: "http://127.0.0.1:9090", detection_window_s: 45, availability_tolerance: 0.01}
"""
    env = parse_environment(text, Path("e.yaml"))
    assert env.monitoring == MonitoringSettings(
        prometheus_url="http://127.0.0.1:9090", detection_window_s=45, availability_tolerance=0.01
    )
    assert (
        parse_environment(
            text.replace("monitoring:", "other_unused:").split("other_unused")[0], Path("e.yaml")
        ).monitoring
        is None
    )
    with pytest.raises(ConfigError, match=r"monitoring\.detection_window_s"):
        parse_environment(text.replace("45", "-1"), Path("e.yaml"))
