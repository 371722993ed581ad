"""The bundle manifest: SHA-256 and size of every file of a run, as canonical JSON (the signed bytes).

Pure apart from `hash_file`/`scan_run_dir`; the canonical form (sorted keys, no whitespace, UTF-8)
makes the signature independent of how a reader re-serializes it.

>>> m = Manifest("r1", "2026-01-01T00:00:00Z", "fp", (FileEntry("a.txt", "00", 1),))
>>> Manifest.from_bytes(m.to_bytes()) == m
True
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from mcproof.errors import EvidenceError

SCHEMA = "mcproof.bundle/1"
CHUNK = 1 << 16


@dataclass(frozen=True)
class FileEntry:
    """One file of the run: its path relative to the run directory (POSIX), SHA-256 and size."""

    path: str
    sha256: str
    size: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Manifest:
    run_id: str
    created_at: str
    signer: str  # SHA-256 fingerprint of the raw Ed25519 public key
    files: tuple[FileEntry, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "run_id": self.run_id,
            "created_at": self.created_at,
            "signer": self.signer,
            "files": [f.as_dict() for f in self.files],
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":")).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        """Parse manifest.json; EvidenceError when it is not a manifest this version understands."""
        try:
            raw = json.loads(data.decode("utf-8"))
            if raw.get("schema") != SCHEMA:
                raise ValueError(f"schema {raw.get('schema')!r}, expected {SCHEMA!r}")
            files = tuple(FileEntry(str(f["path"]), str(f["sha256"]), int(f["size"])) for f in raw["files"])
            return cls(str(raw["run_id"]), str(raw["created_at"]), str(raw["signer"]), files)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as err:
            raise EvidenceError(
                f"manifest.json is not a valid bundle manifest ({err}); the bundle is damaged"
            ) from None

    def by_path(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.files}


def hash_stream(handle: IO[bytes]) -> tuple[str, int]:
    """SHA-256 hex digest and byte count of a stream, read in chunks."""
    digest, size = hashlib.sha256(), 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def safe_member_path(name: str) -> bool:
    """True for a relative POSIX path with no `..`, no absolute root and no empty parts.

    >>> safe_member_path("load/stats.csv"), safe_member_path("../etc/passwd"), safe_member_path("/x")
    (True, False, False)
    """
    path = PurePosixPath(name)
    return bool(name) and not path.is_absolute() and ".." not in path.parts and "\\" not in name


def scan_run_dir(run_dir: Path) -> list[Path]:
    """Every regular file under run_dir, sorted; EvidenceError on a symlink or special file."""
    files = []
    for path in sorted(run_dir.rglob("*")):
        if path.is_symlink():
            raise EvidenceError(f"{path} is a symlink; a bundle holds regular files only: replace it with the file")
        if path.is_file():
            files.append(path)
        elif not path.is_dir():
            raise EvidenceError(f"{path} is not a regular file; remove it from the run directory before bundling")
    return files


def build_manifest(run_dir: Path, run_id: str, created_at: str, signer: str) -> Manifest:
    """Hash every file of run_dir."""
    entries = []
    for path in scan_run_dir(run_dir):
        with path.open("rb") as handle:
            digest, size = hash_stream(handle)
        entries.append(FileEntry(path.relative_to(run_dir).as_posix(), digest, size))
    return Manifest(run_id, created_at, signer, tuple(entries))
