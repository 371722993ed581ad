"""The sandbox's login/configuration/play codec (protocol 769) against hand-built bytes.

Layouts: minecraft-data data/pc/1.21.4/protocol.json (ids in the comments are its mappings).
"""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest

from mcproof_sandbox.fleet import play_protocol as pp
from mcproof_sandbox.fleet.protocol import Incomplete, ProtocolError, encode_varint


def test_uncompressed_frame_round_trip() -> None:
    assert pp.encode_packet(0x27, struct.pack(">q", 7), None) == b"\x09\x27" + b"\x00" * 7 + b"\x07"
    assert pp.read_packet(b"\x09\x1a" + struct.pack(">q", 7) + b"rest", compressed=False) == (
        0x1A,
        struct.pack(">q", 7),
        10,
    )


def test_compressed_frames_below_and_above_threshold() -> None:
    small = pp.encode_packet(0x6B, b"x" * 10, 256)
    assert small == b"\x0c\x00\x6b" + b"x" * 10  # data length 0: not compressed
    big_body = b"y" * 1000
    big = pp.encode_packet(0x00, big_body, 256)
    assert big[0] == len(big) - 1  # the frame length counts the (compressed) rest
    assert big[1:3] == b"\xe9\x07"  # data length 1001 = id + body, VarInt
    assert zlib.decompress(big[3:]) == b"\x00" + big_body
    assert pp.read_packet(big, compressed=True) == (0x00, big_body, len(big))
    assert pp.read_packet(small, compressed=True) == (0x6B, b"x" * 10, len(small))


def test_partial_frames_wait_for_more_bytes() -> None:
    frame = pp.encode_packet(0x1A, bytes(8), None)
    for cut in range(len(frame)):
        with pytest.raises(Incomplete):
            pp.read_packet(frame[:cut], compressed=False)


@pytest.mark.parametrize(
    ("data", "compressed"),
    [
        (b"\x00", False),  # empty packet
        (b"\xff\xff\xff\x01", False),  # frame length over 2^21 - 1 (4-byte VarInt)
        (b"\x80\x80\x80\x01", False),  # 2^21: over the cap
        (b"\x05\x0a" + b"nope", True),  # claims 10 decompressed bytes, not zlib
        (b"\x05\x80\x80\x80\x05" + b"z", True),  # claims 10 MiB decompressed (> 8 MiB)
        (b"\x02\x05" + zlib.compress(b"ab")[:1], True),  # truncated zlib
    ],
)
def test_garbage_frames_are_protocol_errors(data: bytes, compressed: bool) -> None:
    with pytest.raises(ProtocolError):
        pp.read_packet(data, compressed=compressed)


def test_zlib_bomb_is_cut_at_the_declared_size() -> None:
    body = b"\x0a" + zlib.compress(b"\x00" * 5_000_000)  # claims 10 bytes, inflates to 5 MB
    wire = encode_varint(len(body)) + body
    with pytest.raises(ProtocolError, match="header said 10"):
        pp.read_packet(wire, compressed=True)


def test_login_start_and_offline_uuid() -> None:
    body = b"\x05Alice" + uuid.UUID("00000000-0000-0000-0000-000000000001").bytes
    start = pp.parse_login_start(body)
    assert start.name == "Alice"
    # node-minecraft-protocol and vanilla agree on this one (offline UUID v3 of "OfflinePlayer:Alice")
    assert str(uuid.UUID(bytes=pp.offline_uuid("Alice"))) == "10920508-d5d8-3eed-93d2-92f193afe7d7"
    for bad in (b"\x00" + bytes(16), b"\x11" + b"a" * 17 + bytes(16), b"\x03a b" + bytes(16), b"\x05Alice"):
        with pytest.raises(ProtocolError):
            pp.parse_login_start(bad)


def test_login_packets() -> None:
    assert pp.login_disconnect("The server is full!") == (0x00, b'\x1f{"text": "The server is full!"}')
    assert pp.set_compression(256) == (0x03, b"\x80\x02")
    uid = pp.offline_uuid("Bob")
    assert pp.login_success(uid, "Bob") == (0x02, uid + b"\x03Bob\x00")


def test_configuration_packets() -> None:
    ident, body = pp.select_known_packs([("minecraft", "core", "1.21.4")])
    assert ident == 0x0E
    assert body == b"\x01\x09minecraft\x04core\x061.21.4"
    assert pp.finish_configuration() == (0x03, b"")
    assert pp.keep_alive(pp.CfgOut.KEEP_ALIVE, 1) == (0x04, b"\x00" * 7 + b"\x01")
    assert pp.config_disconnect("x") == (0x02, b"\x0a\x08\x00\x04text\x00\x01x\x00")


def test_play_packets() -> None:
    ident, body = pp.play_login(entity_id=7, max_players=20)
    assert ident == 0x2C
    assert body[:5] == b"\x00\x00\x00\x07\x00"  # entityId i32, isHardcore
    assert body[5:26] == b"\x01\x13minecraft:overworld"  # worldNames
    assert body[26:29] == b"\x14\x0a\x0a"  # maxPlayers, viewDistance, simulationDistance
    assert body[-4:] == b"\x00\x00\x3f\x00"  # death absent, portalCooldown 0, seaLevel 63, enforcesSecureChat
    ident, body = pp.sync_position(1, 0.5, 64.0, 0.5)
    assert ident == 0x42
    assert body == b"\x01" + struct.pack(">ddddddffI", 0.5, 64.0, 0.5, 0, 0, 0, 0, 0, 0)
    assert pp.update_time(40, 40) == (0x6B, struct.pack(">qq?", 40, 40, True))
    assert pp.chunk_batch_start() == (0x0D, b"")
    assert pp.chunk_batch_finished(0) == (0x0C, b"\x00")
    assert pp.game_event(13, 0.0) == (0x23, b"\x0d\x00\x00\x00\x00")
    assert pp.play_disconnect("Server closed") == (0x1D, b"\x0a\x08\x00\x04text\x00\x0dServer closed\x00")


def test_serverbound_bodies() -> None:
    assert pp.read_i64(struct.pack(">q", -5)) == -5
    assert pp.read_varint_body(b"\x01") == 1
    for bad in (b"", b"\x00" * 9):
        with pytest.raises(ProtocolError):
            pp.read_i64(bad)
    with pytest.raises(ProtocolError):
        pp.read_varint_body(b"\x01\x02")
