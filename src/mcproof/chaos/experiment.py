"""Run one experiment through chaoslib's Python API, watched by the observer, into evidence.

Experiments with chaostoolkit-kubernetes activities run against the environment's cluster
(:func:`mcproof.chaos.kube.chaosk8s_cluster` points chaosk8s at ``env.kubeconfig_path``); their fleet
is the environment's Minecraft pods (:class:`mcproof.chaos.kube.KubeFleet`), which the observer
re-locates on every tick, since a replaced pod serves again at a new IP.

Order: load + describe the experiment -> guards (tier, production ack, namespaces, labels, blast
radius) -> dry-run stops here -> fault proxy for network experiments -> observer starts -> chaoslib
``run_experiment`` with rollbacks strategy ``always`` (chaoslib also plays them on Ctrl-C) -> observer
tail -> safety net (clear leftover sandbox faults, stop the proxy) in ``finally`` -> journal saved in the
run directory -> ``RecoveryEvidence`` (verdict, error budget burn) + ``SloMeasurement`` ``mttr_s``
(only when the fault took effect).

Verdict (:mod:`mcproof.chaos.measure`): pass or fail only when the fault was seen to take effect
(:mod:`mcproof.chaos.effect`: every method action succeeded, the fault actions named their targets, the
observer saw them degrade); otherwise inconclusive with the reason and the fix. Pass when, besides, the
journal did not deviate and completed, no observed target is left unrecovered when the rollbacks start,
and the fleet MTTR is within ``slo.mttr_s``. The observer always watches every target a fault may hit
(for chaosk8s steps: every pod the step may reach, or the whole fleet for a drain), a sample of the rest.

A process fault (``kill_servers`` ...) in an environment without a fault injector (no embedded sandbox)
is refused at plan time (:class:`ExperimentSkipped`, exit 2 / skipped with the reason), before chaoslib;
so is a network fault in an experiment without a ``fault_path`` (:class:`ConfigError`: fix the experiment).
"""

from __future__ import annotations

import contextlib
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcproof.chaos import guard, platform_api
from mcproof.chaos.abort_watch import AbortWatch, ObserverSync
from mcproof.chaos.effect import FleetSnapshot, kube_snapshot
from mcproof.chaos.kube import KubeFleet, chaosk8s_cluster
from mcproof.chaos.kube_blast import check_kube_step
from mcproof.chaos.library import ExperimentPlan, bind_environment, describe, find_experiment
from mcproof.chaos.measure import measure
from mcproof.chaos.netfault import FaultProxy
from mcproof.chaos.observer import Observer
from mcproof.chaos.players import PlayerPlan, player_plan, players_for
from mcproof.chaos.recovery import epoch_to_iso
from mcproof.chaos.scope import ENV_KEY, SEED_KEY, chaos_settings, parse_selector, select_victims
from mcproof.config import Environment
from mcproof.connect import capabilities_of, fault_injector
from mcproof.connect.targets import Target, discover_targets
from mcproof.errors import ConfigError, ExperimentSkipped, McproofError
from mcproof.evidence.records import RecoveryEvidence
from mcproof.evidence.store import RunStore
from mcproof.minecraft.latency import pick_evenly
from mcproof.players.population import PlayerSamples, Population
from mcproof.players.settings import PlayerSettings

__all__ = [
    "ChaosOutcome",
    "ExperimentSkipped",
    "plan_experiment",
    "run_chaos_experiment",
]

Echo = Callable[[str], None]
_PATH_FAULTS = {"add_network_latency", "add_network_loss", "partition_network"}


@dataclass(frozen=True)
class PlannedRun:
    plan: ExperimentPlan
    experiment: dict[str, Any]
    targets: list[Target]
    victims: list[Target]
    seed: int
    notes: list[str] = field(default_factory=list)  # e.g. the sized blast of chaosk8s steps
    reach: list[Target] = field(default_factory=list)  # targets chaosk8s steps may hit: always observed
    players: PlayerPlan | None = None  # the player population the experiment declares (mcproof.chaos.players)

    def describe_lines(self) -> list[str]:
        lines = [f"experiment {self.plan.name}: {self.plan.title}", f"  tiers: {', '.join(self.plan.tiers)}"]
        for step in self.plan.faults:
            scope = f"count={step.count}" if step.count is not None else f"share={step.share}"
            lines.append(f"  fault {step.name}: {step.module}.{step.func} ({scope}, namespace={step.namespace})")
        if self.plan.fault_path:
            lines.append(f"  fault path (userspace proxy) in front of: {', '.join(t.id for t in self.victims)}")
        shown = ", ".join(t.id for t in self.victims[:20]) or "(chosen by the Kubernetes activity)"
        lines.append(f"  would affect {len(self.victims)} of {len(self.targets)} servers (seed {self.seed}): {shown}")
        lines.extend(self.notes)
        players = self.players
        if players is not None:
            lines.append(
                f"  players: {players.population_per_server} per server on the {len(self.victims) + len(self.reach)} "
                f"server(s) the fault may hit and {players.unaffected} other(s); rejoin deadline "
                f"{players.rejoin_deadline_s:g}s"
            )
        lines.append(f"  rollbacks: {', '.join(self.plan.rollbacks) or 'none'}")
        return lines


def _player_plan(experiment: dict[str, Any], env: Environment | None = None) -> PlayerPlan | None:
    ext: dict[str, Any] = next((e for e in experiment.get("extensions", []) or [] if e.get("name") == "mcproof"), {})
    return player_plan(ext, env)


@dataclass
class ChaosOutcome:
    plan: ExperimentPlan
    dry_run: bool
    verdict: str = "inconclusive"  # pass | fail | inconclusive (mcproof.verdict.Verdict values)
    reasons: list[str] = field(default_factory=list)
    fix: str = ""
    journal_path: Path | None = None
    journal: dict[str, Any] | None = None
    evidence: RecoveryEvidence | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.verdict == "pass"


def _load(path: Path) -> dict[str, Any]:
    from chaoslib.exceptions import ChaosException
    from chaoslib.loader import load_experiment

    try:
        experiment: dict[str, Any] = load_experiment(str(path))
    except (ChaosException, OSError, ValueError) as err:
        raise ConfigError(f"experiment {path} cannot be loaded ({err}); run `chaos validate {path}`") from None
    return experiment


def plan_experiment(env: Environment, ref: str, *, ack_production: bool = False, seed: int | None = None) -> PlannedRun:
    """Load and check an experiment without touching anything; GuardError / ExperimentSkipped on refusal."""
    path = find_experiment(ref)
    raw = _load(path)
    plan = describe(raw, path)
    guard.check_tier(env, plan.name, plan.tiers, ack_production)
    if plan.needs_kubernetes and env.kubernetes is None:
        raise ExperimentSkipped(
            f"{plan.name}: needs the environment's kubernetes section (chaostoolkit-kubernetes activities); "
            f"'{env.name}' has none"
        )
    experiment = bind_environment(raw, env, path.stem)  # the environment's namespace and selector, then the guards
    plan = describe(experiment, path)
    skip = platform_api.skip_reason(env) if plan.needs_platform_api else None
    if skip:
        raise ExperimentSkipped(f"{plan.name}: {skip}")
    path_faults = [
        str((a.get("provider") or {}).get("func"))
        for a in experiment.get("method", [])
        if (a.get("provider") or {}).get("func") in _PATH_FAULTS
    ]
    if path_faults and not plan.fault_path:
        raise ConfigError(
            f"{plan.name}: {path_faults[0]} acts on the fault path, but the experiment declares none; add "
            '"extensions": [{"name": "mcproof", "fault_path": {"count": 1}}] to choose the servers it fronts'
        )
    injector = fault_injector(env)
    offered = capabilities_of(env, injector)
    for capability, activity in plan.required:
        if capability not in offered:
            raise ExperimentSkipped(
                f"{plan.name}: activity '{activity}' needs the fault capability {capability!r}, which environment "
                f"'{env.name}' does not offer (its fault injector: {injector.name}; offers: "
                f"{', '.join(sorted(offered))}); declare a `faults:` section or run it where the capability exists"
            )
    settings = chaos_settings(env)
    run_seed = seed if seed is not None else (settings.seed if settings.seed is not None else random.randrange(2**31))
    targets = KubeFleet(env).targets() if plan.needs_kubernetes else discover_targets(env)
    victims: dict[str, Target] = {}
    reach: dict[str, Target] = {}
    notes: list[str] = []
    for step in plan.faults:
        guard.check_namespace(env, step.namespace, plan.name)
        if step.module.startswith("chaosk8s"):
            guard.check_labels(env, parse_selector(step.label_selector), plan.name)
            if step.all_targets:
                guard.check_blast_radius(env, len(targets), len(targets), plan.name)
            blast = check_kube_step(env, plan.name, step.func, step.arguments, guard.max_blast_radius(env))
            if blast is not None:
                notes.append(f"  {step.name}: {blast.describe()}")
            refs = set(blast.pods) if blast is not None and step.func == "terminate_pods" else None
            reach.update((t.id, t) for t in targets if refs is None or f"{t.namespace}/{t.pod}" in refs)
            continue
        for t in select_victims(
            targets,
            count=step.count,
            share=step.share,
            seed=run_seed,
            namespace=step.namespace,
            label_selector=step.label_selector,
        ):
            victims[t.id] = t
    if plan.fault_path:
        scope = plan.fault_path
        for t in select_victims(targets, count=scope.get("count"), share=scope.get("share"), seed=run_seed):
            victims[t.id] = t
    chosen = sorted(victims.values(), key=lambda t: t.id)
    guard.check_blast_radius(env, len(chosen), len(targets), plan.name)
    players = _player_plan(experiment, env)  # a bad players section is refused before anything runs
    reached = sorted(reach.values(), key=lambda t: t.id)
    return PlannedRun(plan, experiment, targets, chosen, run_seed, notes, reached, players)


def _observed(planned: PlannedRun, fronts: list[Target], sample: int) -> list[Target]:
    """Every target a fault may hit (victims chosen in advance, or every pod a chaosk8s step may reach),
    through its fault-path front when it has one; an even sample of the rest."""
    front_ids = {f.id for f in fronts}
    must = {t.id: t for t in [*planned.victims, *planned.reach] if t.id not in front_ids}
    rest = [t for t in planned.targets if t.id not in must and t.id not in front_ids]
    return [*fronts, *must.values(), *(pick_evenly(rest, sample) if rest and sample else [])]


def run_chaos_experiment(
    env: Environment,
    ref: str,
    store: RunStore,
    *,
    dry_run: bool = False,
    ack_production: bool = False,
    seed: int | None = None,
    check: str = "mcproof chaos run",
    echo: Echo | None = None,
    abort_below: float | None = None,
) -> ChaosOutcome:
    """Plan, guard, run and measure one experiment; evidence goes to ``store``.

    ``abort_below``: interrupt the experiment (chaoslib still plays the rollbacks) as soon as the
    observer's estimate of the fleet's serving ratio falls below it.
    """
    say = echo or (lambda _line: None)
    planned = plan_experiment(env, ref, ack_production=ack_production, seed=seed)
    outcome = ChaosOutcome(planned.plan, dry_run, lines=planned.describe_lines())
    if dry_run:
        outcome.reasons.append("dry run: nothing was done")
        outcome.lines.append("  dry run: nothing was done")
        return outcome
    settings = chaos_settings(env)
    experiment = planned.experiment
    config = dict(experiment.get("configuration") or {})
    config[ENV_KEY] = str(env.source) if env.source else env.name
    config[SEED_KEY] = planned.seed
    experiment["configuration"] = config
    proxy: FaultProxy | None = None
    journal: dict[str, Any] = {}
    samples = []
    observer: Observer | None = None
    kube_fleet: KubeFleet | None = None
    snapshot: FleetSnapshot | None = None
    observed_ids: list[str] = []
    aborted = False
    players = planned.players
    population: Population | None = None
    player_samples: PlayerSamples | None = None
    clock = RunClock()
    try:
        fronts: list[Target] = []
        if planned.plan.fault_path:
            proxy = FaultProxy(planned.victims, settings.proxy_base_address).start()
            fronts = proxy.front_list
        if players is not None:
            population = _population(env, planned, fronts, players, settings.observer_max_duration_s).start()
            if not population.wait_all_in_play(players.in_play_timeout_s):
                out = sorted(p for p, ok in population.in_play().items() if not ok)
                say(
                    f"mcproof: {len(out)} player(s) not in play after {players.in_play_timeout_s:g}s: {', '.join(out[:10])}"
                )
        kube_fleet = KubeFleet(env, watch=True) if planned.plan.needs_kubernetes else None
        refresh = kube_fleet.targets if kube_fleet is not None else None
        observer = Observer(
            _observed(planned, fronts, settings.observer_sample),
            interval_s=settings.observer_interval_s,
            timeout_s=settings.observer_timeout_s,
            max_duration_s=settings.observer_max_duration_s,
            refresh=refresh,
            checks=platform_api.observer_checks(env, settings.observer_timeout_s)
            if planned.plan.needs_platform_api
            else None,
        )
        tick_deadline = settings.observer_interval_s + settings.observer_timeout_s + 5.0
        observer.start().wait_tick_after(time.time() - 1.0, tick_deadline)  # a baseline tick before anything happens
        say(f"mcproof: running {planned.plan.name} ({len(planned.victims)} target(s), seed {planned.seed})")
        observed_ids = [*(t.id for t in observer.targets), *observer.checks]
        snapshot = _snapshot(env, planned, observer)
        sync = ObserverSync(observer)
        with (
            chaosk8s_cluster(env),
            AbortWatch(
                observer, [t.id for t in [*planned.victims, *planned.reach]], len(planned.targets), abort_below
            ) as watch,
        ):
            journal = _run_chaoslib(experiment, sync, clock)
        aborted = bool(watch.reason)
        if watch.reason:
            outcome.reasons.append(watch.reason)
            say(f"mcproof: {planned.plan.name} aborted: {watch.reason}")
        journal["mcproof_rollbacks_cutoff"] = epoch_to_iso(sync.cutoff) if sync.cutoff else None
        for _ in range(2):  # tail: two fresh ticks see the state the rollbacks left
            observer.wait_tick_after(time.time(), tick_deadline)
        if population is not None and players is not None:  # dropped players get back in play, or give up
            population.wait_settled(players.rejoin_deadline_s + population.join_timeout_s + 1.0)
    finally:
        if observer is not None:
            samples = observer.stop()
        if population is not None:
            player_samples = population.stop()
        if kube_fleet is not None:
            kube_fleet.close()
        leftovers = _safety_net(env, planned, proxy)
        if leftovers:
            outcome.reasons.append(leftovers)
        restarted = platform_api.safety_restart(env) if planned.plan.needs_platform_api else ""
        if restarted:
            outcome.reasons.append(restarted)
    outcome.journal = journal
    outcome.journal_path = store.write_json(f"journal-{planned.plan.name}-{planned.seed}.json", journal)
    proof = _proof(env, planned, journal, snapshot) if not planned.plan.fault_visible and snapshot else None
    measure(
        env,
        planned,
        journal,
        samples,
        settings.observer_interval_s,
        outcome,
        store,
        check,
        snapshot=snapshot,
        observed=observed_ids,
        proof=proof,
        aborted=aborted,
        players=(players, player_samples) if players is not None and player_samples is not None else None,
        player_clock=(clock.injected_mono, clock.cutoff_mono),
    )
    if proof is not None:
        outcome.lines.append(f"  fault proof (declared invisible): {proof[1]}")
    if planned.plan.needs_platform_api and outcome.evidence is not None:
        outcome.lines.extend(platform_api.summary_lines(outcome.evidence.per_server))
    return outcome


def _population(
    env: Environment, planned: PlannedRun, fronts: list[Target], plan: PlayerPlan, max_s: float
) -> Population:
    """Players on every server the fault may hit (through its fault-path front when it has one) and on
    ``plan.unaffected`` others."""
    front_ids = {f.id for f in fronts}
    must = {t.id: t for t in [*planned.victims, *planned.reach] if t.id not in front_ids}
    rest = [t for t in planned.targets if t.id not in must and t.id not in front_ids]
    chosen = players_for([*fronts, *must.values()], rest, plan)
    protocols = {t.id: p for t in chosen if (p := env.minecraft.expect_for(t.id).protocol) is not None}
    return Population(
        chosen,
        protocols=protocols,
        population_per_server=plan.population_per_server,
        phase_timeout_s=plan.phase_timeout_s,
        keepalive_timeout_s=(env.players or PlayerSettings()).keepalive_timeout_s,
        retry_interval_s=plan.retry_interval_s,
        rejoin_deadline_s=plan.rejoin_deadline_s,
        in_play_timeout_s=plan.in_play_timeout_s,
        max_duration_s=max_s,
    )


def _snapshot(env: Environment, planned: PlannedRun, observer: Observer) -> FleetSnapshot:
    """The fleet just before the method: observer ids, and every pod (UID, node) on a cluster."""
    if planned.plan.needs_kubernetes:
        return kube_snapshot(env, KubeFleet(env).targets())
    return FleetSnapshot(tuple(t.id for t in observer.targets))


def _proof(
    env: Environment, planned: PlannedRun, journal: dict[str, Any], snapshot: FleetSnapshot
) -> tuple[bool, str] | None:
    """For a fault declared invisible: proof from the kube API that the pods it named were deleted."""
    from mcproof.chaos.effect import fault_effect, pods_replaced

    effect = fault_effect(journal, snapshot)
    if not planned.plan.needs_kubernetes or not effect.pods:
        return None
    try:
        return pods_replaced(env, snapshot, effect.pods)
    except McproofError as err:
        return False, f"the kube API could not be read to prove it ({err})"


@dataclass
class RunClock:
    """The injection (the method's first action starting) and the rollbacks' start, on the monotonic clock,
    taken as they happen: the population's clock, immune to wall-clock steps during the run."""

    in_method: bool = False
    injected_mono: float | None = None
    cutoff_mono: float | None = None


def _handler(sync: ObserverSync, clock: RunClock | None = None) -> Any:
    from chaoslib.run import RunEventHandler

    run_clock = clock if clock is not None else RunClock()

    class Handler(RunEventHandler):  # type: ignore[misc]
        def start_method(self, experiment: Any) -> None:
            run_clock.in_method = True

        def start_activity(self, activity: Any) -> None:
            is_action = isinstance(activity, dict) and activity.get("type") == "action"
            if run_clock.in_method and run_clock.injected_mono is None and is_action:
                run_clock.injected_mono = time.monotonic()

        def start_rollbacks(self, experiment: Any) -> None:
            run_clock.in_method = False
            sync.start_rollbacks(experiment)
            run_clock.cutoff_mono = time.monotonic()

    return Handler()


def _run_chaoslib(experiment: dict[str, Any], sync: ObserverSync, clock: RunClock | None = None) -> dict[str, Any]:
    from chaoslib.experiment import run_experiment
    from chaoslib.types import Strategy

    settings = {"runtime": {"rollbacks": {"strategy": "always"}}}
    journal: dict[str, Any] = run_experiment(
        experiment, settings=settings, strategy=Strategy.DEFAULT, event_handlers=[_handler(sync, clock)]
    )
    return journal


def _safety_net(env: Environment, planned: PlannedRun, proxy: FaultProxy | None) -> str:
    """After chaoslib (even if it blew up): stop the proxy; undo process faults still on our victims."""
    if proxy is not None:
        proxy.stop()
    if not planned.victims:
        return ""
    ids = [t.id for t in planned.victims]
    with contextlib.suppress(McproofError):
        injector = fault_injector(env)
        left = [i for i in injector.faulted() if i in set(ids)]
        if left:
            injector.clear(left)
            return f"safety net cleared faults the rollbacks left on {', '.join(left[:10])}"
    return ""


def journal_json(outcome: ChaosOutcome) -> str:
    return json.dumps(outcome.journal or {}, indent=2, default=str)
