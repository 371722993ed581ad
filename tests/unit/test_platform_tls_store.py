"""TLS material and the SQLite store, offline."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509

from mcproof_sandbox.platform.store import PlatformStore
from mcproof_sandbox.platform.tls import certificate_expiry, generate_tls


def test_certificate_names_loopback_and_is_signed_by_the_ca(tmp_path: Path) -> None:
    files = generate_tls(tmp_path, ["127.0.0.1", "localhost"], days=30)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    ca = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
    cert.verify_directly_issued_by(ca)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    assert certificate_expiry(files.cert.read_bytes()) > dt.datetime.now(dt.UTC) + dt.timedelta(days=29)
    assert files.key.stat().st_mode & 0o077 == 0


def test_store_keeps_token_hashes_only_and_scopes_servers(tmp_path: Path) -> None:
    store = PlatformStore(tmp_path / "p.sqlite")
    store.add_tenant("alpha", "mcp_secret")
    assert store.tenant_for("mcp_secret") == "alpha"
    assert store.tenant_for("nope") is None
    assert b"mcp_secret" not in (tmp_path / "p.sqlite").read_bytes()
    store.assign("mc-00000", "alpha", "w", "127.0.0.2", 25565, 25575)
    assert [s["id"] for s in store.servers("alpha")] == ["mc-00000"]
    assert store.servers("beta") == []
