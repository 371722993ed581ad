"""The fleet-buffer judge: every figure from the sampler's own samples; what was not observed never passes."""

from __future__ import annotations

from mcproof.evidence.records import SloMeasurement
from mcproof.load.fleet_buffer import (
    SLO_ROWS,
    BufferSample,
    FleetBufferRun,
    fleet_buffer_slos,
    judge_fleet_buffer,
)
from mcproof.load.settings import FleetBufferSettings

SETTINGS = FleetBufferSettings(rush=3, keep=2, ready_min=1, allocation_p95_s=2.0, scale_out_s=5.0)


def _run(samples: list[BufferSample], **kw: object) -> FleetBufferRun:
    fields: dict[str, object] = {
        "buffer_size": 3,
        "samples": tuple(samples),
        "allocation_latencies_s": (0.1, 0.1, 0.2),
        "allocation_failures": (),
        "rush_at": 0.0,
        "released_at": 10.0,
        "scaled_in_at": 11.0,
        "held": ("mc-1", "mc-2"),
        "players_dropped": (),
        "players_joined": 2,
        "surplus": 4,
    }
    fields.update(kw)
    return FleetBufferRun(**fields)  # type: ignore[arg-type]


def _rows(run: FleetBufferRun) -> dict[str, SloMeasurement]:
    return {r.slo: r for r in fleet_buffer_slos(run, judge_fleet_buffer(run), SETTINGS, environment="e", check="c")}


AFTER = [BufferSample(10.5, 4, 4, listed_warm=4), BufferSample(11, 3, 3, listed_warm=3), BufferSample(12, 3, 3)]


def test_a_sound_rush_passes_every_row() -> None:
    run = _run([BufferSample(1, 1, 1), BufferSample(3, 3, 3), *AFTER])
    rows = _rows(run)
    assert set(rows) == set(SLO_ROWS)
    assert all(r.passed for r in rows.values())
    assert judge_fleet_buffer(run).scale_out_s == 2.0


def test_the_longest_dip_is_the_scale_out_figure() -> None:
    dips = [BufferSample(1, 1, 1), BufferSample(2, 3, 3), BufferSample(3, 2, 2), BufferSample(9, 3, 3)]
    run = _run([*dips, *AFTER])
    assert judge_fleet_buffer(run).scale_out_s == 6.0
    assert not _rows(run)["fleet_buffer.scale_out_s"].passed


def test_a_failed_listing_says_nothing_about_the_buffer() -> None:
    run = _run([BufferSample(1, 0, 0, error="timeout"), BufferSample(3, 3, 3), *AFTER])
    assert judge_fleet_buffer(run).ready_min == 3
    only_errors = _run([BufferSample(1, 0, 0, error="timeout"), *AFTER])
    assert "fleet_buffer.ready_min" not in _rows(only_errors)  # not measured: never a pass
    assert "fleet_buffer.scale_out_s" not in _rows(only_errors)


def test_one_missed_ping_is_not_a_stop_two_running_are() -> None:
    once = [BufferSample(11, 3, 3, ("mc-1",), listed_warm=3), BufferSample(12, 3, 3), BufferSample(13, 3, 3)]
    assert judge_fleet_buffer(_run([BufferSample(3, 3, 3), *once])).occupied_stopped == ()
    twice = [BufferSample(11, 3, 3, ("mc-1",), listed_warm=3), BufferSample(12, 3, 3, ("mc-1",))]
    assert judge_fleet_buffer(_run([BufferSample(3, 3, 3), *twice])).occupied_stopped == ("mc-1",)


def test_without_a_surplus_no_scale_in_is_judged() -> None:
    run = _run([BufferSample(3, 3, 3), *AFTER], surplus=3)
    assert not judge_fleet_buffer(run).scale_in_observed
    assert "fleet_buffer.occupied_stopped" not in _rows(run)


def test_a_buffer_never_full_again_fails_scale_out_with_the_time_waited() -> None:
    run = _run([BufferSample(1, 1, 1), BufferSample(9, 2, 2)])
    figures = judge_fleet_buffer(run)
    assert not figures.refilled
    assert figures.scale_out_s == 8.0
    assert not _rows(run)["fleet_buffer.scale_out_s"].passed


def test_listed_but_silent_servers_are_not_ready() -> None:
    # the platform lists 3 ready, 0 answer: the buffer the harness saw is empty
    run = _run([BufferSample(1, 3, 0), BufferSample(3, 3, 3)])
    assert judge_fleet_buffer(run).ready_min == 0
    assert not _rows(run)["fleet_buffer.ready_min"].passed


def test_a_failed_allocation_fails_the_latency_row_even_under_the_p95() -> None:
    latencies = (0.1,) * 19 + (30.0,)
    run = _run([BufferSample(3, 3, 3)], allocation_latencies_s=latencies, allocation_failures=("allocation 20",))
    assert judge_fleet_buffer(run).allocation_p95_s < 2.0
    assert not _rows(run)["fleet_buffer.allocation_p95_s"].passed


def test_a_dropped_player_counts_its_server_as_stopped() -> None:
    run = _run([BufferSample(3, 3, 3), BufferSample(11, 3, 3)], players_dropped=("mc-2: closed (reset)",))
    assert judge_fleet_buffer(run).occupied_stopped == ("mc-2",)
    assert not _rows(run)["fleet_buffer.occupied_stopped"].passed


def test_no_scale_in_observed_writes_no_occupied_row() -> None:
    run = _run([BufferSample(3, 3, 3)], scaled_in_at=None)
    assert "fleet_buffer.occupied_stopped" not in _rows(run)
