"""Lockout of client addresses after repeated authentication failures (the API answers 429 + Retry-After).

A sliding window per client address: ``max_failures`` 401s within ``window_s`` lock the address out for
``lockout_s``; while locked out, every authenticated route answers 429 *without looking at the token*
(otherwise a 200 among the 429s would still confirm a guessed token). The lockout lifts by itself.

Example::

    >>> lim = AuthFailureLimiter(max_failures=2, window_s=60, lockout_s=5)
    >>> lim.failed("127.0.0.1", now=0.0); lim.failed("127.0.0.1", now=1.0)
    >>> lim.retry_after("127.0.0.1", now=2.0)
    4.0
    >>> lim.retry_after("127.0.0.1", now=7.0)
    0.0
"""

from __future__ import annotations

import threading
import time
from collections import deque

__all__ = ["AuthFailureLimiter"]

_MAX_ADDRESSES = 10_000  # bounded memory under a spray of source addresses


class AuthFailureLimiter:
    def __init__(self, max_failures: int = 10, window_s: float = 60.0, lockout_s: float = 5.0) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.lockout_s = lockout_s
        self._failures: dict[str, deque[float]] = {}
        self._locked_until: dict[str, float] = {}
        self._lock = threading.Lock()

    def retry_after(self, address: str, now: float | None = None) -> float:
        """Seconds until ``address`` may try again; 0.0 when it is not locked out."""
        now = time.monotonic() if now is None else now
        with self._lock:
            until = self._locked_until.get(address, 0.0)
            if until and until <= now:
                del self._locked_until[address]
                self._failures.pop(address, None)
            return max(0.0, until - now)

    def failed(self, address: str, now: float | None = None) -> None:
        """Record one authentication failure of ``address``; lock it out at the threshold."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if address not in self._failures and len(self._failures) >= _MAX_ADDRESSES:
                self._failures.pop(next(iter(self._failures)))
            window = self._failures.setdefault(address, deque())
            window.append(now)
            while window and window[0] <= now - self.window_s:
                window.popleft()
            if len(window) >= self.max_failures:
                self._locked_until[address] = now + self.lockout_s
                window.clear()
