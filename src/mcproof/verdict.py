"""Three verdicts — pass, fail, inconclusive — how they combine, and the exit codes they map to.

Inconclusive means the harness could not measure what it claims (fault not applied, generator
saturated, too few samples, SLO not measured, nothing ran). It is never shown or counted as pass.
A check makes itself inconclusive with `inconclusive(reason, fix)`, which raises
`mcproof.errors.InconclusiveError`; the pytest plugin records the check as `inconclusive` (JUnit and
Allure show it as failed/broken with the reason) and the run's exit code follows the verdict.

Exit codes, for every command and for pytest with the plugin active:

====  =============================================================
0     pass
1     fail (the target missed an objective: a NO-GO)
2     refused: bad input, a guard said no, usage error, interrupted
3     inconclusive: something could not be measured (reason + fix)
====  =============================================================
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import NoReturn

from mcproof.errors import InconclusiveError

__all__ = [
    "EXIT_FAIL",
    "EXIT_INCONCLUSIVE",
    "EXIT_PASS",
    "EXIT_REFUSED",
    "Verdict",
    "combine",
    "exit_code",
    "inconclusive",
]

EXIT_PASS = 0
EXIT_FAIL = 1
EXIT_REFUSED = 2
EXIT_INCONCLUSIVE = 3


class Verdict(StrEnum):
    PASS = "pass"  # noqa: S105 (a verdict, not a password)
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


def combine(verdicts: Iterable[Verdict | str]) -> Verdict:
    """Fail if any failed; else inconclusive if any was inconclusive or there were none; else pass.

    >>> combine(["pass", "inconclusive", "fail"]).value
    'fail'
    >>> combine(["pass", "inconclusive"]).value
    'inconclusive'
    >>> combine([]).value
    'inconclusive'
    >>> combine([Verdict.PASS]).value
    'pass'
    """
    seen = [Verdict(v) for v in verdicts]
    if Verdict.FAIL in seen:
        return Verdict.FAIL
    if not seen or Verdict.INCONCLUSIVE in seen:
        return Verdict.INCONCLUSIVE
    return Verdict.PASS


def exit_code(verdict: Verdict | str) -> int:
    """The process exit code of a verdict (anything unknown is inconclusive, never pass).

    >>> [exit_code(v) for v in ("pass", "fail", "inconclusive", "incomplete")]
    [0, 1, 3, 3]
    """
    return {Verdict.PASS.value: EXIT_PASS, Verdict.FAIL.value: EXIT_FAIL}.get(str(verdict), EXIT_INCONCLUSIVE)


def inconclusive(reason: str, fix: str) -> NoReturn:
    """End the current check (or command) as inconclusive: `reason` what could not be measured, `fix` what to do."""
    raise InconclusiveError(reason, fix)
