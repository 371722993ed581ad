"""Small inline SVG plots for the HTML report, generated as text (no matplotlib, no JS).

Written here because the report must open offline as one file and a plotting stack would be a
heavy dependency for two chart shapes. Every label is passed through `html.escape`: error kinds
and check names come from evidence, which may carry hostile text.

>>> "<svg" in bar_svg(BarPlot("serving", 10, 9, {"timeout": 1}))
True
"""

from __future__ import annotations

from html import escape

from mcproof.report.evidence_index import BarPlot, LatencyPlot

OK_COLOUR = "#2e7d32"
LINE_P95 = "#1565c0"
LINE_SLO = "#c62828"
KIND_COLOURS = ("#c62828", "#ef6c00", "#6a1b9a", "#ad1457", "#4e342e", "#37474f", "#9e9d24")


def _n(value: float) -> str:
    return f"{value:.1f}"


def _text(x: float, y: float, label: str, *, anchor: str = "start", size: int = 11, fill: str = "#222") -> str:
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
