"""The hosting platform's API (the environment's `platform_api:` section, else the sandbox's own API):
no token -> 401, tokens never echoed, security headers present, another tenant's server -> 403/404 with
none of its data, repeated auth failures rate-limited (429 + Retry-After). The rate-limit check runs last
in this module and waits out the lockout it caused (bounded), so later checks are not locked out."""

from __future__ import annotations

import time
import uuid

import pytest

from mcproof.platform.adapter import ApiCallError
from mcproof.secrets import Secret
from mcproof.security.platform_api import ApiTarget, hsts_max_age

pytestmark = pytest.mark.security

FAKE_TOKEN = Secret("mcproof-probe-invalid-token-7f3a9c", "probe")  # a deliberately invalid token
MISSING = "mcproof-probe-missing"
# (method, path) probed without / with an invalid token; few, so the probe itself stays under any lockout
UNAUTH_PROBES = (
    ("GET", "/v1/servers"),
    ("GET", f"/v1/servers/{MISSING}"),
    ("GET", f"/v1/servers/{MISSING}/backups"),
    ("POST", f"/v1/servers/{MISSING}/power"),
)
MIN_HSTS_S = 15_768_000  # six months
RATE_LIMIT_ATTEMPTS = 30
MAX_RETRY_WAIT_S = 60.0


def test_api_requires_token(platform_api: ApiTarget) -> None:
    bad = []
    for label, client in (
        ("no token", platform_api.client(None)),
        ("an invalid token", platform_api.client(FAKE_TOKEN)),
    ):
        for method, path in UNAUTH_PROBES:
            r = client.request(method, path, {"signal": "start"} if method == "POST" else None)
            if r.status_code != 401:
                bad.append(f"{method} {path} with {label} -> {r.status_code}")
            if FAKE_TOKEN.reveal() in r.text or FAKE_TOKEN.reveal() in str(r.headers):
                bad.append(f"{method} {path} echoes the invalid token")
            if '"data"' in r.text or '"host"' in r.text:
                bad.append(f"{method} {path} with {label} answered with data")
    assert not bad, "; ".join(bad) + ". Fix: authenticate every /v1 route before any handler runs (401)"


def test_api_security_headers(platform_api: ApiTarget) -> None:
    if platform_api.tenant_a is None:
        pytest.skip("platform_api.token not set: cannot make an authorised request")
    bad = []
    for path in ("/v1/servers", f"/v1/servers/{MISSING}"):
        r = platform_api.tenant_a.request("GET", path)
        h = r.headers
        where = f"GET {path} ({r.status_code})"
        if hsts_max_age(h.get("Strict-Transport-Security", "")) < MIN_HSTS_S:
            bad.append(f"{where}: Strict-Transport-Security max-age >= {MIN_HSTS_S} missing")
        if h.get("X-Content-Type-Options", "").lower() != "nosniff":
            bad.append(f"{where}: X-Content-Type-Options: nosniff missing")
        if "no-store" not in h.get("Cache-Control", "").lower():
            bad.append(f"{where}: Cache-Control: no-store missing")
        if not h.get("Content-Security-Policy"):
            bad.append(f"{where}: Content-Security-Policy missing")
    assert not bad, "; ".join(bad) + ". Fix: add these headers to every API response, errors included"


def test_api_cross_tenant_denied(platform_api: ApiTarget) -> None:
    alpha, beta = platform_api.tenant_a, platform_api.tenant_b
    if alpha is None or beta is None:
        pytest.skip("needs two tenants' tokens: set platform_api.token and platform_api.second_tenant_token")
    name = f"mcproof-xt-{uuid.uuid4().hex[:8]}"
    try:
        server = alpha.create_server(name)
    except ApiCallError as err:
        pytest.fail(f"tenant A could not create a server for the check: {err}", pytrace=False)
    bad = []
    try:
        secrets_of_a = (name, f"{server.host}:{server.port}", f'"port": {server.port}')
        if any(s.id == server.id for s in beta.list_servers()):
            bad.append(f"GET /v1/servers of tenant B lists tenant A's server {server.id}")
        for method, path, body in (
            ("GET", f"/v1/servers/{server.id}", None),
            ("POST", f"/v1/servers/{server.id}/power", {"signal": "kill"}),
            ("GET", f"/v1/servers/{server.id}/backups", None),
            ("DELETE", f"/v1/servers/{server.id}", None),
        ):
            r = beta.request(method, path, body)
            if r.status_code not in (403, 404):
                bad.append(f"{method} {path} as tenant B -> {r.status_code}")
            leaked = [s for s in secrets_of_a if s in r.text]
            if leaked:
                bad.append(f"{method} {path} as tenant B shows tenant A's data ({len(leaked)} item(s))")
        try:
            after = alpha.get_server(server.id)
            if after.power != server.power:
                bad.append(f"tenant B's power call changed tenant A's server ({server.power} -> {after.power})")
        except ApiCallError as err:
            bad.append(f"tenant A's server is gone after tenant B's calls ({err.status})")
    finally:
        try:
            alpha.delete_server(server.id)
        except ApiCallError as err:
            if err.status != 404:
                bad.append(f"clean-up failed: DELETE /v1/servers/{server.id} -> {err.status}")
    assert not bad, "; ".join(bad) + ". Fix: scope every lookup by the caller's tenant and answer 404 with no data"


def test_api_auth_failures_rate_limited(platform_api: ApiTarget) -> None:
    client = platform_api.client(FAKE_TOKEN)
    codes: list[int] = []
    limited = None
    for _ in range(RATE_LIMIT_ATTEMPTS):
        r = client.request("GET", "/v1/servers")
        codes.append(r.status_code)
        if r.status_code == 429:
            limited = r
            break
    assert limited is not None, (
        f"GET /v1/servers: {RATE_LIMIT_ATTEMPTS} requests with an invalid token in a row were never rate-limited "
        f"(codes {sorted(set(codes))}). Fix: lock a client address out after repeated authentication failures: "
        "answer 429 with Retry-After"
    )
    retry = limited.headers.get("Retry-After", "")
    seconds = int(retry) if retry.isdigit() else 0
    assert seconds >= 1, (
        f"GET /v1/servers answered 429 after {len(codes)} failures without a usable Retry-After ({retry!r}); "
        "Fix: send Retry-After: <seconds>"
    )
    if seconds <= MAX_RETRY_WAIT_S and platform_api.tenant_a is not None:  # wait out the lockout we caused
        deadline = time.monotonic() + seconds + 5.0
        time.sleep(seconds)
        while platform_api.tenant_a.request("GET", "/v1/servers").status_code == 429 and time.monotonic() < deadline:
            time.sleep(0.5)
        final = platform_api.tenant_a.request("GET", "/v1/servers").status_code
        assert final == 200, f"GET /v1/servers still {final} after Retry-After {retry}s; the lockout must lift"
