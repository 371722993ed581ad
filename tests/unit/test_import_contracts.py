"""The import contracts (pyproject ``[tool.importlinter]``) hold, and a violation fails naming the import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(cwd: Path, src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_tree_keeps_every_contract() -> None:
    done = _lint(ROOT, ROOT / "src")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


def test_an_import_of_the_sandbox_from_a_feature_package_breaks_the_build(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "mcproof" / "chaos" / "shortcut.py").write_text(
        '"""A shortcut a suite must never take."""\n\nimport mcproof_sandbox.fleet\n\n__all__ = ["mcproof_sandbox"]\n'
    )
    done = _lint(tmp_path, tmp_path / "src")
    assert done.returncode != 0
    assert "BROKEN" in done.stdout
    assert "mcproof.chaos.shortcut -> mcproof_sandbox.fleet" in done.stdout


def test_the_sandbox_importing_a_feature_package_breaks_the_build(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "src", tmp_path / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "src" / "mcproof_sandbox" / "peek.py").write_text(
        '"""The target reading the harness\'s chaos plans."""\n\nimport mcproof.chaos.library\n'
    )
    done = _lint(tmp_path, tmp_path / "src")
    assert done.returncode != 0
    assert "mcproof_sandbox.peek -> mcproof.chaos.library" in done.stdout
