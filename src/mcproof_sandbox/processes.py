"""Process helpers of the sandbox's daemons: one answer to "is this process still ours and alive?".

A process is identified by its pid plus its start time in clock ticks since boot (``/proc/<pid>/stat``
field 22). Unlike psutil's wall-clock ``create_time`` (boot time + ticks, where the boot time is derived
from the wall clock), it does not move when the clock is stepped — a suspended VM or NTP step made a live
supervisor look like a reused pid, and the sandbox then cleaned itself up under a running test.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psutil

__all__ = ["alive", "process_start"]


def process_start(pid: Any) -> int | None:
    """Start time of ``pid`` in clock ticks since boot, or None when it does not exist.

    >>> import os
    >>> process_start(os.getpid()) == process_start(os.getpid()) is not None
    True
    """
    try:
        stat = Path(f"/proc/{int(pid)}/stat").read_text(encoding="ascii", errors="replace")
        return int(stat.rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError, TypeError):
        return None


def alive(pid: Any, started: Any = None) -> bool:
    """True when ``pid`` runs (a zombie counts as dead) and, if given, started at ``started`` (the value
    :func:`process_start` returned for it: guards against a reused pid).

    >>> import os
    >>> alive(os.getpid()), alive(os.getpid(), process_start(os.getpid())), alive(0), alive(None)
    (True, True, False, False)
    >>> alive(os.getpid(), process_start(os.getpid()) + 1)
    False
    """
    if not pid:
        return False
    try:
        if psutil.Process(int(pid)).status() == psutil.STATUS_ZOMBIE:
            return False
    except (psutil.Error, ValueError, TypeError):
        return False
    if started is None:
        return True
    try:
        return process_start(pid) == int(started)
    except (TypeError, ValueError):
        return False
