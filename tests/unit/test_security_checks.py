"""Pure parts of the security checks: RCON codec (recorded bytes), fuzz set, exposure policy, TLS judgement,
password rules, Checkov report parsing, settings defaults."""

from __future__ import annotations

import json

import pytest

from mcproof.connect.targets import Target
from mcproof.minecraft.rcon import AUTH_RESPONSE, LOGIN, RconFrameError, RconIncomplete, decode_packet, encode_packet
from mcproof.security.checkov import parse_report
from mcproof.security.exposure import PortProbe, ScanItem, exposure_violations, plan_scan
from mcproof.security.fuzz import fuzz_cases, varint
from mcproof.security.rcon_audit import DefaultPasswordResult, rcon_untried, weak_password_problems
from mcproof.security.settings import DEFAULT_RCON_PASSWORDS, SecuritySettings
from mcproof.security.tls import TlsInspection, legacy_client_capability, tls_problems, tls_untried

# A vanilla 1.21 server's reply to a refused login (recorded): length 10, id -1, type 2, two NULs.
REFUSED = bytes.fromhex("0a000000ffffffff020000000000")


def test_rcon_codec_round_trip_and_recorded_refusal() -> None:
    assert encode_packet(1, LOGIN, "hunter2") == bytes.fromhex("11000000010000000300000068756e746572320000")
    packet, used = decode_packet(REFUSED + b"extra")
    assert (packet.request_id, packet.type, packet.payload, used) == (-1, AUTH_RESPONSE, "", 14)
    with pytest.raises(RconIncomplete):
        decode_packet(REFUSED[:9])
    with pytest.raises(RconFrameError):
        decode_packet(b"\xff\xff\x00\x00" + b"\x00" * 12)
    with pytest.raises(RconFrameError):
        decode_packet(bytes.fromhex("0a000000ffffffff020000000001"))


def test_fuzz_set_is_seeded_bounded_and_covers_the_classes() -> None:
    a, b = fuzz_cases(seed=3, count=40), fuzz_cases(seed=3, count=40)
    assert a == b
    assert len(a) == 40
    assert fuzz_cases(seed=4, count=40) != a
    names = {c.name for c in a}
    assert {"oversized-varint-length", "varint-six-bytes", "truncated-handshake", "truncated-frame"} <= names
    assert all(len(c.data) <= 5000 for c in a)
    assert varint(2**31 - 1).hex() == "ffffffff07"
    assert json.dumps([c.as_dict() for c in a])  # JSON-safe for evidence


def test_exposure_plan_and_policy() -> None:
    targets = [Target("mc-1", "127.0.0.5", 25565, query_port=25565, rcon_port=25575)]
    items = plan_scan(targets, SecuritySettings().exposure.public + SecuritySettings().exposure.forbidden)
    assert items == [
        ScanItem("mc-1", "127.0.0.5", "slp", 25565, "tcp"),
        ScanItem("mc-1", "127.0.0.5", "rcon", 25575, "tcp"),
    ]
    probes = [
        PortProbe("mc-1", "127.0.0.5", "slp", 25565, "tcp", "closed", 0.1),
        PortProbe("mc-1", "127.0.0.5", "rcon", 25575, "tcp", "open", 0.1),
        PortProbe("mc-2", "127.0.0.6", "rcon", 25575, "tcp", "filtered", 0.1),
    ]
    problems = [v["problem"] for v in exposure_violations(probes, public={"slp"}, forbidden={"rcon"})]
    assert problems == [
        "slp 127.0.0.5:25565/tcp is declared public but closed",
        "rcon 127.0.0.5:25575/tcp is reachable but must not be",
    ]


def test_demanding_defaults() -> None:
    settings = SecuritySettings()
    assert [p.name for p in settings.exposure.forbidden] == ["rcon"]
    assert settings.exposure.management == []
    assert "minecraft" in DEFAULT_RCON_PASSWORDS
    assert len(DEFAULT_RCON_PASSWORDS) <= 20
    with pytest.raises(ValueError, match="reason"):
        SecuritySettings.model_validate({"exposure": {"management": [{"name": "rcon", "reason": "x"}]}})


def _tls(**kw: object) -> TlsInspection:
    base: dict[str, object] = dict(
        name="api",
        address="127.0.0.1:1",
        server_name="127.0.0.1",
        protocol="TLSv1.3",
        verified=True,
        verify_error="",
        legacy_accepted=False,
        not_after="2030-01-01T00:00:00Z",
        days_left=400.0,
        subject="CN=a",
    )
    return TlsInspection(**{**base, **kw})  # type: ignore[arg-type]


def test_tls_judgement() -> None:
    assert tls_problems(_tls()) == []
    assert "negotiated TLSv1.1 < TLSv1.2" in tls_problems(_tls(protocol="TLSv1.1"))[0]
    assert "TLSv1.3" in tls_problems(_tls(protocol="TLSv1.2"), min_version="TLSv1.3")[0]
    assert "accepts a TLS 1.0/1.1-only client" in tls_problems(_tls(legacy_accepted=True))[0]
    wrong = tls_problems(_tls(verified=False, verify_error="Hostname mismatch", san=["x.example"]))
    assert "not valid for '127.0.0.1' (Hostname mismatch; SAN ['x.example'])" in wrong[0]
    assert "expires in 3.0 days (< 14-day window" in tls_problems(_tls(days_left=3.0))[0]
    assert "no TLS handshake" in tls_problems(_tls(error="ConnectionRefusedError"))[0]


def test_tls_untried_legacy_is_named_not_passed() -> None:
    assert tls_untried(_tls()) == ""  # refused: tried
    assert tls_untried(_tls(legacy_accepted=True)) == ""  # accepted: tried (and a problem)
    untried = tls_untried(_tls(legacy_accepted=None, legacy_untested="OpenSSL 3 cannot offer TLS 1.0/1.1"))
    assert untried == "api (127.0.0.1:1): refusal of TLS 1.0/1.1 not tried: OpenSSL 3 cannot offer TLS 1.0/1.1"
    assert tls_untried(_tls(legacy_accepted=None, error="refused")) == ""  # no handshake at all: a problem instead
    assert isinstance(legacy_client_capability(), str)  # offline: no connection is made


def test_rcon_untried() -> None:
    ok = DefaultPasswordResult("mc-1", "127.0.0.1:25575", 3, [])
    silent = DefaultPasswordResult("mc-2", "127.0.0.2:25575", 0, [], "timeout: no reply")
    cut = DefaultPasswordResult("mc-3", "127.0.0.3:25575", 1, [], "reset: closed")
    pw = ["a", "b", "c"]
    assert rcon_untried([ok], pw) == ""
    assert rcon_untried([ok, silent], pw) == ""  # one unreachable RCON among tested ones: nothing to log in to
    assert rcon_untried([silent], pw).startswith("no RCON login attempted: 1 of 1 server(s)")
    assert "stopped answering part-way" in rcon_untried([ok, cut], pw)
    assert "rcon_default_passwords is empty" in rcon_untried([ok], [])
    assert rcon_untried([], pw) == "no server with an RCON port was picked"


def test_password_rules() -> None:
    assert weak_password_problems("Minecraft", DEFAULT_RCON_PASSWORDS)[0].startswith(
        "the RCON password is a well-known"
    )
    assert "has 8 characters (< 12)" in weak_password_problems("x7Gh2kLp", DEFAULT_RCON_PASSWORDS)[0]
    assert weak_password_problems("q" * 24, DEFAULT_RCON_PASSWORDS) == []
    assert "Minecraft" not in " ".join(weak_password_problems("Minecraft", DEFAULT_RCON_PASSWORDS))


def test_checkov_report_parsing_list_and_empty() -> None:
    text = json.dumps(
        [
            {
                "check_type": "kubernetes",
                "summary": {"passed": 5, "failed": 1, "resource_count": 2, "checkov_version": "3.3.30"},
                "results": {
                    "failed_checks": [
                        {
                            "check_id": "CKV_K8S_14",
                            "check_name": "Image Tag should be fixed",
                            "resource": "Deployment.t.mc",
                            "file_path": "/x.yaml",
                            "file_line_range": [3, 9],
                        }
                    ]
                },
            },
            {"check_type": "helm", "summary": {"passed": 2}, "results": {"failed_checks": []}},
        ]
    )
    failed, summary = parse_report(text)
    assert [str(f) for f in failed] == ["CKV_K8S_14 Deployment.t.mc (/x.yaml:3): Image Tag should be fixed"]
    assert summary["passed"] == 7
    assert summary["checkov_version"] == "3.3.30"
    assert parse_report("")[0] == []
