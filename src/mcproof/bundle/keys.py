"""Ed25519 signing keys (`cryptography`): load from a PEM file, fingerprint, sign, verify.

The private key is read from a file whose path comes from `--key` or `MCPROOF_SIGNING_KEY_FILE`;
its bytes never reach output, logs or exceptions. Make one with
`mcproof keygen signing-key.pem` (or `generate_key`; openssl genpkey -algorithm ed25519 works too).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mcproof.errors import SecretError

KEY_ENV = "MCPROOF_SIGNING_KEY_FILE"


def key_path(explicit: Path | None) -> Path:
    """The key file: `--key` if given, else the path in MCPROOF_SIGNING_KEY_FILE."""
    if explicit is not None:
        return explicit
    from_env = os.environ.get(KEY_ENV, "").strip()
    if not from_env:
        raise SecretError(f"no signing key: pass --key FILE or set {KEY_ENV} to the path of an Ed25519 PEM key")
    return Path(from_env)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM (PKCS#8) file; SecretError names the file, never its content."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SecretError(f"signing key {path} cannot be read ({err.strerror}); check --key / {KEY_ENV}") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SecretError(
            f"signing key {path} is not an unencrypted PEM private key; make one with: mcproof keygen signing-key.pem"
        ) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SecretError(f"signing key {path} is a {type(key).__name__}, not Ed25519; use an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """An Ed25519 public key from a PEM file (or the private key file, whose public half is used)."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise SecretError(f"public key {path} cannot be read ({err.strerror}); check --public-key") from None
    if b"PRIVATE KEY" in data:
        return load_private_key(path).public_key()
    return public_key_from_pem(data, str(path))


def public_key_from_pem(data: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError):
        raise SecretError(f"{where} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise SecretError(f"{where} is a {type(key).__name__}, not an Ed25519 public key")
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(key: Ed25519PublicKey) -> str:
    """`sha256:<hex>` of the raw 32-byte public key."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def verify_signature(key: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        key.verify(signature, data)
    except InvalidSignature:
        return False
    return True


def generate_key(path: Path) -> Ed25519PublicKey:
    """Write a new Ed25519 private key (PEM, mode 0600) to path; returns its public key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key.public_key()
