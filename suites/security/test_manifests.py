"""The manifests the environment deploys (security.manifests.directory; without one, the manifests its
embedded cluster applied): Checkov's Kubernetes/Helm policies (from its own venv, offline) and mcproof's
own Kubernetes rules. Findings become evidence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcproof.config import Environment
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import PolicyScanEvidence
from mcproof.security.checkov import run_checkov
from mcproof.security.kube_policy import (
    load_manifests,
    manifests_directory,
    namespace_findings,
    rbac_findings,
    workload_findings,
)
from mcproof.security.settings import ManifestScanSettings, SecuritySettings
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.security


@pytest.fixture(scope="module")
def manifests(security: SecuritySettings) -> ManifestScanSettings:
    if security.manifests is None:
        pytest.skip("no manifests directory declared (security.manifests.directory)")
    return security.manifests


@pytest.fixture(scope="module")
def directory(manifests: ManifestScanSettings, environment: Environment) -> Path:
    found = manifests_directory(environment, manifests)
    if found is None:
        pytest.skip(
            "no security.manifests.directory and no embedded cluster whose applied manifests could be scanned; "
            "set it to the manifests the environment deploys (e.g. rendered Helm output)"
        )
    if manifests.directory is None and not found.is_dir():
        inconclusive(
            f"the embedded cluster has written no applied manifests ({found} is missing), so there is nothing "
            "of what the environment deploys to scan",
            "start the sandbox with its cluster (mcproof sandbox up --env ENV) before the security suite, "
            "or set security.manifests.directory",
        )
    return found


def test_checkov_manifests(
    manifests: ManifestScanSettings, directory: Path, environment: Environment, evidence: RunStore
) -> None:
    checkov = environment.resolve_path(manifests.checkov) if manifests.checkov else None
    try:
        run = run_checkov(
            directory, frameworks=list(manifests.frameworks), executable=checkov, timeout=manifests.timeout_s
        )
    except McproofError as err:
        pytest.fail(str(err), pytrace=False)
    open_findings = [f for f in run.failed if f.check_id not in manifests.accepted]
    evidence.append(
        PolicyScanEvidence(
            environment=environment.name,
            method=f"checkov {run.version} --framework {' '.join(manifests.frameworks)} --skip-download (offline)",
            check="test_checkov_manifests",
            tool="checkov",
            source=str(directory),
            passed_checks=run.passed,
            findings=[f.as_dict() for f in open_findings],
            accepted=[
                {**f.as_dict(), "reason": manifests.accepted[f.check_id]}
                for f in run.failed
                if f.check_id in manifests.accepted
            ],
            passed=not open_findings and run.parsing_errors == 0,
        )
    )
    assert run.parsing_errors == 0, f"checkov could not parse {run.parsing_errors} file(s) in {directory}; fix the YAML"
    assert not open_findings, (
        f"{len(open_findings)} Checkov finding(s) in {directory}: "
        + "; ".join(str(f) for f in open_findings[:20])
        + ". Fix each resource (see the check's guideline), or accept a check id with a reason under "
        "security.manifests.accepted"
    )


def test_manifest_kubernetes_policy(directory: Path, environment: Environment, evidence: RunStore) -> None:
    objects = load_manifests(directory)
    if not objects:
        pytest.fail(f"no Kubernetes objects in {directory}; fix security.manifests.directory", pytrace=False)
    findings = [*workload_findings(objects), *namespace_findings(objects), *rbac_findings(objects)]
    evidence.append(
        PolicyScanEvidence(
            environment=environment.name,
            method="mcproof.security.kube_policy rules over the manifest files",
            check="test_manifest_kubernetes_policy",
            tool="mcproof-kube-policy",
            source=str(directory),
            passed_checks=len(objects),
            findings=[f.as_dict() for f in findings],
            accepted=[],
            passed=not findings,
        )
    )
    assert not findings, f"{len(findings)} finding(s) in {directory}: " + "; ".join(str(f) for f in findings[:25])
