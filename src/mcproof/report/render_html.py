"""`index.html`: a self-contained sign-off page (inline CSS and SVG, no scripts, opens offline).

Every piece of text goes through `html.escape` (`_e`): messages, check names and error kinds come
from servers and evidence and may be hostile. A Content-Security-Policy meta tag forbids scripts and
external loads as a second line of defence.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from mcproof.report.evidence_index import EvidenceItem
from mcproof.report.fmt import fmt_margin, fmt_target, fmt_value, one_line
from mcproof.report.model import Report, SloResult, SuiteResult
from mcproof.report.players import PlayerPanel
from mcproof.report.plots import Plot
from mcproof.report.releases import ReleasePanel
from mcproof.report.runbooks import RunbookPanel
from mcproof.report.svg import bar_svg, latency_histogram_svg, plot_svg

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;background:#f4f5f7}
main{max-width:1100px;margin:0 auto;padding:24px}
header{background:#fff;border-radius:8px;padding:20px 24px;display:flex;gap:24px;align-items:center;
 justify-content:space-between;box-shadow:0 1px 3px #0002}
header h1{font-size:20px;margin:0 0 6px} header dl{margin:0;display:grid;grid-template-columns:auto 1fr;gap:2px 12px}
header dt{color:#666} header dd{margin:0;font-family:ui-monospace,monospace;word-break:break-all}
.big{font-size:40px;font-weight:700;padding:12px 28px;border-radius:8px;color:#fff;text-transform:uppercase}
section{background:#fff;border-radius:8px;padding:16px 24px;margin-top:18px;box-shadow:0 1px 3px #0002}
h2{font-size:17px;margin:4px 0 12px} table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #e4e4e4;vertical-align:top}
th{background:#fafafa;font-weight:600} td.msg{white-space:pre-wrap;word-break:break-word;max-width:560px}
code{font-family:ui-monospace,monospace;font-size:12.5px;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;font-size:12px;font-weight:600}
.pass{background:#2e7d32} .fail{background:#c62828} .inconclusive{background:#ef6c00}
.skipped,.not-in-scope{background:#78909c} .waived{background:#6a1b9a} .type{background:#546e7a}
ul.reasons{margin:8px 0 0;padding-left:20px;color:#444}
.ev{border-top:1px solid #eee;padding:12px 0} .ev:target{background:#fff8e1}
.ev dl{display:grid;grid-template-columns:repeat(4,auto 1fr);gap:2px 10px;margin:6px 0}
.ev dt{color:#666} .ev dd{margin:0;font-family:ui-monospace,monospace} .muted{color:#777}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}
figure{margin:0;border:1px solid #eee;border-radius:6px;padding:8px} figure svg{max-width:100%;height:auto}
figcaption{font-size:12.5px;color:#444;margin-top:4px} tr:target{background:#fff8e1}
.decision{font-size:15px;margin:10px 0 0} td.hint{max-width:360px;color:#37474f}
nav a{margin-right:12px}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict.replace(" ", "-"))}">{_e(verdict)}</span>'


def _links(anchors: Iterable[str]) -> str:
    return ", ".join(f'<a href="#{_e(a)}">{_e(a)}</a>' for a in anchors) or '<span class="muted">—</span>'


def _suite_link(suite: str) -> str:
    return f'<a href="#suite-{_e(suite)}">suite {_e(suite)}</a>'


def _table(headers: Iterable[str], rows: Iterable[str], empty: str) -> str:
    body = "".join(rows) or f'<tr><td colspan="99" class="muted">{_e(empty)}</td></tr>'
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _header(report: Report) -> str:
    run = report.run
    facts = [
        ("environment", run.environment),
        ("tier", run.tier),
        ("run id", run.run_id),
        ("window", f"{run.started_at} → {run.ended_at or 'unfinished'}"),
        ("exit status", "—" if run.exit_status is None else run.exit_status),
        ("mcproof", f"{run.mcproof_version} on {run.host}"),
    ]
    dl = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    reasons = "".join(f"<li>{_e(r)}</li>" for r in report.reasons)
    c = report.counts
    counts = (
        f"{c.passed} passed · {c.failed} failed · {c.inconclusive} inconclusive · {c.errors} errors · "
        f"{c.skipped} skipped · "
        f"{len(report.evidence)} evidence records"
    )
    return (
        f"<header><div><h1>mcproof sign-off: {_e(run.environment)}</h1><dl>{dl}</dl>"
        f'<p class="muted">{_e(counts)}</p><ul class="reasons">{reasons}</ul></div>'
        f'<div class="big {_e(report.verdict)}">{_e(report.verdict)}</div></header>'
    )


def _slo_row(slo: SloResult) -> str:
    how = (
        f'<code>{_e(slo.check)}</code><br><span class="muted">{_e(slo.method)} · {_e(slo.samples)} samples'
        f"{' · ' + _e(len(slo.measurements)) + ' measurements' if len(slo.measurements) > 1 else ''}</span>"
        if slo.measurements
        else f'<span class="muted">{_e(one_line(slo.notes[0], 300)) if slo.notes else ""}</span>'
    )
    notes = "".join(f'<br><span class="muted">{_e(one_line(n, 300))}</span>' for n in slo.notes if slo.measurements)
    evidence = (
        _links(slo.evidence)
        if slo.measurements
        else {
            "waived": '<a href="#waived">waived</a>',
            "inconclusive": '<a href="#not-evidenced">not evidenced</a>',
        }.get(slo.verdict, '<a href="#suites">not in scope</a>')
    )
    return (
        f'<tr id="slo-{_e(slo.slo)}"><td><b>{_e(slo.slo)}</b><br><span class="muted">{_e(slo.objective)}</span></td>'
        f"<td>{_e(fmt_target(slo.comparator, slo.target, slo.unit))}</td>"
        f"<td>{_e(fmt_value(slo.measured, slo.unit))}</td><td>{_e(fmt_margin(slo.margin, slo.unit))}</td>"
        f"<td>{_badge(slo.verdict)}{notes}</td><td>{how}</td><td>{evidence}</td></tr>"
    )


def _suite_row(suite: SuiteResult) -> str:
    c = suite.counts
    skips = "".join(f'<br><span class="muted">skipped: {_e(one_line(r, 300))}</span>' for r in suite.skip_reasons)
    return (
        f'<tr id="suite-{_e(suite.suite)}"><td><b>{_e(suite.suite)}</b></td><td>{_badge(suite.verdict)}{skips}</td>'
        f"<td>{c.passed}</td>"
        f"<td>{c.failed}</td><td>{c.inconclusive}</td><td>{c.errors}</td><td>{c.skipped}</td><td>{_links(suite.evidence)}</td></tr>"
    )


def _evidence(item: EvidenceItem) -> str:
    totals = "".join(
        f"<dt>{_e(k)}</dt><dd>{_e(f'{v:.4g}' if isinstance(v, float) else v)}</dd>" for k, v in item.totals.items()
    )
    plot = ""
    if item.latency is not None:
        plot = latency_histogram_svg(item.latency)
    elif item.bar is not None:
        plot = bar_svg(item.bar)
    return (
        f'<div class="ev" id="{_e(item.anchor)}"><b>{_e(item.anchor)}</b> · '
        f'<span class="badge type">{_e(item.type)}</span> · '
        f'<code>{_e(item.check)}</code><br><span class="muted">{_e(item.method)} · '
        f"{_e(item.started_at)} → {_e(item.ended_at)}</span><dl>{totals}</dl>{plot}</div>"
    )


DECISION = {
    "pass": "GO: every check that ran passed and every declared SLO in scope was measured and met.",
    "fail": "NO-GO: at least one suite or SLO failed; see the failures and their fix hints.",
    "inconclusive": (
        "NOT DECIDABLE (inconclusive): mcproof could not measure everything it must; this is not a pass. "
        "See the reasons and fixes above, then run again."
    ),
}


def _plot(plot: Plot) -> str:
    return (
        f'<figure id="{_e(plot.anchor)}" data-kind="{_e(plot.kind)}">{plot_svg(plot)}'
        f"<figcaption>{_e(plot.title)} · evidence {_links(plot.evidence)}</figcaption></figure>"
    )


def _seconds(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g} s"


def _rejoins(times: tuple[float | None, ...]) -> str:
    shown = ", ".join("never back" if t is None else f"{t:.3g} s" for t in times[:12])
    return shown + (f" (+{len(times) - 12} more)" if len(times) > 12 else "") if times else "—"


def _runbooks(panel: RunbookPanel) -> str:
    """The runbook coverage table: alert -> runbook -> link -> sections -> dry-run."""
    head = '<section id="runbooks"><h2>Runbook coverage</h2>'
    if not panel.measured:
        return f"{head}<p><b>{_e(panel.note)}</b></p></section>"
    rows = "".join(
        f"<tr><td>{_e(r.alert)}</td><td>{_e(r.runbook)}</td><td>{_e(r.link)}</td><td>{_e(r.sections)}</td>"
        f"<td>{_e(r.dry_run)} ({r.commands})</td></tr>"
        for r in panel.rows
    )
    failed = "".join(f"<li>{_e(f)}</li>" for f in panel.failed[:20])
    return (
        f'{head}<p class="muted">{_e(panel.note)}</p><table><thead><tr><th>alert</th><th>runbook</th><th>link</th>'
        f"<th>sections</th><th>dry-run (kubectl commands)</th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<ul>{failed}</ul>" if failed else "")
        + "</section>"
    )


def _releases(panel: ReleasePanel) -> str:
    """The Releases table: a row per gated release (verdict, failed requests, downtime, rollback timeline)."""
    head = '<section id="releases"><h2>Releases</h2>'
    if not panel.measured:
        return f"{head}<p><b>{_e(panel.note)}</b></p></section>"
    rows = "".join(
        f"<tr><td>{_e(r.workload)}</td><td>{_e(r.update)}</td><td>{_badge(r.verdict)}</td><td>{_e(r.reason)}</td>"
        f"<td>{r.samples}</td><td>{r.failed_requests} ({r.routed_failures} / {r.startup_failures})</td>"
        f"<td>{r.max_unavailable_observed} / {r.max_unavailable_allowed}</td>"
        f"<td>{'not completed' if r.rollout_s is None else f'{r.rollout_s:.3g} s'}</td>"
        f"<td>{_e(r.downtime_text)}</td><td>{_e(r.rollback_text)}</td></tr>"
        for r in panel.rows
    )
    failed = "".join(f"<li>{_e(f)}</li>" for f in panel.failed[:20])
    return (
        f'{head}<p class="muted">{_e(panel.note)}</p><table><thead><tr><th>workload</th><th>update</th>'
        "<th>verdict</th><th>reason</th><th>samples</th><th>failed (routed / start-up)</th>"
        "<th>max unavailable (observed / allowed)</th><th>rollout</th><th>worst server downtime</th>"
        f"<th>rollback</th></tr></thead><tbody>{rows}</tbody></table>"
        + (f"<ul>{failed}</ul>" if failed else "")
        + "</section>"
    )


def _players(panel: PlayerPanel) -> str:
    """The player panel: a row per measurement (context), its failed/inconclusive SLOs, the plots."""
    if not panel.measured:
        return f'<section id="players"><h2>Players</h2><p><b>{_e(panel.note)}</b></p></section>'
    rows = []
    for r in panel.rows:
        where = ", ".join(f"{s} ({n})" for s, n in list(r.dropped_where.items())[:8]) or "—"
        ratio = "—" if r.join_ratio is None else f"{r.join_ratio:.2%}"
        tps = "—" if r.tps_p5 is None else f"min {r.tps_min:.3g} · p5 {r.tps_p5:.3g} ({_e(r.tps_lowest_server)})"
        if r.tps_unmeasured:
            tps += f'<br><span class="muted">not measured: {_e(", ".join(r.tps_unmeasured[:8]))}</span>'
        slos = "".join(
            f'<br><span class="muted">{_e(s.get("slo"))} {_e(s.get("verdict"))}: {_e(one_line(str(s.get("reason")), 300))}</span>'
            for s in r.slos
            if s.get("verdict") in ("fail", "inconclusive")
        )
        rows.append(
            f"<tr><td><b>{_e(r.context)}</b><br><code>{_e(r.check)}</code></td><td>{_badge(r.verdict)}{slos}</td>"
            f"<td>{r.joins_ok} / {r.join_attempts} ({_e(ratio)})</td>"
            f"<td>{_e(_seconds(r.join_p50_s))} / {_e(_seconds(r.join_p95_s))}</td>"
            f"<td>{r.sessions}{f' (+{r.unaccounted} unaccounted)' if r.unaccounted else ''}</td><td>{r.dropped}</td>"
            f"<td>{_e(where)}</td><td>{_e(_rejoins(r.rejoin_s))}</td><td>{tps}</td>"
            f'<td><a href="#{_e(r.anchor)}">{_e(r.anchor)}</a></td></tr>'
        )
    table = _table(
        [
            "context",
            "verdict",
            "joins ok / attempts",
            "join p50 / p95",
            "sessions",
            "dropped",
            "where",
            "time to rejoin (per drop)",
            "TPS (lowest server)",
            "evidence",
        ],
        rows,
        "no player measurement",
    )
    plots = "".join(_plot(p) for p in panel.plots)
    return (
        f'<section id="players"><h2>Players</h2><p class="muted">{_e(panel.note)}</p>{table}'
        f'<div class="plots">{plots}</div></section>'
    )


def _evidence_plots(report: Report) -> str:
    """A pointer to the per-record plots (latency histograms, status bars) kept with their evidence."""
    anchors = [item.anchor for item in report.evidence if item.latency or item.bar]
    if not anchors:
        return ""
    return f'<p class="muted">Latency histograms and status bars are drawn with their evidence: {_links(anchors)}</p>'


def render_html(report: Report) -> str:
    """`index.html` text.

    >>> from mcproof.report.model import build_report
    >>> from mcproof.evidence import RunInfo
    >>> "<script>" in render_html(build_report([RunInfo("r", "<script>", "t", "s", "0", [], {}, "h")]))
    False
    """
    run = report.run
    slos = _table(
        ["SLO", "target", "measured", "margin", "verdict", "measured by", "evidence"],
        (_slo_row(s) for s in report.slos),
        "no SLOs in the environment snapshot",
    )
    suites = _table(
        ["suite", "verdict", "passed", "failed", "inconclusive", "errors", "skipped", "evidence"],
        (_suite_row(s) for s in report.suites),
        "no check ran",
    )
    failures = _table(
        ["check", "outcome", "message", "fix hint", "evidence"],
        (
            f'<tr><td><code>{_e(f.nodeid or f.check)}</code><br><span class="muted">{_e(f.suite)}</span></td>'
            f'<td>{_badge("inconclusive" if f.outcome == "inconclusive" else "fail")} {_e(f.outcome)}</td><td class="msg">{_e(one_line(f.message, 4000))}</td>'
            f'<td class="hint">{_e(f.hint)}</td><td>{_links(f.evidence) if f.evidence else _suite_link(f.suite)}</td></tr>'
            for f in report.failures
        ),
        "no failures",
    )
    missing = "".join(
        f"<li><b>{_e(s.slo)}</b> ({_e(s.objective)}): declared but not measured in this run; run the "
        f"{_e(s.suite)} suite, or waive it in the environment file with a reason and an owner</li>"
        for s in report.not_evidenced
    )
    missing_section = (
        f'<section id="not-evidenced"><h2>Not evidenced: inconclusive ({len(report.not_evidenced)})</h2>'
        f"<ul>{missing}</ul></section>"
        if missing
        else ""
    )
    waived = "".join(
        f"<li><b>{_e(s.slo)}</b> ({_e(s.objective)}): waived by {_e((s.waiver or {}).get('owner', '?'))}: "
        f"{_e((s.waiver or {}).get('reason', ''))}</li>"
        for s in report.waived
    )
    if waived:
        missing_section += f'<section id="waived"><h2>Waived ({len(report.waived)})</h2><ul>{waived}</ul></section>'

    plots = "".join(_plot(p) for p in report.plots)
    more = _evidence_plots(report)
    plots_section = (
        f'<section id="plots"><h2>Plots</h2><div class="plots">{plots}</div>{more}</section>' if plots or more else ""
    )
    evidence = "".join(_evidence(item) for item in report.evidence) or '<p class="muted">no raw evidence</p>'
    nav = "".join(
        f'<a href="#{a}">{t}</a>'
        for a, t in (
            ("slos", "SLOs"),
            ("plots", "Plots"),
            ("players", "Players"),
            ("runbooks", "Runbooks"),
            ("releases", "Releases"),
            ("failures", "Failures"),
            ("suites", "Suites"),
            ("evidence", "Evidence"),
        )
        if a != "plots" or plots or more
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(report.verdict.upper())} · mcproof · {_e(run.environment)} · {_e(run.run_id)}</title>"
        f"<style>{CSS}</style></head><body><main>{_header(report)}"
        f'<p class="decision"><b>Release decision:</b> {_e(DECISION.get(report.verdict, report.verdict))}</p>'
        f"<nav>{nav}</nav>"
        f'<section id="slos"><h2>Verdict per SLO</h2>{slos}</section>'
        f"{plots_section}"
        f"{_players(report.players)}"
        f"{_runbooks(report.runbooks)}"
        f"{_releases(report.releases)}"
        f'<section id="failures"><h2>Failures and inconclusive checks ({len(report.failures)})</h2>{failures}</section>'
        f'<section id="suites"><h2>Suites</h2>{suites}</section>'
        f"{missing_section}"
        f'<section id="evidence"><h2>Evidence ({len(report.evidence)})</h2>{evidence}</section>'
        "</main></body></html>\n"
    )
