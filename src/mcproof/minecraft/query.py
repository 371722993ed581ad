"""Query (GameSpy4 over UDP) probe on mcstatus's QueryClient."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcstatus import JavaServer
from mcstatus.responses import QueryResponse

from mcproof.discovery.target import Target
from mcproof.minecraft.bounded import probe_all
from mcproof.minecraft.status import classify_error, utc_now


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


def query_server(host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None) -> QueryResult:
    """Full-stat Query (blocking); never raises for a bad server."""
    address, at = f"{host}:{port}", utc_now()
    try:
        response = JavaServer(host, port, timeout=timeout, query_port=port).query(tries=1)
    except Exception as err:
        return _failed(target or address, address, at, err)
    return _from_response(target or address, address, at, response)


async def async_query_server(
    host: str, port: int = 25565, *, timeout: float = 3.0, target: str | None = None
) -> QueryResult:
    """Full-stat Query with a deadline over the exchange; never raises for a bad server."""
    address, at = f"{host}:{port}", utc_now()
    try:
        async with asyncio.timeout(timeout):
            response = await JavaServer(host, port, timeout=timeout, query_port=port).async_query(tries=1)
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
