"""Lists are paginated and watches resume, against the real kube-apiserver of the embedded cluster:
1,200 ConfigMaps come back complete over 3 pages of 500; a watch cut every second resumes from its
resourceVersion without losing or repeating an event; an unreachable or refusing API server is one
KubeError line naming the call and the fix. (410 Gone and broken streams: test_kube_listwatch_faults.py.)"""

from __future__ import annotations

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from mcproof.kubeapi import KubeApi, KubeError, connect, list_pages
from mcproof.kubeapi.listwatch import SYNC, ListWatch, WatchedList
from mcproof_sandbox.kube.cluster import EmbeddedCluster

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]


def _create_configmaps(api: KubeApi, namespace: str, names: list[str], label: str) -> None:
    def one(name: str) -> None:
        body = {"metadata": {"name": name, "labels": {"mcproof.io/lw": label}}, "data": {"k": name}}
        api.core.create_namespaced_config_map(namespace, body, _request_timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, names))


def test_list_follows_continue_over_three_pages(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> None:
    api = embedded_cluster.api(timeout=30.0)
    names = [f"cm-{i:04d}" for i in range(1200)]
    _create_configmaps(api, kube_namespace, names, "pages")
    pages: list[dict[str, Any]] = []

    def list_namespaced_config_map(*args: Any, **kwargs: Any) -> Any:  # the real call, counted
        pages.append(dict(kwargs))
        return api.core.list_namespaced_config_map(*args, **kwargs)

    items, version = list_pages(
        list_namespaced_config_map, kube_namespace, timeout=30.0, limit=500, label_selector="mcproof.io/lw=pages"
    )
    assert sorted(i["metadata"]["name"] for i in items) == names
    assert len(pages) == 3
    assert [p["limit"] for p in pages] == [500, 500, 500]
    assert pages[0]["_continue"] is None
    assert pages[1]["_continue"]
    assert pages[2]["_continue"]
    assert version.isdigit()
    assert len(api.objects("configmaps", kube_namespace, label_selector="mcproof.io/lw=pages")) == 1200


def test_cut_watch_resumes_without_losing_or_repeating_events(
    embedded_cluster: EmbeddedCluster, kube_namespace: str
) -> None:
    api = embedded_cluster.api(timeout=30.0)
    lw = ListWatch(api, "configmaps", kube_namespace, label_selector="mcproof.io/lw=cut", watch_timeout_s=1)
    batches = [[f"cut-{b}-{i:02d}" for i in range(50)] for b in range(3)]
    errors: list[BaseException] = []

    def writer() -> None:  # a batch before the first cut, then one after each later cut
        try:
            for batch in batches:
                seen = lw.reconnects
                _create_configmaps(api, kube_namespace, batch, "cut")
                deadline = time.monotonic() + 30
                while lw.reconnects <= seen and time.monotonic() < deadline:
                    time.sleep(0.05)
        except BaseException as err:  # reported by the test below
            errors.append(err)

    added: list[str] = []
    thread = None
    for kind, obj in lw.events(until=time.monotonic() + 90):
        if kind == SYNC:
            assert lw.objects == {}
            thread = threading.Thread(target=writer, daemon=True)
            thread.start()
        elif kind == "ADDED":
            added.append(obj["metadata"]["name"])
        if len(added) >= 150:
            break
    assert thread is not None
    thread.join(timeout=60)
    assert not errors
    assert sorted(added) == sorted(n for b in batches for n in b)  # none lost, none twice
    assert lw.lists == 1
    assert lw.reconnects >= 2
    assert set(lw.objects) == {f"{kube_namespace}/{n}" for n in added}


def _kubeconfig(path: Path, server: str, ca: str | None = None) -> Path:
    cluster: dict[str, Any] = {"server": server, **({"certificate-authority": ca} if ca else {})}
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "x",
                "clusters": [{"name": "x", "cluster": cluster}],
                "users": [{"name": "x", "user": {"token": "not-a-real-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
            }
        ),
        encoding="utf-8",
    )
    return path


def test_unreachable_api_server_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    api = connect(_kubeconfig(tmp_path / "kubeconfig", f"https://127.0.0.1:{port}"), timeout=2.0)
    with pytest.raises(KubeError) as err:
        api.objects("pods")
    message = str(err.value)
    assert "\n" not in message
    assert "list_pod_for_all_namespaces" in message
    assert f"127.0.0.1:{port}" in message
    assert "/readyz" in message  # the fix
    lw = ListWatch(api, "pods", max_failures=2)
    with pytest.raises(KubeError, match="gave up after 2 attempts"):
        list(lw.events(until=time.monotonic() + 30))


def test_refused_credentials_are_one_line(embedded_cluster: EmbeddedCluster, tmp_path: Path) -> None:
    admin = connect(embedded_cluster.kubeconfig).client.configuration
    api = connect(_kubeconfig(tmp_path / "kubeconfig", admin.host, admin.ssl_ca_cert), timeout=5.0)
    with pytest.raises(KubeError) as err:
        api.objects("pods", "default")
    message = str(err.value)
    assert "\n" not in message
    assert "HTTP 401" in message
    assert "credentials" in message


def test_watched_list_follows_changes_without_listing_again(
    embedded_cluster: EmbeddedCluster, kube_namespace: str
) -> None:
    api = embedded_cluster.api(timeout=30.0)
    _create_configmaps(api, kube_namespace, ["w-a"], "watched")
    lw = ListWatch(api, "configmaps", kube_namespace, label_selector="mcproof.io/lw=watched", watch_timeout_s=5)
    with WatchedList(lw) as watched:
        assert [o["metadata"]["name"] for o in watched.items()] == ["w-a"]
        _create_configmaps(api, kube_namespace, ["w-b"], "watched")
        api.core.delete_namespaced_config_map("w-a", kube_namespace, _request_timeout=30)
        deadline = time.monotonic() + 30
        while sorted(o["metadata"]["name"] for o in watched.items()) != ["w-b"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [o["metadata"]["name"] for o in watched.items()] == ["w-b"]
    assert lw.lists == 1


def test_transform_keeps_only_what_it_returns(embedded_cluster: EmbeddedCluster, kube_namespace: str) -> None:
    api = embedded_cluster.api(timeout=30.0)
    _create_configmaps(api, kube_namespace, ["t-a", "t-b"], "transform")

    def keep(obj: dict[str, Any]) -> dict[str, Any] | None:  # like the bridge: only "mine", slimmed
        name = obj["metadata"]["name"]
        return (
            {"metadata": {"name": name, "namespace": kube_namespace}} if obj.get("data", {}).get("k") == name else None
        )

    lw = ListWatch(api, "configmaps", kube_namespace, label_selector="mcproof.io/lw=transform", transform=keep)
    seen = []
    for kind, obj in lw.events(until=time.monotonic() + 30):
        seen.append((kind, obj.get("metadata", {}).get("name")))
        if kind == SYNC:
            assert lw.objects == {
                f"{kube_namespace}/t-a": {"metadata": {"name": "t-a", "namespace": kube_namespace}},
                f"{kube_namespace}/t-b": {"metadata": {"name": "t-b", "namespace": kube_namespace}},
            }
            api.core.patch_namespaced_config_map("t-a", kube_namespace, {"data": {"k": "other"}}, _request_timeout=30)
        elif kind == "DELETED":
            break
    assert seen == [(SYNC, None), ("DELETED", "t-a")]  # dropped by the transform: gone from the view
    assert list(lw.objects) == [f"{kube_namespace}/t-b"]
