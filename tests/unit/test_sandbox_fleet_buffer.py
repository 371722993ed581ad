"""The sandbox's fleet autoscaler, tick by tick on a fake clock and a recording fleet control."""

from __future__ import annotations

from typing import Any

from mcproof_sandbox.platform.fleet_buffer import BufferPolicy, FleetBuffer


class Fleet:
    """Records what the autoscaler asked of the fleet; ``down`` is what its health check reports."""

    def __init__(self) -> None:
        self.killed: list[str] = []
        self.started: list[str] = []
        self.down: set[str] | None = set()

    def inject(self, server_ids: list[str], kind: str, **params: Any) -> None:
        self.killed += server_ids

    def clear(self, server_ids: list[str] | None = None) -> None:
        self.started += server_ids or []


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _buffer(**policy: Any) -> tuple[FleetBuffer, Fleet, Clock]:
    fleet, clock = Fleet(), Clock()
    pool = [(f"mc-{i}", "127.0.0.1", 25000 + i) for i in range(6)]
    kw: dict[str, Any] = {"buffer_size": 2, "pool_size": 6, "boot_s": 2.0, **policy}
    buf = FleetBuffer(BufferPolicy(**kw), fleet, pool, clock, down=lambda: fleet.down)
    return buf, fleet, clock


def _tick(buf: FleetBuffer, clock: Clock, seconds: float) -> None:
    end = clock.now + seconds
    while clock.now < end:
        clock.now += 0.1
        buf.reconcile()


def _ready(buf: FleetBuffer, tenant: str = "a") -> list[str]:
    return [s["id"] for s in buf.status(tenant)["servers"] if s["state"] == "ready"]


def test_servers_are_ready_only_after_their_boot() -> None:
    buf, fleet, clock = _buffer()
    _tick(buf, clock, 1.5)
    assert _ready(buf) == []
    assert buf.allocate("a") is None  # the buffer is still booting: dry
    _tick(buf, clock, 1.0)
    assert len(_ready(buf)) == 2
    assert set(fleet.started) == set(_ready(buf))


def test_a_surplus_is_scaled_in_after_it_lasted_and_never_an_allocation() -> None:
    buf, fleet, clock = _buffer()
    _tick(buf, clock, 2.5)
    first, second = buf.allocate("a"), buf.allocate("a")
    assert first is not None
    assert second is not None
    _tick(buf, clock, 2.5)  # two replacements booted
    assert buf.release("a", first["id"])  # back in the buffer: 3 ready for a buffer of 2
    _tick(buf, clock, 0.5)
    assert len(_ready(buf)) == 3  # the surplus has not lasted scale_in_after_s yet
    _tick(buf, clock, 1.0)
    assert len(_ready(buf)) == 2
    assert second["id"] not in fleet.killed
    assert next(s for s in buf.status("a")["servers"] if s["id"] == second["id"])["state"] == "allocated"


def test_the_weak_scale_in_stops_an_allocated_server() -> None:
    buf, fleet, clock = _buffer(weak_scale_in=True)
    _tick(buf, clock, 2.5)
    first, second = buf.allocate("a"), buf.allocate("a")
    assert first is not None
    assert second is not None
    _tick(buf, clock, 2.5)
    buf.release("a", first["id"])
    _tick(buf, clock, 1.5)
    assert second["id"] in fleet.killed


def test_a_ready_server_down_at_two_checks_is_replaced_one_report_is_not() -> None:
    buf, fleet, clock = _buffer()
    _tick(buf, clock, 2.5)
    victim = _ready(buf)[0]
    fleet.down = {victim}
    buf.replace_unhealthy()
    assert victim in _ready(buf)  # one report: maybe a slow reply
    fleet.down = None  # the fleet did not answer: no verdict on anyone
    buf.replace_unhealthy()
    assert victim in _ready(buf)
    fleet.down = {victim}
    buf.replace_unhealthy()
    buf.replace_unhealthy()
    assert victim not in _ready(buf)
    assert victim in fleet.killed
    _tick(buf, clock, 2.5)
    assert len(_ready(buf)) == 2  # replaced, by a server that was cold longer
    assert victim not in _ready(buf)


def test_another_tenants_allocation_shows_no_address() -> None:
    buf, _, clock = _buffer()
    _tick(buf, clock, 2.5)
    mine = buf.allocate("a")
    assert mine is not None
    seen = next(s for s in buf.status("b")["servers"] if s["id"] == mine["id"])
    assert (seen["host"], seen["port"], seen["mine"]) == ("", 0, False)
    assert not buf.release("b", mine["id"])
