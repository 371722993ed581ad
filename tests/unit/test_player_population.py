"""The population's own bookkeeping: bounded retries, crashed players, silent sessions, its loop's lag."""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any

from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd
from mcproof.players.population import Population
from mcproof.target import Target


def _closed_port() -> int:
    with socket.socket() as s:  # bound then closed: nothing listens there, connects are refused
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(cond: Any, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.02)
    return bool(cond())


def test_a_player_that_never_gets_in_stops_after_the_in_play_timeout() -> None:
    target = Target(id="mc-1", host="127.0.0.1", port=_closed_port())
    pop = Population([target], protocols={"mc-1": 769}, retry_interval_s=0.1, in_play_timeout_s=0.5).start()
    try:
        assert _wait(lambda: pop.gave_up() == ["mcp_s0_p0"], 20.0)
    finally:
        samples = pop.stop()
    assert samples.gave_up == ("mcp_s0_p0",)
    assert 1 <= len(samples.joins) <= 0.5 / 0.1 + 3  # bounded, never retried until max_duration_s
    assert all(not j.ok for j in samples.joins)


def test_a_crashed_player_task_is_a_note_never_swallowed() -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        return None  # not a (JoinAttempt, session) pair: the player task crashes on it

    target = Target(id="mc-1", host="127.0.0.1", port=1)
    pop = Population([target], protocols={"mc-1": 769}, join=broken).start()
    try:
        assert _wait(lambda: bool(pop._notes), 10.0)
    finally:
        samples = pop.stop()
    assert any(n.startswith("player mcp_s0_p0 stopped by TypeError") for n in samples.notes)
    assert pop.in_play() == {"mcp_s0_p0": False}


class _Session:
    """A play session held open by a server that answers (recently heard) or has gone quiet."""

    def __init__(self, target: Target, name: str, quiet_s: float) -> None:
        self.target, self.name = target, name
        self.core = type("Core", (), {"last_packet_mono": time.monotonic() - quiet_s})()
        self.ended = asyncio.Event()
        self.end: SessionEnd | None = None
        self.time_updates: list[Any] = []
        self.joined = time.monotonic()

    async def leave(self) -> SessionEnd:
        self.end = SessionEnd(self.target.id, self.name, "left", "left", self.joined, time.monotonic(), "")
        self.ended.set()
        return self.end


def test_at_stop_a_silent_session_stays_unaccounted_and_a_live_one_is_alive_at_end() -> None:
    async def join(target: Target, protocol: int, name: str, **_: Any) -> tuple[JoinAttempt, Any]:
        quiet = 100.0 if target.id == "mc-2" else 0.0
        attempt = JoinAttempt(target.id, "h:1", name, True, "play", "", time.monotonic(), 0.01, protocol=protocol)
        return attempt, _Session(target, name, quiet)

    targets = [Target(id="mc-1", host="127.0.0.1", port=1), Target(id="mc-2", host="127.0.0.1", port=2)]
    pop = Population(targets, protocols={"mc-1": 769, "mc-2": 769}, join=join, silent_after_s=30.0).start()
    assert pop.wait_all_in_play(10.0)
    samples = pop.stop()
    assert samples.alive_at_end == (("mc-1", "mcp_s0_p0"),)
    assert [(s, p) for s, p, _ in samples.silent] == [("mc-2", "mcp_s1_p0")]
    assert samples.silent[0][2] >= 100.0
    assert [(e.server, e.reason) for e in samples.ends] == [("mc-1", "left")]  # the silent one is no "left"


def test_the_watchdog_records_how_late_the_population_loop_ran() -> None:
    async def hogging(target: Target, protocol: int, name: str, **_: Any) -> tuple[JoinAttempt, Any]:
        time.sleep(0.6)  # blocks the population's event loop, as a CPU-starved harness would
        attempt = JoinAttempt(target.id, "h:1", name, False, "connect", "", time.monotonic(), None, "refused", "x")
        return attempt, None

    target = Target(id="mc-1", host="127.0.0.1", port=1)
    pop = Population([target], protocols={"mc-1": 769}, join=hogging, retry_interval_s=0.1).start()
    try:
        assert _wait(lambda: bool(pop._lags), 20.0)
    finally:
        samples = pop.stop()
    assert samples.loop_lag_max(samples.started_mono, samples.stopped_mono) >= 0.4
    assert samples.as_dict()["loop_lag_max_s"] >= 0.4


def test_the_silence_bound_sits_between_one_keepalive_interval_and_the_timeout() -> None:
    target = [Target(id="mc-1", host="127.0.0.1", port=1)]
    assert Population(target, keepalive_timeout_s=30.0).silent_after_s == 24.0
    assert Population(target, keepalive_timeout_s=120.0).silent_after_s == 30.0
    assert Population(target, silent_after_s=5.0).silent_after_s == 5.0
