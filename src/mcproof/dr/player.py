"""When could the first player join the restored server? A bounded join loop beside the drill's checks.

Started the moment the restore call returned, it tries an offline-mode player join
(:func:`mcproof.minecraft.player.aio.join`) every ``retry_s`` in its own thread and event loop, until the
first join reaches the play phase (the player then leaves at once) or ``timeout_s`` passes. The figure is
``first_player_join_s``: restore end -> the first player in play (connect start + its join time), on the
harness's clock; the drill also reports it from the disaster.

A server whose protocol the client has no packet table for (``unsupported_version``) or that asks for
authentication (``online_mode``) stops the loop at once: the harness cannot measure it (inconclusive, with
the reason), which is not the same as players being unable to join (fail).
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
        self._thread = threading.Thread(target=self._main, name="mcproof-dr-first-join", daemon=True)

    def start(self) -> FirstJoinProbe:
        self._thread.start()
        return self

    def result(self) -> FirstJoin:
        """Wait (bounded by the loop's own deadline) for the outcome."""
        self._thread.join(self.timeout_s + self.join_timeout_s + 5.0)
        if self._result is None:
            return FirstJoin(False, None, 0, None, "the first-join loop did not finish within its deadline")
        return self._result

    async def _status_protocol(self) -> int | None:
        return await _status_protocol_of(self.target, self.phase_timeout_s)

    def _main(self) -> None:
        try:
            self._result = asyncio.run(self._run())
        except Exception as err:  # never a traceback from the drill's side loop
            self._result = FirstJoin(False, None, 0, None, f"the first-join loop failed: {type(err).__name__}: {err}")

    async def _run(self) -> FirstJoin:
        join = self._join or _default_join()
        deadline = time.monotonic() + self.timeout_s
        kept: list[dict[str, Any]] = []
        count = 0
        last: JoinAttempt | None = None
        while True:
            tried = time.monotonic()
            count += 1
            attempt: JoinAttempt | None = None
            session: Any = None
            try:
                protocol = self.protocol if self.protocol is not None else await self._status_protocol()
                if protocol is not None:
                    attempt, session = await asyncio.wait_for(
                        join(self.target, protocol, self.username, phase_timeout_s=self.phase_timeout_s),
                        self.join_timeout_s,
                    )
                else:
                    kept = _keep(kept, {"ok": False, "error": "no status answer to learn the server's protocol from"})
            except Exception as err:
                kept = _keep(kept, {"ok": False, "error": f"join raised {type(err).__name__}: {str(err)[:160]}"})
            if attempt is not None:
                last = attempt
                kept = _keep(kept, attempt.as_dict())
            if attempt is not None and attempt.ok:
                offset = time.time() - time.monotonic()
                at = attempt.started_mono + (attempt.join_s or 0.0) + offset
                if session is not None:
                    with contextlib.suppress(Exception):  # in play already; how the leave went is not the figure
                        await asyncio.wait_for(session.leave(), self.join_timeout_s)
                return FirstJoin(True, at, count, None, None, kept)
            if attempt is not None and attempt.error_kind in UNMEASURABLE:
                return FirstJoin(False, None, count, f"{attempt.error_kind}: {attempt.error}", attempt.error, kept)
            if time.monotonic() >= deadline:
                error = (last.describe() if last is not None else kept[-1].get("error")) if kept else None
                return FirstJoin(False, None, count, None, error, kept)
            await asyncio.sleep(max(0.0, min(self.retry_s - (time.monotonic() - tried), deadline - time.monotonic())))


async def _status_protocol_of(target: Target, timeout_s: float) -> int | None:
    from mcproof.minecraft.status import async_status_ping

    status = await async_status_ping(target.host, target.port, timeout=timeout_s, target=target.id)
    return int(status.protocol) if status.ok and status.protocol is not None else None


def _keep(kept: list[dict[str, Any]], row: dict[str, Any]) -> list[dict[str, Any]]:
    """The first attempt and the last few: bounded evidence for a loop that may run a minute."""
    kept = [*kept, row]
    return kept if len(kept) <= _KEEP else [kept[0], *kept[-(_KEEP - 1) :]]


def _default_join() -> JoinFn:
    from mcproof.minecraft.player import aio

    return aio.join
