"""Every fault kind as a real mcstatus client sees it."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

import pytest
from mcstatus import JavaServer
from test_sandbox_fleet import rcon, status

from mcproof.errors import SandboxError
from mcproof_sandbox.fleet import Sandbox, SandboxServer, read_rcon_password

pytestmark = pytest.mark.integration


def refused(server: SandboxServer) -> bool:
    try:
        socket.create_connection((server.host, server.port), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_for(predicate: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``predicate`` held; fails the test after ``timeout``."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if predicate():
            return time.monotonic() - started
        time.sleep(0.05)
    pytest.fail(f"condition not met within {timeout}s")


def test_hang_slow_wrong_version_malformed(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=6)
    s = sb.servers()
    sb.inject([s[0].id], "hang")
    sb.inject([s[1].id], "slow", delay_s=0.6)
    sb.inject([s[2].id], "wrong_version", version_name="1.8.9", protocol=47)
    sb.inject([s[3].id], "malformed")
    sb.inject([s[4].id], "malformed", mode="packet")

    with pytest.raises(TimeoutError):
        status(s[0], timeout=0.5)
    with pytest.raises(TimeoutError):
        JavaServer(s[0].host, s[0].port, timeout=0.5).query(tries=1)
    slow = status(s[1])
    assert slow.latency >= 550
    wrong = status(s[2])
    assert (wrong.version.name, wrong.version.protocol) == ("1.8.9", 47)
    assert JavaServer(s[2].host, s[2].port, timeout=2).query(tries=1).software.version == "1.8.9"
    with pytest.raises(OSError, match="invalid JSON"):
        status(s[3])
    with pytest.raises(OSError):
        status(s[4])
    assert status(s[5]).version.name == "1.21.4"  # neighbours unaffected

    info = sb.status()
    assert info is not None
    assert info.faults[s[1].id] == {"slow": {"delay_s": 0.6}}
    assert set(info.faults) == {x.id for x in s[:5]}
    assert info.up_count == 6

    sb.clear([s[0].id, s[3].id])
    assert status(s[0]).version.name == "1.21.4"
    assert status(s[3]).version.name == "1.21.4"
    sb.clear()
    info = sb.status()
    assert info is not None
    assert info.faults == {}


def test_refuse_stays_until_cleared(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=3, boot_delay_s=0.3)
    target = sb.servers()[1]
    sb.inject([target.id], "refuse")
    with pytest.raises(ConnectionRefusedError):
        status(target)
    time.sleep(0.8)  # longer than the boot delay: refuse is not restarted
    assert refused(target)
    info = sb.status()
    assert info is not None
    assert (info.down, info.down_count) == ([target.id], 1)
    sb.clear([target.id])
    wait_for(lambda: not refused(target), 3.0)
    assert status(target).version.name == "1.21.4"


def test_kill_comes_back_after_boot_delay(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=3, boot_delay_s=1.0)
    target = sb.servers()[2]
    sb.inject([target.id], "kill")
    assert refused(target)
    elapsed = wait_for(lambda: not refused(target), 5.0)
    assert elapsed >= 0.7
    assert status(target).players.max == 20


def test_kill_without_restart_and_rcon_stop(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=3, boot_delay_s=0.5)
    a, b, _ = sb.servers()
    sb.inject([a.id], "kill", restart=False)
    assert rcon(b, read_rcon_password(sb.state_dir), "stop") == ["Stopping the server"]
    wait_for(lambda: refused(b), 2.0)
    wait_for(lambda: not refused(b), 5.0)  # stop: the supervisor brings it back
    time.sleep(0.3)
    assert refused(a)
    sb.clear([a.id])
    wait_for(lambda: not refused(a), 3.0)


def test_unsupervised_kill_stays_down(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=2, boot_delay_s=0.3, supervise=False)
    target = sb.servers()[0]
    sb.inject([target.id], "kill")
    time.sleep(1.0)
    assert refused(target)
    info = sb.status()
    assert info is not None
    assert info.down == [target.id]
    assert "kill" in info.faults[target.id]


def test_bad_fault_requests_raise(sandbox_factory: Callable[..., Sandbox]) -> None:
    sb = sandbox_factory(servers=2)
    with pytest.raises(SandboxError, match="unknown server id"):
        sb.inject(["mc-99999"], "hang")
    with pytest.raises(SandboxError, match="unknown fault kind"):
        sb.inject(["mc-00000"], "meteor")
    with pytest.raises(SandboxError, match="delay_s"):
        sb.inject(["mc-00000"], "slow", delay_s="soon")
    with pytest.raises(SandboxError, match="unknown server id"):
        sb.clear(["nope"])
