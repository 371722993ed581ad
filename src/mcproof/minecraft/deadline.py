"""A deadline and a size cap over a whole exchange, for mcstatus's clients.

Why our own: mcstatus applies ``timeout`` per socket operation, so a server that accepts and then
trickles one byte a second keeps ``status()`` busy for minutes, and a reply frame that claims 2 GiB is
read into memory before it is refused (FIELD-NOTES). mcstatus stays the protocol client: we hand its
protocol classes (``mcstatus._protocol``, pinned by requirements.lock) a connection whose every socket
operation gets only the time left before the deadline and which refuses more than ``max_bytes``.

Slack: a bounded exchange ends at most ``DEADLINE_SLACK_S`` after its timeout (one OS timer wake-up
plus parsing at most ``max_bytes``); it never waits a second timeout.

>>> ExchangeTimeout(3.0).args[0]
'reply not complete within 3 s'
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, cast

from mcstatus._net.address import Address
from mcstatus._protocol.io.connection import TCPAsyncSocketConnection, TCPSocketConnection, UDPSocketConnection

__all__ = [
    "DEADLINE_SLACK_S",
    "MAX_DATAGRAMS",
    "MAX_REPLY_BYTES",
    "DeadlineSocket",
    "ExchangeTimeout",
    "ReplyTooLarge",
    "async_tcp_connection",
    "tcp_connection",
    "udp_connection",
]

DEADLINE_SLACK_S = 0.25
MAX_REPLY_BYTES = 1 << 20  # vanilla status JSON is < 32 KiB; mcstatus itself refuses strings > 131,068 bytes
MAX_DATAGRAMS = 16  # a Query exchange is 2 datagrams; mcstatus loops on empty ones


class ExchangeTimeout(TimeoutError):
    """The whole exchange (connect, send, every read) did not finish within the timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__(f"reply not complete within {timeout:g} s")


class ReplyTooLarge(ValueError):
    """The server sent more than the cap for one exchange (an endless or oversized reply)."""

    def __init__(self, limit: int, unit: str = "bytes") -> None:
        super().__init__(f"oversized reply: more than {limit:,} {unit}")


class DeadlineSocket:
    """A socket whose every operation uses the time left before ``deadline`` (time.monotonic()).

    TCP writes are corked until the next read (or close): mcstatus writes the handshake and the status
    request as two packets before it reads, and one send instead of two is a loopback syscall less per
    ping (bench/load_user_profile.py). The bytes on the wire are the same, in the same order. ``shutdown``
    is left to ``close`` (which sends the FIN anyway): one syscall less per exchange.
    """

    def __init__(self, sock: socket.socket, *, deadline: float, timeout: float, max_bytes: int = MAX_REPLY_BYTES):
        self._sock = sock
        self._deadline = deadline
        self._timeout = timeout
        self._max_bytes = max_bytes
        self._received = 0
        self._datagrams = 0
        self._pending = bytearray()

    def _flush(self) -> None:
        if self._pending:
            data, self._pending = bytes(self._pending), bytearray()
            self._arm()
            try:
                self._sock.sendall(data)
            except TimeoutError:
                raise ExchangeTimeout(self._timeout) from None

    def _arm(self) -> None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise ExchangeTimeout(self._timeout)
        self._sock.settimeout(remaining)

    def _count(self, data: bytes) -> bytes:
        self._received += len(data)
        if self._received > self._max_bytes:
            raise ReplyTooLarge(self._max_bytes)
        return data

    def recv(self, size: int) -> bytes:
        self._flush()
        self._arm()
        try:
            return self._count(self._sock.recv(min(size, self._max_bytes + 1)))
        except TimeoutError:
            raise ExchangeTimeout(self._timeout) from None

    def recvfrom(self, size: int) -> tuple[bytes, Any]:
        self._datagrams += 1
        if self._datagrams > MAX_DATAGRAMS:
            raise ReplyTooLarge(MAX_DATAGRAMS, "datagrams")
        self._arm()
        try:
            data, addr = self._sock.recvfrom(size)
        except TimeoutError:
            raise ExchangeTimeout(self._timeout) from None
        return self._count(data), addr

    def sendall(self, data: bytes) -> None:
        if len(self._pending) + len(data) > self._max_bytes:
            self._flush()
        self._pending += data

    def shutdown(self, how: int) -> None:  # close() sends the FIN; see the class docstring
        self._flush()

    def close(self) -> None:
        try:
            self._flush()
        except OSError:
            pass  # closing anyway: the peer is gone or the deadline passed
        finally:
            self._sock.close()

    def sendto(self, data: bytes, address: Any) -> int:
        self._arm()
        return self._sock.sendto(data, address)

    def settimeout(self, value: float | None) -> None:  # the deadline owns the timeout
        pass

    def __getattr__(self, name: str) -> Any:  # shutdown, close, setsockopt, fileno ...
        return getattr(self._sock, name)


def _remaining(deadline: float, timeout: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise ExchangeTimeout(timeout)
    return remaining


@functools.lru_cache(maxsize=65_536)
def _literal_family(host: str) -> int | None:
    """AF_INET / AF_INET6 when `host` is an IP literal, else None (a name to resolve).

    >>> _literal_family("127.0.0.1") == socket.AF_INET, _literal_family("::1") == socket.AF_INET6
    (True, True)
    >>> _literal_family("mc.example.net") is None
    True
    """
    try:
        return socket.AF_INET if ipaddress.ip_address(host).version == 4 else socket.AF_INET6
    except ValueError:
        return None


def _connect(host: str, port: int, timeout: float) -> TCPSocketConnection:
    """mcstatus's TCPSocketConnection; to an IP literal connected directly, without a resolver call.

    `socket.create_connection` (which mcstatus's constructor calls) resolves every host, IP literals too;
    under gevent that is a round trip through its thread pool per ping, measured at about a quarter of the
    load user's CPU per ping (bench/load_user_profile.py). A name still goes through mcstatus's own path.
    """
    family = _literal_family(host)
    if family is None:
        return TCPSocketConnection((host, port), timeout=timeout)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect((host, port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except BaseException:
        sock.close()
        raise
    conn = object.__new__(TCPSocketConnection)  # mcstatus's class (its reader/writer), our connected socket
    conn.socket = sock
    return conn


@contextmanager
def tcp_connection(
    host: str, port: int, *, deadline: float, timeout: float, max_bytes: int = MAX_REPLY_BYTES
) -> Iterator[TCPSocketConnection]:
    """mcstatus's sync TCP connection (connect bounded by the time left), its socket deadline-bound."""
    try:
        conn = _connect(host, port, _remaining(deadline, timeout))
    except TimeoutError:
        raise ExchangeTimeout(timeout) from None
    conn.socket = cast(
        socket.socket, DeadlineSocket(conn.socket, deadline=deadline, timeout=timeout, max_bytes=max_bytes)
    )
    with conn:
        yield conn


@contextmanager
def udp_connection(
    host: str, port: int, *, deadline: float, timeout: float, max_bytes: int = MAX_REPLY_BYTES
) -> Iterator[UDPSocketConnection]:
    """mcstatus's sync UDP connection, its socket deadline-bound and capped in bytes and datagrams."""
    try:
        ip = str(ipaddress.ip_address(host))
    except ValueError:  # a name: mcstatus's UDP connection wants an address literal
        ip = str(socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][4][0])
    conn = UDPSocketConnection(Address(ip, port), timeout=_remaining(deadline, timeout))
    conn.socket = cast(
        socket.socket, DeadlineSocket(conn.socket, deadline=deadline, timeout=timeout, max_bytes=max_bytes)
    )
    with conn:
        yield conn


class _CappedReader:
    """An asyncio StreamReader stand-in that refuses more than ``max_bytes`` over the exchange."""

    def __init__(self, reader: asyncio.StreamReader, max_bytes: int) -> None:
        self._reader = reader
        self._max_bytes = max_bytes
        self._received = 0

    async def read(self, n: int = -1) -> bytes:
        room = self._max_bytes + 1 - self._received
        data = await self._reader.read(room if n < 0 else min(n, room))
        self._received += len(data)
        if self._received > self._max_bytes:
            raise ReplyTooLarge(self._max_bytes)
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)


@asynccontextmanager
async def async_tcp_connection(
    host: str, port: int, *, timeout: float, max_bytes: int = MAX_REPLY_BYTES
) -> AsyncIterator[TCPAsyncSocketConnection]:
    """mcstatus's asyncio TCP connection with a byte cap; the caller bounds time (asyncio.timeout)."""
    conn = TCPAsyncSocketConnection(Address(host, port), timeout=timeout)
    async with conn:
        conn.reader = cast(asyncio.StreamReader, _CappedReader(conn.reader, max_bytes))
        yield conn
