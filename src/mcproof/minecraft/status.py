"""Server List Ping status probes on mcstatus, with errors sorted into kinds.

`status_ping` (sync, also used by Locust users on gevent sockets) and `async_status_ping` (for fleet
sweeps) never raise for a bad server: every outcome is a `StatusResult` whose `error_kind` is one of
ERROR_KINDS. Each call is bounded: mcstatus applies `timeout` per socket operation, and we add a
deadline over the whole exchange (a server trickling bytes cannot hold us past it). Retries are off
(`tries=1`): a retry would hide a failing server.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from mcstatus import BedrockServer, JavaServer

ERROR_KINDS = ("timeout", "refused", "reset", "malformed", "unreachable", "error")


@dataclass(frozen=True)
class StatusResult:
    """One status ping of one server."""

    target: str
    address: str
    ok: bool
    at: str
    latency_ms: float | None = None
    version_name: str | None = None
    protocol: int | None = None
    motd: str | None = None
    players_online: int | None = None
    players_max: int | None = None
    error_kind: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def classify_error(err: BaseException) -> tuple[str, str]:
    """Map an exception from a ping to (kind, short message).

    >>> classify_error(ConnectionRefusedError(111, "Connection refused"))[0]
    'refused'
    """
    if isinstance(err, TimeoutError | socket.timeout | asyncio.TimeoutError):
        return "timeout", "no reply within the timeout"
    if isinstance(err, ConnectionRefusedError):
        return "refused", "connection refused"
    if isinstance(err, ConnectionResetError | BrokenPipeError | asyncio.IncompleteReadError):
        return "reset", "connection closed by the server mid-exchange"
    if isinstance(err, json.JSONDecodeError | ValueError | KeyError | TypeError | UnicodeDecodeError):
        return "malformed", f"malformed reply ({type(err).__name__}: {str(err)[:120]})"
    if isinstance(err, OSError):
        message = str(err)
        if "invalid" in message.lower() or "mangled" in message.lower():
            return "malformed", f"malformed reply ({message[:120]})"
        if "did not respond" in message.lower():
            return "reset", "connection closed by the server without a reply"
        if err.errno is not None and err.errno in {101, 113, 99}:
            return "unreachable", f"address unreachable ({message[:80]})"
        return "error", message[:160] or type(err).__name__
    return "error", f"{type(err).__name__}: {str(err)[:150]}"


def _ok_result(target: str, address: str, at: str, response: Any) -> StatusResult:
    players = response.players
    online, maximum = players.online, players.max
    if not isinstance(online, int) or not isinstance(maximum, int):
        return StatusResult(
            target, address, False, at, error_kind="malformed", error="players.online/max are not integers"
        )
    return StatusResult(
        target=target,
        address=address,
        ok=True,
        at=at,
        latency_ms=round(float(response.latency), 3),
        version_name=str(response.version.name),
        protocol=int(response.version.protocol),
        motd=response.motd.to_plain(),
        players_online=online,
        players_max=maximum,
    )


def _failed(target: str, address: str, at: str, err: BaseException) -> StatusResult:
    kind, message = classify_error(err)
    return StatusResult(target, address, False, at, error_kind=kind, error=message)


def status_ping(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None, edition: str = "java"
) -> StatusResult:
    """One blocking status ping (gevent-friendly); never raises for a bad server.

    Java Edition: Server List Ping over TCP; Bedrock Edition: RakNet unconnected ping over UDP.
    """
    address = f"{host}:{port}"
    at = utc_now()
    deadline = time.monotonic() + 2 * timeout
    try:
        if edition == "bedrock":
            response: Any = BedrockServer(host, port, timeout=timeout).status(tries=1)
        else:
            response = JavaServer(host, port, timeout=timeout).status(tries=1)
        if time.monotonic() > deadline:
            raise TimeoutError("exchange exceeded the deadline")
        return _ok_result(target or address, address, at, response)
    except Exception as err:
        return _failed(target or address, address, at, err)


async def async_status_ping(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None, edition: str = "java"
) -> StatusResult:
    """One asyncio status ping with a deadline over the whole exchange; never raises for a bad server."""
    address = f"{host}:{port}"
    at = utc_now()
    try:
        async with asyncio.timeout(timeout):
            if edition == "bedrock":
                response: Any = await BedrockServer(host, port, timeout=timeout).async_status(tries=1)
            else:
                response = await JavaServer(host, port, timeout=timeout).async_status(tries=1)
        return _ok_result(target or address, address, at, response)
    except Exception as err:
        return _failed(target or address, address, at, err)
