"""Report plots, generic summaries of every registered record type, fix hints, and the HTML around them.

Records are built from the real registered classes (`RECORD_TYPES`), so a record type added by
another suite is summarized here as soon as it is registered.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from mcproof.evidence import CheckOutcome, RunEnd, RunInfo
from mcproof.evidence.records import RECORD_TYPES, Record
from mcproof.report import build_report
from mcproof.report.hints import DEFAULT_HINT, fix_hint
from mcproof.report.record_summary import is_raw
from mcproof.report.render_html import render_html
from mcproof.report.render_json import render_json

SLO = {"availability": 0.999, "mttr_s": 60, "rto_s": 900, "rpo_s": 300, "status_latency_p95_ms": 250}
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z


def make(kind: str, **values: Any) -> Record:
    """A record of a registered type with neutral values for every field not given."""
    cls = RECORD_TYPES[kind]
    defaults = {"str": "", "float": 0.0, "int": 0, "bool": False}
    data: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
            continue
        kind_text = str(f.type)
        if "None" in kind_text:
            data[f.name] = None
        elif kind_text.startswith("list"):
            data[f.name] = []
        elif kind_text.startswith("dict"):
            data[f.name] = {}
        else:
            data[f.name] = defaults.get(kind_text, "")
    data.update(environment="stg", check=f"test_{kind}", method=f"{kind} method")
    data.update(values)
    return cls(**{k: v for k, v in data.items() if k in {f.name for f in dataclasses.fields(cls)}})


def iso(t: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def records() -> list[Record]:
    samples = [float(1 + (i % 10)) for i in range(60)]
    timeline = [{"target": f"mc-{i % 3}", "t": T0 + i * 0.5, "ok": not 10 <= i < 20} for i in range(40)]
    out: list[Record] = [
        RunInfo("r1", "stg", "staging", iso(T0), "0.1", ["mcproof"], {"slo": SLO}, "h"),
        make("latency", samples_ms=samples, sample_times=[iso(T0 + i) for i in range(60)]),
        make(
            "recovery",
            experiment="kill-one",
            fleet_mttr_s=12.5,
            mttr_slo_s=60.0,
            injected_at=iso(T0 + 4),
            timeline=timeline,
        ),
        make("dr", disaster="wipe-world", rpo_s=42.0, rto_s=120.0, started_at=iso(T0), ended_at=iso(T0 + 9)),
        make("availability", observer_availability=0.9991, objective=0.999),
        CheckOutcome("stg", "chaos", "test_kill", "suites/chaos/t.py::test_kill", "failed", 1.0, "fleet MTTR too long"),
        RunEnd("r1", iso(T0 + 60), 1, 1),
    ]
    if "load" in RECORD_TYPES:
        out.insert(
            2,
            make(
                "load",
                shape="steady",
                status_per_second=[[0, 90], [1, 100], [2, 98]],
                status_ms={"p50": 1.0, "p95": 3.0, "p99": 5.0, "max": 9.0},
            ),
        )
    return out


def test_every_registered_raw_type_gets_an_evidence_entry() -> None:
    raw_kinds = [k for k, cls in RECORD_TYPES.items() if k not in {"run", "run_scope", "run_end", "check", "slo"}]
    recs: list[Record] = [RunInfo("r1", "stg", "staging", "t", "0.1", [], {"slo": SLO}, "h")]
    recs += [make(kind) for kind in raw_kinds]
    report = build_report(recs)
    assert [e.type for e in report.evidence] == raw_kinds
    assert [e.anchor for e in report.evidence] == [f"ev-{n}" for n in range(1, len(raw_kinds) + 1)]
    assert all(is_raw(r) for r in recs[1:])
    html = render_html(report)
    assert all(f'id="ev-{n}"' in html for n in range(1, len(raw_kinds) + 1))
    json.loads(render_json(report))  # strict JSON whatever the type


def test_plots_exist_exactly_for_the_evidence_present() -> None:
    report = build_report(records())
    kinds = {p.kind for p in report.plots}
    expected = {"latency_over_time", "recovery_time", "availability_timeline", "dr_objectives"}
    expected |= {"availability_agreement", "error_budget"}  # the availability record
    if "load" in RECORD_TYPES:
        expected |= {"load_throughput", "load_latency"}
    assert kinds == expected
    by_kind = {p.kind: p for p in report.plots}
    assert by_kind["recovery_time"].bars == (("kill-one", 12.5),)
    assert ("MTTR SLO", 60) in by_kind["recovery_time"].lines
    windows = by_kind["availability_timeline"].windows
    assert windows[0][:2] == (5.0, 9.5)  # failing samples 10..19 at 0.5 s
    assert windows[1][2] == "fault injected"
    anchors = {e.anchor for e in report.evidence}
    assert all(set(p.evidence) <= anchors for p in report.plots)
    html = render_html(report)
    for plot in report.plots:
        assert f'<figure id="{plot.anchor}" data-kind="{plot.kind}"><svg' in html
    assert "<script" not in html
    data = json.loads(render_json(report))
    assert {p["kind"] for p in data["plots"]} == expected
    assert data["failures"][0]["hint"].startswith("Recovery too slow")
    assert "compliance_score" not in kinds  # no compliance record: no compliance plot


def test_compliance_score_records_plot_per_framework() -> None:
    if "compliance_score" not in RECORD_TYPES:
        pytest.skip("no compliance_score record type registered yet")
    scores = {"CIS-MC": {"name": "CIS", "score": 0.8}, "SOC2": {"name": "SOC 2", "score": 1.0}}
    report = build_report([records()[0], make("compliance_score", scores=scores)])
    plot = next(p for p in report.plots if p.kind == "compliance_score")
    assert plot.bars == (("CIS-MC", 0.8), ("SOC2", 1.0))
    assert plot.evidence == ("ev-1",)
    from mcproof.compare import extract_metrics

    keys = {m.key: m.value for m in extract_metrics([make("compliance_score", scores=scores).as_dict()])}
    assert keys["score:compliance.SOC2:score"] == 1.0


def test_single_instant_latency_has_no_time_plot() -> None:
    rec = make("latency", samples_ms=[1.0, 2.0], sample_times=[iso(T0)] * 2)
    assert build_report([records()[0], rec]).plots == ()


@pytest.mark.parametrize(
    ("check", "message", "start"),
    [
        ("test_every_server_answers_status", "mc-3 (refused: connection refused)", "Nothing listens"),
        ("test_fleet_serving_ratio", "fleet serving ratio 0.95 is below the threshold", "Part of the fleet"),
        ("test_version", "reports wrong version 1.8.9", "The server reports another version"),
        ("test_x", "something odd", DEFAULT_HINT[:20]),
    ],
)
def test_fix_hints(check: str, message: str, start: str) -> None:
    assert fix_hint(check, message).startswith(start)
