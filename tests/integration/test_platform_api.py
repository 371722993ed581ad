"""The sandbox platform API over real TLS: auth, tenant isolation, audit log, power, health and metrics."""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Iterator

import pytest
import requests

from mcproof.minecraft.status import status_ping
from mcproof.platform.adapter import ApiCallError
from mcproof.platform.client import PlatformClient
from mcproof.secrets import Secret, SecretRef
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformInfo, PlatformServices
from mcproof_sandbox.platform.engine import EngineConfig
from mcproof_sandbox.platform.tls import certificate_expiry

pytestmark = pytest.mark.integration


@pytest.fixture
def api(sandbox_factory: Callable[..., Sandbox]) -> Iterator[PlatformInfo]:
    sandbox = sandbox_factory(servers=3, boot_delay_s=0.5)
    services = PlatformServices(sandbox.state_dir)
    info = services.up(EngineConfig(environment="itest", autosave_s=0.5, filler_bytes=4096), timeout=30)
    try:
        yield info
    finally:
        services.down()


def _client(info: PlatformInfo, tenant: str) -> PlatformClient:
    return PlatformClient(info.url, SecretRef(file=info.token_file(tenant)).resolve(), ca_file=info.ca_file)


def test_requests_without_or_with_a_bad_token_get_401_and_are_audited(api: PlatformInfo) -> None:
    anon = PlatformClient(api.url, None, ca_file=api.ca_file)
    resp = anon.request("POST", "/v1/servers", {"name": "x"})
    assert resp.status_code == 401
    assert "WWW-Authenticate" in resp.headers
    cid = resp.headers["X-Correlation-ID"]
    bad = PlatformClient(api.url, Secret("mcp_not-a-token", "test"), ca_file=api.ca_file)
    assert bad.request("GET", "/v1/servers").status_code == 401
    entries = [json.loads(line) for line in api.audit_log.read_text().splitlines()]
    denied = [e for e in entries if e["correlation_id"] == cid]
    assert denied
    assert denied[0]["result"] == "denied"
    assert denied[0]["status"] == 401
    assert denied[0]["tenant"] is None


def test_other_tenant_gets_404_without_data(api: PlatformInfo) -> None:
    alpha, beta = _client(api, "alpha"), _client(api, "beta")
    server = alpha.create_server("alpha-world")
    assert beta.list_servers() == []
    for method, path, body in [
        ("GET", f"/v1/servers/{server.id}", None),
        ("GET", f"/v1/servers/{server.id}/backups", None),
        ("GET", f"/v1/servers/{server.id}/world", None),
        ("POST", f"/v1/servers/{server.id}/power", {"signal": "kill"}),
        ("POST", f"/v1/servers/{server.id}/backups", None),
        ("DELETE", f"/v1/servers/{server.id}", None),
    ]:
        resp = beta.request(method, path, body)
        assert resp.status_code in (403, 404), (method, path, resp.status_code)
        assert "alpha-world" not in resp.text
        assert server.host not in resp.text
    assert alpha.get_server(server.id).power == "running"  # beta's kill did nothing


def test_tls_is_verified_against_the_generated_ca(api: PlatformInfo) -> None:
    with pytest.raises(ApiCallError):
        PlatformClient(api.url, None, ca_file=None).health()  # system trust store does not know our CA
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(api.url + "/healthz", timeout=5)
    cert = ssl.get_server_certificate(("127.0.0.1", int(api.url.rsplit(":", 1)[1])))
    assert certificate_expiry(cert.encode()).timestamp() > time.time() + 7 * 86400


def test_power_actions_audit_and_crash_loses_unsaved_data(api: PlatformInfo) -> None:
    alpha = _client(api, "alpha")
    assert alpha.health()["readyz"]["ready"] is True
    server = alpha.create_server("w")
    time.sleep(0.3)
    killed = alpha.power(server.id, "kill")
    cid = alpha.last_correlation_id
    time.sleep(0.3)
    assert not status_ping(server.host, server.port, timeout=0.5).ok
    world = alpha.world(server.id)
    assert world["lost_marks"] >= 1
    assert world["saved"]["ok"]
    alpha.power(server.id, "start")
    deadline = time.monotonic() + 10
    while not status_ping(server.host, server.port, timeout=0.5).ok:
        assert time.monotonic() < deadline, "server did not come back after start"
        time.sleep(0.1)
    time.sleep(0.5)  # let the simulated players write markers (one per 0.1 s) before the saving stop
    stopped = alpha.power(server.id, "stop")  # saves first
    assert stopped["saved_seq"] >= 1
    assert killed["saved_seq"] is None
    with pytest.raises(ApiCallError) as bad:
        alpha.power(server.id, "explode")
    assert bad.value.status == 400
    entries = [json.loads(line) for line in api.audit_log.read_text().splitlines()]
    kill = next(e for e in entries if e["correlation_id"] == cid)
    assert kill["actor"] == "token:alpha"
    assert kill["action"] == "POST power"
    assert kill["result"] == "ok"
    assert "mcp_" not in api.audit_log.read_text()  # tokens never reach the audit log
    metrics = alpha.metrics()
    assert f'mcproof_platform_server_up{{server="{server.id}",tenant="alpha"}}' in metrics
    alpha.delete_server(server.id)
    assert alpha.list_servers() == []


def test_scheduled_backups_and_retention(sandbox_factory: Callable[..., Sandbox]) -> None:
    sandbox = sandbox_factory(servers=2, boot_delay_s=0.5)
    services = PlatformServices(sandbox.state_dir)
    cfg = EngineConfig(environment="itest", autosave_s=0.5, filler_bytes=4096, backup_interval_s=0.5, keep_last=2)
    info = services.up(cfg, timeout=30)
    try:
        alpha = _client(info, "alpha")
        server = alpha.create_server("sched")
        deadline = time.monotonic() + 20
        while len([b for b in alpha.list_backups(server.id) if b["trigger"] == "schedule"]) < 2:
            assert time.monotonic() < deadline, "no scheduled backups"
            time.sleep(0.2)
        time.sleep(2.0)
        available = alpha.list_backups(server.id)
        assert 1 <= len(available) <= 3  # keep_last=2, plus at most one taken since the last forget
        assert 'mcproof_backup_last_success_timestamp_seconds{server="' in alpha.metrics()
    finally:
        services.down()


def test_security_headers_and_auth_failure_lockout(api: PlatformInfo) -> None:
    alpha = _client(api, "alpha")
    bad = PlatformClient(api.url, Secret("mcp_not-a-token", "test"), ca_file=api.ca_file)
    for resp in (
        alpha.request("GET", "/v1/servers"),
        bad.request("GET", "/v1/servers"),
        alpha.request("GET", "/healthz"),
    ):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    codes = [bad.request("GET", "/v1/servers").status_code for _ in range(12)]  # 1 failure above, 10 lock out
    assert codes[:9] == [401] * 9
    assert codes[9:] == [429, 429, 429]
    locked = alpha.request("POST", "/v1/servers", {"name": "during-lockout"})  # valid token, same address
    assert locked.status_code == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 5
    assert "mcp_not-a-token" not in locked.text
    entries = [json.loads(line) for line in api.audit_log.read_text().splitlines()]
    assert any(e["status"] == 429 and e["target"] == "/v1/servers" and e["actor"] == "anonymous" for e in entries)
    time.sleep(int(locked.headers["Retry-After"]) + 0.2)
    assert alpha.request("GET", "/v1/servers").status_code == 200  # the lockout lifts by itself
