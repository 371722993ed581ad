"""Report verdict logic and renderers, on evidence written with the real records and RunStore."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from mcproof.errors import EvidenceError
from mcproof.evidence import (
    CheckOutcome,
    FleetStatusEvidence,
    LatencyEvidence,
    QueryEvidence,
    Record,
    RunEnd,
    RunInfo,
    RunScope,
    RunStore,
    SloMeasurement,
)
from mcproof.report import SCHEMA, Report, build_report, render_summary_lines, write_report
from mcproof.report.evidence_index import histogram
from mcproof.report.model import SLO_CATALOG
from mcproof.report.render_html import render_html
from mcproof.report.render_markdown import render_markdown

ENV = "local"
RUN_ID = "20250101T000000Z-local-abc123"
SLO = {
    "availability": 0.999,
    "mttr_s": 900,
    "rto_s": 900,
    "rpo_s": 300,
    "status_latency_p95_ms": 250,
    "concurrent_servers": 10000,
    "serving_ratio": 0.999,
}
SMOKE_SWEEP = "suites/smoke/test_fleet.py::test_fleet_serving"
SMOKE_LATENCY = "suites/smoke/test_fleet.py::test_status_latency"
HOSTILE = "<script>alert(1)</script>"


WAIVERS = [
    {"slo": "availability", "reason": "measured in the weekly game day", "owner": "sre-oncall"},
    {"slo": "mttr_s", "reason": "measured in the weekly game day", "owner": "sre-oncall"},
]


def run_info(waivers: list[dict[str, str]] | None = None) -> RunInfo:
    return RunInfo(
        RUN_ID,
        ENV,
        "dev",
        "2025-01-01T00:00:00.000Z",
        "0.1.0",
        ["mcproof", "signoff"],
        {"name": ENV, "slo": dict(SLO), "waivers": WAIVERS if waivers is None else waivers},
        "host1",
    )


def scope(*suites: str) -> RunScope:
    return RunScope(RUN_ID, list(suites), 3)


def run_end(exit_status: int = 0, checks: int = 2) -> RunEnd:
    return RunEnd(RUN_ID, "2025-01-01T00:05:00.000Z", exit_status, checks)


def check(nodeid: str, outcome: str = "passed", message: str = "", suite: str = "smoke") -> CheckOutcome:
    return CheckOutcome(ENV, suite, nodeid.rsplit("::", 1)[-1], nodeid, outcome, 0.5, message)


def slo(name: str, measured: float, target: float, comparator: str, nodeid: str, unit: str = "ms") -> SloMeasurement:
    met = measured <= target if comparator == "<=" else measured >= target
    return SloMeasurement(
        ENV,
        name,
        f"{name} {comparator} {target}",
        target,
        measured,
        unit,
        comparator,
        met,
        "sequential status pings",
        nodeid,
        40,
    )


def fleet(serving: int = 9, total: int = 10) -> FleetStatusEvidence:
    failures = [
        {
            "target": f"mc-{i}",
            "address": f"127.0.0.1:{25600 + i}",
            "error_kind": "timeout",
            "error": "no reply within the timeout",
        }
        for i in range(total - serving)
    ]
    return FleetStatusEvidence(
        ENV,
        "mcstatus async status sweep",
        SMOKE_SWEEP,
        "2025-01-01T00:00:01.000Z",
        "2025-01-01T00:00:02.000Z",
        1.0,
        total,
        serving,
        serving / total,
        0.9,
        64,
        3.0,
        10.0,
        failures,
        [],
    )


def latency() -> LatencyEvidence:
    samples = [float(1 + i % 7) for i in range(40)]
    return LatencyEvidence(
        ENV,
        "mcstatus sync status ping",
        SMOKE_LATENCY,
        "2025-01-01T00:00:03.000Z",
        "2025-01-01T00:00:04.000Z",
        8,
        5,
        samples,
        ["2025-01-01T00:00:03.000Z"] * 40,
        0,
        {"p95": 7.0},
    )


def passing_records() -> list[Record]:
    """A smoke + chaos run: smoke SLOs measured, chaos skipped and its SLOs waived, dr/load out of scope."""
    return [
        run_info(),
        scope("smoke", "chaos"),
        fleet(serving=10),
        latency(),
        QueryEvidence(
            ENV,
            "mcstatus query",
            "suites/smoke/test_query.py::test_query",
            "2025-01-01T00:00:05Z",
            "2025-01-01T00:00:06Z",
            4,
            4,
            [],
            [],
        ),
        check(SMOKE_SWEEP),
        check(SMOKE_LATENCY),
        slo("serving_ratio", 1.0, 0.999, ">=", SMOKE_SWEEP, unit="ratio"),
        slo("status_latency_p95_ms", 7.0, 250, "<=", SMOKE_LATENCY),
        check(
            "suites/chaos/test_kill.py::test_kill",
            "skipped",
            "no kubernetes section in environments/local.yaml",
            suite="chaos",
        ),
        run_end(),
    ]


@pytest.fixture
def write_run(tmp_path: Path) -> Callable[[list[Record]], Path]:
    def write(records: list[Record]) -> Path:
        store = RunStore.create(tmp_path / "reports", RUN_ID)
        for record in records:
            store.append(record)
        return store.run_dir

    return write


def report_of(run_dir: Path) -> Report:
    report = write_report(run_dir)
    for name in ("report.json", "report.md", "index.html"):
        assert (run_dir / name).is_file(), name
    return report


def test_passing_run_passes(write_run: Callable[[list[Record]], Path]) -> None:
    report = report_of(write_run(passing_records()))
    assert report.verdict == "pass"
    assert "2 waived: availability, mttr_s" in report.reasons[0]
    assert {s.slo: s.verdict for s in report.slos if not s.measurements} == {
        "availability": "waived",
        "mttr_s": "waived",
        "rto_s": "not in scope",
        "rpo_s": "not in scope",
        "concurrent_servers": "not in scope",
    }
    assert {s.suite: s.verdict for s in report.suites} == {"smoke": "pass", "chaos": "skipped"}
    chaos = next(s for s in report.suites if s.suite == "chaos")
    assert chaos.skip_reasons == ("no kubernetes section in environments/local.yaml",)
    assert (report.counts.passed, report.counts.failed, report.counts.skipped) == (2, 0, 1)
    latency_slo = next(s for s in report.slos if s.slo == "status_latency_p95_ms")
    assert (latency_slo.verdict, latency_slo.measured, latency_slo.margin) == ("pass", 7.0, 243.0)
    assert latency_slo.check == SMOKE_LATENCY
    assert latency_slo.evidence == ("ev-2",)
    assert [e.anchor for e in report.evidence] == ["ev-1", "ev-2", "ev-3"]
    assert report.evidence[1].latency is not None
    assert report.evidence[1].latency.p95_ms == 7.0


def test_failed_check_fails_and_is_listed(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    message = "mc-3 (127.0.0.1:25603) not serving: timeout, no reply within the timeout"
    records.insert(-1, check("suites/smoke/test_fleet.py::test_motd", "failed", message))
    report = report_of(write_run(records))
    assert report.verdict == "fail"
    assert next(s for s in report.suites if s.suite == "smoke").verdict == "fail"
    assert [(f.check, f.message) for f in report.failures] == [("test_motd", message)]
    assert report.counts.failed == 1


def test_error_outcome_fails(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records.insert(-1, check("suites/smoke/test_x.py::test_setup", "error", "fixture exploded"))
    assert report_of(write_run(records)).verdict == "fail"


def test_failed_slo_measurement_fails(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records.insert(-1, slo("status_latency_p95_ms", 400.0, 250, "<=", SMOKE_LATENCY))
    report = report_of(write_run(records))
    row = next(s for s in report.slos if s.slo == "status_latency_p95_ms")
    assert (row.verdict, row.measured, row.margin) == ("fail", 400.0, -150.0)
    assert len(row.measurements) == 2
    assert report.verdict == "fail"
    assert "SLO status_latency_p95_ms failed" in report.reasons


def test_measurement_against_looser_target_than_environment_fails(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records.insert(-1, slo("status_latency_p95_ms", 300.0, 500, "<=", SMOKE_LATENCY))
    row = next(s for s in report_of(write_run(records)).slos if s.slo == "status_latency_p95_ms")
    assert row.verdict == "fail"
    assert any("environment's objective" in n for n in row.notes)


def test_inconclusive_check_makes_the_run_inconclusive_never_pass(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    message = "INCONCLUSIVE: fault action failed: GuardError refused; fix: allow the namespace"
    records.insert(-1, check("suites/chaos/test_kill.py::test_kill_one", "inconclusive", message, suite="chaos"))
    run_dir = write_run(records)
    report = report_of(run_dir)
    assert report.verdict == "inconclusive"
    assert next(s for s in report.suites if s.suite == "chaos").verdict == "inconclusive"
    assert report.counts.inconclusive == 1
    assert any("fault action failed" in r for r in report.reasons)
    [failure] = report.failures
    assert (failure.outcome, failure.hint) == ("inconclusive", "allow the namespace")
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert md.splitlines()[0].startswith("**Verdict: ⚠️ INCONCLUSIVE**")
    html = (run_dir / "index.html").read_text(encoding="utf-8")
    assert 'class="big inconclusive"' in html
    assert "NOT DECIDABLE (inconclusive)" in html


def test_failure_beats_inconclusive(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records.insert(-1, check("suites/chaos/test_kill.py::test_a", "inconclusive", "INCONCLUSIVE: x; fix: y", "chaos"))
    records.insert(-1, check("suites/smoke/test_fleet.py::test_motd", "failed", "mc-3 has no MOTD"))
    report = report_of(write_run(records))
    assert report.verdict == "fail"
    assert any("inconclusive" in r for r in report.reasons)  # still said, after the failure


def test_declared_slo_never_measured_is_inconclusive(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records[0] = run_info(waivers=[])  # chaos is in scope and its SLOs are no longer waived
    run_dir = write_run(records)
    report = report_of(run_dir)
    assert report.verdict == "inconclusive"
    assert {s.slo for s in report.not_evidenced} == {"availability", "mttr_s"}
    assert "SLO mttr_s declared but not measured in this run (run the chaos suite)" in report.reasons
    data = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert data["verdict"] == "inconclusive"
    assert set(data["not_evidenced"]) == {"availability", "mttr_s"}


def test_run_without_scope_is_held_to_every_declared_slo(write_run: Callable[[list[Record]], Path]) -> None:
    records = [r for r in passing_records() if not isinstance(r, RunScope)]
    report = report_of(write_run(records))
    assert report.verdict == "inconclusive"
    assert {s.slo for s in report.not_evidenced} == {"rto_s", "rpo_s", "concurrent_servers"}


def test_missing_run_end_is_incomplete(write_run: Callable[[list[Record]], Path]) -> None:
    report = report_of(write_run(passing_records()[:-1]))
    assert report.verdict == "inconclusive"
    assert report.run.ended_at is None
    assert "run_end" in report.reasons[0]


def test_no_checks_is_incomplete(write_run: Callable[[list[Record]], Path]) -> None:
    report = report_of(write_run([run_info(), run_end(checks=0)]))
    assert report.verdict == "inconclusive"
    assert report.reasons[0] == "no check ran"


def test_only_skipped_checks_is_incomplete(write_run: Callable[[list[Record]], Path]) -> None:
    records: list[Record] = [
        run_info(),
        check("suites/chaos/test_kill.py::test_kill", "skipped", "no k8s", "chaos"),
        run_end(),
    ]
    assert report_of(write_run(records)).verdict == "inconclusive"


def test_nonzero_exit_without_failures_is_incomplete(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records[-1] = run_end(exit_status=2)
    assert report_of(write_run(records)).verdict == "inconclusive"


def test_unmeasured_slos_are_not_evidenced(write_run: Callable[[list[Record]], Path]) -> None:
    records = [r for r in passing_records() if not isinstance(r, RunScope)]
    records[0] = run_info(waivers=[])
    report = report_of(write_run(records))
    slo_keys = [k for k in SLO_CATALOG if not k.startswith("players.")]  # no players: section declared here
    assert [s.slo for s in report.slos] == slo_keys  # reading order, not the file's sorted keys
    missing = {s.slo: s.suite for s in report.not_evidenced}
    assert missing == {
        "availability": "smoke",
        "mttr_s": "chaos",
        "rto_s": "dr",
        "rpo_s": "dr",
        "concurrent_servers": "load",
    }
    assert all(s.verdict == "inconclusive" and s.measured is None for s in report.not_evidenced)


def test_html_has_every_slo_and_escapes_hostile_text(write_run: Callable[[list[Record]], Path]) -> None:
    records = passing_records()
    records.insert(-1, check(f"suites/smoke/test_fleet.py::test_motd[{HOSTILE}]", "failed", f"motd was {HOSTILE}"))
    hostile_fleet = fleet(serving=8)
    hostile_fleet.failures[0]["error_kind"] = HOSTILE
    records.insert(1, hostile_fleet)
    run_dir = write_run(records)
    write_report(run_dir)
    html = (run_dir / "index.html").read_text(encoding="utf-8")
    for name in SLO:
        assert f"<td><b>{name}</b>" in html
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'id="ev-1"' in html
    assert html.count("<svg") == 4  # two fleet bars, one latency histogram, one query bar
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    md = (run_dir / "report.md").read_text(encoding="utf-8")
    assert "<script>" not in md


def test_json_has_schema_and_verdict(write_run: Callable[[list[Record]], Path]) -> None:
    run_dir = write_run(passing_records())
    write_report(run_dir)
    data = json.loads((run_dir / "report.json").read_text(encoding="utf-8"))
    assert data["schema"] == SCHEMA == "mcproof.report/2"
    assert data["verdict"] == "pass"
    assert data["run"]["run_id"] == RUN_ID
    assert data["counts"]["total"] == 3
    assert {s["slo"] for s in data["slos"]} == set(SLO)
    assert data["evidence"][0]["bar"]["failures_by_kind"] == {}
    assert data["waived"] == ["availability", "mttr_s"]
    assert data["not_evidenced"] == []


def test_markdown_starts_with_verdict_line() -> None:
    records = passing_records()
    records.insert(-1, check("suites/smoke/t.py::test_x", "failed", "a | b"))
    md = render_markdown(build_report(records))
    assert md.splitlines()[0].startswith("**Verdict: ❌ FAIL**")
    assert "| SLO | target | measured | margin | verdict | evidence |" in md
    assert "a \\| b" in md
    assert "## Waived" in md


def test_fleet_failures_by_kind_counts_unlisted() -> None:
    full = fleet(serving=5)
    capped = replace(full, failures=full.failures[:2])  # failure lists are capped by the sweep
    item = build_report([run_info(), capped]).evidence[0]
    assert item.bar is not None
    assert item.bar.failures_by_kind == {"unlisted": 3, "timeout": 2}


def test_summary_lines(write_run: Callable[[list[Record]], Path]) -> None:
    run_dir = write_run(passing_records())
    lines = render_summary_lines(write_report(run_dir), run_dir)
    assert lines[0].startswith(f"verdict: PASS ({ENV}, run {RUN_ID})")
    assert sum(1 for line in lines if line.startswith("  SLO ")) == len(SLO)
    assert lines[-1] == f"report: {run_dir / 'index.html'}"


def test_missing_or_damaged_evidence_raises(tmp_path: Path, write_run: Callable[[list[Record]], Path]) -> None:
    with pytest.raises(EvidenceError, match="not found"):
        write_report(tmp_path)
    run_dir = write_run(passing_records())
    with (run_dir / "evidence.jsonl").open("a", encoding="utf-8") as handle:
        handle.write("{not json\n")
    with pytest.raises(EvidenceError, match="damaged"):
        write_report(run_dir)


def test_no_run_record_raises() -> None:
    with pytest.raises(EvidenceError, match="no run record"):
        build_report([check("suites/smoke/t.py::test_x")])


def test_html_renders_without_evidence() -> None:
    html = render_html(build_report([run_info()]))
    assert "inconclusive" in html
    assert "no check ran" in html


def test_latency_histogram_keeps_outliers_without_flattening() -> None:
    plot = histogram([float(i) for i in range(1, 100)] + [1e9], slo_ms=250.0)
    assert plot is not None
    assert plot.count == sum(plot.bin_counts) == 100
    assert plot.beyond == 1
    assert plot.bin_edges[-1] == 99.0  # the scale follows the samples, not the outlier
    assert histogram([1.0, 2.0, 3.0], slo_ms=5.0).bin_edges[-1] == 5.0  # type: ignore[union-attr]
    assert histogram([], 250.0) is None
