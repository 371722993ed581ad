"""PlayerConnection replayed over recorded sessions (flying-squid 1.21.4, Minestom 26.2) and hostile bytes.

The recordings are real logins captured by tests/unit/recorded/player/capture.py (its docstring says
how); the replay checks that the state machine, fed the same server bytes, reports the same phases and
answers with exactly the bytes that kept the real server's session open.
"""

from __future__ import annotations

import gzip
import struct
import time
import zlib
from pathlib import Path

import pytest

from mcproof.minecraft.player import codec
from mcproof.minecraft.player._common import JoinProgress, SessionCore
from mcproof.minecraft.player.connection import (
    ConfigurationEntered,
    Disconnected,
    JoinedGame,
    OnlineMode,
    PlayEntered,
    PlayerConnection,
    ProtocolViolation,
    WorldTime,
)
from mcproof.minecraft.player.samples import SESSION_END_REASONS
from mcproof.minecraft.player.versions import SUPPORTED, UnsupportedVersion, packet_ids
from mcproof.target import Target

RECORDED = Path(__file__).parent / "recorded" / "player"


def _records(path: Path) -> list[tuple[str, bytes]]:
    blob = gzip.decompress(path.read_bytes())
    out, pos = [], 0
    while pos < len(blob):
        (size,) = struct.unpack_from(">I", blob, pos + 1)
        out.append((chr(blob[pos]), blob[pos + 5 : pos + 5 + size]))
        pos += 5 + size
    return out


def _replay(path: Path, *, chunk: int | None = None) -> tuple[PlayerConnection, list[object], bytes, bytes]:
    _implementation, protocol = path.name.removesuffix(".rec.gz").rsplit("-", 1)
    records = _records(path)
    conn = PlayerConnection("mcproof_rec", "127.0.0.1", 1, int(protocol))
    sent_then = b"".join(data for direction, data in records if direction == "C")
    events: list[object] = []
    sent_now = bytearray()
    # the recorded handshake names the capture's random port: take it as recorded, skip initial_bytes()
    sent_now += records[0][1]
    conn.state = "login"
    for direction, data in records[1:]:
        if direction != "S":
            continue
        step = chunk or len(data)
        for i in range(0, len(data), step):
            events += conn.receive(data[i : i + step])
            sent_now += conn.bytes_to_send()
    return conn, events, sent_then, bytes(sent_now)


RECORDINGS = sorted(RECORDED.glob("*.rec.gz"))


def test_both_servers_are_recorded() -> None:
    assert {p.name for p in RECORDINGS} == {"flying-squid-769.rec.gz", "minestom-776.rec.gz"}


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_replay_reaches_play_and_answers_as_recorded(path: Path) -> None:
    conn, events, sent_then, sent_now = _replay(path)
    kinds = [type(e) for e in events]
    assert kinds[:3] == [ConfigurationEntered, PlayEntered, JoinedGame]
    assert sum(1 for e in events if isinstance(e, WorldTime)) >= 2
    assert not [e for e in events if isinstance(e, ProtocolViolation | Disconnected)]
    assert conn.state == "play"
    assert conn.keepalives_answered >= 1
    assert conn.teleports_confirmed >= 1
    assert sent_now == sent_then  # byte for byte what the real server accepted


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name)
def test_replay_one_byte_at_a_time_gives_the_same_events(path: Path) -> None:
    _, whole, _, sent_whole = _replay(path)
    _, trickled, _, sent_trickled = _replay(path, chunk=1)
    assert trickled == whole
    assert sent_trickled == sent_whole


def test_minestom_world_age_advances() -> None:
    _, events, _, _ = _replay(RECORDED / "minestom-776.rec.gz")
    ages = [e.world_age for e in events if isinstance(e, WorldTime)]
    assert ages == sorted(ages)
    assert ages[-1] > ages[0]


def _login_conn(protocol: int = 769) -> PlayerConnection:
    conn = PlayerConnection("mcproof_1", "127.0.0.1", 25565, protocol)
    conn.initial_bytes()
    return conn


def _frame(packet_id: int, body: bytes = b"", threshold: int | None = None) -> bytes:
    return codec.encode_frame(codec.pack_varint(packet_id) + body, threshold)


def test_initial_bytes_are_handshake_then_login_start() -> None:
    conn = PlayerConnection("mcproof_1", "127.0.0.1", 25565, 776)
    decoder = codec.FrameDecoder()
    decoder.feed(conn.initial_bytes())
    handshake, login_start = decoder.packets()
    r = codec.Reader(handshake)
    assert (r.varint(), r.varint(), r.string(), r.u16(), r.varint()) == (0, 776, "127.0.0.1", 25565, 2)
    r = codec.Reader(login_start)
    assert (r.varint(), r.string(), r.uuid()) == (0, "mcproof_1", codec.offline_uuid("mcproof_1"))
    assert conn.state == "login"


def test_unknown_protocol_and_bad_names_are_refused() -> None:
    with pytest.raises(UnsupportedVersion, match=r"protocol 770 .*769 \(1\.21\.4\)"):
        PlayerConnection("mcproof_1", "h", 1, 770)
    with pytest.raises(ValueError, match="player name"):
        PlayerConnection("has space", "h", 1, 769)
    assert set(SUPPORTED) == {769, 775, 776}


def test_encryption_request_is_online_mode_and_never_answered() -> None:
    conn = _login_conn()
    body = codec.pack_string("") + codec.pack_varint(3) + b"key" + codec.pack_varint(4) + b"tokn" + b"\x01"
    assert conn.receive(_frame(0x01, body)) == [OnlineMode("", True)]
    assert conn.bytes_to_send() == b""
    assert conn.closed


def test_login_disconnect_carries_the_reason() -> None:
    conn = _login_conn()
    reason = '{"translate":"multiplayer.disconnect.incompatible","with":["26.2"]}'
    events = conn.receive(_frame(0x00, codec.pack_string(reason)))
    assert events == [Disconnected("login", "multiplayer.disconnect.incompatible (26.2)")]


def test_login_plugin_and_cookie_requests_get_empty_answers() -> None:
    conn = _login_conn()
    conn.receive(_frame(0x04, codec.pack_varint(7) + codec.pack_string("velocity:player_info") + b"\x01"))
    conn.receive(_frame(0x05, codec.pack_string("mcproof:c")))
    assert conn.bytes_to_send() == _frame(0x02, b"\x07\x00") + _frame(0x04, codec.pack_string("mcproof:c") + b"\x00")


def test_compressed_session_after_set_compression() -> None:
    conn = _login_conn()
    conn.receive(_frame(0x03, codec.pack_varint(64)))
    events = conn.receive(
        _frame(0x02, codec.offline_uuid("mcproof_1").bytes + codec.pack_string("mcproof_1") + b"\x00", 64)
    )
    assert events == [ConfigurationEntered()]
    assert conn.bytes_to_send() == _frame(0x03, threshold=64)  # Login Acknowledged, in the compressed format
    ids = packet_ids(769)
    conn.receive(_frame(ids.cb_config_keep_alive, struct.pack(">q", -3), 64))
    assert conn.bytes_to_send() == _frame(ids.sb_config_keep_alive, struct.pack(">q", -3), 64)


def test_zip_bomb_in_a_session_is_a_protocol_violation() -> None:
    conn = _login_conn()
    conn.receive(_frame(0x03, codec.pack_varint(64)))
    bomb = zlib.compress(b"\x00" * (32 << 20), 9)
    body = codec.pack_varint(100) + bomb
    events = conn.receive(codec.pack_varint(len(body)) + body)
    assert len(events) == 1
    assert isinstance(events[0], ProtocolViolation)
    assert conn.closed
    assert conn.receive(b"more") == []


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"\xff\xff\xff\xff\x0f", "frame length"),  # oversized frame
        (_frame(0x7A), "unexpected login packet"),  # garbage id in login
        (_frame(0x00), "truncated"),  # a login disconnect without its reason
        (_frame(0x03, b"\xff\xff\xff\xff\xff\xff"), "VarInt"),  # Set Compression with a 6-byte VarInt
    ],
)
def test_garbage_is_a_protocol_violation(data: bytes, match: str) -> None:
    conn = _login_conn()
    events = conn.receive(data)
    assert len(events) == 1
    assert isinstance(events[0], ProtocolViolation)
    assert match in events[0].detail


def _play_conn(protocol: int) -> PlayerConnection:
    conn = _login_conn(protocol)
    ids = packet_ids(protocol)
    conn.receive(_frame(ids.cb_login_success, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00"))
    conn.receive(_frame(ids.cb_config_finish))
    conn.bytes_to_send()
    return conn


@pytest.mark.parametrize("protocol", [769, 776])
def test_play_answers(protocol: int) -> None:
    ids = packet_ids(protocol)
    conn = _play_conn(protocol)
    position = codec.pack_varint(9) + b"\x00" * (6 * 8 + 2 * 4 + 4)
    conn.receive(_frame(ids.play_cb_position, position) + _frame(ids.play_cb_position, position))
    assert conn.bytes_to_send() == (
        _frame(ids.play_sb_teleport_confirm, b"\x09")
        + _frame(ids.play_sb_player_loaded)
        + _frame(ids.play_sb_teleport_confirm, b"\x09")  # Player Loaded only once
    )
    conn.receive(_frame(ids.play_cb_chunk_batch_finished, b"\x05") + _frame(ids.play_cb_ping, b"\x00\x00\x00\x2a"))
    assert conn.bytes_to_send() == _frame(ids.play_sb_chunk_batch_received, struct.pack(">f", 7.0)) + _frame(
        ids.play_sb_pong, b"\x00\x00\x00\x2a"
    )
    time_body = (
        struct.pack(">qq?", 1234, 6000, True)
        if protocol == 769
        else (struct.pack(">q", 1234) + b"\x01\x00" + codec.pack_varlong(6000) + struct.pack(">ff", 0, 1))
    )
    assert conn.receive(_frame(ids.play_cb_time, time_body)) == [WorldTime(1234, 6000)]
    assert conn.receive(_frame(ids.play_cb_start_configuration)) == [ConfigurationEntered(reconfiguration=True)]
    assert conn.bytes_to_send() == _frame(ids.play_sb_configuration_ack)
    assert conn.state == "configuration"


@pytest.mark.parametrize("protocol", [769, 776])
def test_play_disconnect_is_nbt_text(protocol: int) -> None:
    ids = packet_ids(protocol)
    conn = _play_conn(protocol)
    reason = b"\x08" + struct.pack(">H", 13) + b"Server closed"
    assert conn.receive(_frame(ids.play_cb_disconnect, reason)) == [Disconnected("play", "Server closed")]


def test_known_packs_are_echoed_and_code_of_conduct_accepted() -> None:
    conn = _login_conn(776)
    conn.receive(_frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00"))
    conn.bytes_to_send()
    pack = codec.pack_string("minecraft") + codec.pack_string("core") + codec.pack_string("26.2")
    conn.receive(_frame(0x0E, b"\x01" + pack) + _frame(0x13, codec.pack_string("be nice")))
    assert conn.bytes_to_send() == _frame(0x07, b"\x01" + pack) + _frame(0x09)
    events = conn.receive(_frame(0x0E, codec.pack_varint(65)))
    assert isinstance(events[0], ProtocolViolation)


def test_disconnect_bytes_is_a_close_not_a_packet() -> None:
    conn = _play_conn(769)
    assert conn.disconnect_bytes() == b""
    assert conn.closed


def _nbt_text(text: str, extra: bytes = b"") -> bytes:
    return b"\x0a\x08" + struct.pack(">H", 4) + b"text" + struct.pack(">H", len(text)) + text.encode() + extra + b"\x00"


@pytest.mark.parametrize("protocol", [769, 776])
def test_play_disconnect_with_an_int_extra_is_still_a_disconnect(protocol: int) -> None:
    conn = _play_conn(protocol)
    extra = b"\x03" + struct.pack(">H", 5) + b"extra" + struct.pack(">i", 5)  # "extra": 5, not a list
    events = conn.receive(_frame(packet_ids(protocol).play_cb_disconnect, _nbt_text("Bye", extra)))
    assert events == [Disconnected("play", "Bye")]


def test_a_deeply_nested_json_login_disconnect_is_a_protocol_violation() -> None:
    conn = _login_conn()
    events = conn.receive(_frame(0x00, codec.pack_string("[" * 200_000, 262144)))
    assert len(events) == 1
    assert isinstance(events[0], ProtocolViolation)
    assert "nested deeper" in events[0].detail
    assert conn.closed


def test_any_parse_exception_is_a_protocol_violation(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: bytes) -> str:
        raise TypeError("unsupported operand\nsecond line")

    monkeypatch.setattr(codec, "text_from_nbt", broken)
    conn = _play_conn(769)
    events = conn.receive(_frame(packet_ids(769).play_cb_disconnect, _nbt_text("Bye")))
    assert events == [ProtocolViolation("unparseable packet (TypeError: unsupported operand second line)")]
    assert conn.closed


# -- the drivers' shared step (_common): kicks, the keep-alive deadline, exceptions ---------------


def _session(keepalive_timeout_s: float = 30.0, *, silent_for_s: float = 0.0) -> SessionCore:
    conn = _play_conn(769)
    joined = time.monotonic() - silent_for_s
    return SessionCore(
        Target("mc-1", "127.0.0.1", 1), conn, joined_mono=joined, keepalive_timeout_s=keepalive_timeout_s
    )


@pytest.mark.parametrize(
    ("reason", "expected"),
    [("Timed out", "client_timeout"), ("disconnect.timeout", "client_timeout"), ("Server closed", "kicked")],
)
def test_a_timeout_kick_is_the_clients_own_timeout(reason: str, expected: str) -> None:
    core = _session()
    core.feed(_frame(packet_ids(769).play_cb_disconnect, _nbt_text(reason)))
    assert core.end is not None
    assert (core.end.reason, core.end.detail, core.end.dropped) == (expected, reason, True)
    assert expected in SESSION_END_REASONS


def test_translated_timeout_kick_is_the_clients_own_timeout() -> None:
    core = _session()
    key = b"\x0a\x08" + struct.pack(">H", 9) + b"translate" + struct.pack(">H", 18) + b"disconnect.timeout\x00"
    core.feed(_frame(packet_ids(769).play_cb_disconnect, key))
    assert core.end is not None
    assert core.end.reason == "client_timeout"


def test_keepalive_deadline_reads_waiting_bytes_once_before_declaring() -> None:
    core = _session(1.0, silent_for_s=2.0)
    assert core.read_timeout() == 0.0
    assert not core.check_keepalive(lambda: True)  # bytes waiting: our loop was late, read them first
    assert core.read_timeout() == 1.0
    assert core.check_keepalive(lambda: True)  # still no whole packet after the grace read: the server's silence
    assert core.end is not None
    assert core.end.reason == "keepalive_timeout"
    core = _session(1.0, silent_for_s=2.0)
    assert not core.check_keepalive(lambda: True)
    core.feed(_frame(packet_ids(769).play_cb_keep_alive, b"\x00" * 8))  # the waiting packet: deadline renewed
    assert core.end is None
    assert core.keepalive_remaining() > 0
    core = _session(1.0, silent_for_s=2.0)
    assert core.check_keepalive(lambda: False)  # nothing waiting: a real timeout
    assert core.end is not None
    assert core.end.reason == "keepalive_timeout"


@pytest.mark.parametrize(
    ("err", "reason"),
    [
        (TimeoutError(), "keepalive_timeout"),
        (ConnectionResetError(104, "reset"), "closed"),
        (TypeError("x"), "protocol"),
    ],
)
def test_session_errors_map_to_a_reason(err: Exception, reason: str) -> None:
    assert _session().on_error(err).reason == reason


def test_join_step_and_errors() -> None:
    progress = JoinProgress(Target("mc-1", "127.0.0.1", 1), "mcproof_1", 769, phase_timeout_s=1, connect_timeout_s=1)
    conn = progress.connection()
    assert conn is not None
    conn.initial_bytes()
    progress.enter("login")
    assert progress.step(_frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00")) == _frame(0x03)
    assert progress.phase == "configuration"
    assert not progress.done
    assert progress.step(b"\xff\xff\xff\xff\x0f") == b""  # an oversized frame
    assert progress.attempt is not None
    assert progress.attempt.error_kind == "protocol"
    progress = JoinProgress(Target("mc-1", "127.0.0.1", 1), "mcproof_1", 769, phase_timeout_s=1, connect_timeout_s=1)
    assert progress.connection() is not None
    progress.enter("login")
    assert progress.step(b"") == b""
    assert progress.attempt is not None
    assert progress.attempt.error_kind == "closed"
    attempt = progress.on_error(KeyError("k"))
    assert (attempt.error_kind, attempt.phase) == ("protocol", "login")
    assert progress.on_error(TimeoutError()).error_kind == "timeout"
