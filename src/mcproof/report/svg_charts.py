"""Inline SVG for run-level plots (`plots.Plot`): a line chart and a bar chart, as escaped text.

Same rules as `svg.py`: no scripts, every label through `html.escape`; reference lines (SLOs) in
red, shaded windows (faults) in amber. Each chart carries `data-plot` with its kind for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from mcproof.report.plots import Plot

COLOURS = ("#1565c0", "#ef6c00", "#2e7d32", "#6a1b9a", "#ad1457")
LINE_REF = "#c62828"
WINDOW = "#ffcc80"
W, H = 620, 220
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 22, 40


def _n(v: float) -> str:
    return f"{v:.1f}"


def _text(x: float, y: float, label: str, anchor: str = "start", fill: str = "#222", size: int = 11) -> str:
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" fill="{fill}">{escape(label)}</text>'
    )


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
            out.append(f'<line x1="{LEFT}" y1="{_n(y)}" x2="{W - RIGHT}" y2="{_n(y)}" stroke="{LINE_REF}" '
                       'stroke-width="1.5" stroke-dasharray="5 3"/>')  # fmt: skip
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
        body.append(f'<rect x="{_n(x_of(start))}" y="{TOP}" width="{_n(width)}" height="{inner_h}" fill="{WINDOW}" '
                    f'opacity="0.6"><title>{escape(label)}</title></rect>')  # fmt: skip
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
        body.append(f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(slot * 0.7)}" height="{_n(TOP + inner_h - y)}" '
                    f'fill="{COLOURS[0]}"><title>{escape(f"{label}: {value:.4g}")}</title></rect>')  # fmt: skip
        body.append(_text(x + slot * 0.35, y - 3, f"{value:.4g}", "middle", size=10))
        body.append(_text(x + slot * 0.35, TOP + inner_h + 13, label[:24], "middle", size=10))
    body += _refs(plot, y_of, y_max)
    return _frame(plot, body, y_max)


def plot_svg(plot: Plot) -> str:
    return bar_chart_svg(plot) if plot.bars else line_chart_svg(plot)
