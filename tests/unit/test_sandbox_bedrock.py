"""The Bedrock pong is exactly what mcstatus's own parser reads (recorded-bytes style, no network)."""

from __future__ import annotations

from mcstatus._protocol.bedrock_client import BedrockClient

from mcproof_sandbox.fleet.bedrock import RAKNET_MAGIC, BedrockIdentity, encode_pong, parse_ping


def test_pong_parses_with_mcstatus() -> None:
    identity = BedrockIdentity(motd="hello;world", protocol=766, version_name="1.21.50", online=4, max_players=30)
    response = BedrockClient.parse_response(encode_pong(42, identity), 1.5)
    assert response.version.name == "1.21.50"
    assert response.version.protocol == 766
    assert response.players.online == 4
    assert response.players.max == 30
    assert response.motd.to_plain() == "hello,world"  # a ';' would split the server id: replaced
    assert response.map_name == "world"


def test_ping_parsing_rejects_hostile_datagrams() -> None:
    ping = bytes([1]) + (123).to_bytes(8, "big") + RAKNET_MAGIC + bytes(8)
    assert parse_ping(ping) == 123
    assert parse_ping(b"") is None
    assert parse_ping(bytes([1]) + bytes(30)) is None  # wrong magic
    assert parse_ping(bytes([5]) + ping[1:]) is None  # not an unconnected ping
