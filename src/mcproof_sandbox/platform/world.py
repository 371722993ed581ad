"""World data of sandbox servers: simulated players write numbered markers, autosave and ``save-all`` flush them.

Minecraft keeps recent changes in memory and writes them to the region files on autosave or ``save-all``;
what was not saved when the process dies is gone. The sandbox servers (a colleague's fleet) only
acknowledge ``save-all`` over RCON, so the world itself lives here: a :class:`WorldWriter` thread appends
one marker per tick to an in-memory buffer for every server that is serving, flushes the buffer to disk
every ``autosave_s`` and on :meth:`WorldWriter.save_all` (which first sends ``save-all`` over RCON, so a
dead or hung server cannot be saved), and drops the buffer when the server goes down.

Layout of ``<worlds_dir>/<server_id>/`` (the world directory that backups copy)::

    level.dat            JSON: format, server, last_seq, last_ts, saved_at, files {name: sha256}
    region/markers.log   saved markers, one per line: "<seq>\\t<unix ts>\\t<iso ts>"
    region/r.0.0.mca     filler bytes (``filler_bytes``) so restores move a realistic amount of data

    data/command_storage_mcproof.dat   command storage ``mcproof:dr``: markers a client wrote through the
                         console (``data modify storage mcproof:dr marks append value <n>``), same line format

and ``<journal_dir>/<server_id>.log`` records every marker the players sent (same line format), saved or
not — the players' own record. Markers never repeat a number, even after a restore: the counter continues
from the journal. Command-storage markers are numbered by whoever writes them (the harness's DR drill).

A crash (:meth:`WorldWriter.crash`, called the moment the platform kills the server) drops everything not
saved, synchronously: nothing written before the kill can reach disk afterwards. While a backup runs,
autosave is off for that server (``save-off``/``save-all``/backup/``save-on``, as panels do), so a snapshot
holds exactly what the save before it flushed.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "Mark",
    "WorldCheck",
    "WorldWriter",
    "corrupt_world",
    "read_marks",
    "storage_reply",
    "verify_world",
    "world_files",
]

log = logging.getLogger("mcproof_sandbox.platform.world")

LEVEL_FILE = "level.dat"
MARKERS_FILE = "region/markers.log"
FILLER_FILE = "region/r.0.0.mca"
STORAGE_FILE = "data/command_storage_mcproof.dat"
WORLD_FORMAT = 1


@dataclass(frozen=True)
class Mark:
    """One marker: its number and when the players wrote it (unix seconds)."""

    seq: int
    ts: float

    def line(self) -> str:
        iso = datetime.fromtimestamp(self.ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return f"{self.seq}\t{self.ts:.6f}\t{iso}\n"

    def as_dict(self) -> dict[str, Any]:
        return {"seq": self.seq, "ts": self.ts}


def parse_marks(text: str) -> list[Mark]:
    """Markers from log text; a torn last line (crash mid-write) is ignored.

    >>> parse_marks("1\\t10.5\\tx\\n2\\t11.0\\tx\\n3\\t1")
    [Mark(seq=1, ts=10.5), Mark(seq=2, ts=11.0)]
    """
    marks: list[Mark] = []
    for line in text.splitlines(keepends=True):
        parts = line.rstrip("\n").split("\t")
        if not line.endswith("\n") or len(parts) != 3:
            continue
        try:
            marks.append(Mark(int(parts[0]), float(parts[1])))
        except ValueError:
            continue
    return marks


def read_marks(path: Path) -> list[Mark]:
    """Markers in a log file (empty when it does not exist)."""
    try:
        return parse_marks(path.read_text(encoding="utf-8", errors="replace"))
    except FileNotFoundError:
        return []


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def world_files(world: Path) -> dict[str, str]:
    """sha256 of every data file of a world (relative names), level.dat excluded."""
    return {
        str(p.relative_to(world)): _sha256(p)
        for p in sorted(world.rglob("*"))
        if p.is_file() and p.name != LEVEL_FILE and not p.name.endswith(".tmp")
    }


@dataclass(frozen=True)
class WorldCheck:
    """Integrity of a world directory: checksums match level.dat, markers parse and increase."""

    ok: bool
    last_seq: int
    last_ts: float
    saved_at: float
    files: int
    bytes: int
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "last_seq": self.last_seq,
            "last_ts": self.last_ts,
            "saved_at": self.saved_at,
            "files": self.files,
            "bytes": self.bytes,
            "problems": list(self.problems),
        }


def verify_world(world: Path) -> WorldCheck:
    """Check a world against its level.dat manifest; never raises for a damaged world."""
    problems: list[str] = []
    try:
        level = json.loads((world / LEVEL_FILE).read_text(encoding="utf-8"))
        expected: dict[str, str] = dict(level["files"])
        last_seq, last_ts, saved_at = int(level["last_seq"]), float(level["last_ts"]), float(level["saved_at"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return WorldCheck(False, -1, 0.0, 0.0, 0, 0, [f"level.dat unreadable: {type(exc).__name__}: {exc}"])
    try:
        seen = world_files(world)
    except OSError as exc:
        return WorldCheck(False, last_seq, last_ts, saved_at, 0, 0, [f"world unreadable: {exc}"])
    for name in sorted(set(expected) | set(seen)):
        if name not in seen:
            problems.append(f"{name}: missing")
        elif name not in expected:
            problems.append(f"{name}: not in level.dat")
        elif seen[name] != expected[name]:
            problems.append(f"{name}: sha256 {seen[name][:12]} != level.dat {expected[name][:12]}")
    marks = read_marks(world / MARKERS_FILE)
    if any(b.seq <= a.seq for a, b in itertools.pairwise(marks)):
        problems.append("markers.log: marker numbers do not increase")
    tail = marks[-1].seq if marks else 0
    if tail != last_seq:
        problems.append(f"markers.log ends at {tail}, level.dat says {last_seq}")
    size = sum((world / n).stat().st_size for n in seen if (world / n).exists())
    return WorldCheck(not problems, last_seq, last_ts, saved_at, len(seen), size, problems)


def corrupt_world(world: Path) -> None:
    """Flip bytes in the middle of the markers log (a disaster: silent corruption)."""
    path = world / MARKERS_FILE
    data = bytearray(path.read_bytes())
    if not data:
        data = bytearray(b"garbage")
    mid = len(data) // 2
    data[mid : mid + 8] = b"\x00CORRUPT"[: len(data[mid : mid + 8])] or b"\x00"
    path.write_bytes(bytes(data))


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class _ServerWorld:
    server_id: str
    world: Path
    journal: Path
    seq: int = 0
    buffer: list[Mark] = field(default_factory=list)
    last_save: float = 0.0
    storage: list[Mark] = field(default_factory=list)  # unsaved command-storage markers
    paused: bool = False
    saves_held: int = 0  # > 0: autosave off (a backup is reading the world)
    crashes: int = 0
    lost_marks: int = 0
    lost_storage: int = 0

    def drop_unsaved(self) -> int:
        lost = len(self.buffer) + len(self.storage)
        if lost:
            self.crashes += 1
            self.lost_marks += len(self.buffer)
            self.lost_storage += len(self.storage)
        self.buffer.clear()
        self.storage.clear()
        return lost


def storage_reply(marks: list[Mark]) -> str:
    """What ``data get storage mcproof:dr marks`` answers (Minecraft's reply shape).

    >>> storage_reply([Mark(1, 0.0), Mark(2, 0.0)])
    'Storage mcproof:dr has the following contents: [1, 2]'
    """
    return "Storage mcproof:dr has the following contents: [" + ", ".join(str(m.seq) for m in marks) + "]"


class WorldWriter:
    """Writes markers for the servers it manages; thread-safe; stop with :meth:`stop`.

    ``is_up()`` returns the ids of servers currently serving; ``save_hook(server_id)`` sends ``save-all``
    over RCON and raises when the server does not acknowledge it.
    """

    def __init__(
        self,
        worlds_dir: Path,
        journal_dir: Path,
        *,
        is_up: Callable[[], set[str]],
        save_hook: Callable[[str], None],
        tick_s: float = 0.1,
        autosave_s: float = 5.0,
        filler_bytes: int = 1 << 20,
    ) -> None:
        self.worlds_dir = worlds_dir
        self.journal_dir = journal_dir
        self.is_up = is_up
        self.save_hook = save_hook
        self.tick_s = tick_s
        self.autosave_s = autosave_s
        self.filler_bytes = filler_bytes
        self._lock = threading.RLock()
        self._servers: dict[str, _ServerWorld] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        worlds_dir.mkdir(parents=True, exist_ok=True)
        journal_dir.mkdir(parents=True, exist_ok=True)

    # --- membership ----------------------------------------------------------------------------------

    def world_dir(self, server_id: str) -> Path:
        return self.worlds_dir / server_id

    def journal_path(self, server_id: str) -> Path:
        return self.journal_dir / f"{server_id}.log"

    def manage(self, server_id: str) -> None:
        """Start writing for ``server_id``; creates its world on first use."""
        with self._lock:
            if server_id in self._servers:
                return
            sw = _ServerWorld(server_id, self.world_dir(server_id), self.journal_path(server_id))
            if not (sw.world / LEVEL_FILE).exists():
                (sw.world / "region").mkdir(parents=True, exist_ok=True)
                (sw.world / FILLER_FILE).write_bytes(os.urandom(self.filler_bytes))
                (sw.world / MARKERS_FILE).touch()
                (sw.world / STORAGE_FILE).parent.mkdir(parents=True, exist_ok=True)
                (sw.world / STORAGE_FILE).touch()
                self._write_level(sw, Mark(0, 0.0))
            journal = read_marks(sw.journal)
            sw.seq = journal[-1].seq if journal else 0
            sw.last_save = time.time()
            self._servers[server_id] = sw

    def forget(self, server_id: str, delete: bool = False) -> None:
        with self._lock:
            self._servers.pop(server_id, None)
            if delete:
                shutil.rmtree(self.world_dir(server_id), ignore_errors=True)
                self.journal_path(server_id).unlink(missing_ok=True)

    def pause(self, server_id: str) -> None:
        """Stop writing for a server (during a restore); its unsaved data is dropped."""
        with self._lock:
            sw = self._servers[server_id]
            sw.paused = True
            sw.buffer.clear()
            sw.storage.clear()

    def crash(self, server_id: str) -> int:
        """The server process died: drop every unsaved marker now and stop writing until :meth:`resume`.

        Returns how many markers (players' and command storage) were lost."""
        with self._lock:
            sw = self._servers[server_id]
            sw.paused = True
            lost = sw.drop_unsaved()
            if lost:
                log.info("%s crashed: %d unsaved markers lost", server_id, lost)
            return lost

    def append_storage(self, server_id: str, seq: int) -> Mark:
        """``data modify storage mcproof:dr marks append value <seq>``: in memory until the next save."""
        with self._lock:
            sw = self._servers[server_id]
            if sw.paused:
                raise RuntimeError(f"{server_id} is not running")
            mark = Mark(seq, time.time())
            sw.storage.append(mark)
            return mark

    def storage_marks(self, server_id: str) -> list[Mark]:
        """The server's view of its command storage: what is on disk plus what is not saved yet."""
        with self._lock:
            sw = self._servers[server_id]
            return read_marks(sw.world / STORAGE_FILE) + list(sw.storage)

    def resume(self, server_id: str) -> None:
        with self._lock:
            sw = self._servers[server_id]
            sw.paused = False
            sw.last_save = time.time()

    def managed(self) -> list[str]:
        with self._lock:
            return sorted(self._servers)

    # --- writing -------------------------------------------------------------------------------------

    def tick(self, now: float | None = None) -> None:
        """One round: write a marker for every serving server, autosave, drop buffers of dead servers."""
        up = self.is_up()
        with self._lock:
            for sw in self._servers.values():
                now_ts = time.time() if now is None else now
                if sw.paused:
                    continue
                if sw.server_id not in up:
                    lost = sw.drop_unsaved()
                    if lost:
                        log.info("%s down: %d unsaved markers lost", sw.server_id, lost)
                    sw.last_save = now_ts
                    continue
                sw.seq += 1
                mark = Mark(sw.seq, now_ts)
                sw.buffer.append(mark)
                with open(sw.journal, "a", encoding="utf-8") as fh:
                    fh.write(mark.line())
                if now_ts - sw.last_save >= self.autosave_s and not sw.saves_held:
                    self._flush(sw, now_ts)

    def save_all(self, server_id: str, *, hold: bool = False) -> WorldCheck:
        """``save-all``: the server must acknowledge over RCON, then its unsaved data is written to disk.

        ``hold``: also turn autosave off (``save-off``) until :meth:`release`, so a backup reads exactly this
        save."""
        self.save_hook(server_id)
        with self._lock:
            sw = self._servers[server_id]
            self._flush(sw, time.time())
            if hold:
                sw.saves_held += 1
            return verify_world(sw.world)

    def release(self, server_id: str) -> None:
        """``save-on`` after a backup."""
        with self._lock:
            sw = self._servers.get(server_id)
            if sw is not None and sw.saves_held:
                sw.saves_held -= 1

    def _flush(self, sw: _ServerWorld, now_ts: float) -> None:
        sw.last_save = now_ts
        if sw.storage:
            (sw.world / STORAGE_FILE).parent.mkdir(exist_ok=True)
            with open(sw.world / STORAGE_FILE, "a", encoding="utf-8") as fh:
                fh.write("".join(m.line() for m in sw.storage))
                fh.flush()
                os.fsync(fh.fileno())
            sw.storage.clear()
            if not sw.buffer:  # level.dat must list the new checksum of the storage file
                self._write_level(sw, self._last_saved(sw))
        if not sw.buffer:
            return
        with open(sw.world / MARKERS_FILE, "a", encoding="utf-8") as fh:
            fh.write("".join(m.line() for m in sw.buffer))
            fh.flush()
            os.fsync(fh.fileno())
        last = sw.buffer[-1]
        sw.buffer.clear()
        self._write_level(sw, last)

    @staticmethod
    def _last_saved(sw: _ServerWorld) -> Mark:
        try:
            level = json.loads((sw.world / LEVEL_FILE).read_text(encoding="utf-8"))
            return Mark(int(level["last_seq"]), float(level["last_ts"]))
        except (OSError, ValueError, KeyError, TypeError):
            marks = read_marks(sw.world / MARKERS_FILE)
            return marks[-1] if marks else Mark(0, 0.0)

    def _write_level(self, sw: _ServerWorld, last: Mark) -> None:
        level = {
            "format": WORLD_FORMAT,
            "server": sw.server_id,
            "last_seq": last.seq,
            "last_ts": last.ts,
            "saved_at": time.time(),
            "files": world_files(sw.world),
        }
        _write_atomic(sw.world / LEVEL_FILE, json.dumps(level, indent=1, sort_keys=True))

    def info(self, server_id: str) -> dict[str, Any]:
        """Written (players' journal) and saved (on disk) markers of one server, JSON-safe."""
        with self._lock:
            sw = self._servers[server_id]
            journal = read_marks(sw.journal)
            check = verify_world(sw.world)
            return {
                "server": server_id,
                "written": journal[-1].as_dict() if journal else None,
                "unsaved": len(sw.buffer),
                "unsaved_storage": len(sw.storage),
                "crashes": sw.crashes,
                "lost_marks": sw.lost_marks,
                "lost_storage": sw.lost_storage,
                "paused": sw.paused,
                "saved": check.as_dict(),
                "autosave_s": self.autosave_s,
            }

    # --- thread --------------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="world-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.tick_s):
            try:
                self.tick()
            except Exception:  # one bad tick must not stop the players
                log.exception("world writer tick failed")

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
