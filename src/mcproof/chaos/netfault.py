"""A userspace TCP fault proxy: real latency, loss and partitions on the path to chosen targets.

Why our own: ``tc netem`` is not available on this kernel (FIELD-NOTES), and the sandbox's servers
listen in the root network namespace on 127.x addresses, which cannot be moved into a namespace of
ours (127.0.0.0/8 is martian on a veth). nftables in the root namespace would change the host's
firewall. So the path is made of real sockets: each faulted target gets a *front* address
(``proxy_base_address`` + its index) that forwards to the target, and the fault acts on the bytes:

- ``latency``: every chunk is held ``latency_ms`` before it is forwarded (both directions);
- ``loss``: a share of new connections is blackholed (accepted, never answered) — what heavy packet
  loss looks like to a TCP client that gives up after its timeout;
- ``partition``: ``drop`` blackholes every connection, ``reject`` resets it at once.

Players (and the observer) reach a faulted target through its front. The proxy runs in a thread with
its own event loop; :func:`active_proxy` is how the actions find it. Every held connection is closed
after ``hold_cap_s``; stopping the proxy closes everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import random
import threading
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any

from mcproof.errors import GuardError
from mcproof.target import Target, is_loopback

__all__ = ["FaultProxy", "PathFault", "active_proxy", "front_targets"]

_CHUNK = 65536


@dataclass
class PathFault:
    """The fault currently on the path (mutable; read by the proxy's connections)."""

    latency_ms: float = 0.0
    loss: float = 0.0
    partition: str | None = None  # None | "drop" | "reject"

    def as_dict(self) -> dict[str, Any]:
        return {"latency_ms": self.latency_ms, "loss": self.loss, "partition": self.partition}


def front_host(base_address: str, index: int) -> str:
    """The ``index``-th front address on loopback from ``base_address``, skipping .0 and .255.

    >>> front_host("127.200.0.1", 0), front_host("127.200.0.1", 254)
    ('127.200.0.1', '127.200.1.1')
    """
    base = int(ipaddress.IPv4Address(base_address))
    pos = (base & 0xFF) - 1 + index
    host = ipaddress.IPv4Address((((base >> 8) + pos // 254) << 8) | (pos % 254 + 1))
    if not host.is_loopback:
        raise GuardError(f"fault proxy front {index} would be {host}, outside 127.0.0.0/8; lower proxy_base_address")
    return str(host)


def front_targets(targets: Sequence[Target], base_address: str) -> list[Target]:
    """The front (proxy) address of each target: same id and port, host ``base_address`` + position."""
    return [
        Target(
            id=t.id,
            host=front_host(base_address, i),
            port=t.port,
            source="fault-proxy",
            namespace=t.namespace,
            labels=dict(t.labels),
        )
        for i, t in enumerate(targets)
    ]


@dataclass
class _Front:
    front: Target
    upstream: Target
    server: asyncio.base_events.Server | None = None
    writers: set[asyncio.StreamWriter] = field(default_factory=set)


_ACTIVE: FaultProxy | None = None
_ACTIVE_LOCK = threading.Lock()


def active_proxy() -> FaultProxy | None:
    """The running proxy of this process (started by the chaos runner), or None."""
    return _ACTIVE


class FaultProxy:
    """Fronts ``upstreams`` on loopback; ``set_fault`` / ``heal`` change the path; ``stop`` closes all."""

    def __init__(self, upstreams: Sequence[Target], base_address: str, *, hold_cap_s: float = 30.0) -> None:
        outside = [t.id for t in upstreams if not is_loopback(t.host)]
        if outside:
            raise GuardError(
                f"the fault proxy only fronts loopback targets, not {outside[:3]}; "
                "use chaostoolkit-kubernetes network policies for a cluster"
            )
        self.fronts = [_Front(f, u) for f, u in zip(front_targets(upstreams, base_address), upstreams, strict=True)]
        self.fault = PathFault()
        self.hold_cap_s = hold_cap_s
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._rng = random.Random()

    @property
    def front_list(self) -> list[Target]:
        return [f.front for f in self.fronts]

    # --- lifecycle (called from any thread) ---------------------------------------------------------

    def start(self, timeout: float = 10.0) -> FaultProxy:
        global _ACTIVE
        ready = threading.Event()
        errors: list[BaseException] = []

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:  # reported to start()
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self._close())
            loop.close()

        self._thread = threading.Thread(target=main, name="mcproof-fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or errors:
            self.stop()
            reason = errors[0] if errors else f"not listening after {timeout:g}s"
            raise GuardError(f"fault proxy could not start ({reason}); check proxy_base_address in chaos settings")
        with _ACTIVE_LOCK:
            _ACTIVE = self
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Close every front and connection; idempotent."""
        global _ACTIVE
        with _ACTIVE_LOCK:
            if _ACTIVE is self:
                _ACTIVE = None
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout)

    def set_fault(self, *, latency_ms: float = 0.0, loss: float = 0.0, partition: str | None = None) -> PathFault:
        if partition not in (None, "drop", "reject"):
            raise GuardError(f"partition must be 'drop' or 'reject', got {partition!r}")
        if not 0 <= loss <= 1 or not 0 <= latency_ms <= 60_000:
            raise GuardError(f"loss must be in [0, 1] and latency_ms in [0, 60000]; got {loss}, {latency_ms}")
        self.fault = PathFault(latency_ms=float(latency_ms), loss=float(loss), partition=partition)
        return self.fault

    def heal(self) -> PathFault:
        self.fault = PathFault()
        return self.fault

    # --- inside the proxy's loop --------------------------------------------------------------------

    async def _open(self) -> None:
        for front in self.fronts:
            front.server = await asyncio.start_server(
                self._handler_for(front), front.front.host, front.front.port, reuse_address=True
            )

    def _handler_for(
        self, front: _Front
    ) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Coroutine[Any, Any, None]]:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await self._handle(front, reader, writer)

        return handle

    async def _close(self) -> None:
        for front in self.fronts:
            if front.server is not None:
                front.server.close()
            for writer in list(front.writers):
                writer.transport.abort()
        await asyncio.sleep(0)

    async def _handle(self, front: _Front, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        front.writers.add(writer)
        fault = self.fault
        try:
            if fault.partition == "reject":
                writer.transport.abort()  # RST: the client sees "connection reset/refused"
                return
            if fault.partition == "drop" or (fault.loss and self._rng.random() < fault.loss):
                with contextlib.suppress(TimeoutError, OSError):
                    await asyncio.wait_for(reader.read(), self.hold_cap_s)  # blackhole: read, never answer
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(front.upstream.host, front.upstream.port), 5.0
                )
            except (OSError, TimeoutError):
                writer.transport.abort()
                return
            front.writers.add(up_writer)
            try:
                await asyncio.wait_for(
                    asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer)), self.hold_cap_s
                )
            except (OSError, TimeoutError):
                pass
            finally:
                front.writers.discard(up_writer)
                up_writer.transport.abort()
        finally:
            front.writers.discard(writer)
            writer.transport.abort()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            data = await reader.read(_CHUNK)
            if not data:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            delay = self.fault.latency_ms / 1000.0
            if delay:
                await asyncio.sleep(delay)
            if self.fault.partition is not None:
                return  # a partition cuts connections already open
            writer.write(data)
            await writer.drain()
