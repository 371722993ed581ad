"""The experiment library (``suites/chaos/experiments/``) and what an experiment will touch.

:func:`describe` reads an experiment (already loaded by chaoslib) without running it: its tiers
(tags ``tier:<name>``), whether it needs Kubernetes (a ``chaosk8s`` activity) or the fault proxy
(an ``mcproof`` extension with ``fault_path``), and every fault step with its scope, so the guard can
check the blast radius and namespaces before anything is done.

Example extension (``fault_visible: false`` declares a fault the observer is not expected to see, e.g.
one replica of several killed behind a Service; the runner then proves it in place from the kube API)::

    "extensions": [{"name": "mcproof", "fault_path": {"count": 1}}]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcproof.paths import project_root

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = ["ExperimentPlan", "FaultStep", "describe", "experiment_files", "find_experiment"]

_SCOPED = {"kill_servers", "stop_servers", "hang_servers", "slow_servers", "refuse_servers", "lag_servers"}
# mcproof.chaos.actions -> the fault capability it needs (mcproof.connect.faults)
ACTION_CAPABILITIES = {
    "kill_servers": "process.kill",
    "stop_servers": "process.stop",
    "lag_servers": "process.lag",
    "hang_servers": "process.hang",
    "slow_servers": "process.slow",
    "refuse_servers": "process.refuse",
    "stop_platform_api": "platform_api.outage",
    "start_platform_api": "platform_api.outage",
    "add_network_latency": "path.latency",
    "add_network_loss": "path.loss",
    "partition_network": "path.partition",
}
_PLATFORM_API = {"stop_platform_api", "start_platform_api", "platform_api_ready", "wait_until_platform_api_ready"}


@dataclass(frozen=True)
class FaultStep:
    """One fault activity: where it acts and how many targets it may hit."""

    name: str
    module: str
    func: str
    count: int | None = None
    share: float | None = None
    namespace: str | None = None
    label_selector: str | None = None
    all_targets: bool = False
    arguments: dict[str, Any] = field(default_factory=dict)  # chaosk8s steps: sized by mcproof.chaos.kube_blast

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ExperimentPlan:
    name: str
    title: str
    path: str
    tiers: tuple[str, ...]
    tags: tuple[str, ...]
    needs_kubernetes: bool
    fault_path: dict[str, Any] | None
    faults: tuple[FaultStep, ...] = field(default_factory=tuple)
    rollbacks: tuple[str, ...] = field(default_factory=tuple)
    needs_platform_api: bool = False  # an activity acts on or probes the platform API
    fault_visible: bool = True  # False: the fault is meant to be invisible (proven in place another way)
    required: tuple[tuple[str, str], ...] = ()  # (capability, activity) the method and rollbacks need

    @property
    def process_faults(self) -> tuple[FaultStep, ...]:
        """The steps that fault server processes through the environment's fault injector (the sandbox)."""
        return tuple(f for f in self.faults if f.module == "mcproof.chaos.actions" and f.func in _SCOPED)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "faults": [f.as_dict() for f in self.faults]}


def experiments_dir() -> Path:
    return project_root() / "suites" / "chaos" / "experiments"


def experiment_files(directory: Path | None = None) -> list[Path]:
    base = directory or experiments_dir()
    return sorted(p for p in base.iterdir() if p.suffix in {".json", ".yaml", ".yml"}) if base.is_dir() else []


def find_experiment(ref: str, directory: Path | None = None) -> Path:
    """A path, or a name in the library (``kill-one-server``)."""
    from mcproof.errors import ConfigError

    path = Path(ref)
    if path.is_file():
        return path
    for candidate in experiment_files(directory):
        if candidate.stem == ref:
            return candidate
    known = ", ".join(p.stem for p in experiment_files(directory)) or "none"
    raise ConfigError(f"unknown experiment {ref!r}; library: {known}; or pass a path to a JSON/YAML experiment")


def _provider(activity: Mapping[str, Any]) -> tuple[str, str, dict[str, Any]]:
    provider = activity.get("provider") or {}
    return str(provider.get("module", "")), str(provider.get("func", "")), dict(provider.get("arguments") or {})


def _step(activity: Mapping[str, Any]) -> FaultStep | None:
    module, func, args = _provider(activity)
    name = str(activity.get("name", func))
    if module == "mcproof.chaos.actions" and func in _SCOPED:
        return FaultStep(
            name, module, func, args.get("count"), args.get("share"), args.get("namespace"), args.get("label_selector")
        )
    if module.startswith("chaosk8s") and activity.get("type") == "action":
        qty, mode = args.get("qty", args.get("count", 1)), args.get("mode", "fixed")
        count, share = (None, float(qty) / 100) if mode == "percentage" else (int(qty), None)
        return FaultStep(
            name,
            module,
            func,
            count,
            share,
            args.get("ns", args.get("pod_namespace", "default")),
            args.get("label_selector"),
            bool(args.get("all", False)) or func == "deny_all_ingress",
            args,
        )
    return None


def describe(experiment: Mapping[str, Any], path: Path) -> ExperimentPlan:
    """What ``experiment`` will do, read from its tags, method, rollbacks and extensions."""
    tags = tuple(str(t) for t in experiment.get("tags", []))
    method: Sequence[Mapping[str, Any]] = experiment.get("method", [])
    rollbacks: Sequence[Mapping[str, Any]] = experiment.get("rollbacks", [])
    every = [*method, *rollbacks, *(experiment.get("steady-state-hypothesis") or {}).get("probes", [])]
    needs_k8s = any(_provider(a)[0].startswith("chaosk8s") for a in every)
    ext: dict[str, Any] = next((e for e in experiment.get("extensions", []) if e.get("name") == "mcproof"), {})
    faults = tuple(s for s in (_step(a) for a in method) if s is not None)
    return ExperimentPlan(
        name=path.stem,
        title=str(experiment.get("title", path.stem)),
        path=str(path),
        tiers=tuple(t.split(":", 1)[1] for t in tags if t.startswith("tier:")),
        tags=tags,
        needs_kubernetes=needs_k8s,
        fault_path=dict(ext["fault_path"]) if ext.get("fault_path") else None,
        faults=faults,
        rollbacks=tuple(str(a.get("name", _provider(a)[1])) for a in rollbacks),
        needs_platform_api=any(_uses_platform_api(a) for a in every),
        fault_visible=bool(ext.get("fault_visible", True)),
        required=_required(every),
    )


def _required(activities: Sequence[Mapping[str, Any]]) -> tuple[tuple[str, str], ...]:
    """(capability, activity name) for every mcproof action in ``activities``, first use of each."""
    seen: dict[str, str] = {}
    for a in activities:
        module, func, args = _provider(a)
        cap = ACTION_CAPABILITIES.get(func) if module == "mcproof.chaos.actions" else None
        if cap is None:
            continue
        seen.setdefault(cap, str(a.get("name", func)))
        if func == "kill_servers" and args.get("restart", True):
            seen.setdefault("process.restart", str(a.get("name", func)))
    return tuple(seen.items())


def _uses_platform_api(activity: Mapping[str, Any]) -> bool:
    module, func, _ = _provider(activity)
    return module.startswith("mcproof.chaos") and func in _PLATFORM_API


# --- the environment's namespaces and selectors, bound into an experiment before it is planned -------

PLACEHOLDERS = ("${mcproof_namespace}", "${mcproof_label_selector}")


def environment_bindings(env: Environment) -> dict[str, str]:
    """What the placeholders mean in ``env``: its chaos namespace (``chaos.namespace``, else the first of
    ``kubernetes.namespaces``, else of ``guards.allowed_namespaces``) and its Minecraft label selector."""
    from mcproof.chaos.scope import chaos_settings

    namespace = chaos_settings(env).namespace
    if namespace is None and env.kubernetes is not None and env.kubernetes.namespaces:
        namespace = env.kubernetes.namespaces[0]
    if namespace is None and env.guards.allowed_namespaces:
        namespace = env.guards.allowed_namespaces[0]
    bound = {"${mcproof_label_selector}": env.kubernetes.label_selector if env.kubernetes else ""}
    if namespace:
        bound["${mcproof_namespace}"] = namespace
    return bound


def bind_environment(experiment: dict[str, Any], env: Environment, name: str) -> dict[str, Any]:
    """``experiment`` with every ``${mcproof_*}`` placeholder in its activities' arguments replaced by the
    environment's value, so the guards check (and chaoslib runs) the real namespace and selector.
    ConfigError when the experiment needs a value the environment does not give."""
    from mcproof.errors import ConfigError

    bound = environment_bindings(env)

    def value(v: Any) -> Any:
        if isinstance(v, str) and v in PLACEHOLDERS:
            if not bound.get(v):
                key = "chaos.namespace (or kubernetes.namespaces)" if "namespace" in v else "kubernetes.label_selector"
                raise ConfigError(f"{name}: uses {v} but environment '{env.name}' sets no {key}; set it")
            return bound[v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x) for x in v]
        return v

    out = dict(experiment)
    for section in ("method", "rollbacks"):
        out[section] = [value(a) for a in experiment.get(section, [])]
    if "steady-state-hypothesis" in experiment:
        out["steady-state-hypothesis"] = value(experiment["steady-state-hypothesis"])
    return out
