"""Players on the sandbox fleet, judged by an independent client: node-minecraft-protocol (PrismarineJS), the
library mineflayer is built on, logging in offline with version 1.21.4 (``mc_client.js`` prints its events).

Every wait is a condition with a deadline; rates are compared within one run (normal vs lagging), never
against a fixed figure.
"""

from __future__ import annotations

import itertools
import json
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from mcstatus import JavaServer
from tests.integration.test_sandbox_fleet import rcon
from tests.integration.thirdparty import cache_root

from mcproof_sandbox.fleet import Sandbox, SandboxServer, read_rcon_password

pytestmark = pytest.mark.integration

CLIENT_JS = Path(__file__).with_name("mc_client.js")
NODE_PROTOCOL = cache_root() / "flying-squid" / "node_modules" / "minecraft-protocol"


class Player:
    """One node client process and the JSON events it printed."""

    def __init__(self, server: SandboxServer, name: str, stay_s: float = 120.0, version: str = "1.21.4", *extra: str):
        node = shutil.which("node")
        if node is None or not NODE_PROTOCOL.is_dir():
            pytest.fail(f"node or {NODE_PROTOCOL} is missing: run tools/bootstrap.sh (tools/thirdparty/install.sh)")
        self.name = name
        self.events: list[dict[str, Any]] = []
        self.proc = subprocess.Popen(
            [node, str(CLIENT_JS), server.host, str(server.port), name, version, str(stay_s), *extra],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env={"PATH": "/usr/bin:/bin", "MCPROOF_THIRDPARTY": str(cache_root())},
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.events.append({"event": "garbage", "line": line.decode(errors="replace")})

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["event"] == kind]

    def wait(self, what: Callable[[Player], bool], timeout: float, label: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if what(self):
                return
            if self.of("end") or (self.proc.poll() is not None and not self._reader.is_alive()):
                break
            time.sleep(0.05)
        if not what(self):
            raise AssertionError(f"{self.name}: {label} not seen within {timeout:g}s; events: {self.events[-12:]}")

    def wait_event(self, kind: str, timeout: float = 15.0, count: int = 1) -> dict[str, Any]:
        self.wait(lambda p: len(p.of(kind)) >= count, timeout, f"{count} x {kind!r}")
        return self.of(kind)[count - 1]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def players() -> Any:
    started: list[Player] = []

    def make(*args: Any) -> Player:
        player = Player(*args)
        started.append(player)
        return player

    yield make
    for player in started:
        player.close()


def online(server: SandboxServer) -> tuple[int, list[str]]:
    status = JavaServer(server.host, server.port, timeout=3).status(tries=1)
    return status.players.online, sorted(p.name for p in status.players.sample or [])


def wait_until(cond: Callable[[], bool], timeout: float, label: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.05)
    assert cond(), f"{label} not true within {timeout:g}s"


def rate(updates: list[dict[str, Any]]) -> float:
    """World age ticks per wall-clock second between the first and last Update Time of ``updates``."""
    first, last = updates[0], updates[-1]
    return (last["age"] - first["age"]) / (last["t"] - first["t"])


def test_join_player_list_full_server_wrong_version_and_stop(
    sandbox_factory: Callable[..., Sandbox], players: Callable[..., Player]
) -> None:
    sb = sandbox_factory(servers=3, max_players=2, keepalive_s=1.0)
    password = read_rcon_password(sb.state_dir)
    a_srv, b_srv, _ = sb.servers()
    assert online(a_srv) == (0, [])

    alice = players(a_srv, "Alice")
    login = alice.wait_event("login")
    assert login["maxPlayers"] == 2
    assert alice.of("login_success")[0]["uuid"] == "10920508-d5d8-3eed-93d2-92f193afe7d7"  # offline UUID
    assert alice.wait_event("position")["teleportId"] == 1
    assert online(a_srv) == (1, ["Alice"])
    sample = JavaServer(a_srv.host, a_srv.port, timeout=3).status(tries=1).players.sample or []
    assert [p.id for p in sample] == ["10920508-d5d8-3eed-93d2-92f193afe7d7"]
    assert JavaServer(a_srv.host, a_srv.port, timeout=3).query(tries=1).players.list == ["Alice"]
    assert rcon(a_srv, password, "list") == ["There are 1 of a max of 2 players online: Alice"]
    assert online(b_srv) == (0, [])  # another server's players are its own

    alice.wait_event("keep_alive", count=2, timeout=15.0)  # keepalive_s=1: answered, so she stays
    updates = alice.of("update_time")
    alice.wait_event("update_time", count=len(updates) + 2, timeout=15.0)
    ages = [u["age"] for u in alice.of("update_time")]
    assert ages == sorted(ages), ages
    assert ages[-1] > ages[0], ages
    steps = [b - a for a, b in itertools.pairwise(ages[1:])]  # the first comes with the join, at any age
    assert all(step > 0 and step % 20 == 0 for step in steps), ages  # on 20-tick boundaries, as vanilla

    bob = players(a_srv, "Bob")
    bob.wait_event("login")
    assert online(a_srv) == (2, ["Alice", "Bob"])
    carol = players(a_srv, "Carol")
    kick = carol.wait_event("kick")
    assert (kick["state"], kick["reason"]) == ("login", "The server is full!")
    carol.wait_event("end")
    assert not carol.of("login")

    old = players(b_srv, "Dave", 120.0, "1.21.1")
    kick = old.wait_event("kick")
    assert kick["reason"] == "Outdated client! Please use 1.21.4"
    assert not old.of("login")

    sb.inject([a_srv.id], "stop")  # a clean stop: every player is told
    for player in (alice, bob):
        kick = player.wait_event("kick")
        assert (kick["state"], kick["reason"]) == ("play", "Server closed")
        assert player.wait_event("end")["kicked"] is True

    erin = players(b_srv, "Erin")
    erin.wait_event("login")
    assert rcon(b_srv, password, "stop") == ["Stopping the server"]
    assert erin.wait_event("kick")["reason"] == "Server closed"

    sb.clear()
    wait_until(lambda: sb.status().up_count == 3, 30.0, "stopped servers back up")  # type: ignore[union-attr]
    again = players(a_srv, "Alice")
    again.wait_event("login")
    assert online(a_srv) == (1, ["Alice"])


def test_kill_drops_players_without_a_packet_and_bad_clients_cost_one_connection(
    sandbox_factory: Callable[..., Sandbox], players: Callable[..., Player]
) -> None:
    sb = sandbox_factory(servers=3, keepalive_s=1.0)
    a_srv, b_srv, c_srv = sb.servers()
    victim, bystander = players(a_srv, "Victim"), players(b_srv, "Bystander")
    victim.wait_event("login")
    bystander.wait_event("login")
    sb.inject([a_srv.id], "kill")
    end = victim.wait_event("end")
    assert end["kicked"] is False, victim.events
    assert not victim.of("kick"), victim.events
    assert not bystander.of("end")  # outside the blast radius: still in play
    seen = len(bystander.of("keep_alive"))
    bystander.wait_event("keep_alive", count=seen + 1)

    silent = players(c_srv, "Silent", 120.0, "1.21.4", "--no-keepalive")
    silent.wait_event("login")
    kick = silent.wait_event("kick", timeout=15.0)  # keepalive_s=1: unanswered at the next one
    assert (kick["state"], kick["reason"]) == ("play", "Timed out")

    handshake = b"\x00" + bytes([0x81, 0x06]) + bytes([len(c_srv.host)]) + c_srv.host.encode() + b"\x63\xdd\x02"
    for junk in (
        b"\xff\xff\xff\xff\x0f",  # frame length beyond any VarInt limit
        b"\x07\x00\x05Alice",  # Login Start without its UUID
        b"\x03\x7f\x00\x00",  # an unknown login packet
    ):
        with socket.create_connection((c_srv.host, c_srv.port), timeout=5) as sock:
            sock.sendall(bytes([len(handshake)]) + handshake + junk)
            sock.settimeout(5)
            data = b""
            try:
                while chunk := sock.recv(4096):
                    data += chunk
            except ConnectionResetError:
                pass  # an abort may reach us as a reset: closed either way
            assert len(data) < 64  # closed (perhaps after Set Compression/Login Success), nothing else
    assert online(c_srv) == (0, [])
    last = players(c_srv, "After")
    last.wait_event("login")
    assert online(c_srv) == (1, ["After"])


def test_lag_fault_lowers_the_tick_rate_and_sandbox_down_kicks(
    sandbox_factory: Callable[..., Sandbox], players: Callable[..., Player]
) -> None:
    sb = sandbox_factory(servers=2)
    srv = sb.servers()[0]
    steve = players(srv, "Steve")
    steve.wait_event("login")
    steve.wait_event("update_time", count=5, timeout=30.0)
    normal = rate(steve.of("update_time")[1:])  # from the second: the first comes with the join

    sb.inject([srv.id], "lag", tps=5)
    assert sb.status().faults[srv.id] == {"lag": {"tps": 5.0}}  # type: ignore[union-attr]
    seen = len(steve.of("update_time"))
    steve.wait_event("update_time", count=seen + 3, timeout=60.0)
    lagging = rate(steve.of("update_time")[seen:])
    assert lagging < normal / 2, (normal, lagging)  # 5 vs 20 ticks per second, measured by the client

    sb.clear([srv.id])
    seen = len(steve.of("update_time"))
    steve.wait_event("update_time", count=seen + 4, timeout=30.0)
    restored = rate(steve.of("update_time")[seen + 1 :])
    assert restored > 2 * lagging, (normal, lagging, restored)

    sb.down(timeout=10.0)  # the supervisor stops its shards: a clean stop for every player
    kick = steve.wait_event("kick")
    assert (kick["state"], kick["reason"]) == ("play", "Server closed")


@pytest.mark.kubernetes
def test_bridged_pods_take_players_graceful_delete_kicks_forced_delete_drops(
    embedded_cluster: Any, kube_namespace: str, players: Callable[..., Player]
) -> None:
    """A pod's server is the same SimServer: players log in; a graceful pod delete (the container would get
    SIGTERM) kicks them "Server closed"; a forced delete (grace 0: gone at once) drops them without a packet."""
    from mcproof_sandbox.kube.embedded import wait_serving
    from mcproof_sandbox.kube.workloads import Tenant, deploy_tenant, wait_workloads_ready

    api = embedded_cluster.api()
    deploy_tenant(api, Tenant(kube_namespace, releases=1, replicas=2))
    wait_workloads_ready(api, [kube_namespace], timeout=30)
    assert wait_serving(api, [kube_namespace], timeout=20) == 2
    pods = {p["metadata"]["name"]: p for p in api.objects("pods", kube_namespace)}
    ips = {name: pods[name]["status"]["podIP"] for name in ("mc-000-0", "mc-000-1")}
    graceful = players(SandboxServer("g", ips["mc-000-0"], 25565, 25565, 25575), "Graceful")
    forced = players(SandboxServer("f", ips["mc-000-1"], 25565, 25565, 25575), "Forced")
    graceful.wait_event("login")
    forced.wait_event("login")
    assert JavaServer(ips["mc-000-0"], 25565, timeout=3).status(tries=1).players.online == 1

    api.core.delete_namespaced_pod("mc-000-0", kube_namespace, _request_timeout=api.timeout)  # default grace
    kick = graceful.wait_event("kick", timeout=30.0)
    assert (kick["state"], kick["reason"]) == ("play", "Server closed")
    assert not forced.of("end")  # the other pod's player is untouched

    api.core.delete_namespaced_pod("mc-000-1", kube_namespace, grace_period_seconds=0, _request_timeout=api.timeout)
    end = forced.wait_event("end", timeout=30.0)
    assert end["kicked"] is False, forced.events
