"""The answers a real kube-apiserver gives only under pressure, served on loopback by a small stand-in:
an expired continue token (410 mid-list), a watch resourceVersion that is too old (ERROR event 410),
and a watch stream that breaks off mid-chunk (urllib3 ProtocolError).

Why a stand-in here (and only here): the embedded 1.36 API server serves continue tokens and watches
from its watch cache, so compacting etcd does not produce a 410 on demand, and a broken stream needs
a server that drops the connection mid-response. The JSON shapes are the API server's (Status,
WatchEvent). Pagination and resumed watches against the real API server: test_kube_listwatch.py.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from mcproof.kubeapi import KubeApi, KubeError, connect
from mcproof.kubeapi.listwatch import SYNC, ListWatch

pytestmark = [pytest.mark.integration, pytest.mark.kubernetes]

GONE = {
    "kind": "Status",
    "apiVersion": "v1",
    "metadata": {},
    "status": "Failure",
    "reason": "Expired",
    "code": 410,
    "message": "The provided continue parameter is too old to display a consistent list result.",
}


def _cm(name: str, rv: int) -> dict[str, Any]:
    return {"kind": "ConfigMap", "metadata": {"name": name, "namespace": "t", "resourceVersion": str(rv)}}


class _Api(BaseHTTPRequestHandler):
    """ConfigMaps in namespace ``t``: 5 items at rv 10, in pages; a watch per ``server.watch_plan``."""

    protocol_version = "HTTP/1.1"
    items = [_cm(f"cm-{i}", 10) for i in range(5)]

    def log_message(self, *args: Any) -> None:
        pass

    def _json(self, code: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        server: Any = self.server
        query = {k: v[0] for k, v in parse_qs(urlparse(self.path).query).items()}
        server.requests.append(query)
        if query.get("watch") == "true":
            self._watch(server, query)
            return
        token = query.get("continue")
        if token and server.expire_tokens > 0:
            server.expire_tokens -= 1
            self._json(410, GONE)
            return
        limit, start = int(query.get("limit", "500")), int(token or 0)
        page = self.items[start : start + limit]
        more = start + limit < len(self.items)
        meta = {"resourceVersion": "10", **({"continue": str(start + limit)} if more else {})}
        self._json(200, {"kind": "ConfigMapList", "metadata": meta, "items": page})

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _watch(self, server: Any, query: dict[str, str]) -> None:
        step = server.watch_plan.pop(0) if server.watch_plan else "quiet"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if step == "gone":  # what the watch cache sends for a resourceVersion it no longer keeps
            event = {"type": "ERROR", "object": {**GONE, "message": "too old resource version"}}
            self._chunk(json.dumps(event).encode() + b"\n")
        elif step == "break":  # one event, then half of the next, then the connection drops
            self._chunk(json.dumps({"type": "ADDED", "object": _cm("new-a", 11)}).encode() + b"\n")
            self.wfile.write(b'40\r\n{"type":"ADDED","obj')
            self.wfile.flush()
            self.close_connection = True
            return
        elif step == "resume":
            self._chunk(json.dumps({"type": "ADDED", "object": _cm("new-b", 12)}).encode() + b"\n")
        else:
            time.sleep(min(1.0, float(query.get("timeoutSeconds", "1"))))
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture
def fake_api(tmp_path: Path) -> Iterator[tuple[KubeApi, Any]]:
    server: Any = ThreadingHTTPServer(("127.0.0.1", 0), _Api)
    server.requests, server.expire_tokens, server.watch_plan = [], 0, []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "x",
        "clusters": [{"name": "x", "cluster": {"server": f"http://127.0.0.1:{server.server_address[1]}"}}],
        "users": [{"name": "x", "user": {"token": "t"}}],
        "contexts": [{"name": "x", "context": {"cluster": "x", "user": "x"}}],
    }
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config), encoding="utf-8")
    api = connect(tmp_path / "kubeconfig", timeout=5.0)
    yield KubeApi(api.client, api.core, api.apps, api.timeout, api.kubeconfig, api.context, page_limit=2), server
    server.shutdown()
    server.server_close()


def test_expired_continue_token_restarts_the_list(fake_api: tuple[KubeApi, Any]) -> None:
    api, server = fake_api
    server.expire_tokens = 1
    items = api.objects("configmaps", "t")
    assert [i["metadata"]["name"] for i in items] == [f"cm-{i}" for i in range(5)]  # complete, no duplicates
    assert [r.get("continue") for r in server.requests] == [None, "2", None, "2", "4"]  # 410 -> from the start


def test_continue_token_that_keeps_expiring_is_one_line(fake_api: tuple[KubeApi, Any]) -> None:
    api, server = fake_api
    server.expire_tokens = 100
    with pytest.raises(KubeError) as err:
        api.objects("configmaps", "t")
    assert "\n" not in str(err.value)
    assert "list_namespaced_config_map(t)" in str(err.value)
    assert "HTTP 410" in str(err.value)
    assert "run again" in str(err.value)


def test_too_old_resource_version_relists(fake_api: tuple[KubeApi, Any]) -> None:
    api, server = fake_api
    server.watch_plan = ["gone"]
    lw = ListWatch(api, "configmaps", "t", watch_timeout_s=1)
    kinds = [k for k, _ in _take(lw, 2)]
    assert kinds == [SYNC, SYNC]
    assert lw.lists == 2
    assert len(lw.objects) == 5


def test_broken_stream_resumes_from_the_last_resource_version(fake_api: tuple[KubeApi, Any]) -> None:
    api, server = fake_api
    server.watch_plan = ["break", "resume"]
    lw = ListWatch(api, "configmaps", "t", watch_timeout_s=1)
    events = _take(lw, 3)
    assert [(k, o.get("metadata", {}).get("name")) for k, o in events] == [
        (SYNC, None),
        ("ADDED", "new-a"),
        ("ADDED", "new-b"),
    ]
    watches = [r for r in server.requests if r.get("watch") == "true"]
    assert [w["resourceVersion"] for w in watches[:2]] == ["10", "11"]  # resumed after new-a, not relisted
    assert lw.lists == 1
    assert lw.reconnects == 1
    assert sorted(lw.objects)[-2:] == ["t/new-a", "t/new-b"]


def _take(lw: ListWatch, n: int) -> list[tuple[str, dict[str, Any]]]:
    got = []
    for event in lw.events(until=time.monotonic() + 20):
        got.append(event)
        if len(got) >= n:
            break
    return got
