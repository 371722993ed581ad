"""Run one probe coroutine per target with a concurrency cap and an overall deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from mcproof.target import Target

R = TypeVar("R")


async def probe_all(
    targets: Sequence[Target],
    probe: Callable[[Target], Awaitable[R]],
    *,
    concurrency: int,
    deadline_s: float,
    unreached: Callable[[Target], R],
    on_progress: Callable[[int, int], None] | None = None,
) -> list[R]:
    """Results in target order; targets not finished by the deadline get `unreached(target)`."""
    semaphore = asyncio.Semaphore(concurrency)
    results: list[R | None] = [None] * len(targets)
    done = 0

    async def one(index: int, target: Target) -> None:
        nonlocal done
        async with semaphore:
            results[index] = await probe(target)
        done += 1
        if on_progress is not None and (done % 500 == 0 or done == len(targets)):
            on_progress(done, len(targets))

    tasks = [asyncio.create_task(one(i, t)) for i, t in enumerate(targets)]
    if tasks:
        _, pending = await asyncio.wait(tasks, timeout=deadline_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
    return [r if r is not None else unreached(t) for r, t in zip(results, targets, strict=True)]
