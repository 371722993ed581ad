"""The Locust users of mcproof, as module-level abstract ``User`` classes (the way ``locust.contrib`` ships
its users): subclass one and give it a ``config`` (a :class:`~mcproof.load.plan.LoadConfig`), or let
:func:`mcproof.load.locust_process.build_user_class` do it for an environment.

Importing this module imports Locust, which monkey-patches the process with gevent: import it only in a
Locust process (the headless runner child, a worker, the ``locust`` CLI through suites/load/locustfile.py).

``MinecraftServerUser`` is one simulated hosted server watched as a server list watches it: a Server List
Ping every ``ping_interval_s`` on its own drift-free schedule (random phase), Query every ``query_every``
pings. Every exchange is bounded as a whole by ``timeout_s``; each status ping's slot (when it was due,
when it was sent, slots skipped, corrected latency) travels in the request event's context.
"""

from __future__ import annotations

import itertools
import random
import time
from typing import Any, ClassVar

import gevent
from locust import User, constant, task
from locust.exception import StopUser

from mcproof.load.generator import advance_schedule
from mcproof.load.locust_process import (
    QUERY_NAME,
    STATUS_NAME,
    LoadRequestError,
    WrongVersion,
    error_for,
    version_problem,
)
from mcproof.load.plan import LoadConfig, TargetRef, target_index
from mcproof.minecraft.query import query_status
from mcproof.minecraft.status import java_status

__all__ = ["MinecraftServerUser"]


class MinecraftServerUser(User):
    """One simulated hosted server: SLP status every `ping_interval_s`, Query every `query_every` pings."""

    abstract = True
    config: ClassVar[LoadConfig]
    # Pacing is our own drift-free schedule, not constant_pacing: measured here, constant_pacing
    # lines users up on the same instants (p50 connect 8 ms at 200 users vs 0.3 ms when spread).
    wait_time = constant(0)
    _sequence: ClassVar[itertools.count[int]]
    _to_epoch: ClassVar[float]  # schedules run on the monotonic clock; evidence is in epoch seconds

    @classmethod
    def for_config(cls, config: LoadConfig) -> type[MinecraftServerUser]:
        """A concrete subclass that runs ``config`` (targets, interval, timeout, expectations)."""
        attrs = {
            "abstract": False,
            "config": config,
            "_sequence": itertools.count(),
            "_to_epoch": time.time() - time.monotonic(),
            "__doc__": cls.__doc__,
            "__module__": cls.__module__,
        }  # fmt: skip  (one mapping)
        return type(cls.__name__, (cls,), attrs)

    def on_start(self) -> None:
        config = self.config
        self.interval, self.timeout, self.cap = config.ping_interval_s, config.timeout_s, config.max_pings_per_user
        worker_index = max(0, int(getattr(self.environment.runner, "worker_index", 0) or 0))
        slot = target_index(next(self._sequence), worker_index, max(1, config.workers), len(config.targets))
        self.target: TargetRef = config.targets[slot]
        self.expect_version = (
            self.target.expect_version if self.target.expect_version is not None else config.expect_version
        )
        self.expect_protocol = (
            self.target.expect_protocol if self.target.expect_protocol is not None else config.expect_protocol
        )
        self.query_port = self.target.query_port if config.query_every else None
        self.query_every = config.query_every
        self.pings = 0
        self.fire = self.environment.events.request.fire
        jitter = random.uniform(0, self.interval) if config.plan.jitter_start and self.interval > 0 else 0.0
        self.free_at = time.monotonic()  # when the user last finished an exchange (or started)
        self.next_due = self.free_at + jitter

    @task
    def watch(self) -> None:
        interval = self.interval
        if self.cap and self.pings >= self.cap:
            raise StopUser
        due, free_at = self.next_due, self.free_at
        if interval > 0:
            now = time.monotonic()
            if due > now:
                gevent.sleep(due - now)
        sent = time.monotonic()
        slot: dict[str, Any] | None = None
        if interval > 0:
            # generator lag: from when the user was due AND free to when it really sent; time the
            # previous exchange overran its slot is the server holding the user, not lag
            ready = max(due, free_at)
            self.next_due, skipped = advance_schedule(due, sent, interval)
            slot = {
                "due": due + self._to_epoch,
                "lag_ms": (sent - ready) * 1000,
                "skipped": skipped,
                "server_skipped": min(skipped, advance_schedule(due, ready, interval)[1]),
                "mono_due": due,
            }
        self.pings += 1
        self.status(slot)
        if self.query_port and self.pings % self.query_every == 0:
            self.query()
        self.free_at = time.monotonic()

    def status(self, slot: dict[str, Any] | None) -> None:
        error: LoadRequestError | None = None
        started = time.perf_counter()
        try:
            response = java_status(self.target.host, self.target.port, timeout=self.timeout)
            problem = version_problem(
                str(response.version.name), int(response.version.protocol), self.expect_version, self.expect_protocol
            )
            if problem is not None:
                error = WrongVersion(problem)
        except Exception as err:
            error = error_for(err)
        elapsed = (time.perf_counter() - started) * 1000
        context: dict[str, Any] = {"target": self.target.id, "kind": error.kind if error else None}
        if slot is not None:
            mono_due = slot.pop("mono_due")
            context.update(slot, corrected_ms=(time.monotonic() - mono_due) * 1000)
        self.fire(
            request_type="SLP",
            name=STATUS_NAME,
            response_time=elapsed,
            response_length=0,
            exception=error,
            context=context,
        )  # fmt: skip  (one event)

    def query(self) -> None:
        assert self.query_port is not None
        error: LoadRequestError | None = None
        started = time.perf_counter()
        try:
            query_status(self.target.host, self.query_port, timeout=self.timeout)
        except Exception as err:
            error = error_for(err)
        self.fire(
            request_type="QUERY",
            name=QUERY_NAME,
            response_time=(time.perf_counter() - started) * 1000,
            response_length=0,
            exception=error,
            context={"target": self.target.id, "kind": error.kind if error else None},
        )  # fmt: skip  (one event)
