"""The sandbox fleet against real clients: mcstatus status/query/legacy, a raw RCON client, hostile bytes."""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
import time
from collections.abc import Callable

import pytest
from mcstatus import JavaServer, LegacyServer

from mcproof_sandbox.fleet import Sandbox, SandboxServer, read_rcon_password

pytestmark = pytest.mark.integration


def rcon(server: SandboxServer, password: str, *commands: str, timeout: float = 3.0) -> list[str]:
    """Log in and run commands; return the replies (a minimal Source RCON client)."""

    def send(sock: socket.socket, req_id: int, kind: int, body: str) -> None:
        payload = struct.pack("<ii", req_id, kind) + body.encode() + b"\x00\x00"
        sock.sendall(struct.pack("<i", len(payload)) + payload)

    def recv(sock: socket.socket) -> tuple[int, int, str]:
        def exact(n: int) -> bytes:
            data = b""
            while len(data) < n:
                chunk = sock.recv(n - len(data))
                if not chunk:
                    raise ConnectionError("RCON connection closed")
                data += chunk
            return data

        (length,) = struct.unpack("<i", exact(4))
        req_id, kind = struct.unpack("<ii", exact(8))
        return req_id, kind, exact(length - 8)[:-2].decode()

    with socket.create_connection((server.host, server.rcon_port), timeout=timeout) as sock:
        send(sock, 7, 3, password)
        req_id, _, _ = recv(sock)
        if req_id == -1:
            raise PermissionError("RCON login refused")
        out = []
        for n, command in enumerate(commands, start=10):
            send(sock, n, 2, command)
            rid, kind, body = recv(sock)
            assert (rid, kind) == (n, 0)
            out.append(body)
        return out


def status(server: SandboxServer, timeout: float = 2.0):  # type: ignore[no-untyped-def]
    return JavaServer(server.host, server.port, timeout=timeout).status(tries=1)


def test_protocols_answer_real_clients(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=20, max_players=20, motd="mcproof sandbox")
    info = sb.status()
    assert info is not None
    assert (info.running, info.up_count, info.down_count, len(info.servers)) == (True, 20, 0, 20)
    assert info.rss_bytes > 0
    assert len(info.shard_pids) == 1
    server = info.servers[5]
    assert server.id == "mc-00005"
    assert server.host.endswith(".6")

    resp = status(server)
    assert (resp.version.name, resp.version.protocol) == ("1.21.4", 769)
    assert resp.motd.to_plain() == "mcproof sandbox"
    assert 0 <= resp.players.online <= resp.players.max == 20
    assert len(resp.players.sample or []) == min(resp.players.online, 12)
    assert JavaServer(server.host, server.port, timeout=2).ping(tries=1) >= 0

    query = JavaServer(server.host, server.port, timeout=2).query(tries=1)
    assert query.software.version == "1.21.4"
    assert (query.ip, query.port, query.players.max) == (server.host, 25565, 20)
    assert len(query.players.list or []) == query.players.online

    legacy = LegacyServer(server.host, server.port, timeout=2).status()
    assert (legacy.version.name, legacy.version.protocol, legacy.players.max) == ("1.21.4", 769, 20)

    password = read_rcon_password(sb.state_dir)
    assert stat.S_IMODE((sb.state_dir / "rcon.password").stat().st_mode) == 0o600
    listing, saved, unknown = rcon(server, password, "list", "save-all", "frobnicate")
    assert listing.startswith("There are ")
    assert " of a max of 20 players online: " in listing
    assert saved == "Saved the game"
    assert unknown == "Unknown command"
    with pytest.raises(PermissionError):
        rcon(server, password + "x", "list")

    state = json.loads((sb.state_dir / "state.json").read_text())
    assert state["servers"][0] == {
        "id": "mc-00000",
        "host": info.servers[0].host,
        "port": 25565,
        "query_port": 25565,
        "rcon_port": 25575,
        "edition": "java",
    }
    assert password not in (sb.state_dir / "state.json").read_text()
    assert password not in (sb.state_dir / "supervisor.log").read_text()
    assert sb.servers() == info.servers


def test_given_rcon_password_is_used(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=2, rcon_password="s3cret-pw")
    assert rcon(sb.servers()[1], "s3cret-pw", "save-all") == ["Saved the game"]


def _raw(server: SandboxServer, port: int, data: bytes) -> bytes:
    with socket.create_connection((server.host, port), timeout=2) as sock:
        sock.sendall(data)
        try:
            return sock.recv(1024)
        except (ConnectionResetError, TimeoutError):
            return b""


def test_hostile_bytes_close_the_connection_not_the_server(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=2, read_timeout_s=0.5)
    server = sb.servers()[0]
    hostile = [
        b"\xff\xff\xff\xff\xff\xff\x01",  # oversized VarInt
        b"\xff\xff\xff\x07",  # frame length far over the limit
        b"\x0f\x00\x2f\x09127",  # truncated handshake, then silence
        b"\x05\x01\x02\x03\x04\x05",  # garbage packet id in handshake state
        b"\x00" + os.urandom(8192),  # random bytes (not starting with the legacy 0xFE)
    ]
    for data in hostile:
        assert _raw(server, server.port, data) == b""
    for data in (b"\xff\xff\xff\x7f", struct.pack("<i", 10) + b"\x00" * 8 + b"AB", os.urandom(4000)):
        assert _raw(server, server.rcon_port, data) == b""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        for data in (b"\xfe\xfd\x00\x00\x00\x00\x01\x00\x00\x00\x00", os.urandom(500), b""):
            udp.sendto(data, (server.host, server.query_port))
    idle = socket.create_connection((server.host, server.port), timeout=3)
    started = time.monotonic()
    assert idle.recv(10) == b""  # closed by the read timeout
    assert time.monotonic() - started < 2.5
    idle.close()
    assert status(server).version.name == "1.21.4"
    assert JavaServer(server.host, server.port, timeout=2).query(tries=1).players.max == 20
    info = sb.status()
    assert info is not None
    assert info.up_count == 2
