"""The compliance window: the evidence of earlier runs of an environment within ``window_days`` (oldest
first), then the current run's, every record tagged with the run it came from (``RUN_KEY``), so the
scorer (:mod:`mcproof.compliance.score`) can name the run of a failing record.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

__all__ = ["RUN_KEY", "gather_runs"]

RUN_KEY = "_run"  # the run (directory name) a record came from; added here, never written to evidence


def _run_started(lines: list[dict[str, Any]]) -> dt.datetime | None:
    for r in lines:
        if r.get("type") == "run":
            try:
                return dt.datetime.fromisoformat(str(r["started_at"]).replace("Z", "+00:00"))
            except (KeyError, ValueError):
                return None
    return None


def _read(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            item = json.loads(line)
        except ValueError:
            continue
        if isinstance(item, dict):
            out.append(item)
    return out


def gather_runs(
    current: Path, reports_dir: Path | None, *, environment: str, window_days: int, now: dt.datetime | None = None
) -> tuple[list[dict[str, Any]], list[str]]:
    """Evidence of earlier runs of ``environment`` within the window (oldest first), then the current run;
    every record tagged with its run (directory name) under ``RUN_KEY``."""
    now = now or dt.datetime.now(dt.UTC)
    earlier: list[tuple[dt.datetime, str, list[dict[str, Any]]]] = []
    if reports_dir is not None and reports_dir.is_dir():
        for path in sorted(reports_dir.glob("*/evidence.jsonl")):
            if path.parent.is_symlink() or path.parent.resolve() == current.resolve():
                continue
            lines = _read(path)
            started = _run_started(lines)
            run = next((r for r in lines if r.get("type") == "run"), {})
            if started is None or run.get("environment") != environment:
                continue
            if now - started <= dt.timedelta(days=window_days):
                earlier.append((started, path.parent.name, lines))
    earlier.sort(key=lambda x: x[0])
    records = [{**r, RUN_KEY: name} for _, name, lines in earlier for r in lines]
    current_file = current / "evidence.jsonl"
    records += [{**r, RUN_KEY: current.name} for r in (_read(current_file) if current_file.is_file() else [])]
    return records, [name for _, name, _ in earlier] + [current.name]
