"""SandboxSpec validation, address allocation, fault catalogue and state-dir helpers."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet import SandboxServer, SandboxSpec, read_rcon_password, read_state
from mcproof_sandbox.fleet.spec import normalize_fault, server_host, server_id
from mcproof_sandbox.fleet.state import write_json_atomic, write_rcon_password


def test_addresses_skip_zero_and_broadcast_octets() -> None:
    hosts = [server_host("127.1.0.1", i) for i in range(256)]
    assert hosts[0] == "127.1.0.1"
    assert hosts[253] == "127.1.0.254"
    assert hosts[254] == "127.1.1.1"
    assert len(set(hosts)) == 256
    assert not any(h.endswith((".0", ".255")) for h in hosts)
    assert server_host("127.100.7.200", 60) == "127.100.8.6"
    assert server_id(12) == "mc-00012"


def test_spec_rejects_bad_values_in_one_message() -> None:
    with pytest.raises(SandboxError, match=r"servers must be.*slp_port and rcon_port must differ"):
        SandboxSpec(servers=0, rcon_port=25565)
    with pytest.raises(SandboxError, match="base_address"):
        SandboxSpec(base_address="203.0.113.1")
    with pytest.raises(SandboxError, match="outside 127"):
        SandboxSpec(servers=60_000, base_address="127.255.250.1")


def test_spec_dict_never_holds_the_password() -> None:
    spec = SandboxSpec(servers=3, rcon_password="hunter2")
    data = spec.as_dict()
    assert "hunter2" not in repr(data)
    assert data["rcon_password_set"] is True
    assert SandboxSpec.from_dict(data, rcon_password="hunter2") == spec
    assert SandboxSpec(servers=5001, shard_size=2500).shard_count == 3


def test_fault_defaults_and_errors() -> None:
    assert normalize_fault("slow", {}) == {"delay_s": 1.0}
    assert normalize_fault("kill", {"restart": False}) == {"restart": False}
    assert normalize_fault("wrong_version", {"protocol": "5"}) == {"version_name": "0.0.0-wrong", "protocol": 5}
    with pytest.raises(SandboxError, match="unknown fault kind"):
        normalize_fault("explode", {})
    with pytest.raises(SandboxError, match="takes"):
        normalize_fault("hang", {"delay_s": 1})
    with pytest.raises(SandboxError, match="delay_s"):
        normalize_fault("slow", {"delay_s": -1})


def test_trickle_and_oversized_fault_parameters() -> None:
    assert normalize_fault("trickle", {}) == {"interval_s": 1.0}
    assert normalize_fault("trickle", {"interval_s": 0.2}) == {"interval_s": 0.2}
    assert normalize_fault("oversized", {}) == {"size_bytes": 2 << 20}
    with pytest.raises(SandboxError, match=r"trickle interval_s must be a number in \(0, 60\]"):
        normalize_fault("trickle", {"interval_s": 0})
    with pytest.raises(SandboxError, match="oversized size_bytes must be an integer in 65536"):
        normalize_fault("oversized", {"size_bytes": 10})
    with pytest.raises(SandboxError, match="takes"):
        normalize_fault("trickle", {"delay_s": 1})


def test_password_file_is_private(tmp_path: Path) -> None:
    generated = write_rcon_password(tmp_path, None)
    assert len(generated) >= 20
    assert read_rcon_password(tmp_path) == generated
    assert stat.S_IMODE((tmp_path / "rcon.password").stat().st_mode) == 0o600
    assert write_rcon_password(tmp_path, "given") == "given"
    with pytest.raises(SandboxError, match="no RCON password"):
        read_rcon_password(tmp_path / "missing")


def test_state_file_round_trip(tmp_path: Path) -> None:
    assert read_state(tmp_path) is None
    server = SandboxServer("mc-00000", "127.1.0.1", 25565, 25565, 25575)
    write_json_atomic(tmp_path / "state.json", {"format": 1, "servers": [server.as_dict()]})
    state = read_state(tmp_path)
    assert state is not None
    assert SandboxServer.from_dict(state["servers"][0]) == server
    (tmp_path / "state.json").write_text("{", encoding="utf-8")
    with pytest.raises(SandboxError, match="not valid JSON"):
        read_state(tmp_path)


def test_stop_and_lag_fault_parameters() -> None:
    assert normalize_fault("stop", {}) == {"restart": True}
    assert normalize_fault("stop", {"restart": 0}) == {"restart": False}
    assert normalize_fault("lag", {}) == {"tps": 5.0}
    assert normalize_fault("lag", {"tps": 2}) == {"tps": 2.0}
    for bad in (0, -1, 1001, "5", True):
        with pytest.raises(SandboxError, match="lag tps must be a number"):
            normalize_fault("lag", {"tps": bad})
    with pytest.raises(SandboxError, match="takes"):
        normalize_fault("lag", {"delay_s": 1})


def test_tick_rate_compression_and_keepalive_bounds() -> None:
    spec = SandboxSpec(servers=1, tick_rate=10.0, compression_threshold=-1, keepalive_s=1.0)
    assert SandboxSpec.from_dict(spec.as_dict()) == spec
    with pytest.raises(SandboxError) as err:
        SandboxSpec(servers=1, tick_rate=0, compression_threshold=-2, keepalive_s=0.01)
    assert "tick_rate" in str(err.value)
    assert "compression_threshold" in str(err.value)
    assert "keepalive_s" in str(err.value)


def test_world_age_keeps_counting_across_a_tick_rate_change() -> None:
    import asyncio

    from mcproof_sandbox.fleet.server import Fleet

    async def run() -> None:
        fleet = Fleet(SandboxSpec(servers=1), "pw", 0, 1)
        srv = fleet.servers[0]
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        srv.age_t0 = t0 - 10.0  # ten seconds at 20 TPS
        assert srv.world_age(t0) == 200
        srv.apply_fault("lag", {"tps": 5.0})
        now = loop.time()
        assert srv.world_age(now) >= 200
        assert srv.world_age(now + 4.0) - srv.world_age(now) == 20  # 5 ticks a second
        assert srv.next_time > now  # the next Update Time is one 20-tick step away at 5 TPS
        srv.set_tps(fleet.spec.tick_rate)  # what clear() does for the clock (without reopening listeners)
        later = loop.time()
        assert srv.world_age(later + 1.0) - srv.world_age(later) == 20

    asyncio.run(run())


def test_environment_tick_rate_reaches_the_sandbox_and_the_bridged_servers() -> None:
    from mcproof.config import EmbeddedKubernetes, parse_environment
    from mcproof.errors import ConfigError
    from mcproof_sandbox.kube.embedded import cluster_spec
    from mcproof_sandbox.stack import sandbox_spec

    text = "name: t\ntier: dev\nminecraft:\n  discovery: {kind: sandbox}\nsandbox: {servers: 3, tick_rate: 10}\n"
    env = parse_environment(text, Path("envs/t.yaml"))
    assert sandbox_spec(env).tick_rate == 10.0
    assert cluster_spec(env, EmbeddedKubernetes()).tick_rate == 10.0
    with pytest.raises(ConfigError, match="tick_rate"):
        parse_environment(text.replace("tick_rate: 10", "tick_rate: 0"), Path("envs/t.yaml"))
