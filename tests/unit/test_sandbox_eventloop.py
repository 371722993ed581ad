"""The sandbox's event loop choice: uvloop when installed, asyncio on request, a bad value refused in one line."""

from __future__ import annotations

import asyncio

import pytest

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet.eventloop import LOOP_ENV, loop_name, run


def test_uvloop_is_the_default_when_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("uvloop")
    monkeypatch.delenv(LOOP_ENV, raising=False)
    assert loop_name() == "uvloop"

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    assert run(which()) == "uvloop"


def test_asyncio_on_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "asyncio")
    assert loop_name() == "asyncio"

    async def which() -> str:
        return type(asyncio.get_running_loop()).__module__.split(".")[0]

    assert run(which()) == "asyncio"


def test_a_bad_loop_name_is_refused_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(LOOP_ENV, "trio")
    with pytest.raises(SandboxError, match="use 'uvloop' or 'asyncio'"):
        loop_name()
