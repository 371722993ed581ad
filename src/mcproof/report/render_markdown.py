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


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} s"


def player_lines(report: Report) -> list[str]:
    """The `## Players` section: a row per measurement, or "not measured"."""
    panel = report.players
    lines = ["", "## Players", ""]
    if not panel.measured:
        return [*lines, f"**{_cell(panel.note)}**"]
    lines += [
        _cell(panel.note),
        "",
        "| context | verdict | joins ok / attempts | join p50 / p95 | sessions | dropped | where | time to rejoin "
        "(per drop) | TPS min / p5 (lowest server) | evidence |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    notes = []
    for r in panel.rows:
        where = ", ".join(f"{s} ({n})" for s, n in list(r.dropped_where.items())[:8]) or "—"
        rejoin = ", ".join("never back" if t is None else f"{t:.3g} s" for t in r.rejoin_s[:12]) or "—"
        if len(r.rejoin_s) > 12:
            rejoin += f" (+{len(r.rejoin_s) - 12} more)"
        ratio = "" if r.join_ratio is None else f" ({r.join_ratio:.2%})"
        tps = "—" if r.tps_p5 is None else f"{r.tps_min:.3g} / {r.tps_p5:.3g} ({r.tps_lowest_server})"
        if r.tps_unmeasured:
            tps += f"; not measured: {', '.join(r.tps_unmeasured[:8])}"
        sessions = f"{r.sessions}" + (f" (+{r.unaccounted} unaccounted)" if r.unaccounted else "")
        lines.append(
            f"| {_cell(r.context)} | {ROW_MARK.get(r.verdict, r.verdict)} | {r.joins_ok} / {r.join_attempts}{ratio} "
            f"| {_s(r.join_p50_s)} / {_s(r.join_p95_s)} | {sessions} | {r.dropped} | {_cell(where)} "
            f"| {_cell(rejoin)} | {_cell(tps)} | `{r.anchor}` |"
        )
        notes += [
            f"- {_cell(r.context)} {_cell(str(s.get('slo')))} {_cell(str(s.get('verdict')))}: "
            f"{_cell(str(s.get('reason')), 300)}" + (f"; fix: {_cell(str(s.get('fix')), 200)}" if s.get("fix") else "")
            for s in r.slos
            if s.get("verdict") in ("fail", "inconclusive")
        ]
    plots = [p.kind for p in panel.plots]
    if plots:
        lines += ["", f"Plots in index.html: {', '.join(dict.fromkeys(plots))}."]
    return lines + (["", *notes] if notes else [])


def runbook_lines(report: Report) -> list[str]:
    """The `## Runbook coverage` section: alert -> runbook -> link -> sections -> dry-run, or "not measured"."""
    panel = report.runbooks
    lines = ["", "## Runbook coverage", ""]
    if not panel.measured:
        return [*lines, f"**{_cell(panel.note)}**"]
    lines += [
        _cell(panel.note, 400),
        "",
        "| alert | runbook | link | sections | dry-run (kubectl commands) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in panel.rows:
        lines.append(
            f"| {_cell(r.alert)} | {_cell(r.runbook)} | {r.link} | {r.sections} | {r.dry_run} ({r.commands}) |"
        )
    return lines + (["", *(f"- {_cell(f, 300)}" for f in panel.failed[:20])] if panel.failed else [])


def release_lines(report: Report) -> list[str]:
    """The `## Releases` section: a row per gated release (verdict, failures, rollback), or "not measured"."""
    panel = report.releases
    lines = ["", "## Releases", ""]
    if not panel.measured:
        return [*lines, f"**{_cell(panel.note)}**"]
    lines += [
        _cell(panel.note, 400),
        "",
        "| workload | update | verdict | reason | samples | failed (routed / start-up) "
        "| max unavailable (observed / allowed) | rollout | worst server downtime | rollback |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in panel.rows:
        lines.append(
            f"| {_cell(r.workload)} | {_cell(r.update)} | {ROW_MARK.get(r.verdict, _cell(r.verdict))} "
            f"| {_cell(r.reason, 300)} | {r.samples} | {r.failed_requests} ({r.routed_failures} / {r.startup_failures}) "
            f"| {r.max_unavailable_observed} / {r.max_unavailable_allowed} "
            f"| {_s(r.rollout_s) if r.rollout_s is not None else 'not completed'} | {_cell(r.downtime_text)} "
            f"| {_cell(r.rollback_text, 300)} |"
        )
    return lines + (["", *(f"- {_cell(f, 300)}" for f in panel.failed[:20])] if panel.failed else [])


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
    lines += player_lines(report)
    lines += runbook_lines(report)
    lines += release_lines(report)
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
