"""The player client against real servers it did not write (flying-squid 1.21.4, Minestom 26.2), the sandbox fleet, and against
tiny hostile test-side servers (online mode, trickle, silence, oversized frames).

Sessions stay 30 s on condition: still open, keep-alives answered, time updates received; then leave.
Both drivers run at once (asyncio in the loop, the blocking one in a thread) so the 30 s are spent once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from suite_runs import check_outcomes, run_suite
from thirdparty import ThirdPartyServer, flying_squid, free_port, minestom

from mcproof.minecraft.player import aio, blocking, codec
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd
from mcproof.minecraft.player.versions import packet_ids
from mcproof.target import Target
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

STAY_S = 30.0
MIN_TIME_UPDATES = 10  # both servers send one a second; a third of that tolerates a busy 2-core machine
SLACK_S = 1.0  # a bounded phase ends at most this long after its timeout on a loaded machine


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ThirdPartyServer]]:
    root = tmp_path_factory.mktemp("players")
    started = {"flying-squid": flying_squid(root / "flying-squid"), "minestom": minestom(root / "minestom")}
    try:
        for server in started.values():
            server.start()
        yield started
    finally:
        for server in started.values():
            server.stop()


def _target(server: ThirdPartyServer | _Served) -> Target:
    return Target(server.name, server.host, server.port)


async def _stay_aio(server: ThirdPartyServer | _Served, name: str) -> tuple[JoinAttempt, dict[str, object]]:
    attempt, session = await aio.join(_target(server), server.protocol, name)
    assert session is not None, attempt.describe()
    early = await session.wait(STAY_S)
    seen = {
        "end_before_leave": early,
        "time_updates": len(session.time_updates),
        "keepalives": session.keepalives_answered,
    }
    seen["ages"] = [t.world_age for t in session.time_updates]
    seen["end"] = await session.leave()
    return attempt, seen


def _stay_blocking(server: ThirdPartyServer | _Served, name: str) -> tuple[JoinAttempt, dict[str, object]]:
    attempt, session = blocking.join(_target(server), server.protocol, name)
    assert session is not None, attempt.describe()
    early = session.pump(time.monotonic() + STAY_S)
    seen = {
        "end_before_leave": early,
        "time_updates": len(session.time_updates),
        "keepalives": session.keepalives_answered,
    }
    seen["ages"] = [t.world_age for t in session.time_updates]
    seen["end"] = session.leave()
    return attempt, seen


@dataclass(frozen=True)
class _Served:
    """A server to join: a third-party one or a sandbox fleet server (the fields _stay_* read)."""

    name: str
    host: str
    port: int
    protocol: int


def test_players_join_both_servers_stay_30s_and_leave(
    servers: dict[str, ThirdPartyServer],
    sandbox_factory: Callable[..., Sandbox],
    record_property: Callable[[str, object], None],
) -> None:
    """flying-squid, Minestom and a sandbox fleet server, each with both drivers, at once."""
    fleet_server = sandbox_factory(servers=2).servers()[1]
    served: list[ThirdPartyServer | _Served] = [*servers.values()]
    served.append(_Served(fleet_server.id, fleet_server.host, fleet_server.port, 769))

    async def everyone() -> list[tuple[JoinAttempt, dict[str, object]]]:
        jobs = []
        for server in served:
            jobs.append(_stay_aio(server, "mcproof_aio"))
            jobs.append(asyncio.to_thread(_stay_blocking, server, "mcproof_sync"))
        return await asyncio.gather(*jobs)

    results = asyncio.run(everyone())
    assert len(results) == 6
    for attempt, seen in results:
        who = f"{attempt.player}@{attempt.server}"
        assert attempt.ok, attempt.describe()
        assert attempt.phase == "play"
        assert attempt.join_s is not None
        assert 0 < attempt.join_s < 5.0
        record_property(f"join_s[{who}]", round(attempt.join_s, 4))
        assert seen["end_before_leave"] is None, f"{who} dropped: {seen['end_before_leave']}"
        assert isinstance(seen["time_updates"], int)
        assert seen["time_updates"] >= MIN_TIME_UPDATES, (who, seen)
        assert isinstance(seen["keepalives"], int)
        assert seen["keepalives"] >= 1, (who, seen)  # both servers send one within 30 s
        end = seen["end"]
        assert isinstance(end, SessionEnd)
        assert end.reason == "left"
        assert not end.dropped
        assert end.duration_s >= STAY_S
        if attempt.server != "flying-squid":  # flying-squid sends world age 0 (a TODO in its daycycle plugin)
            ages = seen["ages"]
            assert isinstance(ages, list)
            assert ages[-1] > ages[0]


def test_wrong_protocol_fails_naming_the_phase(servers: dict[str, ThirdPartyServer]) -> None:
    """Minestom refuses a 1.21.4 client at login; flying-squid lets a 26.2 client through login and
    configuration, then speaks 1.21.4 play ids it does not understand: no Join Game, the play phase times out."""
    attempt, session = blocking.join(_target(servers["minestom"]), 769, "mcproof_old", phase_timeout_s=2.0)
    assert session is None
    assert (attempt.ok, attempt.phase, attempt.error_kind) == (False, "login", "disconnected"), attempt
    assert attempt.describe().startswith("minestom: disconnected in the login phase: ")
    attempt, session = blocking.join(_target(servers["flying-squid"]), 776, "mcproof_new", phase_timeout_s=2.0)
    assert session is None
    assert attempt.describe() == "flying-squid: play phase timed out after 2 s"


def test_unknown_protocol_is_unsupported_without_connecting() -> None:
    attempt, session = asyncio.run(aio.join(Target("mc-x", "127.0.0.1", free_port("127.0.0.1")), 770, "mcproof_1"))
    assert session is None
    assert attempt.error_kind == "unsupported_version"
    assert "protocol 770" in (attempt.error or "")
    bedrock = Target("be-1", "127.0.0.1", 19132, edition="bedrock")
    attempt, _ = blocking.join(bedrock, 769, "mcproof_1")
    assert attempt.error_kind == "unsupported_version"


def test_a_server_killed_mid_session_ends_the_sessions_as_closed(tmp_path: Path) -> None:
    server = flying_squid(tmp_path / "fs", name="fs-killed")
    server.start()
    try:

        async def scenario() -> tuple[SessionEnd | None, SessionEnd | None]:
            _, a = await aio.join(_target(server), server.protocol, "mcproof_a")
            _, b = await asyncio.to_thread(blocking.join, _target(server), server.protocol, "mcproof_b")
            assert a is not None
            assert b is not None
            pumping = asyncio.create_task(asyncio.to_thread(b.pump, time.monotonic() + 20.0))
            server.kill()
            return await a.wait(20.0), await pumping

        end_a, end_b = asyncio.run(scenario())
    finally:
        server.stop()
    for end in (end_a, end_b):
        assert end is not None
        assert end.reason in ("closed", "kicked"), end
        assert end.dropped


# -- test-side fake servers ---------------------------------------------------------------------


class FakeServer:
    """A loopback TCP server that runs `script(conn)` for each connection, in a thread."""

    def __init__(self, script: Callable[[socket.socket], None]) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self.script = script
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.script(conn)

    def target(self) -> Target:
        return Target("fake", "127.0.0.1", self.port)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def fake() -> Iterator[Callable[[Callable[[socket.socket], None]], FakeServer]]:
    made: list[FakeServer] = []

    def make(script: Callable[[socket.socket], None]) -> FakeServer:
        made.append(FakeServer(script))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _frame(packet_id: int, body: bytes = b"") -> bytes:
    return codec.encode_frame(codec.pack_varint(packet_id) + body)


def _read_some(conn: socket.socket) -> None:
    conn.settimeout(5)
    conn.recv(4096)


def _online_mode(conn: socket.socket) -> None:
    conn.settimeout(5)
    decoder = codec.FrameDecoder()
    decoder.feed(conn.recv(4096))
    packet = decoder.next_packet()
    if packet is None:
        return
    handshake = codec.Reader(packet)
    handshake.varint(), handshake.varint(), handshake.string(), handshake.u16()
    if handshake.varint() != 2:  # the smoke run's status sweep pings it too: not a login, nothing to check
        return
    key = b"k" * 162
    body = codec.pack_string("") + codec.pack_varint(len(key)) + key + codec.pack_varint(4) + b"tokn" + b"\x01"
    conn.sendall(_frame(0x01, body))
    conn.settimeout(2)
    with contextlib.suppress(TimeoutError):
        assert conn.recv(4096) == b""  # the client never answers an Encryption Request: it closes


def _trickle(conn: socket.socket) -> None:
    _read_some(conn)
    frame = _frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00")
    for byte in frame[:-1] * 100:  # one byte every 0.1 s, never a whole packet
        conn.sendall(bytes([byte]))
        time.sleep(0.1)


def _silent(conn: socket.socket) -> None:
    _read_some(conn)
    time.sleep(10)


def _oversized(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(b"\xff\xff\xff\xff\x07")


def _joins_then_silent(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(_frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00"))
    _read_some(conn)
    conn.sendall(_frame(0x03))  # finish configuration
    _read_some(conn)
    conn.sendall(_frame(0x2C, codec.pack_i32(1)))  # 1.21.4 Join Game (the client reads the entity id only)
    time.sleep(10)


def _both(target: Target, **kw: float) -> list[tuple[JoinAttempt, float]]:
    out = []
    began = time.monotonic()
    attempt, _ = blocking.join(target, 769, "mcproof_1", **kw)
    out.append((attempt, time.monotonic() - began))
    began = time.monotonic()
    attempt, _ = asyncio.run(aio.join(target, 769, "mcproof_1", **kw))
    out.append((attempt, time.monotonic() - began))
    return out


def test_online_mode_server_is_detected_and_never_answered(fake: Callable[..., FakeServer]) -> None:
    server = fake(_online_mode)
    for attempt, _ in _both(server.target()):
        assert attempt.error_kind == "online_mode", attempt
        assert attempt.phase == "login"
        assert "online mode" in (attempt.error or "")


def test_a_trickling_server_costs_at_most_the_phase_timeout(fake: Callable[..., FakeServer]) -> None:
    server = fake(_trickle)
    for attempt, took in _both(server.target(), phase_timeout_s=1.0):
        assert attempt.error_kind == "timeout", attempt
        assert attempt.error == "login phase timed out after 1 s"
        assert took < 1.0 + SLACK_S


def test_a_silent_server_times_out_naming_the_phase(fake: Callable[..., FakeServer]) -> None:
    server = fake(_silent)
    for attempt, took in _both(server.target(), phase_timeout_s=0.5):
        assert attempt.describe() == "fake: login phase timed out after 0.5 s"
        assert took < 0.5 + SLACK_S


def test_an_oversized_frame_is_a_protocol_error(fake: Callable[..., FakeServer]) -> None:
    server = fake(_oversized)
    for attempt, _ in _both(server.target()):
        assert attempt.error_kind == "protocol", attempt
        assert "frame length" in (attempt.error or "")


def test_a_refused_port_is_refused() -> None:
    target = Target("nobody", "127.0.0.1", free_port("127.0.0.1"))
    for attempt, _ in _both(target):
        assert attempt.error_kind == "refused", attempt
        assert attempt.phase == "connect"


def test_no_packet_for_the_keepalive_deadline_ends_the_session(fake: Callable[..., FakeServer]) -> None:
    server = fake(_joins_then_silent)
    attempt, session = blocking.join(server.target(), 769, "mcproof_1", keepalive_timeout_s=1.0)
    assert attempt.ok, attempt
    assert session is not None
    end = session.pump(time.monotonic() + 10.0)
    assert end is not None
    assert end.reason == "keepalive_timeout"
    assert end.duration_s < 1.0 + SLACK_S

    async def via_aio() -> SessionEnd | None:
        attempt, session = await aio.join(server.target(), 769, "mcproof_1", keepalive_timeout_s=1.0)
        assert session is not None, attempt
        return await session.wait(10.0)

    end = asyncio.run(via_aio())
    assert end is not None
    assert end.reason == "keepalive_timeout"


def _nbt_text(text: str, extra: bytes = b"") -> bytes:
    return b"\x0a\x08" + struct.pack(">H", 4) + b"text" + struct.pack(">H", len(text)) + text.encode() + extra + b"\x00"


def _joins_then_kicks_with_an_int_extra(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(_frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_1") + b"\x00"))
    _read_some(conn)
    conn.sendall(_frame(0x03))  # finish configuration
    _read_some(conn)
    extra = b"\x03" + struct.pack(">H", 5) + b"extra" + struct.pack(">i", 5)  # "extra": 5, not a list
    conn.sendall(_frame(0x2C, codec.pack_i32(1)) + _frame(packet_ids(769).play_cb_disconnect, _nbt_text("Bye", extra)))
    time.sleep(2)


def _nested_json_login_disconnect(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(_frame(0x00, codec.pack_string("[" * 200_000, 262144)))
    time.sleep(2)


def test_hostile_text_components_end_cleanly_in_both_drivers(fake: Callable[..., FakeServer]) -> None:
    """A kick whose "extra" is an int is a kick (not our clean leave); nested JSON is a protocol error."""
    kicker, nested = fake(_joins_then_kicks_with_an_int_extra), fake(_nested_json_login_disconnect)
    attempt, session = blocking.join(kicker.target(), 769, "mcproof_1")
    assert attempt.ok, attempt
    assert session is not None
    end = session.pump(time.monotonic() + 10.0) or session.leave()
    assert (end.reason, end.detail, end.dropped) == ("kicked", "Bye", True)

    async def via_aio() -> SessionEnd | None:
        attempt, session = await aio.join(kicker.target(), 769, "mcproof_1")
        assert session is not None, attempt
        return await session.wait(10.0)

    end_aio = asyncio.run(via_aio())
    assert end_aio is not None
    assert (end_aio.reason, end_aio.detail) == ("kicked", "Bye")
    for attempt, _ in _both(nested.target()):
        assert (attempt.error_kind, attempt.phase) == ("protocol", "login"), attempt
        assert "nested deeper than 32" in (attempt.error or "")


# -- the smoke check, end to end -----------------------------------------------------------------


def _stalls_in_configuration(conn: socket.socket) -> None:
    _read_some(conn)
    conn.sendall(_frame(0x02, b"\x00" * 16 + codec.pack_string("mcproof_smoke") + b"\x00"))
    time.sleep(10)


def _smoke_env(path: Path, servers: list[dict[str, object]], **minecraft: object) -> Path:
    data = {
        "name": "players",
        "tier": "dev",
        "minecraft": {
            "discovery": {"kind": "static", "servers": servers},
            "status_timeout_s": 1.0,
            **minecraft,
        },
        "players": {"phase_timeout_s": 1.0},
        "guards": {"loopback_only": True},
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_smoke_player_check_fails_naming_the_server_and_the_phase(
    servers: dict[str, ThirdPartyServer], fake: Callable[..., FakeServer], tmp_path: Path
) -> None:
    squid = servers["flying-squid"]
    stalled, online = fake(_stalls_in_configuration), fake(_online_mode)
    env = _smoke_env(
        tmp_path / "env.yaml",
        [
            {"name": squid.name, "host": squid.host, "port": squid.port},
            {"name": "mc-stalled", "host": "127.0.0.1", "port": stalled.port, "expect": {"protocol": 769}},
            {"name": "mc-online", "host": "127.0.0.1", "port": online.port, "expect": {"protocol": 769}},
        ],
    )
    run = run_suite(env, tmp_path / "reports", "-k", "test_a_player_can_join")
    assert run.code == 1, run.output
    check = check_outcomes(run)["test_a_player_can_join"]
    assert check["outcome"] == "failed"
    assert "1 of 3 servers did not let a player join" in check["message"]
    assert "mc-stalled: configuration phase timed out after 1 s" in check["message"]
    record = next(r for r in run.evidence() if r["type"] == "player_join")
    by_server = {a["server"]: a for a in record["attempts"]}
    assert by_server[squid.name]["ok"]
    assert by_server["mc-online"]["error_kind"] == "online_mode"
    assert [s["server"] for s in record["skipped"]] == ["mc-online"]
    assert [e["reason"] for e in record["sessions"]] == ["left"]
    assert record["verdict"] == "fail"
    figures = next(r for r in run.evidence() if r["type"] == "players")
    assert figures["context"] == "smoke"
    assert figures["samples"]["join_attempts"] == 2  # the online-mode server is not a join sample
    assert figures["samples"]["joins_ok"] == 1
    assert figures["failed_joins"] == ["mc-stalled: configuration phase timed out after 1 s"]


def test_smoke_player_check_skips_online_mode_and_status_only_environments(
    fake: Callable[..., FakeServer], tmp_path: Path
) -> None:
    online = fake(_online_mode)
    env = _smoke_env(
        tmp_path / "online.yaml",
        [{"name": "mc-online", "host": "127.0.0.1", "port": online.port, "expect": {"protocol": 769}}],
    )
    run = run_suite(env, tmp_path / "r1", "-k", "test_a_player_can_join")
    check = check_outcomes(run)["test_a_player_can_join"]
    assert check["outcome"] == "skipped", run.output
    assert "online-mode servers" in check["message"]
    assert "mc-online" in check["message"]
    env = _smoke_env(
        tmp_path / "bedrock.yaml",
        [{"name": "be-1", "host": "127.0.0.1", "port": free_port("127.0.0.1"), "edition": "bedrock"}],
    )
    run = run_suite(env, tmp_path / "r2", "-k", "test_a_player_can_join")
    check = check_outcomes(run)["test_a_player_can_join"]
    assert check["outcome"] == "skipped", run.output
    assert "no Java Edition servers" in check["message"]


def test_smoke_player_check_reports_hostile_servers_without_a_traceback(
    fake: Callable[..., FakeServer], tmp_path: Path
) -> None:
    kicker, nested = fake(_joins_then_kicks_with_an_int_extra), fake(_nested_json_login_disconnect)
    env = _smoke_env(
        tmp_path / "env.yaml",
        [
            {"name": "mc-kicker", "host": "127.0.0.1", "port": kicker.port, "expect": {"protocol": 769}},
            {"name": "mc-nested", "host": "127.0.0.1", "port": nested.port, "expect": {"protocol": 769}},
        ],
    )
    run = run_suite(env, tmp_path / "reports", "-k", "test_a_player_can_join")
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    check = check_outcomes(run)["test_a_player_can_join"]
    assert check["outcome"] == "failed"
    assert "2 of 2 servers did not let a player join" in check["message"]
    assert "mc-kicker: dropped" in check["message"]
    assert "(kicked: Bye)" in check["message"]
    assert "mc-nested: protocol error in the login phase" in check["message"]
    record = next(r for r in run.evidence() if r["type"] == "player_join")
    assert [e["reason"] for e in record["sessions"]] == ["kicked"]


GEVENT_PLAYERS = """
from gevent import monkey; monkey.patch_all()
import json, sys, time
import gevent
from mcproof.minecraft.player import blocking
from mcproof.target import Target
host, port, protocol = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def player(i):
    attempt, session = blocking.join(Target("t", host, port), protocol, f"mcproof_g{i}")
    if session is None:
        return attempt.describe()
    early = session.pump(time.monotonic() + 3.0)
    end = session.leave()
    return {"ok": attempt.ok, "early": early is not None, "times": len(session.time_updates), "end": end.reason,
            "joined": end.joined_mono, "ended": end.ended_mono}
jobs = [gevent.spawn(player, i) for i in range(4)]
gevent.joinall(jobs, timeout=30)
print(json.dumps([j.value for j in jobs]))
"""


def test_the_blocking_driver_holds_players_in_gevent_greenlets(servers: dict[str, ThirdPartyServer]) -> None:
    """As a Locust user would: gevent-patched sockets, four players at once in one process, each pumping 3 s."""
    server = servers["flying-squid"]
    done = subprocess.run(
        [sys.executable, "-c", GEVENT_PLAYERS, server.host, str(server.port), str(server.protocol)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    players = json.loads(done.stdout)
    assert len(players) == 4, players
    for player in players:
        assert isinstance(player, dict), player
        assert (player["ok"], player["early"], player["end"]) == (True, False, "left"), player
        assert player["times"] >= 1, player
    assert max(p["joined"] for p in players) < min(p["ended"] for p in players)  # all four were in at once
