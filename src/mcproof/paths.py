"""Where the project's files are: the checkout holding suites/ and environments/."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """`MCPROOF_HOME`, else the nearest directory up from cwd holding suites/ and environments/,
    else the checkout this package was installed from (editable install)."""
    override = os.environ.get("MCPROOF_HOME")
    if override:
        return Path(override).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "suites").is_dir() and (candidate / "environments").is_dir():
            return candidate
    return Path(__file__).resolve().parents[2]
