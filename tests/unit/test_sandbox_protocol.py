"""Wire codecs of the sandbox servers, checked against recorded bytes (mcstatus client, minecraft.wiki)."""

from __future__ import annotations

import json

import pytest

from mcproof_sandbox.fleet import protocol as p

# Recorded from mcstatus 14.2's JavaClient (version 47, host 127.1.0.1, port 25565).
HANDSHAKE = bytes.fromhex("0f002f093132372e312e302e3163dd01")
STATUS_REQUEST = bytes.fromhex("0100")
PING = bytes.fromhex("09010102030405060708")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (127, "7f"),
        (128, "8001"),
        (255, "ff01"),
        (25565, "ddc701"),
        (2097151, "ffff7f"),
        (2147483647, "ffffffff07"),
        (-1, "ffffffff0f"),
        (-2147483648, "8080808008"),
    ],
)
def test_varint_round_trip(value: int, encoded: str) -> None:
    assert p.encode_varint(value).hex() == encoded
    assert p.decode_varint(bytes.fromhex(encoded)) == (value, len(encoded) // 2)


def test_varint_rejects_sixth_byte_and_overflow() -> None:
    with pytest.raises(p.ProtocolError):
        p.decode_varint(b"\xff\xff\xff\xff\xff\x01")
    with pytest.raises(p.ProtocolError):
        p.decode_varint(b"\xff\xff\xff\xff\x1f")  # fifth byte carries bits beyond 32
    with pytest.raises(ValueError, match="32-bit"):
        p.encode_varint(2**31)


def test_varint_incomplete() -> None:
    with pytest.raises(p.Incomplete):
        p.decode_varint(b"\x80\x80")


def test_frame_length_limits() -> None:
    with pytest.raises(p.ProtocolError):
        p.read_frame(b"\xff\xff\xff\x7f")  # 4-byte length prefix: never valid for serverbound status
    with pytest.raises(p.ProtocolError):
        p.read_frame(p.encode_varint(p.MAX_SLP_FRAME + 1))
    with pytest.raises(p.Incomplete):
        p.read_frame(HANDSHAKE[:-1])


def test_recorded_handshake_status_and_ping() -> None:
    stream = HANDSHAKE + STATUS_REQUEST + PING
    payload, used = p.read_frame(stream)
    assert p.parse_handshake(payload) == p.Handshake(protocol=47, host="127.1.0.1", port=25565, next_state=1)
    payload, used2 = p.read_frame(stream[used:])
    assert payload == b"\x00"
    payload, _ = p.read_frame(stream[used + used2 :])
    assert p.encode_pong(payload[1:]).hex() == "09010102030405060708"


@pytest.mark.parametrize(
    "payload", [b"\x00\x2f", b"\x01\x2f\x00\x00\x00\x01", b"\x00\x2f\x05ab", b"\x00\x2f\x00\x63\xdd\x01x"]
)
def test_bad_handshakes(payload: bytes) -> None:
    with pytest.raises(p.ProtocolError):
        p.parse_handshake(payload)


def test_status_response_framing() -> None:
    doc = p.status_document(
        version_name="1.21.4",
        protocol=769,
        motd="hi",
        online=1,
        max_players=20,
        sample=[("P00000_000", "00000000-0000-4000-8000-000000000000")],
    )
    data = p.encode_status_response(doc)
    payload, used = p.read_frame(data, max_len=1 << 20)
    assert used == len(data)
    assert payload[0] == 0
    length, pos = p.decode_varint(payload, 1)
    parsed = json.loads(payload[pos:])
    assert length == len(payload) - pos
    assert parsed["version"] == {"name": "1.21.4", "protocol": 769}
    assert parsed["players"]["sample"][0] == {"name": "P00000_000", "id": "00000000-0000-4000-8000-000000000000"}
    assert parsed["description"] == {"text": "hi"}


def test_legacy_kick_bytes() -> None:
    data = p.encode_legacy_kick(protocol=769, version_name="1.21.4", motd="A", online=2, max_players=20)
    text = "§1\x00769\x001.21.4\x00A\x002\x0020"
    assert data == b"\xff" + len(text).to_bytes(2, "big") + text.encode("utf-16-be")


def test_rcon_recorded_login_packet() -> None:
    recorded = bytes.fromhex("0c000000110000000300000070770000")
    packet, used = p.decode_rcon(recorded + b"extra")
    assert packet == p.RconPacket(request_id=0x11, type=p.RCON_AUTH, payload="pw")
    assert used == len(recorded)
    assert p.encode_rcon(0x11, 3, "pw") == recorded


def test_rcon_framing_errors() -> None:
    with pytest.raises(p.Incomplete):
        p.decode_rcon(bytes.fromhex("0c000000110000"))
    with pytest.raises(p.ProtocolError):
        p.decode_rcon((5).to_bytes(4, "little") + b"\x00" * 5)
    with pytest.raises(p.ProtocolError):
        p.decode_rcon((100_000).to_bytes(4, "little"))
    with pytest.raises(p.ProtocolError):
        p.decode_rcon(bytes.fromhex("0a00000001000000020000004141"))  # no NUL terminators


def test_query_request_parsing() -> None:
    assert p.parse_query_request(bytes.fromhex("fefd0900000001")) == p.QueryRequest(9, 1, None, False)
    basic = bytes.fromhex("fefd00000000010091295b")
    assert p.parse_query_request(basic) == p.QueryRequest(0, 1, 0x0091295B, False)
    assert p.parse_query_request(basic + b"\x00" * 4).full
    for junk in (b"", b"\xfe\xfd\x09", b"\x00\x00\x09\x00\x00\x00\x01", bytes.fromhex("fefd05000000010000")):
        with pytest.raises(p.ProtocolError):
            p.parse_query_request(junk)


def test_query_replies_match_wiki_examples() -> None:
    assert p.encode_challenge(1, 9513307) == bytes.fromhex("09000000013935313333303700")
    basic = p.encode_basic_stat(
        1, motd="A Minecraft Server", map_name="world", online=2, max_players=20, port=25565, host="127.0.0.1"
    )
    assert basic == bytes.fromhex(
        "000000000141204d696e6563726166742053657276657200534d5000776f726c64003200323000dd633132372e302e302e3100"
    )
    full = p.encode_full_stat(
        1,
        motd="A Minecraft Server",
        version_name="Beta 1.9 Prerelease 4",
        map_name="world",
        online=2,
        max_players=20,
        port=25565,
        host="127.0.0.1",
        players=["barneygale", "Vivalahelvig"],
    )
    assert full.startswith(bytes.fromhex("0000000001") + b"splitnum\x00\x80\x00hostname\x00A Minecraft Server\x00")
    assert full.endswith(b"hostip\x00127.0.0.1\x00\x00\x01player_\x00\x00barneygale\x00Vivalahelvig\x00\x00")


def test_full_stat_parses_with_mcstatus() -> None:
    from mcstatus._protocol.io.buffer import Buffer
    from mcstatus._protocol.query_client import QueryClient
    from mcstatus.responses import QueryResponse

    data = p.encode_full_stat(
        7,
        motd="mcproof",
        version_name="1.21.4",
        map_name="world",
        online=2,
        max_players=20,
        port=25565,
        host="127.1.0.1",
        players=["a", "b"],
    )
    buf = Buffer(data)
    buf.read(5)
    client = QueryClient.__new__(QueryClient)
    resp = QueryResponse.build(*client._parse_response(buf))
    assert (resp.players.online, resp.players.max, resp.players.list) == (2, 20, ["a", "b"])
    assert resp.software.version == "1.21.4"


def test_challenge_token_is_int32_and_keyed() -> None:
    a = p.challenge_token(b"k", "127.0.0.1", 5000, 1)
    assert 0 <= a < 2**31
    assert a == p.challenge_token(b"k", "127.0.0.1", 5000, 1)
    assert a != p.challenge_token(b"k", "127.0.0.1", 5001, 1)
    assert a != p.challenge_token(b"other", "127.0.0.1", 5000, 1)
