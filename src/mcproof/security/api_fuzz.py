"""A bounded, seeded schemathesis run of the platform API against its OpenAPI document.

Why schemathesis and not our own generator: it derives valid requests from the document (paths, bodies,
enums, patterns) and ships the response checks (no 5xx, status code / content type / body schema
conformance). We drive it through Hypothesis directly (one ``@given`` per operation, ``max_examples``,
a seed, no example database, no shrinking) so the run is reproducible, bounded in count and wall time,
and every failure is collected as evidence instead of stopping at the first.

Operations whose path contains one of ``exclude`` fragments are not called (sandbox extensions that
destroy data). Servers the run creates are deleted afterwards by the caller (see the security suite).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests

__all__ = ["FuzzFailure", "FuzzRun", "run_schemathesis"]

_CHECK_NAMES = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
_MAX_FAILURES_PER_OPERATION = 5


@dataclass(frozen=True)
class FuzzFailure:
    operation: str  # "GET /v1/servers/{server_id}/backups"
    check: str  # schemathesis check name, or "transport"
    status: int
    request: str  # method and concrete path (no headers: the token stays out)
    message: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.operation}: {self.check} ({self.request} -> {self.status}): {self.message[:200]}"


@dataclass(frozen=True)
class FuzzRun:
    version: str
    seed: int
    max_examples: int
    operations: list[str]
    skipped: list[str]
    cases: int
    duration_s: float
    deadline_hit: bool
    failures: list[FuzzFailure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _checks() -> list[Any]:
    import schemathesis.checks as core
    import schemathesis.specs.openapi.checks as oas

    return [getattr(core, n, None) or getattr(oas, n) for n in _CHECK_NAMES]


def _failures(exc: BaseException) -> list[tuple[str, str]]:
    """(check title, message) of each failure in a schemathesis failure (or group of failures)."""
    out = []
    for item in list(getattr(exc, "exceptions", [])) or [exc]:
        title = str(getattr(item, "title", "") or type(item).__name__)
        message = " ".join(str(getattr(item, "message", "") or item).split())
        out.append((title, message[:300]))
    return out


@dataclass
class _Tally:
    ends: float
    cases: int = 0
    deadline_hit: bool = False


def run_schemathesis(
    openapi: Path,
    base_url: str,
    token: str,
    *,
    verify: str | bool = True,
    seed: int = 20261125,
    max_examples: int = 10,
    deadline_s: float = 60.0,
    request_timeout_s: float = 10.0,
    exclude: tuple[str, ...] = ("/files/delete", "/files/write"),
) -> FuzzRun:
    """Call every operation of ``openapi`` (except excluded ones) with up to ``max_examples`` generated
    requests each, authorised with ``token``, until ``deadline_s`` passes; collect the failures."""
    import schemathesis
    from schemathesis.core.result import Err

    schema = schemathesis.openapi.from_path(str(openapi))
    checks = _checks()
    session = requests.Session()
    session.trust_env = False
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    ends = started + deadline_s
    failures: list[FuzzFailure] = []
    operations: list[str] = []
    skipped: list[str] = []
    tally = _Tally(ends=ends)
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(FuzzFailure("(document)", "invalid schema", 0, "", str(result.err())[:300]))
            continue
        op = result.ok()
        label = f"{op.method.upper()} {op.path}"
        if any(x in op.path for x in exclude):
            skipped.append(label)
            continue
        if time.monotonic() >= ends:
            tally.deadline_hit = True
            skipped.append(label)
            continue
        operations.append(label)
        found: list[FuzzFailure] = []
        fuzz_one = _operation_test(
            op, label, found, tally, base_url, session, headers, checks, verify, request_timeout_s, seed, max_examples
        )
        fuzz_one()
        failures.extend(found)
    return FuzzRun(
        version=schemathesis.__version__,
        seed=seed,
        max_examples=max_examples,
        operations=operations,
        skipped=skipped,
        cases=tally.cases,
        duration_s=round(time.monotonic() - started, 3),
        deadline_hit=tally.deadline_hit,
        failures=failures,
    )


def _operation_test(
    op: Any,
    label: str,
    found: list[FuzzFailure],
    tally: _Tally,
    base_url: str,
    session: requests.Session,
    headers: dict[str, str],
    checks: list[Any],
    verify: str | bool,
    timeout: float,
    seed: int,
    max_examples: int,
) -> Any:
    """The Hypothesis test for one operation: seeded, bounded, no database, no shrinking."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    @hseed(seed)
    @settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=op.as_strategy())
    def fuzz_one(case: Any) -> None:
        if time.monotonic() >= tally.ends:
            tally.deadline_hit = True
            return
        if len(found) >= _MAX_FAILURES_PER_OPERATION:
            return
        tally.cases += 1
        request = f"{case.method.upper()} {case.formatted_path}"
        try:
            response = case.call(base_url=base_url, session=session, headers=headers, timeout=timeout, verify=verify)
        except Exception as exc:
            found.append(FuzzFailure(label, "transport", 0, request, type(exc).__name__))
            return
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:
            found.extend(FuzzFailure(label, t, response.status_code, request, m) for t, m in _failures(exc))

    return fuzz_one
