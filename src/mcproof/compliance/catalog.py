"""The controls catalog (compliance/controls.yaml): model, loader and consistency check.

>>> c = Catalog.model_validate({"version": "1", "frameworks": {"f": "F"}, "controls": [
...     {"id": "X", "framework": "f", "title": "t", "fix": "do", "requires": [{"check": "test_a"}]}]})
>>> catalog_problems(c, checks={"test_b"}, record_types=set(), slos=set())
["control X: check 'test_a' matches no check in suites/; fix the name or mark the requirement planned: true"]
"""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mcproof.errors import ConfigError

__all__ = ["Catalog", "Control", "Requirement", "catalog_problems", "known_slos", "load_catalog", "suite_check_names"]


def known_slos() -> set[str]:
    """Every SLO name a control may require: the environment file's ``slos:``, the player SLOs and the rows
    checks measure against their own section's SLOs (``fleet_buffer.*``, ``rollout.*``).

    >>> {"mttr_s", "players.join_time_p95_s", "fleet_buffer.ready_min", "rollout.routed_failures"} <= known_slos()
    True
    """
    from mcproof.config import Slo
    from mcproof.load.fleet_buffer import SLO_ROWS as FLEET_BUFFER_ROWS
    from mcproof.players.settings import PLAYER_SLO_NAMES
    from mcproof.rollout.slos import SLO_ROWS as ROLLOUT_ROWS

    return set(Slo.model_fields) | set(PLAYER_SLO_NAMES) | set(FLEET_BUFFER_ROWS) | set(ROLLOUT_ROWS)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Requirement(_Model):
    check: str | None = None
    evidence: str | None = None
    slo: str | None = None
    where: dict[str, Any] = {}
    planned: bool = False

    @model_validator(mode="after")
    def _one_kind(self) -> Requirement:
        if sum(x is not None for x in (self.check, self.evidence, self.slo)) != 1:
            raise ValueError("a requirement needs exactly one of check, evidence, slo")
        return self

    def describe(self) -> str:
        if self.check is not None:
            return f"check {self.check}"
        if self.evidence is not None:
            return f"evidence {self.evidence}" + (f" with {self.where}" if self.where else "")
        return f"SLO {self.slo}"


class Control(_Model):
    id: str
    framework: str
    title: str
    requires: list[Requirement] = Field(min_length=1)
    fix: str


class Retention(_Model):
    logs_days: int = Field(90, ge=1)
    backups_days: int = Field(30, ge=1)


class Catalog(_Model):
    version: str
    window_days: int = Field(30, ge=1)
    retention: Retention = Retention()
    frameworks: dict[str, str]
    controls: list[Control]


def load_catalog(path: Path) -> Catalog:
    """Read and validate the catalog; ConfigError (one line, with the fix) on any problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"controls catalog {path} cannot be read ({err.strerror}); fix compliance.catalog") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"controls catalog {path} is not valid YAML ({err}); fix its syntax") from None
    try:
        return Catalog.model_validate(data)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"controls catalog {path}: field {loc}: {first['msg'].lower()}; fix the catalog") from None


def suite_check_names(suites_dir: Path) -> set[str]:
    """Every test function name under suites/ (read with ast, nothing imported)."""
    names: set[str] = set()
    for path in sorted(suites_dir.rglob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names.update(n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name.startswith("test_"))
    return names


def catalog_problems(catalog: Catalog, *, checks: set[str], record_types: set[str], slos: set[str]) -> list[str]:
    """Dangling references: unknown framework, check, evidence type or SLO; duplicate control ids."""
    out: list[str] = []
    seen: set[str] = set()
    for control in catalog.controls:
        if control.id in seen:
            out.append(f"control {control.id}: duplicate id; give each control its own id")
        seen.add(control.id)
        if control.framework not in catalog.frameworks:
            out.append(f"control {control.id}: framework {control.framework!r} is not in frameworks; add it")
        for req in control.requires:
            if req.planned:
                continue
            if req.check is not None and not any(fnmatch.fnmatchcase(c, req.check) for c in checks):
                out.append(
                    f"control {control.id}: check {req.check!r} matches no check in suites/; "
                    "fix the name or mark the requirement planned: true"
                )
            if req.evidence is not None and req.evidence not in record_types:
                out.append(f"control {control.id}: evidence type {req.evidence!r} is not a known record type")
            if req.slo is not None and req.slo not in slos:
                out.append(
                    f"control {control.id}: SLO {req.slo!r} is not an SLO the environment declares or a check measures"
                )
    return out
