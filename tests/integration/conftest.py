"""Shared fixtures for integration tests: a real sandbox fleet on loopback, torn down after the test."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.stack import stop_platform_services


def random_base_address() -> str:
    """A per-test loopback range (127.100-199.x.1) so parallel tests never share addresses."""
    return f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.1"


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes in ``tmp_path``: ``sandbox_factory(servers=20, **spec_kwargs) -> Sandbox``.

    Defaults: a random ``base_address`` per call and ``boot_delay_s=1.0``. Every sandbox started here is
    stopped after the test, even when it fails.
    """
    started: list[Sandbox] = []

    def make(servers: int = 20, **spec_kwargs: Any) -> Sandbox:
        spec_kwargs.setdefault("base_address", random_base_address())
        spec_kwargs.setdefault("boot_delay_s", 1.0)
        sandbox = Sandbox(tmp_path / f"sandbox-{len(started)}")
        started.append(sandbox)
        sandbox.up(SandboxSpec(servers=servers, **spec_kwargs), timeout=60.0)
        return sandbox

    yield make
    for sandbox in started:
        stop_platform_services(sandbox.state_dir)  # a test or CLI may have started the API / Prometheus on it
        sandbox.down(timeout=10.0)
