"""A chaoslib action for the harness's own tests: a fault that reaches beyond what the experiment declares.

``kill_undeclared`` kills the server it is given through the environment's fault injector, without being
a declared fault step (the runner's blast radius does not know it): what a misbehaving platform action,
or a fault with a wider real reach than its declaration, does. Only tests use it.
"""

from __future__ import annotations

from typing import Any

from mcproof.chaos.scope import environment_from
from mcproof.connect import fault_injector


def kill_undeclared(server: str, configuration: dict[str, Any] | None = None) -> dict[str, Any]:
    """Kill ``server`` (restarted by its supervisor); the output names no ``servers``."""
    done = fault_injector(environment_from(configuration)).inject("kill", [server], restart=True)
    return {"undeclared": list(done.servers)}
