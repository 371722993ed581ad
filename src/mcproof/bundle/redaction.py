"""Redaction check: refuse to bundle a run whose files contain a secret value or a private key.

The run store already redacts what it writes; this is the second line of defence for files written
by other tools (Locust CSVs, Allure attachments, JUnit XML, journals). A secret is searched for as
its raw UTF-8 bytes and in its JSON-escaped form. Findings name the file and where the secret comes
from (`env:NAME`, `file:PATH`), never the value.

>>> from mcproof.secrets import Secret
>>> needles(Secret('pa"ss', "env:X"))
[b'pa"ss', b'pa\\\\"ss']
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from mcproof.bundle.manifest import scan_run_dir
from mcproof.config import Environment
from mcproof.secrets import Secret
from mcproof.session import resolvable_secrets

CHUNK = 1 << 20
PRIVATE_KEY_SOURCE = "a PEM private key block"


@dataclass(frozen=True)
class Leak:
    """A secret found in a run file: the file (relative to the run) and the secret's source."""

    path: str
    source: str


def needles(secret: Secret) -> list[bytes]:
    """The byte patterns that give a secret away: raw and JSON-escaped (deduplicated)."""
    value = secret.reveal()
    if not value:
        return []
    forms = [value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]]
    return list(dict.fromkeys(f.encode("utf-8") for f in forms))


def _contains(path: Path, patterns: list[bytes]) -> list[int]:
    """Indexes of the patterns found in the file, read in chunks with overlap (bounded memory)."""
    if not patterns:
        return []
    overlap = max(len(p) for p in patterns) - 1
    found: set[int] = set()
    tail = b""
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            window = tail + chunk
            found.update(i for i, p in enumerate(patterns) if i not in found and p in window)
            tail = window[-overlap:] if overlap else b""
    return sorted(found)


def find_leaks(run_dir: Path, secrets: Iterable[Secret]) -> list[Leak]:
    """Every (file, secret source) pair where a secret value appears, plus PEM private keys."""
    patterns: list[bytes] = []
    sources: list[str] = []
    for secret in secrets:
        for needle in needles(secret):
            patterns.append(needle)
            sources.append(secret.source)
    patterns.append(b"PRIVATE KEY-----")
    sources.append(PRIVATE_KEY_SOURCE)
    leaks: list[Leak] = []
    for path in scan_run_dir(run_dir):
        rel = path.relative_to(run_dir).as_posix()
        hits = dict.fromkeys(sources[i] for i in _contains(path, patterns))
        leaks.extend(Leak(rel, source) for source in hits)
    return leaks


def environment_secrets(env: Environment) -> list[Secret]:
    """The environment's secrets that resolve now (the same set the run store redacts)."""
    return resolvable_secrets(env)
