"""Blast radius of chaostoolkit-kubernetes steps, sized from the live cluster before anything is done.

chaosk8s chooses its victims itself (``rand``, a random node among the candidates), so the guard sizes
the *worst case* of a step from the pods and nodes the cluster has now:

- ``terminate_pods``: the pods in ``ns`` matching ``label_selector`` (and ``name_pattern``); ``qty`` of
  them (``mode: percentage`` rounds up like chaosk8s, ``all`` takes every one). Without ``rand`` the
  victims are the first ``qty`` in the listed (alphabetic) order; with it, any ``qty`` of them.
- ``drain_nodes``: the candidate nodes (``name`` / ``label_selector``; with ``pod_label_selector`` and
  ``pod_namespace`` only nodes running such a pod, as chaosk8s filters them); a drain of ``count`` nodes
  affects every pod on the ``count`` fullest candidates, *whatever their namespace*.

The share is taken over the environment's Minecraft pods (``kubernetes.label_selector`` in
``kubernetes.namespaces``). Parsing is apart from I/O: :func:`size_step` works on the API's JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mcproof.chaos.scope import parse_selector
from mcproof.config import Environment
from mcproof.errors import ConfigError, GuardError

__all__ = ["PodRef", "StepBlast", "check_kube_step", "size_step"]

SIZED = {"terminate_pods", "drain_nodes"}


@dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str
    node: str
    labels: Mapping[str, str]

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"

    @classmethod
    def from_api(cls, item: Mapping[str, Any]) -> PodRef:
        meta = item.get("metadata") or {}
        return cls(
            str(meta.get("namespace", "")),
            str(meta.get("name", "")),
            str((item.get("spec") or {}).get("nodeName") or ""),
            dict(meta.get("labels") or {}),
        )


@dataclass(frozen=True)
class StepBlast:
    """What one step may affect: ``affected`` Minecraft pods of ``minecraft_total``; every pod it may touch."""

    func: str
    affected: int
    minecraft_total: int
    pods: tuple[str, ...]
    namespaces: tuple[str, ...]
    nodes: tuple[str, ...] = ()

    def describe(self) -> str:
        where = f" on node(s) {', '.join(self.nodes)}" if self.nodes else ""
        shown = ", ".join(self.pods[:10]) + (" ..." if len(self.pods) > 10 else "")
        return (
            f"{self.func} may affect {self.affected} of {self.minecraft_total} Minecraft pods{where} "
            f"(pods: {shown or 'none'})"
        )


def _matches(labels: Mapping[str, str], selector: str | None) -> bool:
    return all(labels.get(k) == v for k, v in parse_selector(selector).items())


def _is_minecraft(env: Environment, pod: PodRef) -> bool:
    settings = env.kubernetes
    assert settings is not None
    in_scope = not settings.namespaces or pod.namespace in settings.namespaces
    return in_scope and _matches(pod.labels, settings.label_selector)


def _victim_count(candidates: int, args: Mapping[str, Any]) -> int:
    """chaosk8s ``_select_pods`` arithmetic: ``all``, ``fixed`` qty, or ``percentage`` rounded up."""
    if args.get("all"):
        return candidates
    qty = int(args.get("qty", 1))
    if qty < 0:
        raise ConfigError(f"terminate_pods qty must be >= 0, got {qty}; fix the experiment")
    if args.get("mode", "fixed") == "percentage":
        qty = math.ceil(qty * candidates / 100)
    return min(qty, candidates)


def _terminate(env: Environment, pods: Sequence[PodRef], args: Mapping[str, Any]) -> StepBlast:
    ns = str(args.get("ns", "default"))
    pattern = re.compile(str(args["name_pattern"])) if args.get("name_pattern") else None
    candidates = [
        p
        for p in pods
        if p.namespace == ns
        and _matches(p.labels, args.get("label_selector"))
        and (pattern is None or pattern.search(p.name))
    ]
    n = _victim_count(len(candidates), args)
    reach = (
        candidates
        if args.get("rand") or args.get("order") == "oldest"
        else sorted(candidates, key=lambda p: p.name)[:n]
    )
    minecraft_reach = sum(1 for p in reach if _is_minecraft(env, p))
    total = sum(1 for p in pods if _is_minecraft(env, p))
    return StepBlast("terminate_pods", min(n, minecraft_reach), total, tuple(p.ref for p in reach), (ns,) if n else ())


def _drain(
    env: Environment, pods: Sequence[PodRef], nodes: Sequence[Mapping[str, Any]], args: Mapping[str, Any]
) -> StepBlast:
    name = args.get("name")
    names = [str((n.get("metadata") or {}).get("name", "")) for n in nodes]
    labels = {
        str((n.get("metadata") or {}).get("name", "")): dict((n.get("metadata") or {}).get("labels") or {})
        for n in nodes
    }
    candidates = [n for n in names if (not name or n == name) and _matches(labels[n], args.get("label_selector"))]
    pod_ns, pod_sel = args.get("pod_namespace"), args.get("pod_label_selector")
    if pod_ns and pod_sel:
        hosting = {p.node for p in pods if p.namespace == pod_ns and _matches(p.labels, pod_sel)}
        candidates = [n for n in candidates if n in hosting]
    count = int(args["count"]) if args.get("count") else len(candidates)
    on = {n: [p for p in pods if p.node == n] for n in candidates}
    worst = sorted(candidates, key=lambda n: (-sum(1 for p in on[n] if _is_minecraft(env, p)), -len(on[n]), n))
    chosen = sorted(worst[:count])
    hit = [p for n in chosen for p in on[n]]
    total = sum(1 for p in pods if _is_minecraft(env, p))
    return StepBlast(
        "drain_nodes",
        sum(1 for p in hit if _is_minecraft(env, p)),
        total,
        tuple(sorted(p.ref for p in hit)),
        tuple(sorted({p.namespace for p in hit})),
        tuple(chosen),
    )


def size_step(
    env: Environment,
    func: str,
    args: Mapping[str, Any],
    pods: Sequence[Mapping[str, Any]],
    nodes: Sequence[Mapping[str, Any]] = (),
) -> StepBlast:
    """Worst-case blast of a ``terminate_pods`` / ``drain_nodes`` step from the cluster's pods and nodes (JSON)."""
    refs = [PodRef.from_api(p) for p in pods]
    if func == "terminate_pods":
        return _terminate(env, refs, args)
    if func == "drain_nodes":
        return _drain(env, refs, nodes, args)
    raise ConfigError(f"cannot size chaosk8s {func}; sized functions: {', '.join(sorted(SIZED))}")


def verdict(env: Environment, blast: StepBlast, limit: float, experiment: str) -> None:
    """GuardError (one line) when the step touches a namespace outside the allow-list or exceeds ``limit``."""
    allowed = env.guards.allowed_namespaces
    outside = sorted(ns for ns in blast.namespaces if ns not in allowed)
    if outside:
        pods = [p for p in blast.pods if p.split("/", 1)[0] in outside]
        raise GuardError(
            f"{experiment}: refused, {blast.func} would touch namespace(s) {', '.join(outside)} outside "
            f"guards.allowed_namespaces ({', '.join(allowed) or 'none'}): pods {', '.join(pods[:10])}; "
            "target other nodes/pods or extend the allow-list"
        )
    if blast.minecraft_total <= 0:
        raise GuardError(f"{experiment}: refused, the cluster has no Minecraft pods to measure a blast radius against")
    share = blast.affected / blast.minecraft_total
    if share > limit + 1e-9:
        raise GuardError(
            f"{experiment}: refused, {blast.describe()} ({share:.0%}) but the blast radius limit is {limit:.0%}; "
            "lower qty/count, add replicas or nodes, or raise chaos.max_blast_radius"
        )


def check_kube_step(
    env: Environment, experiment: str, func: str, args: Mapping[str, Any], limit: float
) -> StepBlast | None:
    """Read the live cluster and refuse the step if it is over the limit; None for functions not sized."""
    if func not in SIZED:
        return None
    from mcproof.connect.kubernetes import kube_api

    api = kube_api(env)
    pods = api.objects("pods", None)
    nodes = api.objects("nodes") if func == "drain_nodes" else []
    blast = size_step(env, func, args, pods, nodes)
    verdict(env, blast, limit, experiment)
    return blast
