"""The report's player panel, built from evidence written with the real records and RunStore."""

from __future__ import annotations

import json
from pathlib import Path

from tests.unit.test_players_slis import end, ok, ticks

from mcproof.evidence import CheckOutcome, RunEnd, RunInfo, RunStore
from mcproof.evidence.records import PlayerEvidence
from mcproof.players.evidence import player_evidence, player_slo_records
from mcproof.players.settings import PlayerSettings, PlayerSlo
from mcproof.report import write_report
from mcproof.report.players import NOT_MEASURED

RUN_ID = "20261202T000000Z-local-abc123"
W = (0.0, 100.0)
SETTINGS = PlayerSettings(
    slo=PlayerSlo(join_success_ratio=0.99, join_time_p95_s=3.0, rejoin_time_max_s=60, tps_min=18, tps_p5=19),
    min_samples=20,
    tps_series_points=10,
)
HOSTILE = "<script>alert(1)</script>"


def run_info() -> RunInfo:
    return RunInfo(RUN_ID, "local", "dev", "2026-12-02T00:00:00Z", "0.1.0", ["mcproof"], {"name": "local"}, "h")


def chaos_evidence() -> PlayerEvidence:
    """A killed server (mc-7) drops its 10 players; 9 rejoin, one never does; mc-3 lags."""
    attempts = [ok(f"mc-{i % 10}", f"p{i}", 1.0 + i * 0.1, 0.05 + i * 0.001) for i in range(100)]
    ends = [end(a.server, a.player, a.started_mono + 0.1, 30.0, "closed") for a in attempts if a.server == "mc-7"]
    attempts += [ok("mc-7", e.player, 40.0, 0.3) for e in ends[:-1]]
    updates = [u for i in range(10) if i != 3 for u in ticks(f"mc-{i}", 0.0, 90.0)]
    updates += ticks("mc-3", 0.0, 90.0, tps=12.0)
    return player_evidence(
        attempts,
        ends,
        updates,
        window=W,
        settings=SETTINGS,
        environment="local",
        check=f"suites/chaos/test_players.py::test_kill {HOSTILE}",
        context="chaos:kill-one-server",
        alive_at_end=[(a.server, a.player) for a in attempts],
    )


def write(tmp_path: Path, records: list) -> Path:  # type: ignore[type-arg]
    store = RunStore.create(tmp_path / "reports", RUN_ID)
    for record in records:
        store.append(record)
    return store.run_dir


def test_the_panel_is_built_from_stored_player_evidence(tmp_path: Path) -> None:
    ev = chaos_evidence()
    assert ev.verdict == "fail"
    check = CheckOutcome("local", "chaos", ev.check, ev.check, "failed", 1.0, ev.reason)
    run_dir = write(tmp_path, [run_info(), ev, *player_slo_records(ev), check, RunEnd(RUN_ID, "t", 1, 1)])
    report = write_report(run_dir)
    panel = report.players
    assert panel.measured
    assert panel.evidence == ("ev-1",)
    (row,) = panel.rows
    assert row.context == "chaos:kill-one-server"
    assert row.verdict == "fail"
    assert row.dropped == 10
    assert row.dropped_where == {"mc-7": 10}
    assert row.rejoin_s.count(None) == 1
    assert len(row.rejoin_s) == 10
    assert row.unrecovered == 1
    assert row.tps_lowest_server == "mc-3"
    assert row.tps_p5 is not None
    assert row.tps_p5 < 13
    assert {p.kind for p in panel.plots} == {"player_join_time", "player_tps"}
    (tps_plot,) = [p for p in panel.plots if p.kind == "player_tps"]
    assert tps_plot.series[0].name == "mc-3"
    assert len(tps_plot.series) == 5
    assert all(len(s.points) <= 10 for s in tps_plot.series)  # the stored series is bounded
    assert ("tps_min SLO", 18.0) in tps_plot.lines
    assert len(tps_plot.windows) == 10
    assert report.verdict == "fail"
    assert {s.slo for s in report.slos if s.verdict == "fail"} >= {"players.tps_min", "players.tps_p5"}

    html = (run_dir / "index.html").read_text()
    assert '<section id="players">' in html
    assert 'data-plot="player_tps"' in html
    assert 'data-plot="player_join_time"' in html
    assert "never back" in html
    assert "mc-7 (10)" in html
    assert HOSTILE not in html
    md = (run_dir / "report.md").read_text()
    assert "## Players" in md
    assert "chaos:kill-one-server" in md
    assert "never back" in md
    assert "players.rejoin_time_max_s fail" in md
    data = json.loads((run_dir / "report.json").read_text())
    assert data["players"]["measured"] is True
    assert data["players"]["rows"][0]["dropped_where"] == {"mc-7": 10}


def test_missing_player_evidence_says_not_measured_in_every_format(tmp_path: Path) -> None:
    check = CheckOutcome("local", "smoke", "c", "c", "passed", 1.0)
    run_dir = write(tmp_path, [run_info(), check, RunEnd(RUN_ID, "t", 0, 1)])
    report = write_report(run_dir)
    assert not report.players.measured
    assert report.players.note == NOT_MEASURED
    assert NOT_MEASURED in (run_dir / "index.html").read_text()
    assert NOT_MEASURED in (run_dir / "report.md").read_text()
    data = json.loads((run_dir / "report.json").read_text())
    assert data["players"] == {"measured": False, "note": NOT_MEASURED, "rows": [], "plots": [], "evidence": []}


def test_a_passing_smoke_measurement_row(tmp_path: Path) -> None:
    attempts = [ok(f"mc-{i % 10}", f"p{i}", 1.0 + i * 0.1) for i in range(100)]
    updates = [u for i in range(10) for u in ticks(f"mc-{i}", 0.0, 100.0)]  # updates up to the window end
    ev = player_evidence(
        attempts,
        [],
        updates,
        window=W,
        settings=SETTINGS,
        environment="local",
        check="suites/smoke/test_players.py::test_join",
        context="smoke",
        only=["join_success_ratio", "join_time_p95_s", "tps_min", "tps_p5"],
        alive_at_end=[(a.server, a.player) for a in attempts],
    )
    assert ev.verdict == "pass", ev.reason
    report = write_report(write(tmp_path, [run_info(), ev, RunEnd(RUN_ID, "t", 0, 0)]))
    (row,) = report.players.rows
    assert (row.verdict, row.joins_ok, row.join_attempts, row.dropped, row.rejoin_s) == ("pass", 100, 100, 0, ())


def test_a_damaged_player_record_still_reports(tmp_path: Path) -> None:
    ev = PlayerEvidence(
        "local",
        "m",
        "c",
        "load",
        "",
        "",
        0.0,
        10.0,
        "",
        "",
        "",
        {},
        {"tps": "nonsense"},
        ["x"],
        join_time_quantiles_s=["a", None],  # type: ignore[list-item]
        rejoins=["y"],  # type: ignore[list-item]
        tps_series={"mc-1": [["t", 1], [1.0]]},  # type: ignore[dict-item]
    )
    assert ev.verdict == "inconclusive"  # no verdict recorded: never a pass
    report = write_report(write(tmp_path, [run_info(), ev, RunEnd(RUN_ID, "t", 0, 0)]))
    (row,) = report.players.rows
    assert row.verdict == "inconclusive"
    assert report.players.plots == ()


def declaring_run(**players_slo: float) -> RunInfo:
    """A run whose environment file declares these player SLOs (the snapshot Environment.snapshot() writes)."""
    from mcproof.config import Slo, load_environment

    env = load_environment("local")  # its slo: section left out here (not measured by these records)
    env = env.model_copy(update={"slo": Slo(), "players": PlayerSettings(slo=PlayerSlo(**players_slo), min_samples=20)})
    return RunInfo(RUN_ID, "local", "dev", "2026-12-02T00:00:00Z", "0.1.0", ["mcproof"], env.snapshot(), "h")


def healthy_evidence(context: str, *, tail_silent_on: str = "") -> PlayerEvidence:
    attempts = [ok(f"mc-{i % 10}", f"p{i}", 1.0 + i * 0.1) for i in range(100)]
    stop = {f"mc-{i}": 100.0 for i in range(10)} | ({tail_silent_on: 50.0} if tail_silent_on else {})
    updates = [u for i in range(10) for u in ticks(f"mc-{i}", 0.0, stop[f"mc-{i}"])]
    return player_evidence(
        attempts,
        [],
        updates,
        window=W,
        settings=PlayerSettings(slo=PlayerSlo(tps_min=18, join_time_p95_s=3.0), min_samples=20),
        environment="local",
        check=f"{context}::players",
        context=context,
        alive_at_end=[(a.server, a.player) for a in attempts],
    )


def slo_row(report, name):  # type: ignore[no-untyped-def]
    return next(s for s in report.slos if s.slo == name)


def test_a_declared_player_slo_never_measured_makes_the_signoff_inconclusive(tmp_path: Path) -> None:
    run = declaring_run(tps_min=18, rejoin_time_max_s=60)
    assert {"players.tps_min", "players.rejoin_time_max_s"} <= set(run.environment_snapshot["slo_declared"])
    ev = healthy_evidence("load")
    records = [
        run,
        ev,
        *player_slo_records(ev),
        CheckOutcome("local", "load", "t", "t", "passed", 1.0),
        RunEnd(RUN_ID, "t", 0, 0),
    ]
    report = write_report(write(tmp_path, records))
    assert slo_row(report, "players.tps_min").verdict == "pass"
    rejoin = slo_row(report, "players.rejoin_time_max_s")
    assert (rejoin.verdict, rejoin.suite, rejoin.measurements) == ("inconclusive", "chaos", ())
    assert report.verdict == "inconclusive"
    assert any("players.rejoin_time_max_s" in r for r in report.reasons)


def test_a_gap_elsewhere_keeps_a_measured_pass_inconclusive(tmp_path: Path) -> None:
    run = declaring_run(tps_min=18)
    good, gap = healthy_evidence("load"), healthy_evidence("chaos:lag", tail_silent_on="mc-4")
    assert [v["gap"] for v in gap.slos if v["slo"] == "players.tps_min"] == [True]
    check = CheckOutcome("local", "load", "t", "t", "passed", 1.0)
    records = [run, good, *player_slo_records(good), gap, *player_slo_records(gap), check, RunEnd(RUN_ID, "t", 0, 0)]
    report = write_report(write(tmp_path, records))
    row = slo_row(report, "players.tps_min")
    assert row.verdict == "inconclusive"
    assert row.measurements
    assert "mc-4" in " ".join(row.notes)
    assert report.verdict == "inconclusive"
    # without the gap, the same run passes honestly
    records = [run, good, *player_slo_records(good), check, RunEnd(RUN_ID, "t", 0, 0)]
    assert write_report(write(tmp_path / "b", records)).verdict == "pass"
