"""Status expectations and error classification, on recorded values (no network)."""

from __future__ import annotations

import json

import pytest

from mcproof.config import ExpectedVersion
from mcproof.errors import TargetError
from mcproof.minecraft.expectations import describe_failures, status_problems
from mcproof.minecraft.status import StatusResult, classify_error
from mcproof.target import Target, ensure_loopback, is_loopback

EXPECT = ExpectedVersion(name="1.21.4", protocol=769)


def _ok(**kw: object) -> StatusResult:
    base: dict[str, object] = dict(
        target="mc-1",
        address="127.1.0.1:25565",
        ok=True,
        at="t",
        latency_ms=1.0,
        version_name="1.21.4",
        protocol=769,
        motd="hi",
        players_online=3,
        players_max=20,
    )
    base.update(kw)
    return StatusResult(**base)  # type: ignore[arg-type]


def test_good_reply_has_no_problems() -> None:
    assert status_problems(_ok(), EXPECT) == []


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"version_name": "1.8.9"}, "version '1.8.9'"),
        ({"protocol": 47}, "protocol 47"),
        ({"motd": "  "}, "MOTD is empty"),
        ({"players_max": 0}, "players.max is 0"),
        ({"players_online": 21}, "players.online 21 outside 0..20"),
        ({"players_online": -1}, "players.online -1"),
    ],
)
def test_each_bad_field_is_reported(change: dict[str, object], fragment: str) -> None:
    problems = status_problems(_ok(**change), EXPECT)
    assert any(fragment in p for p in problems), problems


def test_failed_ping_reports_kind() -> None:
    failed = StatusResult("mc-2", "a", False, "t", error_kind="timeout", error="no reply")
    assert status_problems(failed, EXPECT) == ["timeout: no reply"]


@pytest.mark.parametrize(
    ("err", "kind"),
    [
        (TimeoutError(), "timeout"),
        (ConnectionRefusedError(111, "refused"), "refused"),
        (ConnectionResetError(), "reset"),
        (json.JSONDecodeError("x", "doc", 0), "malformed"),
        (OSError("Received invalid JSON"), "malformed"),
        (OSError("Server did not respond with any information!"), "reset"),
        (OSError(113, "No route to host"), "unreachable"),
        (RuntimeError("boom"), "error"),
    ],
)
def test_classify_error(err: BaseException, kind: str) -> None:
    assert classify_error(err)[0] == kind


def test_describe_failures_caps_the_list() -> None:
    failures = [(f"mc-{i}", "refused") for i in range(30)]
    message = describe_failures(failures, 100, "answer", cap=3)
    assert message.startswith("30 of 100 servers failed to answer: mc-0 (refused); mc-1")
    assert "+27 more" in message


def test_loopback_guard() -> None:
    assert is_loopback("127.200.3.4")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("203.0.113.7")
    assert not is_loopback("example.org")
    ensure_loopback([Target("a", "127.0.0.1")], "local")
    with pytest.raises(TargetError, match=r"b \(203\.0\.113\.7\)"):
        ensure_loopback([Target("a", "127.0.0.1"), Target("b", "203.0.113.7")], "local")
