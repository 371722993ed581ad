"""Which event loop the sandbox's processes run on: uvloop when installed, else asyncio's own.

Picked by measurement (bench/fleet_sweep.py, bench/README.md): the shard processes answer every status
ping of a load run or a sweep on the same cores as the client, so their CPU per answered ping is the
harness's own cost. `MCPROOF_SANDBOX_LOOP=asyncio` forces the standard loop (to compare, or where uvloop
misbehaves); `uvloop` requires it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from typing import Any, TypeVar

from mcproof.errors import SandboxError

__all__ = ["LOOP_ENV", "loop_name", "run"]

LOOP_ENV = "MCPROOF_SANDBOX_LOOP"
T = TypeVar("T")


def loop_name() -> str:
    """ "uvloop" or "asyncio": what `run` will use in this process."""
    wanted = os.environ.get(LOOP_ENV, "").strip().lower()
    if wanted not in ("", "uvloop", "asyncio"):
        raise SandboxError(f"{LOOP_ENV}={wanted!r} is not a loop; use 'uvloop' or 'asyncio' (or leave it unset)")
    if wanted == "asyncio":
        return "asyncio"
    try:
        import uvloop  # noqa: F401
    except ImportError:
        if wanted == "uvloop":
            raise SandboxError(f"{LOOP_ENV}=uvloop but uvloop is not installed; run tools/bootstrap.sh") from None
        return "asyncio"
    return "uvloop"


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)` on the loop `loop_name()` picks."""
    if loop_name() == "uvloop":
        import uvloop

        return uvloop.run(main)
    return asyncio.run(main)
