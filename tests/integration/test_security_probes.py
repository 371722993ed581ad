"""Security probes against real local servers: a fragile Minecraft server that dies on an oversized
VarInt (the fuzz check FAILS naming it and the case), and TLS servers with good, expired,
wrong-hostname and soon-expiring certificates made with `cryptography` (the TLS check FAILS naming
the endpoint and the fix)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from suite_runs import check_outcomes, run_suite

from mcproof.minecraft.status import status_ping
from mcproof.security.fuzz import fuzz_cases, run_cases
from mcproof.security.tls import inspect_tls, tls_problems
from mcproof_sandbox.fleet import protocol as p

pytestmark = pytest.mark.integration


class FragileServer:
    """Answers Server List Ping; on a frame whose length VarInt is oversized it closes its listener (dies)."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.dead = threading.Event()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set() and not self.dead.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                self._handle(conn)
        self.sock.close()

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(0.5)
        buf = bytearray()
        state = 0
        for _ in range(20):
            try:
                chunk = conn.recv(4096)
            except OSError:
                return
            if not chunk:
                return
            buf += chunk
            if buf.startswith(b"\xff\xff\xff\xff"):
                self.dead.set()  # the bug under test: an oversized length kills the server
                return
            while True:
                try:
                    payload, used = p.read_frame(buf)
                except p.Incomplete:
                    break
                except p.ProtocolError:
                    return
                del buf[:used]
                if state == 0:
                    state = 1
                elif payload == b"\x00":
                    doc = p.status_document(
                        version_name="1.21.4", protocol=769, motd="fragile", online=0, max_players=5, sample=[]
                    )
                    conn.sendall(p.encode_status_response(doc))
                elif payload[:1] == b"\x01" and len(payload) == 9:
                    conn.sendall(p.encode_pong(payload[1:]))
                    return
                else:
                    return


@pytest.fixture
def fragile() -> Iterator[FragileServer]:
    server = FragileServer()
    yield server
    server.stop.set()
    server.thread.join(timeout=2)


def test_fuzz_names_the_case_that_kills_a_fragile_server(fragile: FragileServer) -> None:
    assert status_ping("127.0.0.1", fragile.port, timeout=1.0).ok
    cases = fuzz_cases(seed=7, count=10)
    outcomes, killers = run_cases(
        "127.0.0.1", fragile.port, cases, alive=lambda: status_ping("127.0.0.1", fragile.port, timeout=1.0).ok
    )
    assert killers == ["oversized-varint-length"]
    assert [o.case for o in outcomes] == ["empty-connection", "oversized-varint-length"]


def test_fuzz_suite_fails_naming_server_and_case(fragile: FragileServer, tmp_path: Path) -> None:
    env = tmp_path / "env.yaml"
    env.write_text(
        "name: fragile\ntier: dev\nminecraft:\n  discovery:\n    kind: static\n    servers:\n"
        f"      - {{host: 127.0.0.1, port: {fragile.port}, name: fragile-1}}\n  status_timeout_s: 1.0\n"
        "guards: {loopback_only: true}\nsecurity:\n  fuzz: {cases: 12, servers: 1, read_timeout_s: 0.2}\n"
    )
    run = run_suite(env, tmp_path / "reports", "-k", "malformed", suite="security", timeout=60)
    assert run.code == 1, run.output
    outcome = check_outcomes(run)["test_malformed_packets_do_not_take_servers_down"]
    assert outcome["outcome"] == "failed"
    assert "fragile-1 (127.0.0.1:" in outcome["message"]
    assert "after case 'oversized-varint-length'" in outcome["message"]
    assert "bound VarInt/frame lengths" in outcome["message"]
    fuzz = next(r for r in run.evidence() if r["type"] == "fuzz")
    assert fuzz["passed"] is False
    assert fuzz["servers"][0]["stopped_answering_after"] == "oversized-varint-length"


# ---- TLS ------------------------------------------------------------------------------------------


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


class Pki:
    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mcproof test CA")])
        now = dt.datetime.now(dt.UTC)
        self.ca = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=30))
            .not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(_pem(self.ca))

    def leaf(self, name: str, *, san: list[x509.GeneralName], days_from: int, days_to: int) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self.ca.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now + dt.timedelta(days=days_from))
            .not_valid_after(now + dt.timedelta(days=days_to))
            .add_extension(x509.SubjectAlternativeName(san), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        cert_file, key_file = self.dir / f"{name}.pem", self.dir / f"{name}.key"
        cert_file.write_bytes(_pem(cert))
        key_file.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return cert_file, key_file


def _serve_tls(cert: Path, key: Path, *, legacy: bool = False) -> tuple[int, Callable[[], None]]:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if legacy:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.create_server(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except (TimeoutError, OSError):
                continue
            conn.settimeout(2)
            try:
                with ctx.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()

    def close() -> None:
        stop.set()
        thread.join(timeout=2)
        sock.close()

    return int(sock.getsockname()[1]), close


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


LOOPBACK = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]


@pytest.mark.parametrize(
    ("label", "san", "days", "fragments"),
    [
        ("good", LOOPBACK, (-1, 90), []),
        ("expired", LOOPBACK, (-60, -5), ["certificate expired", "renew it"]),
        ("wronghost", [x509.DNSName("other.example")], (-1, 90), ["not valid for '127.0.0.1'", "other.example"]),
        ("soon", LOOPBACK, (-1, 5), ["certificate expires in", "< 14-day window"]),
    ],
)
def test_tls_inspection(
    pki: Pki, label: str, san: list[x509.GeneralName], days: tuple[int, int], fragments: list[str]
) -> None:
    cert, key = pki.leaf(label, san=san, days_from=days[0], days_to=days[1])
    port, close = _serve_tls(cert, key)
    try:
        result = inspect_tls(label, "127.0.0.1", port, ca_file=pki.ca_file, timeout=2.0)
    finally:
        close()
    problems = tls_problems(result, min_version="TLSv1.2", window_days=14)
    assert result.protocol in {"TLSv1.2", "TLSv1.3"}
    assert result.legacy_accepted is not True
    if not fragments:
        assert problems == [], problems
        assert result.verified
    for fragment in fragments:
        assert any(fragment in x for x in problems), (fragment, problems)
    assert all(x.startswith(f"{label} (127.0.0.1:{port})") for x in problems)


def test_tls_suite_fails_on_an_expired_certificate(pki: Pki, tmp_path: Path) -> None:
    good_cert, good_key = pki.leaf("api-good", san=LOOPBACK, days_from=-1, days_to=90)
    bad_cert, bad_key = pki.leaf("api-expired", san=LOOPBACK, days_from=-60, days_to=-1)
    good_port, close_good = _serve_tls(good_cert, good_key)
    bad_port, close_bad = _serve_tls(bad_cert, bad_key)
    env = tmp_path / "env.yaml"
    env.write_text(
        "name: tlstest\ntier: dev\nminecraft:\n  discovery:\n    kind: static\n    servers: [{host: 127.0.0.1}]\n"
        "security:\n  tls:\n"
        f"    - {{name: panel, host: 127.0.0.1, port: {good_port}, ca_file: {pki.ca_file}}}\n"
        f"    - {{name: billing, host: 127.0.0.1, port: {bad_port}, ca_file: {pki.ca_file}}}\n"
    )
    try:
        run = run_suite(env, tmp_path / "reports", "-k", "tls", suite="security", timeout=60)
    finally:
        close_good()
        close_bad()
    assert run.code == 1, run.output
    message = check_outcomes(run)["test_tls_endpoints"]["message"]
    assert f"billing (127.0.0.1:{bad_port}): certificate expired" in message
    assert "renew it" in message
    assert "panel" not in message
    tls = next(r for r in run.evidence() if r["type"] == "tls")
    assert [e["name"] for e in tls["endpoints"]] == ["panel", "billing"]
    assert tls["endpoints"][0]["verified"] is True


def test_tls_legacy_protocols_accepted_is_a_problem(pki: Pki) -> None:
    cert, key = pki.leaf("legacy", san=LOOPBACK, days_from=-1, days_to=90)
    port, close = _serve_tls(cert, key, legacy=True)
    try:
        result = inspect_tls("legacy", "127.0.0.1", port, ca_file=pki.ca_file, timeout=2.0)
    finally:
        close()
    if result.legacy_accepted is None:
        pytest.skip("this OpenSSL build cannot offer TLS 1.0/1.1 at all, so acceptance cannot be tried")
    assert result.legacy_accepted is True
    problems = tls_problems(result, min_version="TLSv1.2", window_days=14)
    assert any("accepts a TLS 1.0/1.1-only client" in x for x in problems), problems


# ---- checks that could not try anything are inconclusive, never pass -------------------------------------

NO_LEGACY_OPENSSL_CONF = """openssl_conf = openssl_init
[openssl_init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Protocol = -TLSv1, -TLSv1.1
MinProtocol = TLSv1.2
"""


def test_tls_check_that_could_not_offer_legacy_protocols_is_inconclusive(
    pki: Pki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client whose OpenSSL forbids TLS 1.0/1.1 cannot prove the server refuses them: inconclusive, not pass."""
    cert, key = pki.leaf("api-good", san=LOOPBACK, days_from=-1, days_to=90)
    port, close = _serve_tls(cert, key)  # a good endpoint that refuses legacy protocols
    env = tmp_path / "env.yaml"
    env.write_text(
        "name: tlstest\ntier: dev\nminecraft:\n  discovery:\n    kind: static\n    servers: [{host: 127.0.0.1}]\n"
        f"security:\n  tls:\n    - {{name: panel, host: 127.0.0.1, port: {port}, ca_file: {pki.ca_file}}}\n"
    )
    conf = tmp_path / "openssl-no-legacy.cnf"
    conf.write_text(NO_LEGACY_OPENSSL_CONF)
    try:
        here = inspect_tls("panel", "127.0.0.1", port, ca_file=pki.ca_file, timeout=2.0)  # this process can offer them
        monkeypatch.setenv("OPENSSL_CONF", str(conf))  # the suite's subprocess cannot
        run = run_suite(env, tmp_path / "reports", "-k", "tls", suite="security", timeout=60)
    finally:
        close()
    assert (here.legacy_accepted, here.legacy_untested) == (False, "")
    assert run.code == 3, run.output
    outcome = check_outcomes(run)["test_tls_endpoints"]
    assert outcome["outcome"] == "inconclusive"
    assert f"panel (127.0.0.1:{port}): refusal of TLS 1.0/1.1 not tried" in outcome["message"]
    assert "cannot offer TLS 1.0/1.1" in outcome["message"]
    tls = next(r for r in run.evidence() if r["type"] == "tls")
    assert tls["passed"] is False
    assert tls["endpoints"][0]["legacy_accepted"] is None
    assert tls["endpoints"][0]["verified"] is True  # the rest was tried and is fine


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_rcon_and_exposure_checks_that_tried_nothing_are_inconclusive(tmp_path: Path) -> None:
    """RCON declared but not reachable (zero login attempts) and a forbidden port probed on no host."""
    rcon = _closed_port()
    env = tmp_path / "env.yaml"
    env.write_text(
        "name: nothing\ntier: dev\nminecraft:\n  discovery:\n    kind: static\n    servers:\n"
        f"      - {{host: 127.0.0.1, port: {_closed_port()}, rcon_port: {rcon}, name: mc-1}}\n"
        "guards: {loopback_only: true}\nsecurity:\n  timeout_s: 1.0\n  exposure:\n    public: []\n"
        "    forbidden: [{name: admin, protocol: tcp, role: other}]\n    connect_timeout_s: 0.5\n"
    )
    run = run_suite(env, tmp_path / "reports", "-k", "rcon_refuses or non_public", suite="security", timeout=60)
    assert run.code == 3, run.output
    outcomes = check_outcomes(run)
    rcon_outcome = outcomes["test_rcon_refuses_default_passwords"]
    assert rcon_outcome["outcome"] == "inconclusive"
    assert "no RCON login attempted: 1 of 1 server(s) did not answer on their RCON port" in rcon_outcome["message"]
    assert f"mc-1 127.0.0.1:{rcon} " in rcon_outcome["message"]
    evidence = next(r for r in run.evidence() if r["type"] == "rcon_auth")
    assert evidence["passed"] is False
    assert evidence["accepted"] == []
    exposure = outcomes["test_non_public_ports_unreachable"]
    assert exposure["outcome"] == "inconclusive"
    assert "were probed on no host: admin/tcp (role other)" in exposure["message"]
