"""Did the fault take effect? The journal's method actions, what they name, and what the observer saw.

An experiment is pass or fail only when its fault is seen to happen (else it is inconclusive):

1. every method action the journal records *succeeded* — chaoslib records an action that raised as
   ``failed`` while the journal still ends ``completed`` (an action cut by an interruption, with no
   status, is not counted against it);
2. at least one *fault* action ran, and each names what it affected: ``servers`` in the output of the
   mcproof actions, the deleted pod names of ``chaosk8s`` ``terminate_pods``, the drained node names of
   ``drain_nodes`` (resolved to the Minecraft pods that were on them just before the method ran);
3. the observer watched every named target and saw each of them degrade (a bad sample after the
   injection) — or, for an experiment that declares its fault invisible (``"fault_visible": false`` in
   the ``mcproof`` extension), the fault is proven in place another way (a named pod really is gone or
   replaced: a new UID, read from the kube API).

Parse apart from I/O: everything here but :func:`kube_snapshot` and :func:`pods_replaced` works on the
journal's JSON and plain sets.

Example::

    >>> journal = {"run": [{"activity": {"type": "action", "name": "kill", "provider": {
    ...     "module": "mcproof.chaos.actions", "func": "kill_servers"}}, "status": "failed", "output": None,
    ...     "exception": ["chaoslib.exceptions.ActivityFailed: mcproof.errors.GuardError: no sandbox\\n"]}]}
    >>> fault_effect(journal, FleetSnapshot(("mc-1",))).failed
    ('kill: mcproof.errors.GuardError: no sandbox',)
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcproof.config import Environment
from mcproof.target import Target

__all__ = [
    "FAULT_FUNCS",
    "FaultEffect",
    "FleetSnapshot",
    "PodInfo",
    "activity_error",
    "effect_problems",
    "fault_effect",
    "is_fault",
    "kube_snapshot",
    "pods_replaced",
]

FAULT_FUNCS = frozenset(
    {
        "kill_servers",
        "stop_servers",
        "hang_servers",
        "slow_servers",
        "refuse_servers",
        "lag_servers",  # seen by players (a tick rate below players.tps_min), not by status pings
        "add_network_latency",
        "add_network_loss",
        "partition_network",
        "stop_platform_api",
        "panel_kill_server",
        "panel_stop_server",
        "panel_restart_server",  # mcproof.chaos.panel
    }
)
_K8S_HEALS = frozenset({"uncordon_node", "remove_network_policy", "allow_dns_access"})  # undo, not a fault
_ACTIVITY_FAILED = "chaoslib.exceptions.ActivityFailed: "
_SLOT = re.compile(r"^(?P<group>.+)\[\d+\]$")


@dataclass(frozen=True)
class PodInfo:
    """A pod just before the method ran: ``namespace/name``, UID, node, and its observer target id."""

    ref: str
    uid: str
    node: str
    target: str | None = None


@dataclass(frozen=True)
class FleetSnapshot:
    """The fleet just before the method ran: observer target ids, and (Kubernetes) every pod by ``ns/name``."""

    target_ids: tuple[str, ...]
    pods: Mapping[str, PodInfo] = field(default_factory=dict)


@dataclass(frozen=True)
class FaultEffect:
    """What the method's actions did, read from the journal."""

    faults: tuple[str, ...]  # names of the fault actions that ran
    failed: tuple[str, ...]  # "name: error" of method actions that did not succeed
    targets: tuple[str, ...]  # observer target ids the fault actions named
    silent: tuple[str, ...]  # fault actions whose output names no Minecraft target
    pods: tuple[str, ...] = ()  # ns/name of pods the Kubernetes faults deleted or evicted


def is_fault(activity: Mapping[str, Any]) -> bool:
    """A method action that injects a fault: one of :data:`FAULT_FUNCS`, or a chaostoolkit-kubernetes action
    other than an undo (``uncordon_node`` ...); an unknown chaosk8s action counts as a fault, so one whose
    targets mcproof cannot read makes the experiment inconclusive rather than passed.

    >>> is_fault({"type": "action", "provider": {"module": "chaosk8s.pod.actions", "func": "terminate_pods"}})
    True
    >>> is_fault({"type": "action", "provider": {"module": "mcproof.chaos.actions", "func": "heal_network"}})
    False
    >>> is_fault({"type": "action", "provider": {"module": "chaosk8s.node.actions", "func": "uncordon_node"}})
    False
    """
    provider = activity.get("provider") or {}
    module, func = str(provider.get("module", "")), str(provider.get("func", ""))
    if activity.get("type") != "action":
        return False
    if module.startswith("chaosk8s"):
        return func not in _K8S_HEALS
    return module.startswith("mcproof.chaos") and func in FAULT_FUNCS


def activity_error(run: Mapping[str, Any]) -> str:
    """The one-line error of a chaoslib run record (its exception's last line, without chaoslib's wrapper)."""
    lines = [str(x).strip() for x in run.get("exception") or [] if str(x).strip()]
    text = lines[-1] if lines else f"status {run.get('status', 'missing')!r}"
    return text.removeprefix(_ACTIVITY_FAILED)


def _named(run: Mapping[str, Any], snapshot: FleetSnapshot) -> tuple[list[str], list[str]]:
    """(target ids, pod refs) a fault action's output names."""
    activity = run.get("activity") or {}
    provider = activity.get("provider") or {}
    module, func = str(provider.get("module", "")), str(provider.get("func", ""))
    args = provider.get("arguments") or {}
    output = run.get("output")
    if module.startswith("mcproof.chaos"):
        servers = output.get("servers") if isinstance(output, Mapping) else None
        return [str(s) for s in servers or []], []
    names = [str(x) for x in output] if isinstance(output, list) else []
    if func == "terminate_pods":
        refs = [f"{args.get('ns', 'default')}/{n}" for n in names]
    elif func == "drain_nodes":
        refs = sorted(p.ref for p in snapshot.pods.values() if p.node in set(names))
    else:
        return [], []
    targets = [t for r in refs if (info := snapshot.pods.get(r)) is not None and (t := info.target)]
    return sorted(set(targets)), refs


def fault_effect(journal: Mapping[str, Any], snapshot: FleetSnapshot) -> FaultEffect:
    """Read the method's run records: failures, fault actions and the targets they name."""
    interrupted = journal.get("status") == "interrupted"
    faults: list[str] = []
    failed: list[str] = []
    targets: list[str] = []
    silent: list[str] = []
    pods: list[str] = []
    for run in journal.get("run") or []:
        activity = run.get("activity") or {}
        if activity.get("type") != "action":
            continue
        name = str(activity.get("name", "?"))
        status = run.get("status")
        if status != "succeeded":
            if not (interrupted and status in (None, "interrupted")):
                failed.append(f"{name}: {activity_error(run)}")
            continue
        if not is_fault(activity):
            continue
        faults.append(name)
        ids, refs = _named(run, snapshot)
        pods += refs
        if ids:
            targets += ids
        else:
            silent.append(name)
    return FaultEffect(
        tuple(faults), tuple(failed), tuple(dict.fromkeys(targets)), tuple(silent), tuple(dict.fromkeys(pods))
    )


def _group(target: str) -> str:
    """A Deployment slot ``ns/proxy[1]`` stands for any slot of ``ns/proxy`` (replicas are interchangeable)."""
    match = _SLOT.match(target)
    return match.group("group") if match else target


def _seen(target: str, degraded: Collection[str]) -> bool:
    return target in degraded or any(_group(d) == _group(target) for d in degraded if _SLOT.match(d))


def effect_problems(
    effect: FaultEffect,
    observed: Collection[str],
    degraded: Collection[str],
    *,
    visible: bool = True,
    proof: tuple[bool, str] | None = None,
    interval_s: float = 0.5,
) -> list[str]:
    """Why the fault cannot be said to have taken effect (empty: it did). ``proof`` is for invisible faults.

    >>> e = FaultEffect(("kill",), (), ("mc-1",), ())
    >>> effect_problems(e, {"mc-1", "mc-2"}, {"mc-1"})
    []
    >>> effect_problems(e, {"mc-1", "mc-2"}, set())[0]
    'fault affected no observed target: kill named mc-1, but the observer saw it serve throughout'
    """
    problems = [f"fault action failed: {f}" for f in effect.failed]
    if problems:
        return problems
    if not effect.faults:
        return ["no fault action ran (the method has no succeeded fault action)"]
    if not effect.targets:
        return [f"fault affected no observed target: {', '.join(effect.silent)} named no Minecraft server"]
    unwatched = [t for t in effect.targets if t not in observed]
    if unwatched:
        return [f"the observer did not watch the fault's target(s) {', '.join(unwatched[:20])}"]
    if not visible:
        if proof is None:
            return ["the fault is declared invisible but mcproof cannot prove it was in place for these actions"]
        return [] if proof[0] else [f"the fault is declared invisible and was not proven in place: {proof[1]}"]
    unseen = [t for t in effect.targets if not _seen(t, degraded)]
    names = ", ".join(effect.faults)
    if len(unseen) == len(effect.targets):
        shown = ", ".join(unseen[:20])
        return [
            f"fault affected no observed target: {names} named {shown}, but the observer saw "
            f"{'it' if len(unseen) == 1 else 'them'} serve throughout"
        ]
    if unseen:
        return [
            f"fault not seen on {len(unseen)} of {len(effect.targets)} named target(s): {', '.join(unseen[:20])} "
            f"served at every {interval_s:g}s sample"
        ]
    return []


def kube_snapshot(env: Environment, targets: Sequence[Target]) -> FleetSnapshot:
    """Every pod of the cluster now (UID, node) and the observer target id of the Minecraft ones."""
    from mcproof.connect.kubernetes import kube_api

    by_pod = {f"{t.namespace}/{t.pod}": t.id for t in targets if t.pod and t.namespace}
    pods: dict[str, PodInfo] = {}
    for item in kube_api(env).objects("pods", None):
        meta = item.get("metadata") or {}
        ref = f"{meta.get('namespace', '')}/{meta.get('name', '')}"
        node = str((item.get("spec") or {}).get("nodeName") or "")
        pods[ref] = PodInfo(ref, str(meta.get("uid", "")), node, by_pod.get(ref))
    return FleetSnapshot(tuple(t.id for t in targets), pods)


def pods_replaced(env: Environment, snapshot: FleetSnapshot, refs: Iterable[str]) -> tuple[bool, str]:
    """Proof from the kube API that each pod in ``refs`` was deleted: gone, or back under a new UID."""
    from mcproof.connect.kubernetes import kube_api

    refs = list(refs)
    if not refs:
        return False, "the fault named no pod"
    now = {
        f"{(i.get('metadata') or {}).get('namespace', '')}/{(i.get('metadata') or {}).get('name', '')}": str(
            (i.get("metadata") or {}).get("uid", "")
        )
        for i in kube_api(env).objects("pods", None)
    }
    same = [r for r in refs if r in snapshot.pods and now.get(r) == snapshot.pods[r].uid]
    if same:
        return False, f"pod(s) {', '.join(same[:10])} still run with their old UID"
    return True, f"pod(s) {', '.join(refs[:10])} deleted (gone or replaced under a new UID)"
