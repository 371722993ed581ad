"""The observer: a background sampler, independent of chaoslib's probes, pinging every affected target.

It runs in its own thread and event loop for the whole experiment (started before the steady-state
hypothesis, stopped after the rollbacks), pinging every target once per ``interval_s`` with mcstatus
(``async_status_ping``: never raises, bounded by ``timeout_s``). Ticks are fixed-rate and may overlap
(bounded), so pings waiting for a timeout do not coarsen the resolution. It stops by itself after
``max_duration_s``; each sample carries the time its ping started.

With ``refresh`` (a callable returning the targets now, e.g. the ready pod endpoints of a cluster), each
tick first re-reads where every observed target lives: a replaced pod comes back at a new IP under the
same id, and an observed id without a current address is sampled as down (``error_kind`` ``"no-endpoint"``).
If ``refresh`` fails or takes longer than ``timeout_s``, the tick uses the addresses it had.

``checks`` (target id -> coroutine returning ``(ok, latency_ms, error_kind)``) are sampled on the same
ticks beside the pings: e.g. the platform API's ``/readyz`` (:mod:`mcproof.chaos.platform_api`), so an
API outage lands in the same timeline and recovery maths as a server's.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from mcproof.chaos.recovery import Sample
from mcproof.minecraft.status import async_status_ping
from mcproof.target import Target

__all__ = ["Check", "Observer"]

Check = Callable[[], Awaitable[tuple[bool, float | None, str | None]]]


class Observer:
    """``with Observer(targets) as obs: ...`` then ``obs.samples``; ``obs.serving_ratio()`` while running."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        interval_s: float = 0.5,
        timeout_s: float = 1.0,
        max_duration_s: float = 1800.0,
        concurrency: int = 256,
        refresh: Callable[[], Sequence[Target]] | None = None,
        checks: Mapping[str, Check] | None = None,
    ) -> None:
        self.targets = list(targets)
        self.checks = dict(checks or {})
        self.refresh = refresh
        self._where: dict[str, Target] = {t.id: t for t in self.targets}
        self.interval_s = interval_s
        self.timeout_s = min(timeout_s, max(interval_s * 4, 0.2))
        self.max_duration_s = max_duration_s
        self.concurrency = concurrency
        self.samples: list[Sample] = []
        self.ticks = 0
        self._last: dict[str, bool] = {}
        self._last_t: dict[str, float] = {}
        self._last_tick_started = 0.0
        self._tick_done = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def __enter__(self) -> Observer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Observer:
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="mcproof-observer", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 15.0) -> list[Sample]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            return list(self.samples)

    def wait_tick_after(self, t: float, timeout: float) -> bool:
        """Block until a tick that started at or after epoch ``t`` has completed (False on timeout)."""
        with self._tick_done:
            return self._tick_done.wait_for(
                lambda: self._last_tick_started >= t or self._stop.is_set(), timeout=max(0.0, timeout)
            )

    def latest(self) -> dict[str, bool]:
        """Target id -> whether its most recent sample answered."""
        with self._lock:
            return dict(self._last)

    def serving_ratio(self) -> float | None:
        """Share of observed targets whose latest sample answered (None before the first tick)."""
        with self._lock:
            if not self._last:
                return None
            return sum(self._last.values()) / len(self._last)

    async def _locate(self) -> list[Target | str]:
        """Each observed target at its current address, or its id when it has none (refresh only)."""
        if self.refresh is None:
            return list(self.targets)
        try:
            found = await asyncio.wait_for(asyncio.to_thread(self.refresh), timeout=max(self.timeout_s, 1.0))
            self._where = {t.id: t for t in found}
        except Exception:  # noqa: S110 - a failed refresh keeps the last addresses; pings still decide
            pass
        return [self._where.get(t.id, t.id) for t in self.targets]

    async def _tick(self, ping: Callable[[Target | str], Awaitable[Sample]], started: float) -> None:
        located = await self._locate()
        batch = await asyncio.gather(*(ping(t) for t in located), *(self._check(k, c) for k, c in self.checks.items()))
        with self._lock:
            self.samples.extend(batch)
            for sample in batch:
                if sample.t >= self._last_t.get(sample.target, 0.0):
                    self._last_t[sample.target] = sample.t
                    self._last[sample.target] = sample.ok
            self.ticks += 1
        with self._tick_done:
            self._last_tick_started = max(self._last_tick_started, started)
            self._tick_done.notify_all()

    async def _check(self, name: str, check: Check) -> Sample:
        t = time.time()
        try:
            ok, latency_ms, kind = await asyncio.wait_for(check(), timeout=self.timeout_s + 0.5)
        except Exception as err:  # a broken check is a failed sample, never a dead observer
            return Sample(name, t, False, None, type(err).__name__)
        return Sample(name, t, ok, latency_ms, kind)

    async def _run(self) -> None:
        semaphore = asyncio.Semaphore(self.concurrency)

        async def ping(target: Target | str) -> Sample:
            if isinstance(target, str):
                return Sample(target, time.time(), False, None, "no-endpoint")
            async with semaphore:
                t = time.time()
                result = await async_status_ping(target.host, target.port, timeout=self.timeout_s, target=target.id)
                return Sample(target.id, t, result.ok, result.latency_ms, result.error_kind)

        # Ticks overlap: a tick whose pings wait for their timeout does not delay the next one, so the
        # resolution stays at interval_s during a partition. At most `max_in_flight` ticks run at once.
        max_in_flight = max(2, math.ceil(self.timeout_s / self.interval_s) + 1)
        in_flight: set[asyncio.Task[None]] = set()
        deadline = time.monotonic() + self.max_duration_s
        next_tick = time.monotonic()
        while not self._stop.is_set() and time.monotonic() < deadline:
            while len(in_flight) >= max_in_flight:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            task = asyncio.create_task(self._tick(ping, time.time()))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            next_tick += self.interval_s
            delay = next_tick - time.monotonic()
            if delay < 0:
                next_tick = time.monotonic()
            await asyncio.sleep(max(0.0, delay))
        if in_flight:
            await asyncio.wait(in_flight, timeout=self.timeout_s * 2 + 1)
