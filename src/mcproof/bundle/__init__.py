"""Signed evidence bundles: `bundle_run` (redaction check, manifest, Ed25519 signature) and `verify_bundle`.

>>> # bundle_run(Path("reports/latest"), key_file=None).output  ->  reports/<run-id>.tar.gz
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from mcproof.bundle.archive import VerifyResult, create_bundle, verify_bundle
from mcproof.bundle.keys import KEY_ENV, generate_key, key_path, load_private_key, load_public_key
from mcproof.bundle.manifest import Manifest
from mcproof.bundle.redaction import Leak, environment_secrets, find_leaks
from mcproof.clock import utc_now
from mcproof.config import SNAPSHOT_ONLY_KEYS, Environment, load_environment, parse_environment
from mcproof.errors import ConfigError, EvidenceError, McproofError
from mcproof.evidence.records import RunInfo
from mcproof.evidence.store import read_records
from mcproof.secrets import Secret

__all__ = [
    "KEY_ENV",
    "BundleResult",
    "Leak",
    "VerifyResult",
    "bundle_run",
    "generate_key",
    "load_public_key",
    "run_secrets",
    "verify_bundle",
]


@dataclass(frozen=True)
class BundleResult:
    output: Path
    manifest: Manifest
    secrets_checked: int


def _run_info(run_dir: Path) -> RunInfo:
    for record in read_records(run_dir):
        if isinstance(record, RunInfo):
            return record
    raise EvidenceError(f"{run_dir}/evidence.jsonl has no run record; pass a run directory written by mcproof")


def run_secrets(run_dir: Path, env_ref: str | None, info: RunInfo | None = None) -> list[Secret]:
    """The secrets the run must not contain (values resolved now; those that cannot be are skipped).

    With `env_ref` (a name or path): that environment's. Otherwise the union of the run's environment
    found by name (environments/<name>.yaml) and the environment snapshot recorded in the run (its
    relative secret files resolve against the current directory); ConfigError if neither loads.
    """
    if env_ref is not None:
        return environment_secrets(load_environment(env_ref))
    info = info or _run_info(run_dir)
    envs: list[Environment] = []
    errors: list[str] = []
    try:
        envs.append(load_environment(info.environment))
    except McproofError as err:
        errors.append(str(err))
    try:
        snapshot = {k: v for k, v in info.environment_snapshot.items() if k not in SNAPSHOT_ONLY_KEYS}
        text = yaml.safe_dump(snapshot)
        envs.append(parse_environment(text, Path.cwd() / f"{info.environment}.snapshot.yaml"))
    except (McproofError, ValueError) as err:
        errors.append(str(err))
    if not envs:
        raise ConfigError(
            f"cannot tell which environment's secrets to check for run {info.run_id} ({errors[-1]}); pass --env"
        )
    found = [secret for env in envs for secret in environment_secrets(env)]
    return list({(s.source, s.reveal()): s for s in found}.values())


def bundle_run(
    run_dir: Path, key_file: Path | None, *, env_ref: str | None = None, output: Path | None = None
) -> BundleResult:
    """Refuse if a run file holds a secret of the environment; else write `<run-id>.tar.gz` beside run_dir.

    Raises EvidenceError (leak, damaged run), SecretError (key) or ConfigError (environment).
    """
    run_dir = run_dir.resolve()
    if not run_dir.is_dir():
        raise EvidenceError(f"run directory {run_dir} not found; pass reports/<run-id>")
    info = _run_info(run_dir)
    key = load_private_key(key_path(key_file))
    secrets = run_secrets(run_dir, env_ref, info)
    leaks = find_leaks(run_dir, secrets)
    if leaks:
        where = "; ".join(f"{leak.path} contains {leak.source}" for leak in leaks[:10])
        more = f" (+{len(leaks) - 10} more)" if len(leaks) > 10 else ""
        raise EvidenceError(
            f"refusing to bundle {run_dir.name}: {where}{more}; remove or redact the value and bundle again"
        )
    output = output or run_dir.parent / f"{info.run_id}.tar.gz"
    if output.resolve().is_relative_to(run_dir):
        raise EvidenceError(f"bundle output {output} is inside the run directory; write it elsewhere (-o)")
    manifest = create_bundle(run_dir, output, key, info.run_id, utc_now())
    return BundleResult(output, manifest, len(secrets))
