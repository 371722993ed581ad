"""TLS checks for any endpoint the environment declares: negotiated protocol, legacy protocols refused,
chain valid for the hostname, expiry beyond the window.

"Legacy protocols refused" is only proven when this client really offered TLS 1.0/1.1. Many OpenSSL
builds and configurations (``MinProtocol``, ``Protocol = -TLSv1``, SECLEVEL) forbid it, and then a failed
legacy handshake proves nothing about the server. :func:`legacy_client_capability` checks offline,
before any connection, that the client writes a ClientHello whose highest version is TLS 1.1 or lower
(a memory BIO, no network); when it cannot, ``legacy_accepted`` is None with ``legacy_untested`` saying
why, and the suite's verdict is *inconclusive* (:func:`tls_untried`), never pass.

I/O (:func:`inspect_tls`) is apart from judgement (:func:`tls_problems`, pure):

>>> r = TlsInspection("api", "127.0.0.1:8443", "127.0.0.1", "TLSv1.3", True, "", False, "2020-01-01T00:00:00Z", -5.0, "CN=x", [])
>>> tls_problems(r, min_version="TLSv1.2", window_days=14)
['api (127.0.0.1:8443): certificate expired 5.0 days ago (not after 2020-01-01T00:00:00Z); renew it']
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

__all__ = ["TlsInspection", "inspect_tls", "legacy_client_capability", "tls_problems", "tls_untried"]

_ORDER = {"SSLv3": 0, "TLSv1": 1, "TLSv1.1": 2, "TLSv1.2": 3, "TLSv1.3": 4}


@dataclass(frozen=True)
class TlsInspection:
    name: str
    address: str
    server_name: str
    protocol: str | None  # negotiated with a default client; None: no handshake at all
    verified: bool
    verify_error: str
    legacy_accepted: bool | None  # a TLS 1.0/1.1-only client got through; None: could not be tried
    not_after: str | None
    days_left: float | None
    subject: str
    san: list[str] = field(default_factory=list)
    error: str = ""
    legacy_untested: str = ""  # why legacy_accepted is None (the client could not offer TLS 1.0/1.1)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _connect(host: str, port: int, ctx: ssl.SSLContext, server_name: str, timeout: float) -> ssl.SSLSocket:
    raw = socket.create_connection((host, port), timeout=timeout)
    try:
        sni = None if _is_ip(server_name) else server_name
        tls = ctx.wrap_socket(raw, server_hostname=sni or server_name)
    except BaseException:
        raw.close()
        raise
    return tls


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def _verify(
    host: str, port: int, server_name: str, ca_file: Path | None, timeout: float
) -> tuple[bool, str, str | None]:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    try:
        with _connect(host, port, ctx, server_name, timeout) as tls:
            return True, "", tls.version()
    except ssl.SSLCertVerificationError as err:
        return False, str(err.verify_message or err.reason or err), None
    except ssl.SSLError as err:
        return False, f"TLS handshake failed: {err.reason or err}", None


def _unverified_cert(host: str, port: int, server_name: str, timeout: float) -> tuple[str | None, bytes | None]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with _connect(host, port, ctx, server_name, timeout) as tls:
        return tls.version(), tls.getpeercert(binary_form=True)


def _legacy_context() -> ssl.SSLContext:
    """A client limited to TLS 1.0/1.1 (raises ValueError/SSLError where this OpenSSL refuses the limits)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # offering them is the point of this probe
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    return ctx


def legacy_client_capability() -> str:
    """ "" when this process can offer a TLS 1.0/1.1-only ClientHello, else why not (offline, no network)."""
    try:
        ctx = _legacy_context()
        obj = ctx.wrap_bio(ssl.MemoryBIO(), out := ssl.MemoryBIO(), server_hostname="legacy.invalid")
        obj.do_handshake()
    except ssl.SSLWantReadError:  # the ClientHello is written and the client waits for the server
        hello = out.read()
        # record: type 0x16, version, length; handshake: type 0x01, length (3), client_version (2)
        if len(hello) < 11 or hello[0] != 0x16 or hello[5] != 0x01:
            return f"{ssl.OPENSSL_VERSION} wrote no ClientHello when limited to TLS 1.0/1.1"
        offered = int.from_bytes(hello[9:11], "big")
        if offered > 0x0302:
            return f"{ssl.OPENSSL_VERSION} offers version 0x{offered:04x} (> TLS 1.1) even when limited to TLS 1.0/1.1"
        return ""
    except (ValueError, ssl.SSLError) as err:
        return f"{ssl.OPENSSL_VERSION} cannot offer TLS 1.0/1.1 ({getattr(err, 'reason', None) or err})"
    return f"{ssl.OPENSSL_VERSION} completed a handshake with no server"  # pragma: no cover - impossible


def _legacy_accepted(host: str, port: int, server_name: str, timeout: float) -> tuple[bool | None, str]:
    """(True: a TLS 1.0/1.1-only client got through, False: refused, None: not tried), and why not tried."""
    unable = legacy_client_capability()
    if unable:
        return None, unable
    try:
        ctx = _legacy_context()
        with _connect(host, port, ctx, server_name, timeout):
            return True, ""
    except ssl.SSLError as err:
        if "NO_PROTOCOLS_AVAILABLE" in str(err).upper():
            return None, f"{ssl.OPENSSL_VERSION} cannot offer TLS 1.0/1.1 (no protocols available)"
        return False, ""
    except (ValueError, OSError):
        return False, ""


def inspect_tls(
    name: str,
    host: str,
    port: int,
    *,
    server_name: str | None = None,
    ca_file: Path | None = None,
    timeout: float = 3.0,
) -> TlsInspection:
    """Handshake three ways (verified, unverified for the certificate, legacy-only); never raises."""
    sni = server_name or host
    address = f"{host}:{port}"
    try:
        verified, verify_error, version = _verify(host, port, sni, ca_file, timeout)
        unverified_version, der = _unverified_cert(host, port, sni, timeout)
        legacy, untested = _legacy_accepted(host, port, sni, timeout)
    except (OSError, ssl.SSLError) as err:
        return TlsInspection(
            name, address, sni, None, False, "", None, None, None, "", [], f"{type(err).__name__}: {err}"[:200]
        )
    not_after, days_left, subject, san = None, None, "", []
    if der:
        cert = x509.load_der_x509_certificate(der)
        end = cert.not_valid_after_utc
        not_after = end.isoformat().replace("+00:00", "Z")
        days_left = round((end - dt.datetime.now(dt.UTC)).total_seconds() / 86400, 2)
        subject = cert.subject.rfc4514_string()
        try:
            ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            san = [str(v) for v in ext.get_values_for_type(x509.DNSName)]
            san += [str(v) for v in ext.get_values_for_type(x509.IPAddress)]
        except x509.ExtensionNotFound:
            san = []
    return TlsInspection(
        name,
        address,
        sni,
        version or unverified_version,
        verified,
        verify_error,
        legacy,
        not_after,
        days_left,
        subject,
        san,
        legacy_untested=untested,
    )


def tls_untried(r: TlsInspection) -> str:
    """What the inspection claims but could not try ("" when everything was tried)."""
    if r.error or r.legacy_accepted is not None:
        return ""
    why = r.legacy_untested or "the legacy handshake was not attempted"
    return f"{r.name} ({r.address}): refusal of TLS 1.0/1.1 not tried: {why}"


def tls_problems(r: TlsInspection, *, min_version: str = "TLSv1.2", window_days: int = 14) -> list[str]:
    """Every problem with one inspection, each naming the endpoint and the fix."""
    who = f"{r.name} ({r.address})"
    if r.error:
        return [f"{who}: no TLS handshake ({r.error}); check the endpoint is up and speaks TLS"]
    out: list[str] = []
    if r.protocol is None or _ORDER.get(r.protocol, -1) < _ORDER[min_version]:
        out.append(f"{who}: negotiated {r.protocol} < {min_version}; disable older protocols on the server")
    if r.legacy_accepted:
        out.append(f"{who}: accepts a TLS 1.0/1.1-only client; set the server's minimum protocol to {min_version}")
    if r.days_left is not None and r.days_left < 0:
        out.append(f"{who}: certificate expired {-r.days_left:.1f} days ago (not after {r.not_after}); renew it")
        return out
    if not r.verified:
        out.append(
            f"{who}: certificate not valid for '{r.server_name}' ({r.verify_error}; SAN {r.san or 'none'}); "
            "issue a certificate for this name from a CA the clients trust"
        )
    if r.days_left is not None and r.days_left < window_days:
        out.append(
            f"{who}: certificate expires in {r.days_left:.1f} days (< {window_days}-day window, not after "
            f"{r.not_after}); renew it"
        )
    return out
