"""Process helpers of the sandbox's daemons: one answer to "is this process still ours and alive?"."""

from __future__ import annotations

from typing import Any

import psutil

__all__ = ["alive"]


def alive(pid: Any, create_time: Any = None) -> bool:
    """True when ``pid`` runs (a zombie counts as dead) and, if given, started at ``create_time`` (guards
    against a reused pid).

    >>> import os
    >>> alive(os.getpid()), alive(0), alive(None)
    (True, False, False)
    """
    if not pid:
        return False
    try:
        proc = psutil.Process(int(pid))
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return create_time is None or abs(proc.create_time() - float(create_time)) < 1.0
    except (psutil.Error, ValueError, TypeError):
        return False
