"""Query (GameSpy4 over UDP) probe on mcstatus's QueryClient, bounded over the whole exchange.

A Query is two round trips (challenge, then full stat) and mcstatus's sync UDP read waits `timeout`
per datagram and loops on empty ones, so the sync probe gives mcstatus's QueryClient a deadline-bound
socket (:mod:`mcproof.minecraft.deadline`: at most `timeout` + slack, at most 16 datagrams) and the
async probe runs under `asyncio.timeout`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcstatus._net.address import Address
from mcstatus._protocol.io.connection import UDPAsyncSocketConnection
from mcstatus._protocol.query_client import AsyncQueryClient, QueryClient
from mcstatus.responses import QueryResponse

from mcproof.minecraft.bounded import probe_all
from mcproof.minecraft.deadline import ExchangeTimeout, udp_connection
from mcproof.minecraft.status import classify_error, utc_now
from mcproof.target import Target


@dataclass(frozen=True)
class QueryResult:
    """One full-stat query of one server."""

    target: str
    address: str
    ok: bool
    at: str
    motd: str | None = None
    map_name: str | None = None
    players_online: int | None = None
    players_max: int | None = None
    software_version: str | None = None
    error_kind: str | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _from_response(target: str, address: str, at: str, response: QueryResponse) -> QueryResult:
    return QueryResult(
        target=target,
        address=address,
        ok=True,
        at=at,
        motd=response.motd.to_plain(),
        map_name=response.map_name,
        players_online=response.players.online,
        players_max=response.players.max,
        software_version=response.software.version,
    )


def _failed(target: str, address: str, at: str, err: BaseException) -> QueryResult:
    kind, message = classify_error(err)
    return QueryResult(target, address, False, at, error_kind=kind, error=message)


def query_status(host: str, port: int = 25565, *, timeout: float = 3.0) -> QueryResponse:
    """One blocking full-stat Query, bounded over the whole exchange (raises ExchangeTimeout etc.)."""
    deadline = time.monotonic() + timeout
    with udp_connection(host, port, deadline=deadline, timeout=timeout) as conn:
        client = QueryClient(conn)
        client.handshake()
        return client.read_query()


def query_server(host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None) -> QueryResult:
    """Full-stat Query (blocking, gevent-friendly), bounded over the whole exchange; never raises."""
    address, at = f"{host}:{port}", utc_now()
    try:
        response = query_status(host, port, timeout=timeout)
    except Exception as err:
        return _failed(target or address, address, at, err)
    return _from_response(target or address, address, at, response)


async def async_query_server(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None
) -> QueryResult:
    """Full-stat Query with a deadline over the exchange; never raises for a bad server."""
    address, at = f"{host}:{port}", utc_now()
    try:
        try:
            async with asyncio.timeout(timeout), UDPAsyncSocketConnection(Address(host, port), timeout) as conn:
                client = AsyncQueryClient(conn)
                await client.handshake()
                response = await client.read_query()
        except TimeoutError:
            raise ExchangeTimeout(timeout) from None
    except Exception as err:
        return _failed(target or address, address, at, err)
    return _from_response(target or address, address, at, response)


def query_fleet(
    targets: Sequence[Target], *, timeout: float = 3.0, concurrency: int = 256, deadline_s: float | None = None
) -> list[QueryResult]:
    """Query every target once (targets' query_port, else their game port), bounded."""
    limit = deadline_s if deadline_s is not None else max(30.0, timeout * 4 + len(targets) / 500)

    async def probe(t: Target) -> QueryResult:
        return await async_query_server(t.host, t.query_port or t.port, timeout=timeout, target=t.id)

    def unreached(t: Target) -> QueryResult:
        return QueryResult(
            t.id,
            f"{t.host}:{t.query_port or t.port}",
            False,
            utc_now(),
            error_kind="timeout",
            error="not reached before the deadline",
        )

    return asyncio.run(probe_all(targets, probe, concurrency=concurrency, deadline_s=limit, unreached=unreached))
