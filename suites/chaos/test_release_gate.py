"""Release gate: roll the release the environment names (``rollout.gate``) onto its workload while every
endpoint is pinged, judge the new pods (version/protocol, answering, Ready in time, no restart, no routed
failure, readiness gap) and, when it fails and ``rollback`` is set, roll it back and time it
(:mod:`mcproof.rollout.gate`, docs/rollout.md). The run is recorded as ``RolloutGateEvidence``.

Skipped with the reason when the environment names no release (``rollout.gate``), has no kubernetes
section, no rolling Deployment is in scope, or the chaos guards refuse. ``restore: true`` makes it a
rehearsal: the previous template is put back after a passed gate (the sandbox's local environment).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mcproof.chaos.deploy import rolling_workloads
from mcproof.chaos.guard import check_namespace, check_tier
from mcproof.config import Environment, KubernetesSettings, Tier
from mcproof.errors import GuardError, McproofError
from mcproof.evidence import RunStore
from mcproof.kubeapi import KubeApi
from mcproof.rollout.gate import deployment_template, parse_workload, restore_template, run_gate, summary
from mcproof.rollout.slos import rollout_slos
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.chaos, pytest.mark.destructive]

EXPERIMENT = "release-gate"


def _release_ref(environment: Environment, to: str) -> str:
    """``to`` as given, or the file it names relative to the environment file."""
    if environment.source is not None and not Path(to).is_absolute():
        beside = environment.source.parent / to
        if beside.exists():
            return str(beside)
    return to


def _workload(kube: KubeApi, kube_settings: KubernetesSettings, named: str | None) -> str:
    if named is not None:
        return named
    scopes: list[str | None] = list(kube_settings.namespaces) or [None]
    found = [d for ns in scopes for d in kube.objects("deployments", ns, label_selector=kube_settings.label_selector)]
    candidates = rolling_workloads(found)
    if not candidates:
        pytest.skip(
            f"no Deployment with 2+ replicas matches {kube_settings.label_selector!r}; name one in rollout.gate.workload"
        )
    dep = sorted(candidates, key=lambda d: (d["metadata"]["namespace"], d["metadata"]["name"]))[0]
    return f"{dep['metadata']['namespace']}/deployment/{dep['metadata']['name']}"


def test_release_gate(
    environment: Environment, kube_settings: KubernetesSettings, evidence: RunStore, request: pytest.FixtureRequest
) -> None:
    settings = environment.rollout
    if settings is None or settings.gate is None:
        pytest.skip("the environment names no release to gate; add rollout.gate (docs/rollout.md)")
    release = settings.gate
    kube: KubeApi = request.getfixturevalue("kube")  # only now: an environment naming no release needs no cluster
    try:
        workload = _workload(kube, kube_settings, release.workload)
        namespace, _kind, _name = parse_workload(workload)
        check_tier(environment, EXPERIMENT, [t.value for t in Tier], os.environ.get("MCPROOF_ACK_PRODUCTION") == "1")
        check_namespace(environment, namespace, EXPERIMENT)
    except GuardError as err:
        pytest.skip(str(err))
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    expect = environment.minecraft.expect
    expected = (
        release.expect_version if release.expect_version is not None else expect.name,
        release.expect_protocol if release.expect_protocol is not None else expect.protocol,
    )
    try:
        template = deployment_template(kube, workload)
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    try:
        result = run_gate(
            kube,
            workload,
            _release_ref(environment, release.to),
            settings=settings,
            expected=expected,
            rollback=release.rollback,
            environment=environment.name,
            check="test_release_gate",
        )
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    finally:
        if release.restore:  # a rehearsal leaves the workload as it found it, whatever the verdict
            _restore(kube, workload, template, settings.healthy_deadline_s)
    evidence.append(result)
    rows = rollout_slos(result.as_dict(), settings, environment=environment.name, check="test_release_gate")
    for row in rows:
        evidence.append(row)
    if result.verdict == "inconclusive":
        inconclusive(result.reason, "name a release that changes the pod template in rollout.gate.to")
    missed = [f"{r.slo} {r.measured:g} (objective {r.comparator} {r.target:g} {r.unit})" for r in rows if not r.passed]
    assert result.verdict == "pass", summary(result)
    assert not missed, f"the gate passed but SLO rows missed: {'; '.join(missed)}"


def _restore(kube: KubeApi, workload: str, template: dict[str, Any], deadline_s: float) -> None:
    try:
        if deployment_template(kube, workload) != template:
            restore_template(kube, workload, template, deadline_s=deadline_s)
    except McproofError as err:
        pytest.fail(f"the rehearsal could not put the previous release back: {err}", pytrace=False)
