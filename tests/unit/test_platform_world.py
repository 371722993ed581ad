"""World writer without a network: markers, autosave, save-all flush, crash loss, integrity checks."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mcproof_sandbox.platform.world import WorldWriter, corrupt_world, parse_marks, read_marks, verify_world


def _writer(tmp_path: Path, up: set[str], saved: list[str]) -> WorldWriter:
    return WorldWriter(
        tmp_path / "worlds",
        tmp_path / "players",
        is_up=lambda: set(up),
        save_hook=saved.append,
        autosave_s=1.0,
        filler_bytes=1024,
    )


def test_autosave_and_save_all_flush_and_crash_loses_unsaved(tmp_path: Path) -> None:
    up, saved = {"mc-00000"}, []
    w = _writer(tmp_path, up, saved)
    w.manage("mc-00000")
    t0 = time.time()
    for i in range(5):
        w.tick(now=t0 + 0.3 * i)  # autosave (1 s) happens at the 5th marker
    check = verify_world(w.world_dir("mc-00000"))
    assert check.ok
    assert check.last_seq >= 1
    for i in range(3):
        w.tick(now=t0 + 2.0 + 0.1 * i)
    assert w.save_all("mc-00000").last_seq == 8
    assert saved == ["mc-00000"]
    w.tick(now=time.time() + 0.05)
    w.tick(now=time.time() + 0.1)
    up.clear()  # crash: the two unsaved markers are gone
    w.tick(now=time.time() + 0.15)
    info = w.info("mc-00000")
    assert info["lost_marks"] == 2
    assert info["written"]["seq"] == 10
    assert info["saved"]["last_seq"] == 8
    assert [m.seq for m in read_marks(w.journal_path("mc-00000"))] == list(range(1, 11))


def test_verify_detects_corruption_and_missing_files(tmp_path: Path) -> None:
    w = _writer(tmp_path, {"mc-00001"}, [])
    w.manage("mc-00001")
    w.tick(now=1.0)
    w.save_all("mc-00001")
    world = w.world_dir("mc-00001")
    assert verify_world(world).ok
    corrupt_world(world)
    bad = verify_world(world)
    assert not bad.ok
    assert any("sha256" in p for p in bad.problems)
    (world / "level.dat").unlink()
    assert not verify_world(world).ok


@pytest.mark.parametrize(
    ("text", "seqs"), [("1\t1.0\tx\n2\t2.0\tx\n", [1, 2]), ("1\t1.0\tx\n2\t2", [1]), ("junk\n", [])]
)
def test_parse_marks_ignores_torn_and_junk_lines(text: str, seqs: list[int]) -> None:
    assert [m.seq for m in parse_marks(text)] == seqs


def test_crash_drops_unsaved_storage_at_once_and_backup_hold_stops_autosave(tmp_path: Path) -> None:
    from mcproof_sandbox.platform.world import STORAGE_FILE

    up, saved = {"mc-00000"}, []
    w = _writer(tmp_path, up, saved)
    w.manage("mc-00000")
    for seq in (1, 2, 3):
        w.append_storage("mc-00000", seq)
    w.save_all("mc-00000", hold=True)  # save-off + save-all: a backup reads this save
    for seq in (4, 5):
        w.append_storage("mc-00000", seq)
    t0 = time.time()
    w.tick(now=t0 + 10.0)  # autosave is due, but held
    disk = w.world_dir("mc-00000") / STORAGE_FILE
    assert [m.seq for m in read_marks(disk)] == [1, 2, 3]
    assert [m.seq for m in w.storage_marks("mc-00000")] == [1, 2, 3, 4, 5]
    w.release("mc-00000")
    w.append_storage("mc-00000", 6)
    assert w.crash("mc-00000") >= 3  # 4, 5, 6 and any unsaved player markers
    w.tick(now=t0 + 20.0)  # paused after the crash: nothing reaches disk
    assert [m.seq for m in read_marks(disk)] == [1, 2, 3]
    assert w.info("mc-00000")["lost_storage"] == 3
    assert verify_world(w.world_dir("mc-00000")).ok
    with pytest.raises(RuntimeError):
        w.append_storage("mc-00000", 7)
    w.resume("mc-00000")
    assert [m.seq for m in w.storage_marks("mc-00000")] == [1, 2, 3]
