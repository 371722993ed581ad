"""TLS on every endpoint the environment declares (security.tls, plus the platform API -- the
`platform_api` section's, else the sandbox's own -- when it is HTTPS): protocol >= the minimum, legacy protocols refused, chain valid for the hostname, expiry beyond
the window. When the legacy-protocol refusal could not be tried (this client's OpenSSL cannot offer
TLS 1.0/1.1) and nothing else failed, the check is inconclusive with the reason, never pass."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from mcproof.config import Environment
from mcproof.connect.platform import platform_endpoint
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import TlsEvidence
from mcproof.security.settings import SecuritySettings, TlsEndpoint
from mcproof.security.tls import inspect_tls, tls_problems, tls_untried
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.security


def _endpoints(environment: Environment, security: SecuritySettings) -> list[TlsEndpoint]:
    found = [
        e.model_copy(update={"ca_file": environment.resolve_path(e.ca_file) if e.ca_file else None})
        for e in security.tls
    ]
    try:
        api = platform_endpoint(environment)
    except McproofError:  # no platform API here (NoPlatformApi), or it cannot be located: nothing to add
        return found
    if api.base_url.startswith("https://"):
        url = urlsplit(api.base_url)
        window = environment.platform_api.cert_warning_days if environment.platform_api else None
        found.append(
            TlsEndpoint(
                name="platform_api",
                host=url.hostname or "",
                port=url.port or 443,
                ca_file=api.ca_file,
                **({"expiry_window_days": window} if window is not None else {}),
            )
        )
    return found


def test_tls_endpoints(environment: Environment, security: SecuritySettings, evidence: RunStore) -> None:
    endpoints = _endpoints(environment, security)
    if not endpoints:
        pytest.skip("no TLS endpoint declared (security.tls is empty and platform_api is not https)")
    results = [
        inspect_tls(e.name, e.host, e.port, server_name=e.server_name, ca_file=e.ca_file, timeout=security.timeout_s)
        for e in endpoints
    ]
    problems = [
        p
        for e, r in zip(endpoints, results, strict=True)
        for p in tls_problems(r, min_version=security.tls_min_version, window_days=e.expiry_window_days)
    ]
    evidence.append(
        TlsEvidence(
            environment=environment.name,
            method="Python ssl: verified handshake (CA, hostname), unverified handshake for the certificate, "
            "a TLS 1.0/1.1-only handshake",
            check="test_tls_endpoints",
            min_version=security.tls_min_version,
            endpoints=[r.as_dict() for r in results],
            problems=problems,
            passed=not problems and not any(tls_untried(r) for r in results),
        )
    )
    assert not problems, "; ".join(problems)
    untried = [u for r in results if (u := tls_untried(r))]
    if untried:
        inconclusive(
            "; ".join(untried),
            "run the TLS checks from a host whose OpenSSL can offer TLS 1.0/1.1 (e.g. OPENSSL_CONF pointing at a "
            "file with MinProtocol = TLSv1 and CipherString = DEFAULT@SECLEVEL=0), or probe with "
            "`openssl s_client -tls1_1` from such a host",
        )
