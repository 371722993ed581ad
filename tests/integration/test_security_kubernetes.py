"""The security suite's Kubernetes checks (suites/security/test_kubernetes.py) against the embedded
cluster, run as the product runs them (pytest subprocess on an environment file): a hardened tenant
passes; a namespace without PodSecurity labels, one without a default-deny NetworkPolicy, and one
labelled privileged (so a privileged pod is admitted) FAIL naming the namespace and the fix."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from labels import TEST_NAMESPACE_LABEL
from suite_runs import check_outcomes, run_suite, write_environment

from mcproof_sandbox.kube.cluster import EmbeddedCluster, create_or_keep
from mcproof_sandbox.kube.manifests import network_policies, tenant_namespace, tenant_quota
from mcproof_sandbox.kube.workloads import Tenant, delete_namespace, deploy_tenant, wait_workloads_ready

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes, pytest.mark.security]

SUITE = "security/test_kubernetes.py"
PSA = "pod-security.kubernetes.io/"


def _env(tmp_path: Path, cluster: EmbeddedCluster, namespaces: list[str]) -> Path:
    return write_environment(
        tmp_path / "env.yaml",
        tmp_path / "unused",
        minecraft={"discovery": {"kind": "kubernetes"}, "status_timeout_s": 1.0, "sweep_concurrency": 32},
        sandbox=None,
        kubernetes={"kubeconfig": str(cluster.kubeconfig), "namespaces": namespaces},
    )


@pytest.fixture
def weak_namespaces(embedded_cluster: EmbeddedCluster) -> Iterator[dict[str, str]]:
    """Three tenant namespaces, each missing one protection: role -> namespace name."""
    api = embedded_cluster.api()
    suffix = uuid.uuid4().hex[:6]
    names = {"no-psa": f"mct-nopsa-{suffix}", "no-deny": f"mct-nodeny-{suffix}", "privileged": f"mct-priv-{suffix}"}
    test_label = {TEST_NAMESPACE_LABEL: "true"}
    for role, name in names.items():
        ns = tenant_namespace(name, labels=test_label)
        labels = ns["metadata"]["labels"]
        if role == "no-psa":
            for key in [k for k in labels if k.startswith(PSA)]:
                del labels[key]
        if role == "privileged":
            labels.update({f"{PSA}{mode}": "privileged" for mode in ("enforce", "audit", "warn")})
        create_or_keep(api, ns)
        create_or_keep(api, tenant_quota(name))
        if role != "no-deny":
            for policy in network_policies(name):
                create_or_keep(api, policy)
    yield names
    for name in names.values():
        delete_namespace(api, name, wait_s=30.0)


def test_hardened_tenant_passes(embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path) -> None:
    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=1, replicas=1))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    run = run_suite(_env(tmp_path, embedded_cluster, [kube_namespace]), tmp_path / "r", suite=SUITE, timeout=120)
    outcomes = {name: o["outcome"] for name, o in check_outcomes(run).items()}
    assert outcomes == {
        "test_no_cluster_admin_for_workloads": "passed",
        "test_workloads_hardened": "passed",
        "test_tenant_namespaces_isolated": "passed",
        "test_privileged_pod_rejected": "passed",
        # the test's kubeconfig is the cluster's admin credential: over-privileged, and said so
        "test_harness_rbac_least_privilege": "failed",
    }, run.output
    assert "run the harness with a ServiceAccount bound only to read-only Roles" in run.output


def test_weak_namespaces_fail_naming_object_and_fix(
    embedded_cluster: EmbeddedCluster, weak_namespaces: dict[str, str], tmp_path: Path
) -> None:
    names = weak_namespaces
    run = run_suite(
        _env(tmp_path, embedded_cluster, list(names.values())),
        tmp_path / "r",
        "-k",
        "isolated or privileged_pod",
        suite=SUITE,
        timeout=120,
    )
    outcomes = {name: o["outcome"] for name, o in check_outcomes(run).items()}
    assert outcomes["test_tenant_namespaces_isolated"] == "failed", run.output
    assert outcomes["test_privileged_pod_rejected"] == "failed", run.output
    out = " ".join(run.output.split())
    # no PodSecurity labels: the namespace and the label to set
    assert f"Namespace/{names['no-psa']}: label {PSA}enforce is None; label it {PSA}enforce=restricted" in out
    # no default-deny NetworkPolicy: the namespace and the policy to add
    assert f"Namespace/{names['no-deny']}: no default-deny NetworkPolicy; add a NetworkPolicy with podSelector" in out
    assert f"Namespace/{names['no-psa']}: no default-deny" not in out
    # labelled privileged: flagged by the label rule AND a privileged pod really admitted (server-side dry
    # run); so is the unlabelled one (the apiserver's PodSecurity default is privileged), not the restricted one
    assert f"Namespace/{names['privileged']}: label {PSA}enforce is 'privileged'" in out
    admitted = f"{names['no-psa']}, {names['privileged']}"
    assert f"a privileged pod was admitted (server-side dry run) in namespace(s) {admitted}; " in out
    assert f"label them {PSA}enforce=restricted" in out
    # the evidence names each finding with its fix
    scan = next(r for r in run.evidence() if r["type"] == "policy_scan" and r["check"].endswith("isolated"))
    found = {(f["rule"], f["object"]) for f in scan["findings"]}
    assert ("pod-security", f"Namespace/{names['no-psa']}") in found
    assert ("default-deny", f"Namespace/{names['no-deny']}") in found
    assert all(f["fix"] for f in scan["findings"])


def test_compliance_audit_check_reads_the_apiserver_audit_log(
    embedded_cluster: EmbeddedCluster, kube_namespace: str, tmp_path: Path
) -> None:
    """The cluster's own audit log (mutating requests: this test's namespace, quota, policies ...) satisfies
    the compliance audit check; an audit log with reads only fails it, naming the file and the fix."""
    status = embedded_cluster.status()
    assert status is not None
    audit = Path(status.audit_log)
    check = "test_audit_log_records_admin_actions"
    for name, log in (("real", audit), ("reads-only", tmp_path / "reads.log")):
        if name == "reads-only":
            events = [json.loads(x) for x in audit.read_text(encoding="utf-8").splitlines()[:20]]
            assert events
            log.write_text("".join(json.dumps({**e, "verb": "get"}) + "\n" for e in events), encoding="utf-8")
        (tmp_path / name).mkdir()
        env = _env(tmp_path / name, embedded_cluster, [kube_namespace])
        data = yaml.safe_load(env.read_text(encoding="utf-8"))
        data["compliance"] = {"apiserver_audit_log": str(log)}
        env.write_text(yaml.safe_dump(data), encoding="utf-8")
        run = run_suite(env, tmp_path / name / "r", "-k", check, suite="compliance", timeout=60)
        outcome = check_outcomes(run)[check]["outcome"]
        if name == "real":
            assert outcome == "passed", run.output
        else:
            assert outcome == "failed", run.output
            assert f"API server audit log {log} holds no completed create/update/patch/delete" in " ".join(
                run.output.split()
            )
