"""`report.md`: the report for a pull request or ticket (GitHub-flavoured Markdown).

Verdict line first, then the SLO table, the suite table, failures and the SLOs nobody measured.
Text from evidence is made inert: `<`, `>`, `&` become entities and table pipes are escaped.
"""

from __future__ import annotations

from mcproof.report.fmt import fmt_margin, fmt_target, fmt_value, one_line
from mcproof.report.model import Report

VERDICT_MARK = {"pass": "✅ PASS", "fail": "❌ FAIL", "inconclusive": "⚠️ INCONCLUSIVE"}
ROW_MARK = {
    "pass": "✅ pass",
    "fail": "❌ fail",
    "inconclusive": "⚠️ inconclusive",
    "skipped": "⏭ skipped",
    "waived": "📝 waived",
    "not in scope": "· not in scope",
}


def _cell(text: str, limit: int = 500) -> str:
    safe = one_line(text, limit).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return safe.replace("|", "\\|").replace("`", "\\`") or " "


def _links(anchors: tuple[str, ...]) -> str:
    return ", ".join(f"`{a}`" for a in anchors) or "—"


def verdict_line(report: Report) -> str:
    """The first line: `**Verdict: ✅ PASS** — env (tier), run <run-id>`."""
    run = report.run
    return (
        f"**Verdict: {VERDICT_MARK.get(report.verdict, report.verdict)}** — "
        f"{_cell(run.environment)} ({_cell(run.tier)}), run {_cell(run.run_id)}"
    )


def render_markdown(report: Report) -> str:
    """`report.md` text.

    >>> from mcproof.report.model import build_report
    >>> from mcproof.evidence import RunInfo
    >>> render_markdown(build_report([RunInfo("r1", "e", "dev", "t", "0", [], {}, "h")])).splitlines()[0]
    '**Verdict: ⚠️ INCONCLUSIVE** — e (dev), run r1'
    """
    run, counts = report.run, report.counts
    lines = [
        verdict_line(report),
        "",
        *(f"- {_cell(reason)}" for reason in report.reasons),
        "",
        f"Window: {_cell(run.started_at)} → {_cell(run.ended_at or 'unfinished')} · "
        f"checks: {counts.passed} passed, {counts.failed} failed, {counts.inconclusive} inconclusive, "
        f"{counts.errors} errors, {counts.skipped} skipped · mcproof {_cell(run.mcproof_version)} on {_cell(run.host)}",
        "",
        "## SLOs",
        "",
        "| SLO | target | measured | margin | verdict | evidence |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for slo in report.slos:
        evidence = _links(slo.evidence) if slo.measurements else _cell(slo.notes[0] if slo.notes else "")
        lines.append(
            f"| {_cell(slo.slo)} | {_cell(fmt_target(slo.comparator, slo.target, slo.unit))} "
            f"| {_cell(fmt_value(slo.measured, slo.unit))} | {_cell(fmt_margin(slo.margin, slo.unit))} "
            f"| {ROW_MARK.get(slo.verdict, slo.verdict)} | {evidence} |"
        )
    notes = [(s.slo, n) for s in report.slos if s.measurements for n in s.notes]
    if notes:
        lines += ["", *(f"- note on {_cell(name)}: {_cell(note)}" for name, note in notes)]
    lines += [
        "",
        "## Suites",
        "",
        "| suite | verdict | passed | failed | inconclusive | errors | skipped | evidence |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for suite in report.suites:
        c = suite.counts
        lines.append(
            f"| {_cell(suite.suite)} | {ROW_MARK.get(suite.verdict, suite.verdict)} | {c.passed} "
            f"| {c.failed} | {c.inconclusive} | {c.errors} | {c.skipped} | {_links(suite.evidence)} |"
        )
    if not report.suites:
        lines.append("| — | no check ran | 0 | 0 | 0 | 0 | 0 | — |")
    skips = [(s.suite, r) for s in report.suites for r in s.skip_reasons]
    if skips:
        lines += ["", *(f"- {_cell(suite)} skipped: {_cell(reason, 300)}" for suite, reason in skips)]
    if report.failures:
        lines += [
            "",
            "## Failures and inconclusive checks",
            "",
            "| check | outcome | message | fix | evidence |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| {_cell(f.nodeid or f.check)} | {ROW_MARK.get(f.outcome, _cell(f.outcome))} | {_cell(f.message)} "
            f"| {_cell(f.hint)} | {_links(f.evidence)} |"
            for f in report.failures
        ]
    if report.not_evidenced:
        lines += ["", "## Not evidenced (inconclusive)", ""]
        lines += [
            f"- {_cell(s.slo)} ({_cell(s.objective)}): declared but not measured in this run; run the "
            f"{_cell(s.suite)} suite, or waive it in the environment file with a reason and an owner"
            for s in report.not_evidenced
        ]
    if report.waived:
        lines += ["", "## Waived", ""]
        lines += [
            f"- {_cell(s.slo)} ({_cell(s.objective)}): waived by {_cell((s.waiver or {}).get('owner', '?'))}: "
            f"{_cell((s.waiver or {}).get('reason', ''))}"
            for s in report.waived
        ]
    lines += ["", "Evidence anchors (`ev-N`) refer to the evidence section of index.html in the run directory."]
    return "\n".join(lines) + "\n"
