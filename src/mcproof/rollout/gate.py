"""The release gate: apply an update to a Deployment, observe every endpoint through the rollout, judge
the new pods, and (asked to) roll a failed release back the way ``kubectl rollout undo`` does.

Method: before the update one baseline tick records what the old pods answer; the update is applied
(a strategic-merge patch of the Deployment); then every ``interval_s`` a tick derives the Service's
endpoints from the Ready pods (:mod:`mcproof.kubeapi.endpoints`, never a ClusterIP) and pings every one
(mcstatus, each ping with its own deadline: a ping past it is a failed sample). A failed sample whose pod
is still routed (Ready, not terminating) in the next listing is a request a Service sent to a backend
that did not answer: a *routed failure* when the pod had answered before (it stopped serving while
Ready: zero allowed on a Deployment), a *start-up failure* before its first answer (Ready before the
server listens: the pod's readiness gap, judged against ``rollout.readiness_gap_s``, 0 by default). The new pods (a pod-template hash the Deployment did not have
before) are judged on: version/protocol against the expectation, answering, Ready within
``ready_deadline_s`` of creation, container restarts (a crash loop), their error ratio. The gate ends at
the first definitive failure (a new pod answering the wrong version), or when the rollout completed
and ``settle_s`` passed, or at ``rollout_deadline_s``.

Verdicts: ``pass``; ``fail`` (reason names the pod and what it did, or more replicas unavailable at once
than the strategy allows); ``inconclusive`` when the baseline was not healthy (an old endpoint did not answer,
or none was Ready: then nothing is applied), no sample was taken, the update did not change the pod template
(nothing rolled), or the API failed mid-rollout. On ``fail`` (or an API failure after the update) with
rollback, the
Deployment's template is set back to the one the gate read before its update and the gate
measures time-to-rollback (decision -> undo applied) and time-to-healthy (undo applied -> every replica
available and answering the old version).

The pure parts (:func:`parse_workload`, :func:`resolve_max_unavailable`, :func:`baseline_problem`,
:func:`judge`) are unit-tested; :func:`run_gate` talks to the cluster.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.chaos.deploy import _service_for
from mcproof.connect.kubernetes import endpoint_target
from mcproof.errors import ConfigError, KubeError
from mcproof.evidence.records import RolloutGateEvidence, SloMeasurement
from mcproof.kubeapi import KubeApi
from mcproof.kubeapi.endpoints import pod_is_ready, service_endpoints
from mcproof.minecraft.sweep import sweep_fleet
from mcproof.rollout.settings import RolloutSettings
from mcproof.rollout.workload import (
    KINDS,
    WorkloadKind,
    complete,
    kind_named,
    max_unavailable,
    patch,
    pod_key,
    pod_revision,
    read,
    strategy,
)

__all__ = [
    "Update",
    "baseline_problem",
    "deployment_template",
    "judge",
    "load_update",
    "parse_workload",
    "resolve_max_unavailable",
    "restore_template",
    "run_gate",
    "summary",
]

REVISION_ANNOTATION = "deployment.kubernetes.io/revision"


def parse_workload(ref: str) -> tuple[str, str, str]:
    """``NS/KIND/NAME`` -> (namespace, Kind, name); ConfigError (one line, with the fix) otherwise.

    >>> parse_workload("minecraft/deployment/proxy")
    ('minecraft', 'Deployment', 'proxy')
    """
    parts = ref.split("/")
    if len(parts) != 3 or not all(parts):
        raise ConfigError(f"--workload {ref!r} is not NS/KIND/NAME; use e.g. minecraft/deployment/proxy")
    ns, kind, name = parts
    found = kind_named(kind)
    if found is None:
        raise ConfigError(f"--workload {ref!r}: unknown kind {kind!r}; use NS/deployment/NAME or NS/statefulset/NAME")
    return ns, found.kind, name


@dataclass(frozen=True)
class Update:
    """What the gate applies: a strategic-merge patch of the Deployment, and how it was given."""

    patch: dict[str, Any]
    described: str


def load_update(value: str, container_names: Sequence[str], kind: str = "Deployment") -> Update:
    """``--to``: a YAML/JSON file (a full Deployment manifest: its spec is applied; or a patch), or an image
    (set on the first container). A path-like value that is not a file is an error, not an image.

    >>> load_update("registry.example/mc:1.21.5", ["mc"]).patch
    {'spec': {'template': {'spec': {'containers': [{'name': 'mc', 'image': 'registry.example/mc:1.21.5'}]}}}}
    """
    path = Path(value)
    if path.suffix.lower() in (".yaml", ".yml", ".json") or path.exists():
        if not path.is_file():
            raise ConfigError(f"--to {value}: no such file; give a manifest or patch file, or an image reference")
        import yaml

        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"--to {value}: cannot read it as YAML/JSON ({str(err).splitlines()[0]})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("spec"), dict):
            raise ConfigError(f"--to {value}: expected a {kind} manifest or a patch with a 'spec' mapping")
        if doc.get("kind") not in (None, kind):
            raise ConfigError(f"--to {value}: a {doc.get('kind')} manifest; give the {kind}'s manifest or a patch")
        patch: dict[str, Any] = {"spec": doc["spec"]}
        return Update(patch, f"{'manifest' if 'kind' in doc else 'patch'} {path.name}")
    if not value or any(c.isspace() for c in value) or not container_names:
        raise ConfigError(f"--to {value!r}: not an image reference, and no such file")
    return Update(
        {"spec": {"template": {"spec": {"containers": [{"name": container_names[0], "image": value}]}}}},
        f"image {value}",
    )


def resolve_max_unavailable(strategy: Mapping[str, Any] | None, replicas: int) -> int:
    """A Deployment strategy's maxUnavailable in pods (see :func:`mcproof.rollout.workload.max_unavailable`).

    >>> resolve_max_unavailable({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}}, 10)
    2
    >>> resolve_max_unavailable({"type": "Recreate"}, 3)
    3
    """
    return max_unavailable(KINDS["Deployment"], {"spec": {"replicas": replicas, "strategy": strategy or {}}})


def _revision(obj: Mapping[str, Any]) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION_ANNOTATION, 0))
    except ValueError:
        return 0


def summary(evidence: RolloutGateEvidence) -> str:
    """One line: the verdict, the failed requests and the rollback timeline."""
    line = (
        f"{evidence.workload} -> {evidence.update}: {evidence.verdict}: {evidence.reason}; {evidence.samples} samples, "
        f"{evidence.failed_requests} failed ({evidence.routed_failures} on serving routed endpoints, "
        f"{evidence.startup_failures} on routed pods still starting), max unavailable "
        f"{evidence.max_unavailable_observed}/{evidence.max_unavailable_allowed} allowed"
    )
    rb = evidence.rollback
    if rb.get("performed"):
        healthy = rb.get("time_to_healthy_s")
        line += f"; rolled back to revision {rb['to_revision']} in {rb['time_to_rollback_s']:.3f}s, " + (
            f"healthy after {healthy:.2f}s" if healthy is not None else f"NOT healthy: {rb.get('problem')}"
        )
    elif rb.get("problem"):
        line += f"; rollback: {rb['problem']}"
    return line


def _restarts(pod: Mapping[str, Any]) -> int:
    return sum(int(c.get("restartCount", 0) or 0) for c in (pod.get("status") or {}).get("containerStatuses") or [])


def other_release(seen: str, expected: tuple[str | None, int | None]) -> bool:
    """``seen`` (``name/protocol``, as a pod answered) is not the expected release (``None``: any).

    >>> other_release("1.21.5/770", ("1.21.5", 770)), other_release("1.21.5/760", ("1.21.5", 770))
    (False, True)
    >>> other_release("1.20.1/763", (None, None))
    False
    """
    want_name, want_proto = expected
    name, _, proto = seen.rpartition("/")
    return (want_name is not None and name != want_name) or (want_proto is not None and proto != str(want_proto))


def _stamp(value: Any) -> float | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _created(pod: Mapping[str, Any]) -> float | None:
    return _stamp((pod.get("metadata") or {}).get("creationTimestamp"))


def _ready_since(pod: Mapping[str, Any]) -> float | None:
    """When the API server recorded the pod Ready (its condition's lastTransitionTime): the same clock as
    its creationTimestamp, so no skew with the gate's host enters the readiness figure."""
    for cond in (pod.get("status") or {}).get("conditions") or []:
        if cond.get("type") == "Ready" and cond.get("status") == "True":
            return _stamp(cond.get("lastTransitionTime"))
    return None


def judge(
    *,
    samples: int,
    template_changed: bool,
    completed: bool,
    new_pods: Sequence[Mapping[str, Any]],
    routed_failures: int,
    expected: tuple[str | None, int | None],
    settings: RolloutSettings,
    baseline: str | None = None,
    error: str | None = None,
    unavailable: tuple[int, int] = (0, 0),
    server_downtime: Sequence[Mapping[str, Any]] = (),
) -> tuple[str, str]:
    """(verdict, reason) from what the gate observed (``unavailable``: the most replicas seen not serving,
    and the strategy's maxUnavailable).

    >>> s = RolloutSettings()
    >>> pod = {"pod": "p-1", "samples": 3, "failed": 0, "versions": ["1.21.5/770"], "ready_after_s": 2.0, "restarts": 0}
    >>> judge(samples=9, template_changed=True, completed=True, new_pods=[pod], routed_failures=0,
    ...       expected=("1.21.5", 770), settings=s)
    ('pass', 'every new pod answered 1.21.5/770, Ready in time, no restart, no failed request')
    >>> judge(samples=9, template_changed=True, completed=True, new_pods=[{**pod, "versions": ["1.21.5/760"]}],
    ...       routed_failures=0, expected=("1.21.5", 770), settings=s)[1]
    'new pod p-1 answers 1.21.5/760, expected 1.21.5/770'
    """
    if baseline is not None:
        return "inconclusive", f"nothing was applied: {baseline}"
    if error is not None:
        return "inconclusive", f"{error}; rerun the gate once the API server answers"
    if not template_changed:
        return (
            "inconclusive",
            "the update did not change the pod template, so nothing rolled; give a release that differs",
        )
    if samples == 0:
        return "inconclusive", "no sample was taken (no Ready endpoint was ever seen); check the Service and its pods"
    want_name, want_proto = expected
    for pod in new_pods:
        for seen in pod["versions"]:
            if other_release(seen, expected):
                return "fail", f"new pod {pod['pod']} answers {seen}, expected {want_name or '*'}/{want_proto or '*'}"
    for pod in new_pods:
        if int(pod["restarts"]) > settings.max_restarts:
            return "fail", (
                f"new pod {pod['pod']} restarted {pod['restarts']} times (max {settings.max_restarts}): a crash loop"
            )
    for pod in new_pods:
        ready = pod.get("ready_after_s")
        if ready is None or ready > settings.ready_deadline_s:
            shown = "never" if ready is None else f"after {ready:.1f}s"
            return "fail", f"new pod {pod['pod']} was Ready {shown} (deadline {settings.ready_deadline_s:g}s)"
    for pod in new_pods:
        gap = pod.get("readiness_gap_s")
        if pod.get("failed_before_answer") and (gap is None or gap > settings.readiness_gap_s):
            shown = f"{gap:.2f}s" if gap is not None else "for every ping"
            return "fail", (
                f"new pod {pod['pod']} was Ready (routed) {shown} before it answered ({pod['failed_before_answer']} failed "
                f"ping(s); SLO rollout.readiness_gap_s {settings.readiness_gap_s:g}s): its readiness probe does not "
                "cover the server's start-up"
            )
    if routed_failures:
        return "fail", (
            f"{routed_failures} request(s) to serving, routed endpoints failed (a Deployment must show zero): "
            "a pod stopped answering while still Ready"
        )
    for server in server_downtime:  # a StatefulSet's servers: each one's measured downtime against the SLO
        down = server.get("downtime_s")
        if down is None:
            return "fail", f"server {server['server']} did not answer on its new release (no downtime could be closed)"
        if down > settings.max_server_downtime_s:
            return "fail", (
                f"server {server['server']} was down {down:.1f}s through its replacement "
                f"(SLO rollout.max_server_downtime_s {settings.max_server_downtime_s:g}s)"
            )
    seen, allowed = unavailable
    if seen > allowed:
        return "fail", f"{seen} replica(s) were not serving at once during the rollout; its strategy allows {allowed}"
    if not completed:
        return "fail", f"the rollout did not complete within {settings.rollout_deadline_s:g}s"
    if not new_pods:
        return "inconclusive", "no new pod was observed; raise rollout.rollout_deadline_s"
    for pod in new_pods:
        if not pod["samples"] or pod["failed"] == pod["samples"]:
            return "fail", f"new pod {pod['pod']} never answered ({pod['samples']} pings)"
    # the error ratio once serving: a pod's pings from its first answer on (start-up failures are judged
    # by the readiness-gap SLO above, not twice)
    new_samples = sum(int(p.get("serving_samples", p["samples"])) for p in new_pods)
    ratio = sum(int(p.get("serving_failed", p["failed"])) for p in new_pods) / max(1, new_samples)
    if ratio > settings.max_error_ratio:
        return "fail", f"the new pods' error ratio once serving {ratio:.3f} exceeds {settings.max_error_ratio:g}"
    shown = f"{want_name or '*'}/{want_proto or '*'}" if want_name or want_proto else "a version (none expected)"
    startup = sum(int(p.get("failed_before_answer") or 0) for p in new_pods)
    failed = (
        f"{startup} failed ping(s) on pods still starting, within rollout.readiness_gap_s "
        f"{settings.readiness_gap_s:g}s, none once serving"
        if startup
        else "no failed request"
    )
    return "pass", f"every new pod answered {shown}, Ready in time, no restart, {failed}"


class _Observer:
    """Ticks: list the pods, ping every Ready endpoint, keep per-endpoint samples."""

    def __init__(
        self,
        api: KubeApi,
        namespace: str,
        service: Mapping[str, Any],
        settings: RolloutSettings,
        kind: WorkloadKind = KINDS["Deployment"],
    ) -> None:
        self.api, self.namespace, self.service, self.settings, self.kind = api, namespace, service, settings, kind
        selector = (service.get("spec") or {}).get("selector") or {}
        self.label_selector = ",".join(f"{k}={v}" for k, v in selector.items())
        self.ticks: list[dict[str, Any]] = []
        self.per_pod: dict[str, dict[str, Any]] = {}  # pod key (pod_key) -> its samples
        self.pods_seen: dict[str, dict[str, Any]] = {}  # pod key -> its last listing
        self.ready_at: dict[str, float] = {}  # pod -> wall time first seen Ready
        self._pending: list[tuple[str, dict[str, Any]]] = []  # failed samples awaiting the next listing
        self.baseline: set[str] = set()  # pods listed before the update: their failures are never start-up

    def pods(self) -> list[dict[str, Any]]:
        return self.api.objects("pods", self.namespace, label_selector=self.label_selector)

    def key(self, pod: Mapping[str, Any]) -> str:
        return pod_key(self.kind, pod)

    def tick(self, t_s: float, phase: str) -> list[dict[str, Any]]:
        pods = self.pods()
        routed = {self.key(p) for p in pods if pod_is_ready(p)}
        for pod_name, sample in self._pending:  # a failure is routed when the pod is still routed after it
            if pod_name in routed:
                sample["routed"] = True
        self._pending = []
        now = time.time()
        by_name = {}
        for pod in pods:
            key = self.key(pod)
            by_name[pod["metadata"]["name"]] = key
            self.pods_seen[key] = pod
            if pod_is_ready(pod):
                self.ready_at.setdefault(key, now)
        eps = service_endpoints(self.service, pods, port_name=self.settings.port_name)
        by_target = {endpoint_target(e).id: by_name.get(e.pod, e.pod) for e in eps}
        targets = [endpoint_target(e) for e in eps]
        answered = 0
        if targets:
            sweep = sweep_fleet(
                targets, timeout=self.settings.ping_timeout_s, deadline_s=max(1.0, self.settings.ping_timeout_s * 2)
            )
            for r in sweep.results:
                pod_name = by_target.get(r.target, r.target.split("/")[-1])
                sample = {
                    "t_s": t_s,
                    "ok": r.ok,
                    "version": f"{r.version_name}/{r.protocol}" if r.ok else None,
                    "error": r.error_kind,
                    "routed": False,
                    "phase": phase,
                }
                entry = self.per_pod.setdefault(pod_name, {"pod": pod_name, "samples": [], "answered": False})
                # a new pod that has not answered yet: its start-up (an old pod's failure never is)
                sample["startup"] = pod_name not in self.baseline and not entry["answered"]
                entry["answered"] = entry["answered"] or r.ok
                entry["samples"].append(sample)
                answered += int(r.ok)
                if not r.ok:
                    self._pending.append((pod_name, sample))
        tick = {
            "t_s": t_s,
            "phase": phase,
            "endpoints": len(targets),
            "answered": answered,
            "ready_pods": sorted(by_name.get(e.pod, e.pod) for e in eps),
        }
        self.ticks.append(tick)
        return pods

    def finish(self) -> None:
        """The last tick's failures are judged against one more listing."""
        if self._pending:
            routed = {self.key(p) for p in self.pods() if pod_is_ready(p)}
            for pod_name, sample in self._pending:
                sample["routed"] = pod_name in routed
            self._pending = []


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def run_gate(
    api: KubeApi,
    workload: str,
    to: str,
    *,
    settings: RolloutSettings,
    expected: tuple[str | None, int | None] = (None, None),
    rollback: bool = False,
    echo: Callable[[str], None] = lambda _line: None,
    environment: str = "",
    check: str = "mcproof rollout gate",
) -> RolloutGateEvidence:
    """Gate the update ``to`` of ``workload`` (``NS/deployment/NAME`` or ``NS/statefulset/NAME``); bounded by
    the settings' deadlines."""
    namespace, kind_name, name = parse_workload(workload)
    kind = KINDS[kind_name]
    dep = read(api, kind, namespace, name)
    service = _service_for(api, namespace, dep)
    containers = [
        str(c.get("name")) for c in ((dep["spec"].get("template") or {}).get("spec") or {}).get("containers") or []
    ]
    update = load_update(to, containers, kind.kind)
    replicas = int(dep["spec"].get("replicas", 1))
    allowed = max_unavailable(kind, dep)
    obs = _Observer(api, namespace, service, settings, kind)
    started_at = _now()
    t0 = time.monotonic()
    before = obs.tick(0.0, "baseline")
    obs.baseline = {obs.key(p) for p in before}
    old_hashes = {pod_revision(kind, p) for p in before}
    old_versions = sorted({s["version"] for e in obs.per_pod.values() for s in e["samples"] if s["ok"]})
    baseline = baseline_problem(obs.ticks[0], obs.per_pod.values(), replicas=replicas, settled=complete(kind, dep))
    template_changed = False
    error: str | None = None
    done_at: float | None = None
    t_apply = 0.0
    unavailable_max = 0
    if baseline is None:  # never roll onto an environment that was not healthy: its failures are not the release's
        echo(f"mcproof: applying {update.described} to {kind.kind} {namespace}/{name}")
        patch(api, kind, namespace, name, update.patch, "apply the update")
        current = read(api, kind, namespace, name)
        template_changed = int(current["metadata"].get("generation", 0)) != int(
            dep["metadata"].get("generation", 0)
        ) and (current["spec"].get("template") != dep["spec"].get("template"))
        t_apply = time.monotonic() - t0
        try:
            done_at, unavailable_max = _observe_rollout(api, namespace, name, obs, t0, t_apply, old_hashes, expected)
        except KubeError as err:  # the release is applied but unjudged: inconclusive, rolled back when asked
            error = f"the gate lost the cluster mid-rollout ({err})"
    new_pods = _new_pods(obs, old_hashes)
    downtime = server_downtime(obs, old_hashes) if kind.kind == "StatefulSet" else []
    rollout_samples = [s for e in obs.per_pod.values() for s in e["samples"] if s["phase"] == "rollout"]
    samples = len(rollout_samples)
    routed_failures = sum(1 for s in rollout_samples if not s["ok"] and s["routed"] and not s["startup"])
    startup_failures = sum(1 for s in rollout_samples if not s["ok"] and s["routed"] and s["startup"])
    failed_requests = sum(1 for s in rollout_samples if not s["ok"])
    verdict, reason = judge(
        samples=samples,
        template_changed=template_changed,
        completed=done_at is not None,
        new_pods=new_pods,
        routed_failures=routed_failures,
        expected=expected,
        settings=settings,
        baseline=baseline,
        error=error,
        unavailable=(unavailable_max, allowed),
        server_downtime=downtime,
    )
    decision = round(time.monotonic() - t0, 3)
    rb: dict[str, Any] = {"requested": rollback, "performed": False}
    if rollback and template_changed and (verdict == "fail" or error is not None):
        echo(f"mcproof: release {'failed' if verdict == 'fail' else 'unjudged'} ({reason}); rolling back")
        rb = _rollback(api, namespace, name, obs, t0, decision, old_versions, settings, dep)
    elif verdict == "fail":
        rb["problem"] = "not requested (--rollback)"
    endpoints = [
        _endpoint_summary(e, settings.interval_s) for e in sorted(obs.per_pod.values(), key=lambda e: e["pod"])
    ]
    return RolloutGateEvidence(
        environment=environment,
        method=(
            f"update applied as a patch; every Ready endpoint of {namespace}/{service['metadata']['name']} pinged "
            f"every {settings.interval_s:g}s (mcstatus, {settings.ping_timeout_s:g}s deadline each), endpoints "
            f"derived from Ready pods each tick; rollout deadline {settings.rollout_deadline_s:g}s"
        ),
        check=check,
        workload=f"{kind.kind} {namespace}/{name}",
        service=f"{namespace}/{service['metadata']['name']}",
        update=update.described,
        strategy=strategy(kind, dep),
        replicas=replicas,
        max_unavailable_allowed=allowed,
        max_unavailable_observed=max(0, unavailable_max),
        expected_version=expected[0],
        expected_protocol=expected[1],
        old_versions=old_versions,
        started_at=started_at,
        ended_at=_now(),
        interval_s=settings.interval_s,
        ping_timeout_s=settings.ping_timeout_s,
        template_changed=template_changed,
        rollout_completed=done_at is not None,
        rollout_s=round(done_at - t_apply, 3) if done_at is not None else None,
        samples=samples,
        failed_requests=failed_requests,
        routed_failures=routed_failures,
        startup_failures=startup_failures,
        endpoints=endpoints,
        new_pods=new_pods,
        verdict=verdict,
        reason=reason,
        decision_s=decision,
        rollback=rb,
        ticks=obs.ticks,
        server_downtime=downtime,
    )


def _observe_rollout(
    api: KubeApi,
    namespace: str,
    name: str,
    obs: _Observer,
    t0: float,
    t_apply: float,
    old_hashes: set[str],
    expected: tuple[str | None, int | None],
) -> tuple[float | None, int]:
    """Tick until the rollout completed and ``settle_s`` passed (at least one full tick after completion),
    a new pod answered the wrong version, or ``rollout_deadline_s``: (completed at, max unavailable seen)."""
    settings = obs.settings
    done_at: float | None = None
    done_tick = 0
    unavailable_max = 0
    while True:
        tick_start = time.monotonic()
        now = round(tick_start - t0, 3)
        settled = done_at is not None and now - done_at >= settings.settle_s and len(obs.ticks) > done_tick
        if now - t_apply > settings.rollout_deadline_s or settled:
            break
        pods = obs.tick(now, "rollout")
        current = read(api, obs.kind, namespace, name)
        want = int((current.get("spec") or {}).get("replicas", 1))  # re-read: the update may change replicas
        unavailable_max = max(unavailable_max, want - obs.ticks[-1]["endpoints"])
        if done_at is None and complete(obs.kind, current):
            done_at, done_tick = now, len(obs.ticks)
        if _wrong_version_seen(obs, pods, old_hashes, expected):
            break  # definitive: no need to wait for the rest of the rollout
        time.sleep(max(0.0, settings.interval_s - (time.monotonic() - tick_start)))
    obs.finish()
    return done_at, unavailable_max


def baseline_problem(
    tick: Mapping[str, Any], per_pod: Iterable[Mapping[str, Any]], *, replicas: int = 0, settled: bool = True
) -> str | None:
    """Why the environment was not healthy before the update (then nothing is applied), or None: no Ready
    endpoint, fewer than ``replicas``, a rollout still in progress (not ``settled``), an old pod not answering.

    >>> baseline_problem({"endpoints": 0}, [])
    'no Ready endpoint answered before the update, so nothing could be compared; check the Service and its pods'
    >>> baseline_problem({"endpoints": 1}, [{"pod": "p", "samples": [{"ok": False, "error": "timeout"}]}])
    'pod p did not answer before the update (timeout): the environment was not healthy; fix it before gating'
    """
    if not tick.get("endpoints"):
        return (
            "no Ready endpoint answered before the update, so nothing could be compared; check the Service and its pods"
        )
    if int(tick["endpoints"]) < replicas:
        return (
            f"only {tick['endpoints']} of {replicas} replicas were Ready before the update: the environment was not "
            "healthy; fix it before gating"
        )
    if not settled:
        return "an earlier rollout of the workload was still in progress; gate once it completed"
    for entry in per_pod:
        bad = [s for s in entry["samples"] if not s["ok"]]
        if bad:
            return (
                f"pod {entry['pod']} did not answer before the update ({bad[0].get('error')}): the environment was "
                "not healthy; fix it before gating"
            )
    return None


def server_downtime(obs: _Observer, old_hashes: set[str]) -> list[dict[str, Any]]:
    """Per server of a StatefulSet (a pod name keeps its server through the rollout): from its old
    release's last answer to its new release's first (``None`` when the new one never answered), in
    tick times; servers not yet replaced are not listed."""
    out = []
    names = sorted({str(p["metadata"]["name"]) for p in obs.pods_seen.values()})
    for server in names:
        old_ok: list[float] = []
        new_ok: list[float] = []
        replaced = False
        for key, pod in obs.pods_seen.items():
            if pod["metadata"]["name"] != server:
                continue
            is_new = pod_revision(obs.kind, pod) not in old_hashes
            replaced = replaced or is_new
            samples = [s for s in (obs.per_pod.get(key) or {}).get("samples", []) if s["phase"] != "rollback"]
            (new_ok if is_new else old_ok).extend(float(s["t_s"]) for s in samples if s["ok"])
        if not replaced or not old_ok:
            continue  # not replaced yet, or a server the baseline did not serve (no downtime to close)
        last_old = max(old_ok) if old_ok else None
        first_new = min(new_ok) if new_ok else None
        down = round(first_new - last_old, 3) if first_new is not None and last_old is not None else None
        out.append(
            {"server": server, "last_old_answer_s": last_old, "first_new_answer_s": first_new, "downtime_s": down}
        )
    return out


def _wrong_version_seen(
    obs: _Observer, pods: Sequence[Mapping[str, Any]], old_hashes: set[str], expected: tuple[str | None, int | None]
) -> bool:
    if expected == (None, None):
        return False
    new = {obs.key(p) for p in pods if pod_revision(obs.kind, p) not in old_hashes}
    return any(
        s["ok"] and other_release(str(s["version"]), expected)
        for pod_name in new
        for s in (obs.per_pod.get(pod_name) or {}).get("samples", [])
    )


def _new_pods(obs: _Observer, old_hashes: set[str]) -> list[dict[str, Any]]:
    found = []
    for name, pod in sorted(obs.pods_seen.items()):
        if pod_revision(obs.kind, pod) in old_hashes:
            continue
        created = _created(pod)
        ready_wall = _ready_since(pod) if name in obs.ready_at else None
        if ready_wall is None:
            ready_wall = obs.ready_at.get(name)  # no transition time recorded: when the gate first saw it Ready
        ready_after = round(ready_wall - created, 3) if ready_wall is not None and created is not None else None
        samples = [s for s in (obs.per_pod.get(name) or {}).get("samples", []) if s["phase"] != "rollback"]
        first_ok = next((i for i, s in enumerate(samples) if s["ok"]), len(samples))
        gap = (samples[first_ok]["t_s"] - samples[0]["t_s"]) if first_ok < len(samples) else None
        found.append(
            {
                "pod": name,
                "samples": len(samples),
                "failed": sum(1 for s in samples if not s["ok"]),
                "versions": sorted({str(s["version"]) for s in samples if s["ok"]}),
                "ready_after_s": max(0.0, ready_after) if ready_after is not None else None,
                "restarts": _restarts(pod),
                "failed_before_answer": sum(1 for s in samples[:first_ok] if s["routed"]),
                # from its first answer on: what the error-ratio SLO judges (start-up has its own SLO)
                "serving_samples": len(samples) - first_ok,
                "serving_failed": sum(1 for s in samples[first_ok:] if not s["ok"]),
                "readiness_gap_s": round(gap, 3) if gap is not None else None,
            }
        )
    return found


def _endpoint_summary(entry: Mapping[str, Any], interval_s: float) -> dict[str, Any]:
    samples = entry["samples"]
    failed = [s for s in samples if not s["ok"]]
    return {
        "pod": entry["pod"],
        "samples": len(samples),
        "failed": len(failed),
        "routed_failures": sum(1 for s in failed if s["routed"] and not s["startup"]),
        "startup_failures": sum(1 for s in failed if s["routed"] and s["startup"]),
        "downtime_s": round(len(failed) * interval_s, 3),
        "first_failure_s": failed[0]["t_s"] if failed else None,
        "last_failure_s": failed[-1]["t_s"] if failed else None,
        "versions": sorted({str(s["version"]) for s in samples if s["ok"]}),
    }


def _rollback(
    api: KubeApi,
    namespace: str,
    name: str,
    obs: _Observer,
    t0: float,
    decision: float,
    old_versions: Sequence[str],
    settings: RolloutSettings,
    before: Mapping[str, Any],
) -> dict[str, Any]:
    """``rollout undo`` to what ran before the gate: the Deployment's template as the gate read it before its
    update (not the ReplicaSet history, which a ``revisionHistoryLimit: 0`` or a paused Deployment makes wrong),
    as a JSON patch; then tick until every replica is available and answering the old version (or the
    healthy deadline)."""
    rb: dict[str, Any] = {"requested": True, "performed": False, "decision_s": decision}
    template = copy.deepcopy((before.get("spec") or {}).get("template") or {})
    try:
        patch(
            api,
            obs.kind,
            namespace,
            name,
            [{"op": "replace", "path": "/spec/template", "value": template}],
            "roll it back",
        )
    except KubeError as err:
        rb["problem"] = str(err)
        return rb
    applied = round(time.monotonic() - t0, 3)
    rb.update(
        performed=True,
        to_revision=_revision(before)
        if obs.kind.kind == "Deployment"
        else (before.get("status") or {}).get("currentRevision"),
        undo_applied_s=applied,
        time_to_rollback_s=round(applied - decision, 3),
    )
    healthy: float | None = None
    old = set(old_versions)
    first_tick = len(obs.ticks)
    try:
        while True:
            tick_start = time.monotonic()
            now = round(tick_start - t0, 3)
            if now - applied > settings.healthy_deadline_s:
                break
            before_counts = {k: len(v["samples"]) for k, v in obs.per_pod.items()}
            obs.tick(now, "rollback")
            tick = obs.ticks[-1]
            fresh = [s for k, v in obs.per_pod.items() for s in v["samples"][before_counts.get(k, 0) :]]
            answering_old = bool(fresh) and all(s["ok"] and (not old or s["version"] in old) for s in fresh)
            current = read(api, obs.kind, namespace, name)
            want = int((current.get("spec") or {}).get("replicas", 1))
            if answering_old and tick["endpoints"] == want and complete(obs.kind, current):
                seen = round(time.monotonic() - t0, 3)  # when the healthy state was seen: after this tick's reads
                # one deadline rule: healthy only if seen within it (the record and its SLO row agree)
                healthy = seen if seen - applied <= settings.healthy_deadline_s else None
                break
            time.sleep(max(0.0, settings.interval_s - (time.monotonic() - tick_start)))
        obs.finish()
        rb["health_wait"] = "healthy" if healthy is not None else "deadline"
    except KubeError as err:
        rb["problem"] = f"the undo was applied but the gate lost the cluster while awaiting health ({err})"
        rb["health_wait"] = "lost"  # not measured: no time-to-healthy figure either way
    rb["healthy"] = healthy is not None
    rb_samples = [s for v in obs.per_pod.values() for s in v["samples"] if s["phase"] == "rollback"]
    rb["samples"] = len(rb_samples)
    rb["failed_requests"] = sum(1 for s in rb_samples if not s["ok"])
    rb["ticks"] = len(obs.ticks) - first_tick
    rb["time_to_healthy_s"] = round(healthy - applied, 3) if healthy is not None else None
    if healthy is None and "problem" not in rb:
        rb["problem"] = (
            f"not every replica answered {', '.join(sorted(old)) or 'the old version'} within {settings.healthy_deadline_s:g}s"
        )
    return rb


def deployment_template(api: KubeApi, workload: str) -> dict[str, Any]:
    """The workload's pod template as it is now (to restore after a rehearsal)."""
    namespace, kind_name, name = parse_workload(workload)
    return copy.deepcopy(read(api, KINDS[kind_name], namespace, name)["spec"]["template"])


def restore_template(
    api: KubeApi, workload: str, template: Mapping[str, Any], *, deadline_s: float, interval_s: float = 0.2
) -> float:
    """Put ``template`` back on the workload (a rehearsal's clean-up) and wait for its rollout to complete;
    seconds taken. Raises :class:`KubeError` when it did not complete within ``deadline_s``."""
    namespace, kind_name, name = parse_workload(workload)
    kind = KINDS[kind_name]
    started = time.monotonic()
    body = [{"op": "replace", "path": "/spec/template", "value": dict(template)}]
    patch(api, kind, namespace, name, body, "restore it")
    while not complete(kind, read(api, kind, namespace, name)):
        if time.monotonic() - started > deadline_s:
            raise KubeError(
                f"{kind.kind} {namespace}/{name} did not finish rolling back to its previous template within "
                f"{deadline_s:g}s; check its pods (kubectl -n {namespace} rollout status {kind.kind.lower()}/{name})"
            )
        time.sleep(interval_s)
    return round(time.monotonic() - started, 3)


def write_evidence(evidence: RolloutGateEvidence, path: Path, slos: Sequence[SloMeasurement] = ()) -> Path:
    """The evidence as one JSON document (``type: rollout_gate``), with its SLO rows under ``slos``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {**evidence.as_dict(), "slos": [row.as_dict() for row in slos]}
    path.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
