"""Server List Ping status probes on mcstatus, with errors sorted into kinds.

`status_ping` (sync, also used by Locust users on gevent sockets) and `async_status_ping` (for fleet
sweeps) never raise for a bad server: every outcome is a `StatusResult` whose `error_kind` is one of
ERROR_KINDS. Each call is bounded over the WHOLE exchange: mcstatus applies `timeout` per socket
operation, so the sync calls hand mcstatus's protocol client a deadline-bound socket
(:mod:`mcproof.minecraft.deadline`) and the async calls run under `asyncio.timeout`; either way a
server that trickles bytes, never answers or sends an endless reply costs at most `timeout` plus
`DEADLINE_SLACK_S`, and replies over `MAX_REPLY_BYTES` are refused (`malformed`, "oversized reply").
Retries are off (`tries=1`): a retry would hide a failing server.

Load users (gevent) can call `status_ping` / `java_status` directly: the deadline socket is plain
`socket` calls, which gevent patches.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from mcstatus._net.address import Address
from mcstatus._protocol.bedrock_client import BedrockClient
from mcstatus._protocol.java_client import AsyncJavaClient, JavaClient
from mcstatus._protocol.legacy_client import AsyncLegacyClient, LegacyClient
from mcstatus.responses import BedrockStatusResponse, JavaStatusResponse, LegacyStatusResponse

from mcproof.clock import utc_now
from mcproof.minecraft.deadline import (
    MAX_REPLY_BYTES,
    ExchangeTimeout,
    ReplyTooLarge,
    async_tcp_connection,
    tcp_connection,
    udp_connection,
)

__all__ = [
    "ERROR_KINDS",
    "StatusResult",
    "async_legacy_ping",
    "async_status_ping",
    "bedrock_status",
    "classify_error",
    "java_status",
    "legacy_ping",
    "legacy_status",
    "status_ping",
    "utc_now",
]

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


def classify_error(err: BaseException) -> tuple[str, str]:
    """Map an exception from a ping to (kind, short message).

    >>> classify_error(ConnectionRefusedError(111, "Connection refused"))[0]
    'refused'
    """
    if isinstance(err, ExchangeTimeout):
        return "timeout", str(err)
    if isinstance(err, ReplyTooLarge):
        return "malformed", str(err)
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
        if any(w in message.lower() for w in ("invalid", "mangled", "more data than available")):
            return "malformed", f"malformed reply ({message[:120]})"
        if "did not respond" in message.lower():
            return "reset", "connection closed by the server without a reply"
        if err.errno is not None and err.errno in {101, 113, 99}:
            return "unreachable", f"address unreachable ({message[:80]})"
        return "error", message[:160] or type(err).__name__
    return "error", f"{type(err).__name__}: {str(err)[:150]}"


def _ok_result(target: str, address: str, at: str, response: Any, exchange_ms: float | None = None) -> StatusResult:
    """`latency_ms` is the whole exchange (connect, handshake, request, reply) when `exchange_ms` is given, as a
    player's client sees it; mcstatus's own `latency` starts after the request is written and misses a slow
    accept queue or proxy."""
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
        latency_ms=round(float(response.latency if exchange_ms is None else exchange_ms), 3),
        version_name=str(response.version.name),
        protocol=int(response.version.protocol),
        motd=response.motd.to_plain(),
        players_online=online,
        players_max=maximum,
    )


def _failed(target: str, address: str, at: str, err: BaseException) -> StatusResult:
    kind, message = classify_error(err)
    return StatusResult(target, address, False, at, error_kind=kind, error=message)


def java_status(
    host: str, port: int = 25565, *, timeout: float = 3.0, max_bytes: int = MAX_REPLY_BYTES
) -> JavaStatusResponse:
    """One blocking Server List Ping, bounded over the whole exchange (raises; see `status_ping`).

    ExchangeTimeout past `timeout`, ReplyTooLarge past `max_bytes`, mcstatus's errors otherwise.
    """
    deadline = time.monotonic() + timeout
    with tcp_connection(host, port, deadline=deadline, timeout=timeout, max_bytes=max_bytes) as conn:
        client = JavaClient(conn, address=Address(host, port), version=47)
        client.handshake()
        return client.read_status()


def legacy_status(host: str, port: int = 25565, *, timeout: float = 3.0) -> LegacyStatusResponse:
    """One blocking legacy (1.4-1.6, 0xFE) ping, bounded over the whole exchange (raises)."""
    deadline = time.monotonic() + timeout
    with tcp_connection(host, port, deadline=deadline, timeout=timeout) as conn:
        return LegacyClient(conn).read_status()


def bedrock_status(host: str, port: int = 19132, *, timeout: float = 3.0) -> BedrockStatusResponse:
    """One blocking RakNet unconnected ping, bounded over the whole exchange (raises)."""
    deadline = time.monotonic() + timeout
    with udp_connection(host, port, deadline=deadline, timeout=timeout) as conn:
        start = time.perf_counter()
        conn.write(BedrockClient.request_status_data)
        data = conn.read(2048)
        return BedrockClient.parse_response(data, (time.perf_counter() - start) * 1000)


def status_ping(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None, edition: str = "java"
) -> StatusResult:
    """One blocking status ping (gevent-friendly), bounded over the whole exchange; never raises.

    `latency_ms` times the whole exchange (connect to last reply byte), so a slow accept queue counts.

    Java Edition: Server List Ping over TCP; Bedrock Edition: RakNet unconnected ping over UDP.
    """
    address = f"{host}:{port}"
    at = utc_now()
    try:
        start = time.perf_counter()
        if edition == "bedrock":
            response: Any = bedrock_status(host, port, timeout=timeout)
        else:
            response = java_status(host, port, timeout=timeout)
        return _ok_result(target or address, address, at, response, (time.perf_counter() - start) * 1000)
    except Exception as err:
        return _failed(target or address, address, at, err)


async def async_status_ping(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None, edition: str = "java"
) -> StatusResult:
    """One asyncio status ping, `asyncio.timeout` over the whole exchange; never raises for a bad server."""
    address = f"{host}:{port}"
    at = utc_now()
    try:
        try:
            async with asyncio.timeout(timeout):
                if edition == "bedrock":
                    response: Any = await BedrockClient(Address(host, port), timeout=timeout).read_status_async()
                else:
                    async with async_tcp_connection(host, port, timeout=timeout) as conn:
                        client = AsyncJavaClient(conn, address=Address(host, port), version=47)
                        await client.handshake()
                        response = await client.read_status()
        except TimeoutError:
            raise ExchangeTimeout(timeout) from None
        return _ok_result(target or address, address, at, response)
    except Exception as err:
        return _failed(target or address, address, at, err)


def _legacy_result(target: str, address: str, at: str, response: LegacyStatusResponse) -> StatusResult:
    return StatusResult(
        target=target,
        address=address,
        ok=True,
        at=at,
        latency_ms=round(float(response.latency), 3),
        version_name=str(response.version.name),
        protocol=int(response.version.protocol),
        motd=response.motd.to_plain(),
        players_online=int(response.players.online),
        players_max=int(response.players.max),
    )


def legacy_ping(host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None) -> StatusResult:
    """One blocking legacy ping, bounded over the whole exchange; never raises for a bad server."""
    address, at = f"{host}:{port}", utc_now()
    try:
        return _legacy_result(target or address, address, at, legacy_status(host, port, timeout=timeout))
    except Exception as err:
        return _failed(target or address, address, at, err)


async def async_legacy_ping(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None
) -> StatusResult:
    """One asyncio legacy ping, `asyncio.timeout` over the whole exchange; never raises for a bad server."""
    address, at = f"{host}:{port}", utc_now()
    try:
        try:
            async with asyncio.timeout(timeout), async_tcp_connection(host, port, timeout=timeout) as conn:
                response = await AsyncLegacyClient(conn).read_status()
        except TimeoutError:
            raise ExchangeTimeout(timeout) from None
        return _legacy_result(target or address, address, at, response)
    except Exception as err:
        return _failed(target or address, address, at, err)
