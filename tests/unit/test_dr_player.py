"""The DR first-join loop: the harness's own trouble is inconclusive, and serving seen in time earns a last try."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from mcproof.dr.drill import _first_join_view
from mcproof.dr.player import FirstJoinProbe
from mcproof.dr.settings import DrSettings
from mcproof.minecraft.player.samples import JoinAttempt
from mcproof.target import Target

TARGET = Target(id="mc-1", host="127.0.0.1", port=1)


def _slow_refusal(hold_s: float) -> Any:
    async def join(target: Target, protocol: int, name: str, **_: Any) -> tuple[JoinAttempt, Any]:
        started = time.monotonic()
        await asyncio.sleep(hold_s)  # a join hung on a port that is not up yet, past the loop's deadline
        return JoinAttempt(target.id, "h:1", name, False, "connect", "", started, None, "timeout", "hung"), None

    return join


def test_a_crash_in_the_loop_is_the_harness_side_never_a_fail() -> None:
    async def broken(*_: Any, **__: Any) -> Any:
        return None  # not a (JoinAttempt, session) pair: the loop itself breaks

    first = FirstJoinProbe(TARGET, timeout_s=1.0, protocol=769, join=broken).start().result()
    assert not first.ok
    assert first.harness is not None
    assert first.harness.startswith("the first-join loop failed: TypeError")
    view = _first_join_view(DrSettings(), first, "mc-1", 0.0, 0.0)["player_join"]
    assert view["reason"].startswith("first join to mc-1 not measured: the first-join loop failed")


def test_a_server_seen_serving_before_the_deadline_earns_one_last_attempt() -> None:
    plain = FirstJoinProbe(TARGET, timeout_s=0.2, protocol=769, join=_slow_refusal(0.5)).start().result()
    assert (plain.ok, plain.attempts, plain.harness) == (False, 1, None)  # the server's failure, not ours
    probe = FirstJoinProbe(TARGET, timeout_s=0.2, protocol=769, join=_slow_refusal(0.5)).start()
    probe.note_serving()  # the drill saw it serving before the deadline
    assert probe.result().attempts == 2
    late = FirstJoinProbe(TARGET, timeout_s=0.2, protocol=769, join=_slow_refusal(0.5)).start()
    late.note_serving(time.monotonic() + 10.0)  # serving only after the deadline: no extra attempt
    assert late.result().attempts == 1


def test_the_wait_covers_the_worst_last_iteration() -> None:
    probe = FirstJoinProbe(TARGET, timeout_s=60.0, phase_timeout_s=5.0, retry_s=0.5)
    assert probe.worst_iteration_s() >= 5.0 + 26.0 + 26.0  # status ping, the join, the leave
