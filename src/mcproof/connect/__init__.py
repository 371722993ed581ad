"""Environment -> endpoints: the one seam between an environment file and what the suites talk to.

Every suite, probe, load run, experiment and drill gets its endpoints here:

- :func:`discover_targets` (:mod:`.targets`, :mod:`.kubernetes`): the Minecraft servers;
- :func:`platform_client` / :func:`platform_endpoint` (:mod:`.platform`): the hosting panel's API;
- :func:`prometheus_client` (:mod:`.prometheus`): the environment's Prometheus;
- :func:`kube_api` (:mod:`.kubernetes`): a client for its cluster, plus control-plane facts;
- :func:`rcon_password` (:mod:`.rcon`): its RCON credentials;
- :func:`fault_injector` (:mod:`.faults`): what mcproof may break there, and how.

Only this package and the CLI know that the embedded sandbox exists (:mod:`.sandbox`); an environment
that names real servers, a real panel and a real Prometheus goes through the same functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcproof.connect.faults import CommandFaults, FaultInjector, FaultResult, NoFaults, capabilities_of
from mcproof.connect.targets import Target, discover_targets

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = [
    "FaultInjector",
    "FaultResult",
    "Target",
    "capabilities_of",
    "discover_targets",
    "fault_injector",
    "local_target_pids",
]


def local_target_pids(env: Environment) -> list[int]:
    """Processes of the target that run on this host and that mcproof may measure (the embedded sandbox's
    shards, so a load run can tell a sandbox that could not keep up from a slow platform); none for a
    real environment."""
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        return []
    from mcproof.connect.sandbox import shard_pids

    return shard_pids(state_dir)


_COMMAND_INJECTORS: dict[tuple[str, str], CommandFaults] = {}


def fault_injector(env: Environment) -> FaultInjector:
    """The environment's fault injector: its ``faults:`` section, else the sandbox's, else none.

    A command injector is kept per environment for the process, so a rollback in a later activity knows
    which servers an earlier one killed."""
    if env.faults is not None:
        settings = env.faults
        key = (env.name, settings.model_dump_json())
        if key not in _COMMAND_INJECTORS:
            _COMMAND_INJECTORS[key] = CommandFaults(
                discover_targets(env), settings.kill, settings.start, settings.timeout_s
            )
        return _COMMAND_INJECTORS[key]
    state_dir = env.sandbox_state_dir
    if state_dir is not None:
        from mcproof.connect.sandbox import SandboxFaults

        return SandboxFaults(state_dir)
    return NoFaults()
