"""Write and verify evidence bundles: `<run-id>.tar.gz` holding the run, its manifest and signature.

Layout (all members regular files, mode 0644, owner 0/0)::

    manifest.json      canonical JSON: run_id, created_at, signer fingerprint, files [{path, sha256, size}]
    manifest.sig       base64 Ed25519 signature over manifest.json's exact bytes
    signer.pub.pem     the signer's public key (pin it with `verify --public-key`)
    run/<path>         every file of the run directory

Verification never extracts: members are streamed and hashed in memory, so a hostile archive
(`../` paths, links, devices) cannot write anything.
"""

from __future__ import annotations

import base64
import binascii
import io
import tarfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from mcproof.bundle.keys import fingerprint, public_key_from_pem, public_pem, verify_signature
from mcproof.bundle.manifest import Manifest, build_manifest, hash_stream, safe_member_path
from mcproof.errors import EvidenceError, SecretError

MANIFEST, SIGNATURE, SIGNER = "manifest.json", "manifest.sig", "signer.pub.pem"
PREFIX = "run/"
META = (MANIFEST, SIGNATURE, SIGNER)


@dataclass(frozen=True)
class VerifyResult:
    """What `verify_bundle` found; `ok` only when the signature and every file check out."""

    bundle: str
    run_id: str = ""
    signer: str = ""
    signature_ok: bool = False
    pinned: bool = False
    files_ok: int = 0
    tampered: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.signature_ok and not (self.tampered or self.missing or self.extra or self.problems)

    def lines(self) -> list[str]:
        """Human-readable result, one finding per line (first line: OK or FAILED)."""
        head = "OK" if self.ok else "FAILED"
        out = [f"bundle {self.bundle}: {head} (run {self.run_id or '?'}, {self.files_ok} files verified)"]
        if self.signature_ok:
            how = "the pinned public key" if self.pinned else "the embedded key; pass --public-key to pin the signer"
            out.append(f"signature: valid, signer {self.signer} (checked with {how})")
        out += [f"problem: {p}" for p in self.problems]
        out += [f"tampered: {p} (SHA-256 differs from the manifest)" for p in self.tampered]
        out += [f"missing: {p} (in the manifest, not in the bundle)" for p in self.missing]
        out += [f"extra: {p} (in the bundle, not in the manifest)" for p in self.extra]
        return out


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes, mtime: float) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(mtime), 0o644
    tar.addfile(info, io.BytesIO(data))


def create_bundle(run_dir: Path, output: Path, key: Ed25519PrivateKey, run_id: str, created_at: str) -> Manifest:
    """Hash run_dir, sign the manifest and write output (via a temporary file, renamed at the end)."""
    public = key.public_key()
    manifest = build_manifest(run_dir, run_id, created_at, fingerprint(public))
    data = manifest.to_bytes()
    signature = base64.b64encode(key.sign(data)) + b"\n"
    now = time.time()
    tmp = output.with_name(f".{output.name}.tmp")
    try:
        with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
            _add_bytes(tar, MANIFEST, data, now)
            _add_bytes(tar, SIGNATURE, signature, now)
            _add_bytes(tar, SIGNER, public_pem(public), now)
            for entry in manifest.files:
                path = run_dir / entry.path
                content = path.read_bytes()
                if len(content) != entry.size:
                    raise EvidenceError(f"{path} changed while bundling; bundle a finished run")
                _add_bytes(tar, PREFIX + entry.path, content, path.stat().st_mtime)
        tmp.replace(output)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise EvidenceError(f"cannot write bundle {output} ({err.strerror}); check the output directory") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _read_members(bundle: Path) -> tuple[dict[str, bytes], dict[str, str], list[str]]:
    """Stream the archive: (meta files' bytes, run file -> sha256, problems). Never extracts."""
    meta: dict[str, bytes] = {}
    hashes: dict[str, str] = {}
    problems: list[str] = []
    current = "the archive header"
    try:
        with tarfile.open(bundle, "r:gz") as tar:
            for member in tar:
                current = member.name
                if not member.isfile():
                    problems.append(f"{member.name} is not a regular file (links and devices are refused)")
                    continue
                handle = tar.extractfile(member)
                if handle is None:
                    problems.append(f"{member.name} cannot be read")
                    continue
                if member.name in META:
                    meta[member.name] = handle.read(1 << 20)
                elif member.name.startswith(PREFIX) and safe_member_path(member.name[len(PREFIX) :]):
                    name = member.name[len(PREFIX) :]
                    if name in hashes:
                        problems.append(f"{name} appears twice in the archive")
                    hashes[name] = hash_stream(handle)[0]
                else:
                    problems.append(f"{member.name} is outside run/ or has an unsafe path")
                current = f"the member after {member.name}"
            current = "the end of the archive"
            if tar.fileobj is not None:
                while tar.fileobj.read(1 << 16):  # drain to the gzip trailer so its CRC is checked
                    pass
    except (tarfile.TarError, zlib.error, EOFError, OSError) as err:
        reason = getattr(err, "strerror", None) or str(err) or type(err).__name__
        problems.append(f"archive is damaged while reading {current} ({reason})")
    return meta, hashes, problems


def verify_bundle(bundle: Path, public_key: Ed25519PublicKey | None = None) -> VerifyResult:
    """Check the signature over manifest.json and every file's SHA-256; name what is wrong."""
    if not bundle.is_file():
        raise EvidenceError(f"bundle {bundle} not found; pass the .tar.gz written by `mcproof bundle`")
    meta, hashes, problems = _read_members(bundle)
    absent = [name for name in META if name not in meta]
    if absent:
        problems.append(f"no {', '.join(absent)} in the bundle; it was not written by mcproof bundle or is truncated")
        return VerifyResult(str(bundle), problems=tuple(problems), extra=tuple(sorted(hashes)))
    manifest = Manifest.from_bytes(meta[MANIFEST])
    try:
        embedded = public_key_from_pem(meta[SIGNER], SIGNER)
        signature = base64.b64decode(meta[SIGNATURE].strip(), validate=True)
    except (SecretError, binascii.Error, ValueError):
        embedded, signature = None, b""
        problems.append(f"{SIGNER} or {SIGNATURE} is malformed")
    key = public_key or embedded
    signature_ok = key is not None and verify_signature(key, signature, meta[MANIFEST])
    if not signature_ok and key is not None:
        problems.append(
            "signature does not match manifest.json"
            + (" for the pinned public key" if public_key is not None else "")
            + ": the manifest was altered or signed by another key"
        )
    if key is not None and fingerprint(key) != manifest.signer:
        problems.append(f"manifest names signer {manifest.signer}, the key used is {fingerprint(key)}")
    expected = manifest.by_path()
    tampered = tuple(p for p in sorted(expected) if p in hashes and hashes[p] != expected[p].sha256)
    missing = tuple(p for p in sorted(expected) if p not in hashes)
    extra = tuple(p for p in sorted(hashes) if p not in expected)
    files_ok = sum(1 for p in expected if hashes.get(p) == expected[p].sha256)
    return VerifyResult(
        str(bundle),
        manifest.run_id,
        manifest.signer,
        signature_ok,
        public_key is not None,
        files_ok,
        tampered,
        missing,
        extra,
        tuple(problems),
    )
