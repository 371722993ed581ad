"""When could the first player join the restored server? A bounded join loop beside the drill's checks.

Started the moment the restore call returned, it tries an offline-mode player join
(:func:`mcproof.minecraft.player.aio.join`) every ``retry_s`` in its own thread and event loop, until the
first join reaches the play phase (the player then leaves at once) or ``timeout_s`` passes. The figure is
``first_player_join_s``: restore end -> the first player in play (connect start + its join time), on the
harness's clock; the drill also reports it from the disaster.

A server whose protocol the client has no packet table for (``unsupported_version``) or that asks for
authentication (``online_mode``) stops the loop at once: the harness cannot measure it (inconclusive, with
the reason), which is not the same as players being unable to join (fail). So is trouble on the harness's
side: a loop that did not finish within its worst case, or an exception in the loop (``harness`` is set:
inconclusive, never a FAIL of the restored server).

The deadline: attempts start until ``timeout_s`` after the start; :meth:`FirstJoinProbe.note_serving`
(called by the drill when its serving check passed) earns one last attempt after the deadline if the
deadline cut the loop short, so a join hung on a port that came up late is tried once more against the
server that now serves. :meth:`FirstJoinProbe.result` waits for the worst case of the last iteration
(a status ping, a join with every phase at its deadline, the leave), twice when the last attempt runs.
The retrying join is :func:`mcproof.players.population.join_retrying`, the population's.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mcproof.minecraft.player.samples import JoinAttempt
from mcproof.players.population import default_join, join_retrying
from mcproof.target import Target

__all__ = ["UNMEASURABLE", "FirstJoin", "FirstJoinProbe"]

UNMEASURABLE = ("unsupported_version", "online_mode")
_KEEP = 5  # attempts kept in the evidence: the first and the last few

JoinFn = Callable[..., Awaitable[tuple[JoinAttempt, Any]]]


@dataclass(frozen=True)
class FirstJoin:
    """The outcome of the loop: in play at ``in_play_at`` (epoch), or why not."""

    ok: bool
    in_play_at: float | None
    attempts: int
    unmeasurable: str | None  # e.g. "online_mode: ..." when the client cannot log in to this server
    last_error: str | None
    samples: list[dict[str, Any]] = field(default_factory=list)
    harness: str | None = None  # the harness's own trouble (loop overran, crashed): inconclusive, not a FAIL

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class FirstJoinProbe:
    """``probe = FirstJoinProbe(target, timeout_s=60).start(); ...; first = probe.result()``."""

    def __init__(
        self,
        target: Target,
        *,
        timeout_s: float,
        retry_s: float = 0.5,
        phase_timeout_s: float = 5.0,
        protocol: int | None = None,
        username: str = "mcp_dr_first",
        join: JoinFn | None = None,
    ) -> None:
        self.target, self.timeout_s, self.retry_s = target, timeout_s, retry_s
        self.phase_timeout_s = min(phase_timeout_s, timeout_s)
        self.join_timeout_s = self.phase_timeout_s * 5 + 1.0  # every phase at its deadline
        self.protocol = protocol  # None: the protocol the restored server's status reports
        self.username = username
        self._join = join
        self._result: FirstJoin | None = None
        self._started: float | None = None
        self._serving_seen = False
        self._thread = threading.Thread(target=self._main, name="mcproof-dr-first-join", daemon=True)

    def start(self) -> FirstJoinProbe:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def note_serving(self, at_mono: float | None = None) -> None:
        """The drill saw the restored server serving at ``at_mono`` (default now): if that was before the
        loop's deadline, the loop makes one last attempt even when its deadline passed meanwhile."""
        seen = time.monotonic() if at_mono is None else at_mono
        if self._started is not None and seen <= self._started + self.timeout_s:
            self._serving_seen = True

    def worst_iteration_s(self) -> float:
        """One iteration at its worst: the status ping, the join with every phase at its deadline, the leave."""
        return self.phase_timeout_s + self.join_timeout_s + self.join_timeout_s + self.retry_s

    def result(self) -> FirstJoin:
        """Wait for the outcome, bounded by the loop's deadline plus its worst last iteration (and the one
        last attempt); a loop still running then is the harness's trouble: ``harness`` set (inconclusive)."""
        self._thread.join(self.timeout_s + 2 * self.worst_iteration_s() + 5.0)
        if self._result is None:
            why = "the first-join loop did not finish within its deadline (harness side)"
            return FirstJoin(False, None, 0, None, why, harness=why)
        return self._result

    def _main(self) -> None:
        try:
            self._result = asyncio.run(self._run())
        except Exception as err:  # never a traceback from the drill's side loop; the harness's trouble
            why = f"the first-join loop failed: {type(err).__name__}: {err}"
            self._result = FirstJoin(False, None, 0, None, why, harness=why)

    async def _run(self) -> FirstJoin:
        join = self._join or default_join()
        deadline = (self._started or time.monotonic()) + self.timeout_s
        protocols = {self.target.id: self.protocol} if self.protocol is not None else {}
        kept: list[dict[str, Any]] = []
        count = 0

        def seen(attempt: JoinAttempt) -> None:
            nonlocal kept, count
            count += 1
            kept = _keep(kept, attempt.as_dict())

        async def tries(until: float) -> tuple[JoinAttempt | None, Any]:
            return await join_retrying(
                join,
                self.target,
                self.username,
                protocols=protocols,
                phase_timeout_s=self.phase_timeout_s,
                join_timeout_s=self.join_timeout_s,
                retry_s=self.retry_s,
                give_up_at=until,
                on_attempt=seen,
                final=lambda a: a.error_kind in UNMEASURABLE,
            )

        attempt, session = await tries(deadline)
        unsettled = attempt is not None and not attempt.ok and attempt.error_kind not in UNMEASURABLE
        if unsettled and self._serving_seen:  # served before the deadline: one last attempt
            attempt, session = await tries(0.0)
        if attempt is None:
            why = "the first-join loop made no attempt"
            return FirstJoin(False, None, count, None, why, kept, harness=why)
        if attempt.ok:
            offset = time.time() - time.monotonic()  # taken now, beside the attempt it maps
            at = attempt.started_mono + (attempt.join_s or 0.0) + offset
            if session is not None:
                with contextlib.suppress(Exception):  # in play already; how the leave went is not the figure
                    await asyncio.wait_for(session.leave(), self.join_timeout_s)
            return FirstJoin(True, at, count, None, None, kept)
        if attempt.error_kind in UNMEASURABLE:
            return FirstJoin(False, None, count, f"{attempt.error_kind}: {attempt.error}", attempt.error, kept)
        return FirstJoin(False, None, count, None, attempt.describe(), kept)


def _keep(kept: list[dict[str, Any]], row: dict[str, Any]) -> list[dict[str, Any]]:
    """The first attempt and the last few: bounded evidence for a loop that may run a minute."""
    kept = [*kept, row]
    return kept if len(kept) <= _KEEP else [kept[0], *kept[-(_KEEP - 1) :]]
