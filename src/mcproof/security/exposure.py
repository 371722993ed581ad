"""Exposure scan: which declared ports answer on each Minecraft host, from the harness's vantage point.

TCP: a bounded connect scan (open | closed | filtered). UDP cannot be connect-scanned, so a UDP port
counts as open only when it answers a harmless protocol hello (Query handshake, Bedrock unconnected
ping); "no answer" is recorded as filtered (open|filtered to a port scanner). Judging the results
against the environment's policy is :func:`exposure_violations` (pure).

>>> r = PortProbe("mc-1", "127.0.0.1", "rcon", 25575, "tcp", "open", 0.1)
>>> exposure_violations([r], public={"slp"}, forbidden={"rcon"})[0]["problem"]
'rcon 127.0.0.1:25575/tcp is reachable but must not be'
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.security.settings import PortSpec

__all__ = ["PortProbe", "ScanItem", "exposure_violations", "plan_scan", "scan_ports"]

_QUERY_HELLO = b"\xfe\xfd\x09\x00\x00\x00\x01"
_RAKNET_MAGIC = bytes.fromhex("00ffff00fefefefefdfdfdfd12345678")


@dataclass(frozen=True)
class ScanItem:
    target: str
    host: str
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class PortProbe:
    """One port on one host: state open | closed | filtered."""

    target: str
    host: str
    name: str
    port: int
    protocol: str
    state: str
    elapsed_ms: float
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _port_for(spec: PortSpec, target_ports: dict[str, int | None]) -> int | None:
    if spec.port is not None:
        return spec.port
    return target_ports.get(spec.role)


def plan_scan(
    targets: Iterable[Any], specs: Iterable[PortSpec], *, default_rcon_port: int | None = None
) -> list[ScanItem]:
    """(host, port, protocol) to probe, deduplicated per host; ``port: null`` takes the target's own, and
    a target that names no RCON port is scanned on ``default_rcon_port`` (the environment's
    ``minecraft.rcon.port``: where the server would listen if RCON were on), so the check is never empty.

    Targets are mcproof.connect.targets.Target-like (id, host, port, query_port, rcon_port).

    >>> from mcproof.target import Target
    >>> [i.port for i in plan_scan([Target("a", "127.0.0.1")], [PortSpec(name="rcon", role="rcon")], default_rcon_port=25575)]
    [25575]
    """
    specs = list(specs)
    seen: set[tuple[str, int, str]] = set()
    items: list[ScanItem] = []
    for t in targets:
        rcon = t.rcon_port if t.rcon_port is not None else default_rcon_port
        own = {"slp": t.port, "query": t.query_port, "rcon": rcon, "bedrock": None, "other": None}
        for spec in specs:
            port = _port_for(spec, own)
            if port is None:
                continue
            key = (t.host, port, spec.protocol)
            if key in seen:
                continue
            seen.add(key)
            items.append(ScanItem(t.id, t.host, spec.name, port, spec.protocol))
    return items


async def _tcp(item: ScanItem, timeout: float) -> PortProbe:
    start = time.perf_counter()
    state, detail = "open", ""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(item.host, item.port), timeout)
        writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), timeout)
    except ConnectionRefusedError:
        state, detail = "closed", "connection refused"
    except TimeoutError:
        state, detail = "filtered", f"no answer within {timeout}s"
    except OSError as err:
        state, detail = "closed", f"{type(err).__name__}: {err}"[:120]
    ms = round((time.perf_counter() - start) * 1000, 2)
    return PortProbe(item.target, item.host, item.name, item.port, item.protocol, state, ms, detail)


def _udp_hello(name: str) -> bytes:
    if name.startswith("bedrock"):
        return b"\x01" + int(time.time() * 1000).to_bytes(8, "big") + _RAKNET_MAGIC + os.urandom(8)
    return _QUERY_HELLO


def _udp_blocking(item: ScanItem, timeout: float) -> tuple[str, str]:
    family = socket.AF_INET6 if ":" in item.host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((item.host, item.port))
            sock.send(_udp_hello(item.name))
            data = sock.recv(2048)
        except ConnectionRefusedError:
            return "closed", "ICMP port unreachable"
        except TimeoutError:
            return "filtered", f"no answer to a protocol hello within {timeout}s"
        except OSError as err:
            return "closed", f"{type(err).__name__}: {err}"[:120]
    return "open", f"answered {len(data)} bytes"


async def _udp(item: ScanItem, timeout: float) -> PortProbe:
    start = time.perf_counter()
    state, detail = await asyncio.to_thread(_udp_blocking, item, timeout)
    ms = round((time.perf_counter() - start) * 1000, 2)
    return PortProbe(item.target, item.host, item.name, item.port, item.protocol, state, ms, detail)


async def _scan(items: list[ScanItem], timeout: float, concurrency: int) -> list[PortProbe]:
    gate = asyncio.Semaphore(concurrency)

    async def one(item: ScanItem) -> PortProbe:
        async with gate:
            return await (_tcp(item, timeout) if item.protocol == "tcp" else _udp(item, timeout))

    return list(await asyncio.gather(*(one(i) for i in items)))


def scan_ports(items: list[ScanItem], *, timeout: float = 1.0, concurrency: int = 128) -> list[PortProbe]:
    """Probe every item once (bounded by ``timeout`` each and ``concurrency`` at a time)."""
    return asyncio.run(_scan(items, timeout, min(concurrency, 32) if _has_udp(items) else concurrency))


def _has_udp(items: list[ScanItem]) -> bool:
    return any(i.protocol == "udp" for i in items)


def exposure_violations(probes: Iterable[PortProbe], *, public: set[str], forbidden: set[str]) -> list[dict[str, str]]:
    """Policy breaches: a forbidden port that is open, or a public port that does not answer."""
    out: list[dict[str, str]] = []
    for p in probes:
        where = f"{p.name} {p.host}:{p.port}/{p.protocol}"
        if p.name in forbidden and p.state == "open":
            out.append({"target": p.target, "port": where, "problem": f"{where} is reachable but must not be"})
        elif p.name in public and p.state != "open":
            out.append({"target": p.target, "port": where, "problem": f"{where} is declared public but {p.state}"})
    return out
