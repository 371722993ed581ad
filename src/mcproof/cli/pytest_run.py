"""Run suites through pytest (in-process) and read back the verdict of the run they wrote."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from mcproof.config import Environment, Tier
from mcproof.errors import EvidenceError, GuardError
from mcproof.evidence import new_run_id
from mcproof.paths import project_root
from mcproof.session import SUITES


def available_suites(root: Path | None = None) -> list[str]:
    """Suites that have at least one test module under suites/."""
    base = (root or project_root()) / "suites"
    return [name for name in SUITES if any((base / name).glob("test_*.py"))]


def suite_paths(names: list[str], root: Path | None = None) -> list[str]:
    base = (root or project_root()) / "suites"
    known = available_suites(root)
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GuardError(f"unknown or empty suite(s): {', '.join(unknown)}; available: {', '.join(known) or 'none'}")
    return [str(base / n) for n in names]


ACK_PRODUCTION_ENV = "MCPROOF_ACK_PRODUCTION"


def production_marker_filter(env: Environment, acknowledged: bool) -> list[str]:
    """On tier production, destructive checks are deselected unless explicitly acknowledged.

    The acknowledgement is passed on to checks that guard themselves (chaos) as MCPROOF_ACK_PRODUCTION=1.
    """
    if acknowledged:
        os.environ[ACK_PRODUCTION_ENV] = "1"
    else:
        os.environ.pop(ACK_PRODUCTION_ENV, None)
    if env.tier is Tier.PRODUCTION and env.guards.production_guard and not acknowledged:
        return ["-m", "not destructive"]
    return []


def run_pytest(
    env_ref: str,
    paths: list[str],
    extra: list[str],
    *,
    reports_dir: Path,
    run_id: str | None = None,
) -> tuple[int, Path]:
    """Run pytest on `paths` for environment `env_ref`; returns (exit code, run dir)."""
    run_id = run_id or new_run_id(Path(env_ref).stem if env_ref.endswith((".yaml", ".yml")) else env_ref)
    args = [
        *paths,
        "--env",
        env_ref,
        "--reports-dir",
        str(reports_dir),
        "--run-id",
        run_id,
        "--rootdir",
        str(project_root()),
        "-p",
        "no:cacheprovider",
        "-W",
        "ignore::pytest.PytestAssertRewriteWarning",
        *extra,
    ]
    code = int(pytest.main(args))
    return code, reports_dir / run_id


def read_verdict(run_dir: Path) -> str:
    """The overall verdict written to report.json (pass | fail | inconclusive)."""
    path = run_dir / "report.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["verdict"])
    except (OSError, ValueError, KeyError) as err:
        raise EvidenceError(f"no readable report at {path} ({err}); the run did not finish, see its output") from None
