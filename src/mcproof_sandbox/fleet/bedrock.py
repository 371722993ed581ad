"""A Bedrock Edition server's status endpoint: RakNet unconnected ping -> unconnected pong over UDP.

Why our own: no Python library serves it (mcstatus is a client) and a real Bedrock server is a
closed binary. Enough for the sandbox and for tests of Bedrock targets; the game itself is not served.
Run one by hand: ``python -m mcproof_sandbox.fleet.bedrock --host 127.1.200.1 --port 19132``.
"""

from __future__ import annotations

import argparse
import asyncio
import struct
from dataclasses import dataclass
from typing import cast

__all__ = ["RAKNET_MAGIC", "BedrockIdentity", "BedrockProtocol", "encode_pong", "parse_ping", "serve"]

RAKNET_MAGIC = bytes.fromhex("00ffff00fefefefefdfdfdfd12345678")
UNCONNECTED_PING = 0x01
UNCONNECTED_PONG = 0x1C


@dataclass(frozen=True)
class BedrockIdentity:
    """What the pong advertises (the fields of the `MCPE;...` server id string)."""

    motd: str = "mcproof bedrock"
    protocol: int = 766
    version_name: str = "1.21.50"
    online: int = 0
    max_players: int = 10
    server_guid: int = 0x6D63_7072_6F6F_6621
    map_name: str = "world"
    gamemode: str = "Survival"

    def server_id(self) -> str:
        fields = [
            "MCPE",
            self.motd,
            str(self.protocol),
            self.version_name,
            str(self.online),
            str(self.max_players),
            str(self.server_guid),
            self.map_name,
            self.gamemode,
            "1",
            "19132",
            "19133",
        ]
        return ";".join(field.replace(";", ",") for field in fields) + ";"


def parse_ping(packet: bytes) -> int | None:
    """The client's timestamp of an unconnected ping, or None for anything else.

    >>> parse_ping(bytes([1]) + (7).to_bytes(8, "big") + RAKNET_MAGIC + bytes(8))
    7
    >>> parse_ping(b"junk") is None
    True
    """
    if len(packet) < 1 + 8 + 16 or packet[0] != UNCONNECTED_PING or packet[9:25] != RAKNET_MAGIC:
        return None
    return int.from_bytes(packet[1:9], "big")


def encode_pong(client_time: int, identity: BedrockIdentity) -> bytes:
    """Unconnected pong: id, the client's time, server GUID, magic, then the length-prefixed server id."""
    name = identity.server_id().encode("utf-8")[:0xFFFF]
    return (
        bytes([UNCONNECTED_PONG])
        + struct.pack(">QQ", client_time & (2**64 - 1), identity.server_guid)
        + RAKNET_MAGIC
        + struct.pack(">H", len(name))
        + name
    )


class BedrockProtocol(asyncio.DatagramProtocol):
    """Answers unconnected pings; ignores every other datagram (never raises on hostile input)."""

    def __init__(self, identity: BedrockIdentity) -> None:
        self.identity = identity
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        client_time = parse_ping(data[:2048])
        if client_time is not None and self.transport is not None:
            self.transport.sendto(encode_pong(client_time, self.identity), addr)


async def serve(host: str, port: int, identity: BedrockIdentity) -> asyncio.DatagramTransport:
    """Bind a Bedrock status endpoint on a loopback address."""
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: BedrockProtocol(identity), local_addr=(host, port))
    return transport


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.1.200.1")
    parser.add_argument("--port", type=int, default=19132)
    parser.add_argument("--version-name", default="1.21.50")
    parser.add_argument("--protocol", type=int, default=766)
    parser.add_argument("--motd", default="mcproof bedrock")
    args = parser.parse_args()
    identity = BedrockIdentity(motd=args.motd, protocol=args.protocol, version_name=args.version_name)

    async def run() -> None:
        await serve(args.host, args.port, identity)
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    main()
