"""The sandbox platform's game-server fleet autoscaler: an Agones-style buffer of ready, empty servers.

With ``buffer_size`` > 0, ``pool_size`` fleet servers are kept apart from tenant servers. Each one is
*cold* (stopped), *starting* (booting: it is started ``boot_s`` after the autoscaler asked for it),
*ready* (answering, unallocated) or *allocated* (a tenant's match runs on it). Every ``tick_s`` the
autoscaler keeps ``buffer_size`` servers ready or starting while the pool lasts, and scales in the ready
servers beyond that once the surplus has lasted ``scale_in_after_s`` (a released server goes back to the buffer, so a rush that ends leaves a surplus).
An allocation hands out a ready server at once, or is refused when none is ready (the buffer ran dry).

Health: every ``health_s`` the fleet is asked which servers are down; a ready server down at two checks
running (it crashed, or a fault hit it) is marked unhealthy, stopped and replaced, as Agones replaces an Unhealthy
game server, so the buffer counts only servers that serve.

Scale-in stops only ready servers, never an allocated one. ``weak_scale_in`` (tests only: it proves the
fleet check fails against a broken autoscaler) picks its victims among allocated servers first, stopping
matches in progress with their players on them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["BufferPolicy", "FleetBuffer", "FleetControl"]

log = logging.getLogger("mcproof_sandbox.platform.fleet_buffer")

STATES = ("cold", "starting", "ready", "allocated")


class FleetControl(Protocol):
    """What the autoscaler needs from the fleet (the sandbox's control client)."""

    def inject(self, server_ids: list[str], kind: str, **params: Any) -> None: ...
    def clear(self, server_ids: list[str] | None = None) -> None: ...


@dataclass(frozen=True)
class BufferPolicy:
    buffer_size: int  # ready (or starting) servers kept for allocations; 0: no fleet autoscaler
    pool_size: int  # servers the fleet may use in all (ready + starting + allocated)
    boot_s: float  # a cold server answers this long after the autoscaler started it
    tick_s: float = 0.1
    health_s: float = 1.0
    scale_in_after_s: float = 1.0  # a surplus must last this long before it is scaled in
    weak_scale_in: bool = False  # TESTS ONLY: scale-in stops allocated servers first

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": "buffer",
            "buffer_size": self.buffer_size,
            "pool_size": self.pool_size,
            "boot_s": self.boot_s,
        }


@dataclass
class _Slot:
    id: str
    host: str
    port: int
    state: str = "cold"
    since: float = 0.0  # when it entered its state (unix time)
    tenant: str = ""


class FleetBuffer:
    """``FleetBuffer(policy, control, pool=[(id, host, port), ...]).start()``; thread-safe."""

    def __init__(
        self,
        policy: BufferPolicy,
        control: FleetControl,
        pool: list[tuple[str, str, int]],
        clock: Callable[[], float],
        down: Callable[[], set[str] | None] = lambda: set(),
    ) -> None:
        self.policy = policy
        self._down = down
        self._checked = 0.0
        self._suspects: set[str] = set()
        self._surplus_since: float | None = None
        self._control = control
        self._clock = clock
        self._slots = {sid: _Slot(sid, host, port, since=clock()) for sid, host, port in pool}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def ids(self) -> set[str]:
        return set(self._slots)

    def start(self) -> FleetBuffer:
        """Stop every pool server (they start cold), then run the autoscaler."""
        if self._slots:
            self._control.inject(sorted(self._slots), "kill", restart=False)
        self._thread = threading.Thread(target=self._run, name="fleet-autoscaler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5.0)

    # --- the API's side --------------------------------------------------------------------------

    def allocate(self, tenant: str) -> dict[str, Any] | None:
        """A ready server, now allocated to ``tenant``; None when the buffer has no ready server."""
        with self._lock:
            ready = sorted((s for s in self._slots.values() if s.state == "ready"), key=lambda s: s.since)
            if not ready:
                return None
            slot = ready[0]
            self._enter(slot, "allocated")
            slot.tenant = tenant
            return self._view(slot, tenant)

    def release(self, tenant: str, server_id: str) -> bool:
        """Put ``tenant``'s allocated server back in the buffer; False when it holds no such allocation."""
        with self._lock:
            slot = self._slots.get(server_id)
            if slot is None or slot.state != "allocated" or slot.tenant != tenant:
                return False
            self._enter(slot, "ready")
            slot.tenant = ""
            return True

    def status(self, tenant: str) -> dict[str, Any]:
        """The policy, a count per state and every pool server (another tenant's allocation: no address)."""
        with self._lock:
            slots = sorted(self._slots.values(), key=lambda s: s.id)
            return {
                "policy": self.policy.as_dict(),
                "counts": {state: sum(s.state == state for s in slots) for state in STATES},
                "servers": [self._view(s, tenant) for s in slots],
                "at": self._clock(),
            }

    def _view(self, slot: _Slot, tenant: str) -> dict[str, Any]:
        """A pool server as ``tenant`` sees it: another tenant's allocation shows no address."""
        mine = slot.state == "allocated" and slot.tenant == tenant
        hidden = slot.state == "allocated" and not mine
        return {
            "id": slot.id,
            "host": "" if hidden else slot.host,
            "port": 0 if hidden else slot.port,
            "state": slot.state,
            "since": slot.since,
            "mine": mine,
        }

    # --- the autoscaler --------------------------------------------------------------------------

    def _enter(self, slot: _Slot, state: str) -> None:
        slot.state = state
        slot.since = self._clock()

    def _run(self) -> None:
        while not self._stop.wait(self.policy.tick_s):
            try:
                if self._clock() - self._checked >= self.policy.health_s:
                    self._checked = self._clock()
                    self.replace_unhealthy()
                self.reconcile()
            except Exception as exc:  # a failed control call: try again next tick, never stop scaling
                log.warning("fleet autoscaler tick failed: %s", exc)

    def replace_unhealthy(self) -> None:
        """Ready servers the fleet reported down at two health checks running go cold (stopped), so the
        next tick replaces them; one report may be a slow reply, or a server still opening its port."""
        down = self._down()
        if down is None:  # the fleet did not answer: no verdict on any server
            return
        with self._lock:
            suspects = {s.id for s in self._slots.values() if s.state == "ready" and s.id in down}
            sick = [self._slots[sid] for sid in sorted(suspects & self._suspects)]
            self._suspects = suspects - {s.id for s in sick}
        if sick:
            self._stop_servers(sick, "unhealthy ready servers replaced")

    def _stop_servers(self, slots: list[_Slot], why: str) -> None:
        """Stop ``slots`` for real, then mark them cold (a failed stop leaves their state as it was)."""
        self._control.inject([s.id for s in slots], "kill", restart=False)
        with self._lock:
            for slot in slots:
                self._enter(slot, "cold")
                slot.tenant = ""
        log.info("fleet: %s: %s", why, ", ".join(s.id for s in slots))

    def reconcile(self) -> None:
        """One tick: boot the servers whose boot time is up, scale out to the buffer, and scale in a surplus
        that lasted ``scale_in_after_s`` (a scale-down stabilization window, as autoscalers keep)."""
        now = self._clock()
        p = self.policy
        with self._lock:
            slots = sorted(self._slots.values(), key=lambda s: s.id)
            booted = [s for s in slots if s.state == "starting" and now - s.since >= p.boot_s]
            warm = sum(s.state in ("ready", "starting") for s in slots)
            used = sum(s.state != "cold" for s in slots)
            cold = sorted((s for s in slots if s.state == "cold"), key=lambda s: s.since)  # the longest cold first
            grow = cold[: max(0, min(p.buffer_size - warm, p.pool_size - used))]
            for slot in grow:
                self._enter(slot, "starting")
            ready = [s for s in slots if s.state == "ready"]
            surplus = max(0, warm - p.buffer_size)
            if not surplus:
                self._surplus_since = None
            elif self._surplus_since is None:
                self._surplus_since = now
            lasted = self._surplus_since is not None and now - self._surplus_since >= p.scale_in_after_s
            candidates = sorted(ready, key=lambda s: -s.since)  # the newest ready first (Agones: packed)
            if p.weak_scale_in:  # WEAK (tests only): a scale-in that counts allocated servers as idle
                candidates = [s for s in slots if s.state == "allocated"] + candidates
            shrink = candidates[: min(surplus, len(ready))] if lasted else []
        if grow:
            log.info("fleet scale-out started %s", ", ".join(s.id for s in grow))
        if booted:
            self._control.clear([s.id for s in booted])
            with self._lock:
                for slot in booted:
                    if slot.state == "starting":
                        self._enter(slot, "ready")
        if shrink:
            self._surplus_since = None
            self._stop_servers(shrink, "scale-in stopped")
