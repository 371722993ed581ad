"""RPO/RTO maths on recorded markers."""

from __future__ import annotations

import itertools
import math

from mcproof.dr.metrics import last_before, rpo_seconds, rto_seconds
from mcproof.dr.settings import DrSettings

MARKS = [{"seq": i, "ts": 1000.0 + 0.1 * i} for i in range(1, 51)]


def test_last_before_picks_the_newest_mark_at_or_before() -> None:
    assert last_before(MARKS, 1002.0) == {"seq": 20, "ts": 1002.0}
    assert last_before(MARKS, 999.0) is None


def test_rpo_is_written_minus_recovered() -> None:
    written = last_before(MARKS, 1004.5)
    recovered = last_before(MARKS[:30], 1004.5)
    assert written is not None
    assert recovered is not None
    assert math.isclose(rpo_seconds(written, recovered, 1000.0), 1.5)
    assert math.isclose(rpo_seconds(written, None, 1000.0), 4.5)
    assert rpo_seconds(None, None, 1000.0) == 0.0


def test_rto_and_settings_defaults() -> None:
    assert rto_seconds(10.0, 12.5) == 2.5
    assert rto_seconds(10.0, None) == float("inf")
    assert DrSettings().disaster == "delete"


# --- RPO from the harness's own writes, RTO parts, the schedule (recorded from a sandbox drill) -------------

from mcproof.dr.drill import parse_storage_reply  # noqa: E402
from mcproof.dr.metrics import backups_after, newest_backup_at, rpo_from_markers, rto_parts  # noqa: E402

# 20 writes, 0.2 s apart, each acknowledged 15 ms after it was sent; the disaster at 1004.1
WRITES = [{"seq": i, "sent_at": 1000.0 + 0.2 * i, "acked_at": 1000.015 + 0.2 * i} for i in range(1, 21)]
BACKUPS = [
    {"id": "bk_a", "created_at": 1000.1, "trigger": "schedule"},  # before the first marker
    {"id": "bk_b", "created_at": 1002.35, "trigger": "schedule"},  # holds markers 1..11
    {"id": "bk_c", "created_at": 1003.0, "trigger": "api"},
]


def test_rpo_is_disaster_minus_ack_of_newest_marker_on_disk() -> None:
    f = rpo_from_markers(WRITES, range(1, 12), disaster_at=1004.1, writing_started=1000.0)
    assert f.last_written == {"seq": 20, "ts": 1004.015}
    assert f.last_recovered == {"seq": 11, "ts": 1002.215}
    assert math.isclose(f.rpo_s, 1004.1 - 1002.215)
    assert (f.written, f.recovered, f.lost) == (20, 11, 9)
    assert f.missing_below_newest == []
    assert f.never_written == []


def test_rpo_counts_only_writes_acknowledged_before_the_disaster() -> None:
    f = rpo_from_markers(WRITES, range(1, 12), disaster_at=1003.0, writing_started=1000.0)
    assert f.written == 14  # acked at <= 1003.0
    assert f.lost == 3


def test_rpo_with_nothing_recovered_is_the_whole_window() -> None:
    f = rpo_from_markers(WRITES, [], disaster_at=1004.1, writing_started=1000.0)
    assert f.last_recovered is None
    assert math.isclose(f.rpo_s, 4.1)
    assert f.lost == 20
    assert rpo_from_markers([], [], disaster_at=5.0, writing_started=1.0).rpo_s == 0.0


def test_holes_and_markers_never_written_are_reported() -> None:
    f = rpo_from_markers(WRITES, [1, 2, 4, 5, 99], disaster_at=1004.1, writing_started=1000.0)
    assert f.missing_below_newest == [3]
    assert f.never_written == [99]
    assert f.last_recovered == {"seq": 5, "ts": 1001.015}


def test_rto_parts_are_contiguous_and_sum_to_the_rto() -> None:
    parts = rto_parts(1004.1, 1004.16, 1006.9, 1007.45, 1007.6)
    assert [p["part"] for p in parts] == ["detection", "restore", "boot", "verification"]
    assert parts[0]["start"] == 1004.1
    assert all(a["end"] == b["start"] for a, b in itertools.pairwise(parts))
    assert math.isclose(sum(p["s"] for p in parts), 1007.6 - 1004.1, abs_tol=1e-5)
    assert math.isclose(parts[1]["s"], 1006.9 - 1004.16, abs_tol=1e-6)


def test_rto_parts_after_a_failed_restore_stay_open() -> None:
    parts = rto_parts(10.0, 10.2, None, None, None)
    assert parts[0]["s"] == 0.2
    assert [p["end"] for p in parts[1:]] == [None, None, None]
    assert [p["s"] for p in parts[1:]] == [None, None, None]


def test_schedule_helpers() -> None:
    assert [b["id"] for b in backups_after(BACKUPS, 1000.215, "schedule")] == ["bk_b"]
    assert [b["id"] for b in backups_after(BACKUPS, 1000.215)] == ["bk_b", "bk_c"]
    assert newest_backup_at(BACKUPS, "schedule") == 1002.35
    assert newest_backup_at([], "schedule") is None


def test_storage_reply_parsing() -> None:
    assert parse_storage_reply("Storage mcproof:dr has the following contents: [1, 2, 3]") == [1, 2, 3]
    assert parse_storage_reply("Storage mcproof:dr has the following contents: {marks: [7]}") == [7]
    assert parse_storage_reply("Unknown command") is None


def test_settings_default_to_the_platform_schedule() -> None:
    s = DrSettings()
    assert s.mode == "scheduled"
    assert s.schedule_timeout_s is None  # the RPO SLO
