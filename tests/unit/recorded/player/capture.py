"""Record one real player login session per third-party server, for tests/unit/test_player_connection.py.

Run once (it starts flying-squid 1.21.4 and Minestom 26.2 from tools/thirdparty on loopback):

    .venv/bin/python tests/unit/recorded/player/capture.py

For each server it connects with a plain socket, drives `PlayerConnection` (the code under test
decides what to answer), and records every chunk read and written, until the session has answered a
keep-alive and seen two time updates (at most 45 s). The file, ``<implementation>-<protocol>.rec.gz``,
is gzip of records: direction byte (``S`` server -> client, ``C`` client -> server), u32 big-endian
length, the bytes. Chunk data past the first time update is dropped from the server side, except
for the packets a test needs (keep-alive, time), to keep the files small: the recorder re-frames
nothing, it only skips whole reads (starting and ending on packet boundaries) that carry no packet
the client answers or reports.
"""

from __future__ import annotations

import gzip
import socket
import struct
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2] / "integration"))

import thirdparty  # noqa: E402

from mcproof.minecraft.player.connection import PlayerConnection  # noqa: E402


def capture(server: thirdparty.ThirdPartyServer, out: Path, limit_s: float = 45.0) -> None:
    conn = PlayerConnection("mcproof_rec", server.host, server.port, server.protocol)
    records: list[tuple[bytes, bytes]] = []
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        first = conn.initial_bytes()
        records.append((b"C", first))
        sock.sendall(first)
        deadline = time.monotonic() + limit_s
        joined = False
        while time.monotonic() < deadline and (conn.keepalives_answered < 1 or conn.time_updates < 2):
            sock.settimeout(max(deadline - time.monotonic(), 0.01))
            data = sock.recv(65536)
            if not data:
                raise SystemExit(f"{server.name} closed the connection")
            before = (conn.keepalives_answered, conn.time_updates, conn.state)
            partial = conn._decoder.buffered
            events = conn.receive(data)
            answer = conn.bytes_to_send()
            joined = joined or any(type(e).__name__ == "JoinedGame" for e in events)
            interesting = (
                not joined or events or answer or before != (conn.keepalives_answered, conn.time_updates, conn.state)
            )
            # a read after the join that produced nothing is chunk/entity traffic; it is dropped only when
            # it starts and ends on a packet boundary (nothing buffered before or after it)
            if interesting or partial or conn._decoder.buffered:
                records.append((b"S", data))
            if answer:
                records.append((b"C", answer))
                sock.sendall(answer)
    blob = b"".join(d + struct.pack(">I", len(b)) + b for d, b in records)
    out.write_bytes(gzip.compress(blob, mtime=0))
    print(
        f"{out.name}: {len(records)} records, {len(blob):,} bytes ({out.stat().st_size:,} gzipped); "
        f"keep-alives {conn.keepalives_answered}, time updates {conn.time_updates}"
    )


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        for make in (thirdparty.flying_squid, thirdparty.minestom):
            server = make(Path(tmp) / make.__name__)
            server.start()
            try:
                capture(server, HERE / f"{server.implementation}-{server.protocol}.rec.gz")
            finally:
                server.stop()


if __name__ == "__main__":
    main()
