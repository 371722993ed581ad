"""A deadline over a whole blocking exchange inside a Locust (gevent) process.

Why our own: mcstatus applies its `timeout` to each socket operation, so a server that trickles one
byte a second keeps a sync `status()` or `query()` busy for minutes, and one such server would hold
a load user (and its schedule) hostage. `bounded_call` arms a `gevent.Timeout` around the whole call:
the greenlet is interrupted at its next socket wait once `seconds` have passed, mcstatus's `with`
blocks close the socket, and the caller sees `ExchangeTimeout` (a `TimeoutError`, so
`mcproof.minecraft.status.classify_error` calls it a timeout). `gevent.Timeout` derives from
BaseException, so mcstatus's own `except Exception` retries cannot swallow it.

Only usable where gevent runs the sockets (a Locust process); gevent is imported on first call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

__all__ = ["ExchangeTimeout", "bounded_call"]

T = TypeVar("T")


class ExchangeTimeout(TimeoutError):
    """The whole exchange did not finish within its deadline."""


def bounded_call(call: Callable[[], T], seconds: float) -> T:
    """`call()`, interrupted with ExchangeTimeout once it has run `seconds` in total (gevent sockets only)."""
    import gevent

    timer = gevent.Timeout(seconds)
    timer.start()
    try:
        return call()
    except gevent.Timeout as fired:
        if fired is not timer:
            raise
        raise ExchangeTimeout(f"no complete reply within {seconds:g}s (whole exchange)") from None
    finally:
        timer.close()
