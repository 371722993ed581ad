"""Detection and availability plots from evidence recorded by real sandbox runs
(tests/integration/test_monitoring_suites.py: an alert that fired after 3.3 s in a 15 s window, one that
never fired in a 1 s window, and an availability window where observer and PromQL agreed at 100 %)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from mcproof.evidence import RunInfo
from mcproof.evidence.records import AvailabilityEvidence, Record, load_record
from mcproof.report import build_report
from mcproof.report.plots_monitoring import monitoring_plots
from mcproof.report.render_html import render_html
from mcproof.report.render_json import render_json
from mcproof.report.svg import plot_svg

RECORDED = Path(__file__).parent / "recorded" / "monitoring_evidence.jsonl"
SLO = {"availability": 0.999, "detection_s": 30}


def recorded() -> list[Record]:
    return [load_record(json.loads(line)) for line in RECORDED.read_text().splitlines() if line.strip()]


def degraded() -> AvailabilityEvidence:
    """The recorded availability record with a failing window (observer 99.85 %, PromQL 99.8 %)."""
    base = next(r for r in recorded() if isinstance(r, AvailabilityEvidence))
    return dataclasses.replace(
        base, observer_availability=0.9985, prometheus_availability=0.998, error_budget_consumed=1.5, check="degraded"
    )


def report_records() -> list[Record]:
    return [RunInfo("r1", "itest", "dev", "2026-11-25T19:20:00Z", "0.1", [], {"slo": SLO}, "h"), *recorded()]


def test_detection_plots_time_to_fire_against_the_window() -> None:
    plots = {p.anchor: p for p in build_report(report_records()).plots}
    plot = plots["plot-detection"]
    assert plot.kind == "detection_time"
    assert plot.bars == (("MinecraftServerDown", 3.343), ("✗ MinecraftServerDown", 1.0))
    assert plot.lines == (("window", 15.0), ("window", 1.0))
    assert plot.evidence == ("ev-2", "ev-3")


def test_detection_timeline_marks_injection_window_and_states() -> None:
    report = build_report(report_records())
    timelines = [p for p in report.plots if p.kind == "detection_timeline"]
    assert [p.anchor for p in timelines] == ["plot-ev-2", "plot-ev-3"]
    fired, missed = timelines
    levels = [y for _, y in fired.series[0].points]
    assert levels[0] == 0.0
    assert 1.0 in levels  # pending while `for:` held it
    assert levels[-1] == 2.0  # then firing
    assert fired.windows == ((0.0, 0.0, "outage injected"), (15.0, 15.0, "detection window ends"))
    assert "fired after 3.34 s" in fired.title
    assert "never fired" in missed.title
    assert max(y for _, y in missed.series[0].points) == 1.0  # pending only


def test_availability_agreement_and_error_budget() -> None:
    plots = {
        p.kind: p for p in monitoring_plots([], [("ev-1", recorded()[0].as_dict()), ("ev-2", degraded().as_dict())])
    }
    agreement = [
        p for p in monitoring_plots([], [("ev-2", degraded().as_dict())]) if p.kind == "availability_agreement"
    ]
    assert agreement[0].bars == (("observer", 0.15), ("Prometheus", 0.2))
    assert agreement[0].lines == (("error budget", 0.1),)
    assert "agree within 0.02" in agreement[0].title
    budget = plots["error_budget"]
    assert budget.bars == (("#1 test_availability_observer_and_prometheus_agree", 0.0), ("#2 degraded", 150.0))
    assert budget.lines == (("budget", 100.0),)
    assert budget.evidence == ("ev-1", "ev-2")


def test_availability_without_prometheus_data_says_so() -> None:
    rec = dataclasses.replace(degraded(), prometheus_availability=None, agree=False)
    (plot,) = [p for p in monitoring_plots([], [("ev-1", rec.as_dict())]) if p.kind == "availability_agreement"]
    assert plot.bars == (("observer", 0.15),)
    assert "DISAGREE" in plot.title
    assert "Prometheus: no data" in plot.title


def test_html_renders_every_monitoring_plot() -> None:
    report = build_report([*report_records(), degraded()])
    kinds = [p.kind for p in report.plots]
    assert {"detection_time", "detection_timeline", "availability_agreement", "error_budget"} <= set(kinds)
    html = render_html(report)
    for plot in report.plots:
        assert f'<figure id="{plot.anchor}" data-kind="{plot.kind}"><svg' in html
        assert all(f'href="#{a}"' in html for a in plot.evidence)
    assert "<script" not in html
    svg = plot_svg(next(p for p in report.plots if p.kind == "detection_timeline"))
    assert svg.count("<polyline") == 1
    assert "outage injected" in svg
    data = json.loads(render_json(report))
    assert {"detection_time", "error_budget"} <= {p["kind"] for p in data["plots"]}
