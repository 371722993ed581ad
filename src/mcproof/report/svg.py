"""Every inline SVG of the HTML report, generated as text (no matplotlib, no JS): the per-check latency
histogram and bar (:func:`latency_histogram_svg`, :func:`bar_svg`) and the run-level line and bar charts of
:class:`~mcproof.report.plots.Plot` (:func:`plot_svg`; SLO reference lines in red, fault windows in amber,
``data-plot`` carries the kind for tests).

Written here because the report must open offline as one file and a plotting stack would be a
heavy dependency for two chart shapes. Every label is passed through `html.escape`: error kinds
and check names come from evidence, which may carry hostile text.

>>> "<svg" in bar_svg(BarPlot("serving", 10, 9, {"timeout": 1}))
True
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from mcproof.report.evidence_index import BarPlot, LatencyPlot
from mcproof.report.plots import Plot

OK_COLOUR = "#2e7d32"
LINE_P95 = "#1565c0"
LINE_SLO = "#c62828"
KIND_COLOURS = ("#c62828", "#ef6c00", "#6a1b9a", "#ad1457", "#4e342e", "#37474f", "#9e9d24")


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, label: str, anchor: str = "start", fill: str = "#222", size: int = 11) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(label)}</text>'
    )


def _svg(width: int, height: int, title: str, body: list[str]) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def latency_histogram_svg(plot: LatencyPlot, width: int = 520, height: int = 180) -> str:
    """Histogram of latency samples with the p95 (blue) and the SLO objective (red) marked."""
    left, right, top, bottom = 40, 12, 18, 30
    inner_w, inner_h = width - left - right, height - top - bottom
    high = plot.bin_edges[-1] if plot.bin_edges else 1.0
    tallest = max(plot.bin_counts, default=0) or 1
    bar_w = inner_w / max(1, len(plot.bin_counts))

    def x_of(ms: float) -> float:
        return left + inner_w * min(1.0, max(0.0, ms / high)) if high > 0 else left

    body = [f'<rect x="{left}" y="{top}" width="{inner_w}" height="{inner_h}" fill="#fafafa" stroke="#ddd"/>']
    for i, count in enumerate(plot.bin_counts):
        if count:
            h = inner_h * count / tallest
            body.append(
                f'<rect x="{_n(left + i * bar_w)}" y="{_n(top + inner_h - h)}" width="{_n(bar_w - 1)}" '
                f'height="{_n(h)}" fill="#90a4ae"><title>{escape(f"{count} samples")}</title></rect>'
            )
    body.append(_text(left - 4, top + 8, str(tallest), anchor="end", size=10))
    body.append(_text(left - 4, top + inner_h, "0", anchor="end", size=10))
    body.append(_text(left, height - 10, "0 ms", size=10))
    beyond = f" (+{plot.beyond} beyond, max {plot.max_ms:.4g} ms)" if plot.beyond else ""
    body.append(_text(left + inner_w, height - 10, f"{high:.4g} ms{beyond}", anchor="end", size=10))
    markers = [(plot.p95_ms, LINE_P95, f"p95 {plot.p95_ms:.4g} ms")]
    if plot.slo_ms is not None:
        markers.append((plot.slo_ms, LINE_SLO, f"SLO {plot.slo_ms:.4g} ms"))
    for n, (ms, colour, label) in enumerate(markers):
        x = x_of(ms)
        off_scale = ms > high
        dash = ' stroke-dasharray="4 3"' if off_scale else ""
        body.append(
            f'<line x1="{_n(x)}" y1="{top}" x2="{_n(x)}" y2="{top + inner_h}" stroke="{colour}" '
            f'stroke-width="2"{dash}/>'
        )
        suffix = " (off scale)" if off_scale else ""
        body.append(
            _text(
                x - 4 if x > left + inner_w / 2 else x + 4,
                top - 5 + 12 * n + (12 if n else 0),
                label + suffix,
                anchor="end" if x > left + inner_w / 2 else "start",
                fill=colour,
            )
        )
    title = f"latency histogram: {plot.count} samples, p95 {plot.p95_ms:.4g} ms"
    return _svg(width, height, title, body)


def bar_svg(plot: BarPlot, width: int = 520, height: int = 64) -> str:
    """One stacked bar: the ok share in green, then each failure kind; a legend below."""
    left, right, top, bar_h = 4, 4, 4, 22
    inner_w = width - left - right
    total = max(plot.total, plot.ok + sum(plot.failures_by_kind.values()), 1)
    segments = [(plot.ok_label, plot.ok, OK_COLOUR)]
    segments += [
        (kind, count, KIND_COLOURS[i % len(KIND_COLOURS)])
        for i, (kind, count) in enumerate(plot.failures_by_kind.items())
    ]
    body, x = [], float(left)
    for label, count, colour in segments:
        if count <= 0:
            continue
        w = max(1.0, inner_w * count / total)
        body.append(
            f'<rect x="{_n(x)}" y="{top}" width="{_n(w)}" height="{bar_h}" fill="{colour}">'
            f"<title>{escape(f'{label}: {count}')}</title></rect>"
        )
        x += w
    legend_x = float(left)
    for label, count, colour in segments:
        text = f"{label[:40]} {count}"
        body.append(f'<rect x="{_n(legend_x)}" y="{top + bar_h + 10}" width="10" height="10" fill="{colour}"/>')
        body.append(_text(legend_x + 14, top + bar_h + 19, text, size=11))
        legend_x += 24 + 7 * len(text)
    title = f"{plot.ok} of {plot.total} {plot.ok_label}"
    return _svg(width, height, title, body)


# --- run-level plots ---------------------------------------------------------------------------

COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#ad1457")
LINE_REF = "#c62828"
WINDOW = "#ffcc80"
W, H = 620, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 22, 40


def _frame(plot: Plot, body: list[str], y_max: float) -> str:
    inner_h = H - TOP - BOTTOM
    parts = [
        f'<rect x="{LEFT}" y="{TOP}" width="{W - LEFT - RIGHT}" height="{inner_h}" fill="#fafafa" stroke="#ddd"/>',
        *body,
        _text(LEFT - 4, TOP + 8, f"{y_max:.4g}", "end", size=10),
        _text(LEFT - 4, TOP + inner_h, "0", "end", size=10),
        _text(LEFT + (W - LEFT - RIGHT) / 2, H - 6, plot.x_label, "middle", "#555", 10),
        _text(4, TOP - 8, plot.y_label, fill="#555", size=10),
    ]
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" role="img" '
        f'data-plot="{escape(plot.kind)}" aria-label="{escape(plot.title)}"><title>{escape(plot.title)}</title>'
        f"{''.join(parts)}</svg>"
    )


def _refs(plot: Plot, y_of: Callable[[float], float], y_max: float) -> list[str]:
    out = []
    for label, level in plot.lines:
        if 0 <= level <= y_max:
            y = y_of(level)
            out.append(
                f'<line x1="{LEFT}" y1="{_n(y)}" x2="{W - RIGHT}" y2="{_n(y)}" stroke="{LINE_REF}" '
                'stroke-width="1.5" stroke-dasharray="5 3"/>'
            )
            out.append(_text(W - RIGHT - 4, y - 4, f"{label} {level:.4g}", "end", LINE_REF))
    return out


def line_chart_svg(plot: Plot) -> str:
    """Series as polylines over a shared x/y scale from 0; windows shaded; legend at the top right."""
    xs = [p[0] for s in plot.series for p in s.points] + [w[1] for w in plot.windows]
    ys = [p[1] for s in plot.series for p in s.points] + [level for _, level in plot.lines]
    x_max, y_max = max(xs, default=1.0) or 1.0, (max(ys, default=1.0) or 1.0) * 1.08
    inner_w, inner_h = W - LEFT - RIGHT, H - TOP - BOTTOM

    def x_of(x: float) -> float:
        return LEFT + inner_w * max(0.0, min(1.0, x / x_max))

    def y_of(y: float) -> float:
        return TOP + inner_h * (1 - max(0.0, min(1.0, y / y_max)))

    body: list[str] = []
    for start, end, label in plot.windows:
        width = max(2.0, x_of(end) - x_of(start))
        body.append(
            f'<rect x="{_n(x_of(start))}" y="{TOP}" width="{_n(width)}" height="{inner_h}" fill="{WINDOW}" '
            f'opacity="0.6"><title>{escape(label)}</title></rect>'
        )
    body += _refs(plot, y_of, y_max)
    for i, series in enumerate(plot.series):
        colour = COLOURS[i % len(COLOURS)]
        points = " ".join(f"{_n(x_of(x))},{_n(y_of(y))}" for x, y in series.points)
        body.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{_n(x_of(x))}" cy="{_n(y_of(y))}" r="2.5" fill="{colour}"/>' for x, y in series.points]
        legend_x = W - RIGHT - 110 * (len(plot.series) - 1 - i)
        body.append(_text(legend_x, TOP - 8, f"— {series.name}", "end", colour))
    body.append(_text(LEFT, H - 20, "0", size=10))
    body.append(_text(W - RIGHT, H - 20, f"{x_max:.4g}", "end", size=10))
    return _frame(plot, body, y_max)


def bar_chart_svg(plot: Plot) -> str:
    """One vertical bar per label with its value on top; reference lines across."""
    values = [v for _, v in plot.bars] + [level for _, level in plot.lines]
    y_max = (max(values, default=1.0) or 1.0) * 1.12
    inner_w, inner_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = inner_w / max(1, len(plot.bars))

    def y_of(y: float) -> float:
        return TOP + inner_h * (1 - max(0.0, min(1.0, y / y_max)))

    body: list[str] = []
    for i, (label, value) in enumerate(plot.bars):
        x, y = LEFT + i * slot + slot * 0.15, y_of(value)
        body.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(slot * 0.7)}" height="{_n(TOP + inner_h - y)}" '
            f'fill="{COLOURS[0]}"><title>{escape(f"{label}: {value:.4g}")}</title></rect>'
        )
        body.append(_text(x + slot * 0.35, y - 3, f"{value:.4g}", "middle", size=10))
        body.append(_text(x + slot * 0.35, TOP + inner_h + 13, label[:24], "middle", size=10))
    body += _refs(plot, y_of, y_max)
    return _frame(plot, body, y_max)


def plot_svg(plot: Plot) -> str:
    return bar_chart_svg(plot) if plot.bars else line_chart_svg(plot)
