"""Evidence -> sign-off report: `index.html`, `report.md` and `report.json` in the run directory.

Reports read evidence only (`reports/<run-id>/evidence.jsonl`), never live clients.

>>> # write_report(Path("reports/latest")).verdict  ->  'pass' | 'fail' | 'inconclusive'
"""

from __future__ import annotations

import os
from pathlib import Path

from mcproof.errors import EvidenceError
from mcproof.evidence.store import read_records
from mcproof.report.fmt import fmt_margin, fmt_target, fmt_value
from mcproof.report.model import Report, build_report
from mcproof.report.render_html import render_html
from mcproof.report.render_json import SCHEMA, render_json
from mcproof.report.render_markdown import render_markdown

__all__ = [
    "REPORT_FILES",
    "SCHEMA",
    "Report",
    "build_report",
    "build_report_from",
    "render_summary_lines",
    "write_report",
]

REPORT_FILES = ("report.json", "report.md", "index.html")


def _write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a crash never leaves half a report."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise EvidenceError(f"cannot write {path} ({err.strerror}); check that the run directory is writable") from None


def build_report_from(run_dir: Path) -> Report:
    """Read `run_dir/evidence.jsonl` and judge it (no files written); EvidenceError when unreadable."""
    try:
        records = list(read_records(run_dir))
    except OSError as err:
        raise EvidenceError(f"cannot read evidence in {run_dir} ({err.strerror}); check the run directory") from None
    except UnicodeDecodeError:
        raise EvidenceError(f"{run_dir}/evidence.jsonl is not UTF-8 text; the run cannot be reported") from None
    except AttributeError:  # a line that is JSON but not an object (read_records expects dicts)
        raise EvidenceError(
            f"{run_dir}/evidence.jsonl has a line that is not a JSON object; the run cannot be reported"
        ) from None
    return build_report(records)


def write_report(run_dir: Path) -> Report:
    """Read `run_dir/evidence.jsonl`, build the report, write report.json, report.md and index.html.

    Raises EvidenceError (one actionable line) when the evidence is missing or damaged.
    """
    report = build_report_from(run_dir)
    for name, text in zip(
        REPORT_FILES, (render_json(report), render_markdown(report), render_html(report)), strict=True
    ):
        _write(run_dir / name, text)
    return report


def render_summary_lines(report: Report, run_dir: Path | None = None) -> list[str]:
    """A few plain lines for the end of a CLI run: verdict, counts, one line per SLO, where the report is.

    >>> from mcproof.evidence import RunInfo
    >>> render_summary_lines(build_report([RunInfo("r1", "e", "dev", "t", "0", [], {}, "h")]))[0][:34]
    'verdict: INCONCLUSIVE (e, run r1):'
    """
    run, c = report.run, report.counts
    lines = [
        f"verdict: {report.verdict.upper()} ({run.environment}, run {run.run_id}): {'; '.join(report.reasons)}",
        f"checks: {c.passed} passed, {c.failed} failed, {c.inconclusive} inconclusive, {c.errors} errors, "
        f"{c.skipped} skipped",
    ]
    width = max((len(s.slo) for s in report.slos), default=0)
    for slo in report.slos:
        if slo.measurements:
            detail = (
                f"measured {fmt_value(slo.measured, slo.unit)}, target "
                f"{fmt_target(slo.comparator, slo.target, slo.unit)}, margin {fmt_margin(slo.margin, slo.unit)}"
            )
        else:
            detail = slo.notes[0] if slo.notes else ""
        lines.append(f"  SLO {slo.slo:<{width}}  {slo.verdict:<13} {detail}")
    where = run_dir / "index.html" if run_dir is not None else "index.html, report.md, report.json in the run directory"
    lines.append(f"report: {where}")
    return lines
