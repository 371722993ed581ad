"""Shared fixtures for integration tests: a real sandbox fleet on loopback, torn down after the test."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from labels import TEST_NAMESPACE_LABEL

from mcproof.errors import McproofError
from mcproof_sandbox.fleet import Sandbox, SandboxSpec
from mcproof_sandbox.kube.cluster import ClusterSpec, EmbeddedCluster
from mcproof_sandbox.stack import stop_platform_services


def random_base_address() -> str:
    """A per-test loopback range (127.100-199.x.1) so parallel tests never share addresses."""
    return f"127.{random.randint(100, 199)}.{random.randint(0, 255)}.1"


@pytest.fixture
def sandbox_factory(tmp_path: Path) -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes in ``tmp_path``: ``sandbox_factory(servers=20, **spec_kwargs) -> Sandbox``.

    Defaults: a random ``base_address`` per call and ``boot_delay_s=1.0``. Every sandbox started here is
    stopped after the test, even when it fails.
    """
    started: list[Sandbox] = []

    def make(servers: int = 20, **spec_kwargs: Any) -> Sandbox:
        spec_kwargs.setdefault("base_address", random_base_address())
        spec_kwargs.setdefault("boot_delay_s", 1.0)
        sandbox = Sandbox(tmp_path / f"sandbox-{len(started)}")
        started.append(sandbox)
        sandbox.up(SandboxSpec(servers=servers, **spec_kwargs), timeout=60.0)
        return sandbox

    yield make
    for sandbox in started:
        stop_platform_services(sandbox.state_dir)  # a test or CLI may have started the API / Prometheus on it
        sandbox.down(timeout=10.0)


# --- an embedded cluster for the harness's own tests (suites never use these) ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def embedded_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedCluster]:
    """A real control plane with 2 kwok nodes and the pod bridge, for this test session (~5 s)."""
    state_dir: Path = tmp_path_factory.mktemp("kube")
    pod_cidr = f"127.{random.randint(65, 90)}.0.0/16"  # apart from a sandbox cluster on 127.64/16
    cluster = EmbeddedCluster(state_dir)
    try:
        cluster.up(ClusterSpec(name="itest", nodes=2, pod_cidr=pod_cidr, server_boot_s=0.3, ready_timeout_s=60))
    except McproofError as err:
        cluster.down()
        pytest.fail(f"embedded cluster did not start: {err}", pytrace=False)
    yield cluster
    cluster.down()


@pytest.fixture
def kube_namespace(embedded_cluster: EmbeddedCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A namespace for this test (``mct-<random>``, labelled ``mcproof.io/test``, PodSecurity
    restricted), deleted with everything in it after the test."""
    from mcproof_sandbox.kube.cluster import create_or_keep
    from mcproof_sandbox.kube.manifests import tenant_namespace
    from mcproof_sandbox.kube.workloads import delete_namespace

    name = f"mct-{uuid.uuid4().hex[:8]}"
    case = re.sub(r"[^A-Za-z0-9_.-]", "-", request.node.name)[:63].strip("-_.") or "test"
    create_or_keep(
        embedded_cluster.api(),
        tenant_namespace(name, labels={TEST_NAMESPACE_LABEL: "true", "mcproof.io/test-case": case}),
    )
    _wait_default_service_account(embedded_cluster, name)
    yield name
    api = embedded_cluster.api()
    delete_namespace(api, name, wait_s=30.0)


def _wait_default_service_account(cluster: EmbeddedCluster, namespace: str, timeout_s: float = 30.0) -> None:
    """Pods are refused until the controller-manager has created the namespace's `default` ServiceAccount."""
    from kubernetes.client.exceptions import ApiException

    core = cluster.api().core
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            core.read_namespaced_service_account("default", namespace, _request_timeout=5)
            return
        except ApiException as err:
            if err.status != 404 or time.monotonic() > deadline:
                raise
        time.sleep(0.1)
