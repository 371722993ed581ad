"""The report's runbook coverage table, from ``runbook_coverage`` evidence records only
(:class:`~mcproof.evidence.records.RunbookCoverageEvidence`): alert -> runbook -> link -> sections -> dry-run.

No such record -> ``measured`` False and a note saying "not measured", never an empty table that looks fine.

>>> build_runbook_panel([]).note
'not measured: no runbook coverage evidence in this run (suites/smoke/test_runbooks.py did not run)'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.evidence.records import Record, RunbookCoverageEvidence

__all__ = ["RunbookPanel", "RunbookRow", "build_runbook_panel"]

NOT_MEASURED = "not measured: no runbook coverage evidence in this run (suites/smoke/test_runbooks.py did not run)"


@dataclass(frozen=True)
class RunbookRow:
    alert: str
    runbook: str  # "—": no runbook_url
    link: str
    sections: str
    dry_run: str
    commands: int


@dataclass(frozen=True)
class RunbookPanel:
    measured: bool
    note: str
    rows: tuple[RunbookRow, ...] = ()
    failed: tuple[str, ...] = ()  # "subject: detail" of each failed/inconclusive finding

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _row(r: Mapping[str, Any]) -> RunbookRow:
    return RunbookRow(
        alert=str(r.get("alert", "?")),
        runbook=str(r.get("runbook") or "—"),
        link=str(r.get("link", "inconclusive")),
        sections=str(r.get("sections", "not checked")),
        dry_run=str(r.get("dry_run", "not checked")),
        commands=int(r.get("commands") or 0),
    )


def build_runbook_panel(records: Iterable[Record]) -> RunbookPanel:
    """The last runbook coverage record's table (one run checks coverage once)."""
    last = None
    for r in records:
        if isinstance(r, RunbookCoverageEvidence):
            last = r
    if last is None:
        return RunbookPanel(False, NOT_MEASURED)
    rows = tuple(_row(r) for r in last.rows if isinstance(r, Mapping))
    failed = tuple(
        f"{f.get('verdict')}: {f.get('subject')}: {f.get('detail')}"
        for f in last.findings
        if isinstance(f, Mapping) and f.get("verdict") in ("fail", "inconclusive")
    )
    return RunbookPanel(True, f"runbook coverage {last.verdict}: {len(rows)} alert(s); {last.method}", rows, failed)
