"""What runs beside chaoslib during an experiment: the abort floor watch and the pre-rollback sync.

Both read the :class:`~mcproof.chaos.observer.Observer`; neither talks to a target itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Collection
from typing import Any

from mcproof.chaos.observer import Observer

__all__ = ["AbortWatch", "ObserverSync", "fleet_ratio_estimate"]


def fleet_ratio_estimate(latest: dict[str, bool], victims: set[str], total: int) -> float | None:
    """Fleet serving ratio from the observer's latest samples: victims counted one by one, the evenly
    picked rest standing for all non-victims.

    >>> fleet_ratio_estimate({"a": False, "b": True, "c": True, "d": False}, {"a", "b"}, 10)
    0.5
    """
    if not latest or total <= 0:
        return None
    hit = [ok for t, ok in latest.items() if t in victims]
    rest = [ok for t, ok in latest.items() if t not in victims]
    others = total - len(victims)
    rest_ratio = (sum(rest) / len(rest)) if rest else 1.0
    return (sum(hit) + rest_ratio * others) / total


class AbortWatch:
    """Background check of the abort floor; below it, SIGUSR1 makes chaoslib stop and play the rollbacks.

    chaoslib installs its SIGUSR1 handler only while it runs; around that we install a no-op handler so
    a late signal can never take the default action (terminating the process).
    """

    def __init__(self, observer: Observer, victims: Collection[str], total: int, floor: float | None) -> None:
        self.observer, self.floor = observer, floor
        self.victims = set(victims)
        self.total = total
        self.reason = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._previous: Any = None

    def __enter__(self) -> AbortWatch:
        if self.floor is None:
            return self
        self._previous = signal.signal(signal.SIGUSR1, lambda *_: None)
        self._thread = threading.Thread(target=self._watch, name="mcproof-abort-watch", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
            signal.signal(signal.SIGUSR1, self._previous)

    def _watch(self) -> None:
        assert self.floor is not None
        while not self._stop.wait(self.observer.interval_s):
            ratio = fleet_ratio_estimate(self.observer.latest(), self.victims, self.total)
            if ratio is not None and ratio < self.floor:
                self.reason = f"fleet serving ratio fell to {ratio:.3f}, below the abort floor {self.floor}"
                os.kill(os.getpid(), signal.SIGUSR1)
                return


class ObserverSync:
    """chaoslib event handler: before the rollbacks, wait for one fresh observer tick (bounded), so the
    figures see the state the method left and never credit a rollback with a recovery."""

    def __init__(self, observer: Observer) -> None:
        self.observer = observer
        self.cutoff: float | None = None

    def start_rollbacks(self, experiment: Any) -> None:
        now = time.time()
        self.observer.wait_tick_after(now, self.observer.interval_s + self.observer.timeout_s + 2.0)
        self.cutoff = time.time()
