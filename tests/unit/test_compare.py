"""Run comparison: metric extraction per record type, thresholds, verdicts; on recorded evidence lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mcproof.compare import (
    Threshold,
    compare_runs,
    extract_metrics,
    judge,
    load_thresholds,
    parse_thresholds,
    render_comparison,
)
from mcproof.compare.metrics import Metric
from mcproof.errors import ConfigError, EvidenceError


def run(tmp_path: Path, name: str, rows: list[dict[str, Any]]) -> Path:
    run_dir = tmp_path / name
    run_dir.mkdir()
    head = {"type": "run", "run_id": name, "environment": "stg", "started_at": "t0"}
    lines = [json.dumps(r) for r in [head, *rows]]
    (run_dir / "evidence.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return run_dir


def figures(
    *, p95: float = 5.0, mttr: float = 20.0, rpo: float = 30.0, rto: float = 60.0, met: bool = True
) -> list[dict[str, Any]]:
    return [
        {"type": "latency", "check": "lat", "samples_ms": [1.0] * 90 + [p95] * 10},
        {"type": "load", "check": "load", "shape": "steady", "metrics": {"status_p95_ms": p95, "pings_per_s": 900.0}},
        {"type": "recovery", "check": "kill", "experiment": "kill-one", "fleet_mttr_s": mttr, "mttr_p95_s": mttr},
        {
            "type": "dr",
            "check": "drill",
            "disaster": "wipe",
            "rpo_s": rpo,
            "rto_s": rto,
            "restore_throughput_mib_s": 50,
        },
        {"type": "availability", "check": "avail", "observer_availability": 0.9995, "error_budget_consumed": 0.1},
        {"type": "compliance_future", "check": "cis", "score": 0.92, "framework": "CIS"},
        {"type": "slo", "slo": "mttr_s", "measured": mttr, "comparator": "<=", "unit": "s", "passed": met},
    ]


def test_extracts_every_family_and_tolerates_unknown_types() -> None:
    keys = {m.key: m for m in extract_metrics(figures())}
    assert keys["latency:lat:p95_ms"].value == 5.0
    assert keys["latency:load[steady]:status_p95_ms"].better == "lower"
    assert keys["throughput:load[steady]:pings_per_s"].better == "higher"
    assert keys["mttr:kill-one:fleet_mttr_s"].unit == "s"
    assert {"rpo:wipe:rpo_s", "rto:wipe:rto_s", "throughput:wipe:restore_mib_s"} <= set(keys)
    assert keys["score:avail:availability"].better == "higher"
    assert keys["score:compliance_future:cis:score"].value == 0.92  # a record type compare does not know
    assert keys["mttr:slo.mttr_s:measured"].family == "mttr"
    assert keys["verdict:slo.mttr_s:met"].value == 1.0
    assert extract_metrics([{"type": "weird", "check": "x", "value": 3}]) == []


def test_repeated_keys_are_numbered() -> None:
    rows = [
        {"type": "latency", "check": "lat", "samples_ms": [1.0]},
        {"type": "latency", "check": "lat", "samples_ms": [2.0]},
    ]
    keys = [m.key for m in extract_metrics(rows) if m.key.startswith("latency:lat:p50")]
    assert keys == ["latency:lat:p50_ms", "latency:lat:p50_ms#2"]


def test_judge_directions_and_limits() -> None:
    def m(value: float, better: str = "lower") -> Metric:
        return Metric("k", "latency", "ms", value, better, "c")

    t = Threshold(0.25, 2.0)
    assert judge(m(10), m(13), t).status == "regression"  # +3 > max(2.5, 2)
    assert judge(m(10), m(12), t).status == "unchanged"
    assert judge(m(10), m(5), t).status == "improvement"
    assert judge(m(100, "higher"), m(70, "higher"), t).status == "regression"
    assert judge(None, m(1), t).status == "new"
    assert judge(m(1), None, t).status == "gone"
    assert judge(m(10), m(50), Threshold(0.25, 2.0, ignore=True)).status == "unchanged"


def test_compare_runs_flags_each_family(tmp_path: Path) -> None:
    a = run(tmp_path, "a", figures())
    b = run(tmp_path, "b", figures(p95=60.0, mttr=120.0, rpo=300.0, rto=61.0, met=False))
    result = compare_runs(a, b)
    regressed = {d.key for d in result.regressions}
    assert {
        "latency:lat:p95_ms",
        "latency:load[steady]:status_p95_ms",
        "mttr:kill-one:fleet_mttr_s",
        "rpo:wipe:rpo_s",
        "verdict:slo.mttr_s:met",
    } <= regressed
    assert "rto:wipe:rto_s" not in regressed  # +1 s is within 25 % / 5 s
    text = render_comparison(result)
    assert text.startswith("compare: REGRESSION: ")
    assert "rpo:wipe:rpo_s" in text
    md = render_comparison(result, "markdown")
    assert "| regression | `rpo:wipe:rpo_s` | 30 s | 300 s |" in md
    assert json.loads(render_comparison(result, "json"))["schema"] == "mcproof.compare/1"
    assert not compare_runs(a, a).regressions


def test_thresholds_file_patterns_and_errors(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text('latency: {relative: 0.5}\n"mttr:*:mttr_p95_s": {ignore: true}\nrpo:wipe:rpo_s: {absolute: 1000}\n')
    t = load_thresholds(path)
    assert t.for_metric("latency:x:p95_ms", "latency") == Threshold(0.5, 2.0)
    assert t.for_metric("mttr:kill:mttr_p95_s", "mttr").ignore
    assert t.for_metric("rpo:wipe:rpo_s", "rpo").absolute == 1000
    assert t.for_metric("rto:wipe:rto_s", "rto") == Threshold(0.25, 5.0)
    with pytest.raises(ConfigError, match="unknown keys"):
        parse_thresholds({"latency": {"relativ": 1}})
    with pytest.raises(ConfigError, match=">= 0"):
        parse_thresholds({"latency": {"relative": -1}})
    with pytest.raises(ConfigError, match="cannot be read"):
        load_thresholds(tmp_path / "absent.yaml")


def test_damaged_or_foreign_evidence(tmp_path: Path) -> None:
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "evidence.jsonl").write_text('{"type": "check"}\n')
    with pytest.raises(EvidenceError, match="no run record"):
        compare_runs(bad, bad)
    (bad / "evidence.jsonl").write_text("{not json\n")
    with pytest.raises(EvidenceError, match=":1: damaged"):
        compare_runs(bad, bad)
