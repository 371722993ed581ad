"""Runbook kubectl commands run as server-side dry runs against the session's embedded cluster: good
commands pass and change nothing; a nonexistent object or an invalid patch fails naming the command."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from mcproof.monitoring.runbooks import ShCommand, commands_in, dry_run
from mcproof_sandbox.kube.cluster import EmbeddedCluster
from mcproof_sandbox.kube.manifests import minecraft_proxy_deployment

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]


@pytest.fixture
def api_client(embedded_cluster: EmbeddedCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(str(embedded_cluster.kubeconfig))
    yield api
    api.close()


@pytest.fixture
def proxy(api_client: client.ApiClient, kube_namespace: str) -> str:
    """A Deployment ``proxy`` (1 replica) in the test namespace."""
    dep = minecraft_proxy_deployment(kube_namespace, replicas=1)
    client.AppsV1Api(api_client).create_namespaced_deployment(kube_namespace, dep)
    return str(dep["metadata"]["name"])


def _run(api_client: client.ApiClient, text: str, tmp: Path | None = None) -> tuple[str, str]:
    f = dry_run(ShCommand(text, 1), api_client, subject="runbook.md", base_dir=tmp)
    return f.verdict, f.detail


def test_good_commands_pass_and_change_nothing(
    api_client: client.ApiClient, kube_namespace: str, proxy: str, tmp_path: Path
) -> None:
    ns = kube_namespace
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: rb\n  namespace: {ns}\ndata:\n  a: b\n")
    block = f"""```sh
# mcproof-dry-run: ns={ns} dep={proxy}
kubectl -n <ns> get deployment <dep>
kubectl -n <ns> get pods
kubectl -n <ns> scale deployment/<dep> --replicas=3
kubectl -n <ns> rollout restart deployment/<dep>
kubectl -n <ns> annotate deployment/<dep> mcproof.io/x=y --overwrite
kubectl -n <ns> label deployment <dep> tier=front
kubectl -n <ns> patch deployment <dep> --type=merge -p '{{"spec": {{"replicas": 2}}}}'
kubectl apply -f cm.yaml
kubectl get nodes
```"""
    for cmd in commands_in(block):
        f = dry_run(cmd, api_client, subject="runbook.md", base_dir=tmp_path)
        assert f.verdict == "pass", f
    dep = client.AppsV1Api(api_client).read_namespaced_deployment(proxy, ns)
    assert dep.spec.replicas == 1
    assert "tier" not in (dep.metadata.labels or {})
    assert not client.CoreV1Api(api_client).list_namespaced_config_map(ns, field_selector="metadata.name=rb").items


def test_bad_commands_fail_naming_the_command(api_client: client.ApiClient, kube_namespace: str, proxy: str) -> None:
    ns = kube_namespace
    bad = [
        (f"kubectl -n {ns} scale deployment/no-such --replicas=2", "404"),
        (f"kubectl -n {ns} get deployment no-such", "404"),
        (f"kubectl -n {ns} logs no-such-pod", "404"),
        (f"kubectl -n {ns} delete pod no-such-pod", "404"),
        (f"kubectl -n {ns} rollout restart deployment/no-such", "404"),
        (f'kubectl -n {ns} patch deployment {proxy} --type=merge -p \'{{"spec": {{"replicas": "x"}}}}\'', "HTTP"),
        (f"kubectl -n {ns} rollout undo deployment/{proxy}", "no previous revision"),
        (f"kubectl -n {ns} scale deployment/{proxy} --replicas=-1", "HTTP 422"),
    ]
    for text, expect in bad:
        verdict, detail = _run(api_client, text)
        assert verdict == "fail", (text, detail)
        assert expect in detail, detail
        assert text in detail, detail


def test_sandbox_runbooks_pass_and_a_weakened_command_fails(
    api_client: client.ApiClient, kube_namespace: str, proxy: str, tmp_path: Path
) -> None:
    """docs/operations/ against a namespace shaped like a sandbox tenant (StatefulSet mc-000, Deployment
    proxy): every kubectl command passes; a copy naming a release that does not exist fails naming the file."""
    from mcproof.monitoring.runbooks import alerts_from_rule_groups, coverage
    from mcproof_sandbox.kube.manifests import minecraft_statefulset
    from mcproof_sandbox.monitoring.rules import rule_groups

    ns = kube_namespace
    client.AppsV1Api(api_client).create_namespaced_stateful_set(ns, minecraft_statefulset(ns, "mc-000"))
    core = client.CoreV1Api(api_client)
    deadline = time.monotonic() + 60
    while not core.list_namespaced_pod(ns, field_selector="metadata.name=mc-000-0").items:
        assert time.monotonic() < deadline, "pod mc-000-0 was not created within 60 s"
        time.sleep(0.2)
    ops = tmp_path / "ops"
    ops.mkdir()
    src = Path(__file__).resolve().parents[2] / "docs" / "operations"
    for p in src.glob("*.md"):
        (ops / p.name).write_text(p.read_text().replace("ns=minecraft", f"ns={ns}"))
    alerts = alerts_from_rule_groups(rule_groups(kube=True))
    rows, findings = coverage(alerts, str(ops), api_client=api_client)
    bad = [f for f in findings if f.verdict != "pass"]
    assert not bad, bad
    assert all(r["dry_run"] == "pass" for r in rows), rows
    weak = ops / "backup-too-old.md"
    weak.write_text(weak.read_text().replace("release=mc-000", "release=mc-999"))
    rows, findings = coverage(alerts, str(ops), api_client=api_client)
    row = next(r for r in rows if r["alert"] == "BackupTooOld")
    assert row["dry_run"] == "fail", row
    failed = [f for f in findings if f.verdict == "fail"]
    assert failed
    assert all("backup-too-old.md" in f.subject and "mc-999" in f.detail for f in failed), failed
