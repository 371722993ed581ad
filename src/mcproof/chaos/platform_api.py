"""The platform API as a chaos target: where it is, whether ``/readyz`` answers, stopping and restarting it.

Where: the environment's ``platform_api.base_url`` (an *external* API, observed but never stopped), or
the sandbox's own daemon, located anew on every check through :mod:`mcproof.connect` (it is gone while
the daemon is down). Only an API the environment's fault injector may stop (capability
``platform_api.outage``: the sandbox's daemon) is stopped and started; it comes back on its old port with
its old settings, so clients find it at the same URL. Its CA is regenerated on start at the same path,
so each check builds a fresh TLS context.

The ``/readyz`` check is a bounded raw HTTPS request on asyncio (the observer runs it beside its
Minecraft pings); loopback-only environments refuse a non-loopback API host.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mcproof.config import Environment
from mcproof.errors import GuardError

__all__ = [
    "API_TARGET",
    "ApiCheck",
    "api_kind",
    "check_ready",
    "current_endpoint",
    "observer_checks",
    "readyz",
    "restart_platform",
    "safety_restart",
    "skip_reason",
    "stop_platform",
    "summary_lines",
]

API_TARGET = "platform-api"  # the observer's target id for the API


@dataclass(frozen=True)
class ApiCheck:
    """One ``/readyz`` result: answered 2xx, latency, and why not (``refused``, ``timeout``, ``tls``, ``http-503``...)."""

    ok: bool
    latency_ms: float | None = None
    error_kind: str | None = None


def api_kind(env: Environment) -> str | None:
    """``"external"`` (platform_api section), ``"sandbox"`` (the sandbox's daemon) or None (no platform API)."""
    from mcproof.connect.platform import platform_source

    source = platform_source(env)
    return "external" if source == "environment" else source


def current_endpoint(env: Environment) -> tuple[str, Path | None] | None:
    """The API's base URL and CA file now; None while it is down in the sandbox (or there is no API)."""
    from mcproof.connect.platform import platform_endpoint
    from mcproof.errors import NoPlatformApi

    try:
        endpoint = platform_endpoint(env)
    except NoPlatformApi:
        return None
    return endpoint.base_url, endpoint.ca_file


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def readyz(url: str, ca_file: Path | None, timeout: float, *, loopback_only: bool = True) -> ApiCheck:
    """GET ``<url>/readyz`` over TLS (trusting ``ca_file``), bounded by ``timeout``; never raises."""
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    if loopback_only and not _loopback(host):
        return ApiCheck(False, None, "not-loopback")
    started = time.perf_counter()
    try:
        ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None) if parts.scheme == "https" else None
        async with asyncio.timeout(timeout):
            reader, writer = await asyncio.open_connection(host, port, ssl=ctx, server_hostname=host if ctx else None)
            try:
                path = parts.path.rstrip("/") + "/readyz"
                writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
                await writer.drain()
                line = await reader.readline()
            finally:
                writer.close()
                with contextlib.suppress(Exception):
                    await writer.wait_closed()
    except TimeoutError:
        return ApiCheck(False, None, "timeout")
    except ConnectionRefusedError:
        return ApiCheck(False, None, "refused")
    except (ssl.SSLError, ssl.CertificateError):
        return ApiCheck(False, None, "tls")
    except OSError:
        return ApiCheck(False, None, "oserror")
    latency = round((time.perf_counter() - started) * 1000, 3)
    fields = line.split()
    status = int(fields[1]) if len(fields) >= 2 and fields[1].isdigit() else 0
    if 200 <= status <= 299:
        return ApiCheck(True, latency, None)
    return ApiCheck(False, latency, f"http-{status}" if status else "bad-reply")


async def check_ready(env: Environment, timeout: float) -> ApiCheck:
    """``/readyz`` of the environment's platform API now (``no-endpoint`` while the sandbox daemon is down)."""
    endpoint = current_endpoint(env)
    if endpoint is None:
        return ApiCheck(False, None, "no-endpoint")
    return await readyz(endpoint[0], endpoint[1], timeout, loopback_only=env.guards.loopback_only)


def _outage_injector(env: Environment) -> Any:
    from mcproof.connect import fault_injector

    injector = fault_injector(env)
    if not injector.can("platform_api.outage"):
        kind = api_kind(env)
        what = "names an external platform API" if kind == "external" else "has no platform API"
        raise GuardError(
            f"environment '{env.name}' {what} that mcproof may stop (fault capability 'platform_api.outage'); "
            "mcproof observes an external API but never stops it"
        )
    return injector


def stop_platform(env: Environment) -> dict[str, Any]:
    """Stop the platform API through the fault injector (it remembers where to start it again)."""
    result: dict[str, Any] = _outage_injector(env).stop_platform_api()
    return result


def restart_platform(env: Environment, timeout_s: float = 30.0) -> dict[str, Any]:
    """Start the platform API again where clients find it (no-op when it runs); JSON-safe summary."""
    result: dict[str, Any] = _outage_injector(env).start_platform_api(timeout_s)
    return result


# --- for the runner -------------------------------------------------------------------------------


def skip_reason(env: Environment) -> str | None:
    """Why an experiment that stops the platform API cannot run here (None: it can)."""
    kind = api_kind(env)
    if kind is None:
        return f"environment '{env.name}' has no platform API (no platform_api section, no sandbox)"
    from mcproof.connect import fault_injector

    if not fault_injector(env).can("platform_api.outage"):
        return (
            f"environment '{env.name}' names an external platform API; mcproof stops and restarts only an "
            "API its fault injector may stop (capability 'platform_api.outage')"
        )
    if current_endpoint(env) is None:
        return f"the sandbox platform API of '{env.name}' is not running; `mcproof run` starts it with the sandbox"
    return None


def observer_checks(env: Environment, timeout: float) -> dict[str, Any]:
    """The observer's ``/readyz`` check of the API (target id :data:`API_TARGET`)."""

    async def ready() -> tuple[bool, float | None, str | None]:
        result = await check_ready(env, timeout)
        return result.ok, result.latency_ms, result.error_kind

    return {API_TARGET: ready}


def safety_restart(env: Environment) -> str:
    """After chaoslib: start the sandbox API if the rollbacks left it down; a reason line when it acted."""
    from mcproof.connect import fault_injector
    from mcproof.errors import McproofError

    if not fault_injector(env).can("platform_api.outage") or current_endpoint(env) is not None:
        return ""
    try:
        restart_platform(env)
    except McproofError:
        return "the platform API is still down after the rollbacks and the safety net could not start it"
    return "safety net restarted the platform API the rollbacks left down"


def summary_lines(per_server: Sequence[dict[str, Any]]) -> list[str]:
    """The API's outage figures for the run's output."""
    api = next((s for s in per_server if s.get("target") == API_TARGET), None)
    if api is None:
        return ["  platform API: no failed /readyz sample seen"]
    return [
        f"  platform API: first failure {api['first_failure_at']}, ready again {api['recovered_at'] or 'never'}, "
        f"MTTR {api['mttr_s']}s"
    ]
