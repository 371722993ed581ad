"""Start the embedded sandbox for a run when the environment needs it, and stop it afterwards.

Only the CLI uses this: suites never know whether they talk to the sandbox.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mcproof.config import Environment
from mcproof.sandbox.control import Sandbox
from mcproof.sandbox.spec import SandboxSpec


def sandbox_spec(env: Environment) -> SandboxSpec:
    """The SandboxSpec an environment's `sandbox` section describes."""
    settings = env.sandbox
    assert settings is not None
    return SandboxSpec(
        servers=settings.servers,
        version_name=settings.version_name,
        protocol=settings.protocol,
        motd=settings.motd,
        max_players=settings.max_players,
        boot_delay_s=settings.boot_delay_s,
        base_address=settings.base_address,
        query_enabled=env.minecraft.query_enabled,
    )


@contextmanager
def sandbox_for_run(env: Environment, *, keep: bool, echo: Callable[[str], None]) -> Iterator[None]:
    """Ensure the environment's sandbox runs for the duration; stop it if we started it (unless keep)."""
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        yield
        return
    sandbox = Sandbox(state_dir)
    started = False
    if sandbox.status() is None:
        spec = sandbox_spec(env)
        echo(f"mcproof: starting the sandbox ({spec.servers} servers) in {state_dir} ...")
        status = sandbox.up(spec)
        started = True
        echo(f"mcproof: sandbox ready: {len(status.servers)} servers")
    try:
        yield
    finally:
        if started and not keep:
            echo("mcproof: stopping the sandbox")
            sandbox.down()
