"""The fault injector: what an environment lets mcproof break, and the one way experiments break it.

Each environment kind declares its capabilities; an experiment or drill that needs one the environment
lacks is refused at plan time with the reason (:meth:`FaultInjector.require`), never run half-way.

========================  =====================================================================
capability                who offers it
========================  =====================================================================
``process.kill``          sandbox (server process killed; its supervisor restarts it unless told
                          not to), ``faults.kind: command`` (the environment's kill command)
``process.restart``       sandbox, ``command`` with a ``start`` command (bring a killed server back)
``process.hang/slow/      sandbox only (a server that accepts and never answers, answers late,
refuse/trickle/oversized`` refuses, trickles bytes, sends an oversized reply)
``process.stop``          sandbox (a clean stop: players kicked "Server closed"; back after its boot
                          delay unless told not to), unlike ``process.kill`` (connections just drop)
``process.lag``           sandbox (a lagging server: it ticks at ``tps``, e.g. 5 instead of 20, so
                          world time in Update Time advances that fast, as players measure TPS)
``platform_api.outage``   sandbox (its platform daemon stopped and started again)
``power.kill/stop/        any platform adapter with power signals (Pterodactyl, the mcproof API):
restart``, ``files.delete`` used by the DR drill's disaster (crash + world loss through the panel)
``pod.delete``,           an environment with a ``kubernetes`` section (chaostoolkit-kubernetes
``node.drain``,           activities run them; this module only declares them)
``workload.scale``,
``network.policy``
``path.latency/loss/      any environment whose targets are on loopback: mcproof's own fault proxy
partition``               fronts them (:mod:`mcproof.chaos.netfault`)
========================  =====================================================================

Only :mod:`mcproof.connect` builds injectors; the sandbox's lives in :mod:`mcproof.connect.sandbox`.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mcproof.errors import CapabilityMissing, GuardError

if TYPE_CHECKING:
    from mcproof.config import Environment
    from mcproof.target import Target

__all__ = [
    "KUBERNETES_CAPABILITIES",
    "CommandFaults",
    "FaultInjector",
    "FaultResult",
    "NoFaults",
    "capabilities_of",
]

KUBERNETES_CAPABILITIES = frozenset({"pod.delete", "node.drain", "workload.scale", "network.policy"})
PATH_CAPABILITIES = frozenset({"path.latency", "path.loss", "path.partition"})


@dataclass(frozen=True)
class FaultResult:
    """What one injection did: the fault, the servers it hit, its parameters and who applied it."""

    fault: str
    servers: tuple[str, ...]
    params: dict[str, Any] = field(default_factory=dict)
    injector: str = ""
    outputs: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "fault": self.fault,
            "servers": list(self.servers),
            "params": dict(self.params),
            "injector": self.injector,
            "outputs": list(self.outputs),
        }


class FaultInjector:
    """Base: an environment's server-process faults. Subclasses set ``name`` and ``capabilities``."""

    name: ClassVar[str] = "none"
    capabilities: frozenset[str] = frozenset()

    def can(self, capability: str) -> bool:
        return capability in self.capabilities

    def require(self, capability: str, what: str) -> None:
        """Refuse ``what`` unless this injector offers ``capability`` (CapabilityMissing names both)."""
        if not self.can(capability):
            offered = ", ".join(sorted(self.capabilities)) or "none"
            raise CapabilityMissing(
                f"{what} needs the fault capability {capability!r}, which this environment's fault injector "
                f"({self.name}) does not offer (offers: {offered}); declare a `faults:` section "
                "(kind: command, kill/start commands) or run it against an environment that has it"
            )

    def inject(self, kind: str, server_ids: list[str], **params: Any) -> FaultResult:
        self.require(f"process.{kind}", f"{kind}_servers")
        raise CapabilityMissing(f"{kind}_servers: the {self.name} fault injector applies no process faults")

    def clear(self, server_ids: list[str] | None = None) -> list[str]:
        """Undo every fault still on ``server_ids`` (None: all); the ids it undid."""
        return []

    def faulted(self) -> list[str]:
        """Servers this injector left faulted (for the safety net)."""
        return []

    def stop_platform_api(self) -> dict[str, Any]:
        self.require("platform_api.outage", "stop_platform_api")
        raise CapabilityMissing(f"stop_platform_api: the {self.name} fault injector cannot stop a platform API")

    def start_platform_api(self, timeout_s: float) -> dict[str, Any]:
        self.require("platform_api.outage", "start_platform_api")
        raise CapabilityMissing(f"start_platform_api: the {self.name} fault injector cannot start a platform API")


class NoFaults(FaultInjector):
    """An environment that declares no way to fault its server processes."""

    name = "none"


class CommandFaults(FaultInjector):
    """Faults through commands the environment declares (``faults.kind: command``): how an operator kills
    and starts one server on their hosts (``systemctl kill mc@{id}``, ``ssh host ...``, ``kill $(cat pid)``).

    Placeholders ``{id}``, ``{host}``, ``{port}`` are filled per server (each argument is shell-quoted);
    every command runs with a deadline and must exit 0. ``kill`` with ``restart`` runs ``start`` right after
    (the platform's own restart); without it, ``clear`` starts what was killed.
    """

    name = "command"

    def __init__(self, targets: Sequence[Target], kill: str, start: str | None, timeout_s: float) -> None:
        self._targets = {t.id: t for t in targets}
        self._kill, self._start, self._timeout = kill, start, timeout_s
        self._killed: set[str] = set()
        caps = {"process.kill"} | ({"process.restart"} if start else set())
        self.capabilities = frozenset(caps)

    def _run(self, template: str, server_id: str) -> str:
        target = self._targets.get(server_id)
        if target is None:
            raise GuardError(f"server {server_id!r} is not one of this environment's targets; refusing to fault it")
        values = {"id": shlex.quote(target.id), "host": shlex.quote(target.host), "port": str(target.port)}
        command = template.format(**values)
        try:
            done = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=self._timeout)
        except subprocess.TimeoutExpired:
            raise GuardError(f"fault command for {server_id} did not finish in {self._timeout:g}s: {command}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
            raise GuardError(f"fault command for {server_id} exited {done.returncode} ({tail[0]}): {command}")
        return f"{server_id}: {command} -> exit 0"

    def inject(self, kind: str, server_ids: list[str], **params: Any) -> FaultResult:
        self.require(f"process.{kind}", f"{kind}_servers")
        restart = bool(params.get("restart", True))
        if restart:
            self.require("process.restart", "kill_servers(restart=true)")
        outputs = [self._run(self._kill, i) for i in server_ids]
        self._killed.update(server_ids)
        if restart:
            outputs += self._start_all(server_ids)
        return FaultResult(kind, tuple(server_ids), dict(params), self.name, tuple(outputs))

    def _start_all(self, server_ids: Iterable[str]) -> list[str]:
        assert self._start is not None
        done = [self._run(self._start, i) for i in server_ids]
        self._killed.difference_update(server_ids)
        return done

    def clear(self, server_ids: list[str] | None = None) -> list[str]:
        chosen = sorted(self._killed if server_ids is None else self._killed & set(server_ids))
        if chosen and self._start:
            self._start_all(chosen)
            return chosen
        return []

    def faulted(self) -> list[str]:
        return sorted(self._killed)


def capabilities_of(env: Environment, injector: FaultInjector) -> frozenset[str]:
    """Everything the environment can do: its injector's process faults plus what its sections bring."""
    caps = set(injector.capabilities)
    if env.kubernetes is not None:
        caps |= KUBERNETES_CAPABILITIES
    caps |= PATH_CAPABILITIES
    return frozenset(caps)
