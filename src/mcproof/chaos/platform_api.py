"""The platform API as a chaos target: where it is, whether ``/readyz`` answers, stopping and restarting it.

Where: the environment's ``platform_api.base_url`` (an *external* API, observed but never stopped), or
the sandbox's own daemon, whose ``<state dir>/platform/platform.json`` is re-read on every check (it is
absent while the daemon is down). Only the sandbox's daemon can be stopped and started
(:class:`~mcproof_sandbox.platform.control.PlatformServices`); it is restarted on its old port with its old
engine settings (saved in ``platform/chaos-restart.json`` when it is stopped), so clients find it at the
same URL. Its CA is regenerated on start at the same path, so each check builds a fresh TLS context.

The ``/readyz`` check is a bounded raw HTTPS request on asyncio (the observer runs it beside its
Minecraft pings); loopback-only environments refuse a non-loopback API host.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
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
RESTART_FILE = "chaos-restart.json"


@dataclass(frozen=True)
class ApiCheck:
    """One ``/readyz`` result: answered 2xx, latency, and why not (``refused``, ``timeout``, ``tls``, ``http-503``...)."""

    ok: bool
    latency_ms: float | None = None
    error_kind: str | None = None


def api_kind(env: Environment) -> str | None:
    """``"external"`` (platform_api section), ``"sandbox"`` (the sandbox's daemon) or None (no platform API)."""
    if env.platform_api is not None:
        return "external"
    return "sandbox" if env.sandbox_state_dir is not None else None


def current_endpoint(env: Environment) -> tuple[str, Path | None] | None:
    """The API's base URL and CA file now; None while the sandbox daemon is down (or there is no API)."""
    if env.platform_api is not None:
        ca = env.platform_api.ca_file
        return env.platform_api.base_url, env.resolve_path(ca) if ca is not None else None
    state_dir = env.sandbox_state_dir
    if state_dir is None:
        return None
    from mcproof_sandbox.platform.control import read_platform_info

    info = read_platform_info(state_dir)
    return (info.url, info.ca_file) if info is not None else None


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


def _services(env: Environment) -> Any:
    kind = api_kind(env)
    if kind != "sandbox":
        what = "names an external platform API" if kind == "external" else "has no platform API"
        raise GuardError(
            f"environment '{env.name}' {what}; mcproof stops and starts only the sandbox's own platform daemon"
        )
    from mcproof_sandbox.platform.control import PlatformServices

    state_dir = env.sandbox_state_dir
    assert state_dir is not None
    return PlatformServices(state_dir)


def stop_platform(env: Environment) -> dict[str, Any]:
    """Stop the sandbox's platform daemon (remembering its port and settings); JSON-safe summary."""
    services = _services(env)
    info = services.info()
    if info is None:
        return {"stopped": False, "reason": "the sandbox platform API was not running"}
    raw: dict[str, Any] = json.loads((info.platform_dir / "platform.json").read_text(encoding="utf-8"))
    spec = {"port": urlsplit(info.url).port or 0, "config": raw.get("config") or {}}
    (info.platform_dir / RESTART_FILE).write_text(json.dumps(spec), encoding="utf-8")
    services.down()
    return {"stopped": True, "url": info.url, "pid": info.pid}


def restart_platform(env: Environment, timeout_s: float = 30.0) -> dict[str, Any]:
    """Start the sandbox's platform daemon again on its old port (no-op when it runs); JSON-safe summary."""
    from mcproof.errors import SandboxError
    from mcproof_sandbox.platform.engine import EngineConfig

    services = _services(env)
    running = services.info()
    if running is not None:
        return {"started": False, "url": running.url, "reason": "already running"}
    spec_file = services.state_dir / "platform" / RESTART_FILE
    try:
        spec: dict[str, Any] = json.loads(spec_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        spec = {"port": 0, "config": {"environment": env.name}}
    raw = dict(spec.get("config") or {"environment": env.name})
    if "tenants" in raw:
        raw["tenants"] = tuple(raw["tenants"])
    config = EngineConfig(**raw)
    started = time.monotonic()
    try:
        info = services.up(config, timeout=timeout_s, port=int(spec.get("port") or 0))
    except SandboxError:  # the old port is taken meanwhile: any free port (clients re-read platform.json)
        info = services.up(config, timeout=timeout_s)
    spec_file.unlink(missing_ok=True)
    return {"started": True, "url": info.url, "took_s": round(time.monotonic() - started, 3)}


# --- for the runner -------------------------------------------------------------------------------


def skip_reason(env: Environment) -> str | None:
    """Why an experiment that stops the platform API cannot run here (None: it can)."""
    kind = api_kind(env)
    if kind is None:
        return f"environment '{env.name}' has no platform API (no platform_api section, no sandbox)"
    if kind == "external":
        return (f"environment '{env.name}' names an external platform API; mcproof stops and restarts only the "
                "sandbox's own platform daemon")  # fmt: skip
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
    from mcproof.errors import McproofError

    if api_kind(env) != "sandbox" or current_endpoint(env) is not None:
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
    return [f"  platform API: first failure {api['first_failure_at']}, ready again {api['recovered_at'] or 'never'}, "
            f"MTTR {api['mttr_s']}s"]  # fmt: skip
