"""Text, Markdown and JSON output of a `Comparison` (regressions first)."""

from __future__ import annotations

import json

from mcproof.compare.diff import GONE, IMPROVEMENT, NEW, REGRESSION, UNCHANGED, Comparison, Delta

ORDER = {REGRESSION: 0, IMPROVEMENT: 1, NEW: 2, GONE: 3, UNCHANGED: 4}


def _v(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    text = f"{value * 100:.4g}%" if unit == "ratio" else f"{value:.4g}"
    return text if unit in {"ratio", "met", ""} else f"{text} {unit}"


def _change(d: Delta) -> str:
    if d.change is None:
        return d.status
    sign = "+" if d.change >= 0 else ""
    rel = f" ({d.relative * 100:+.0f}%)" if d.relative is not None else ""
    body = f"{sign}{d.change * 100:.3g} pp" if d.unit == "ratio" else f"{sign}{d.change:.4g}"
    return body + rel


def _limit(d: Delta) -> str:
    t = d.threshold
    if t.ignore:
        return "ignored"
    return f"> {t.relative * 100:g}% or {t.absolute:g}"


def _sorted(c: Comparison) -> list[Delta]:
    return sorted(c.deltas, key=lambda d: (ORDER[d.status], d.key))


def headline(c: Comparison) -> str:
    verdict = "REGRESSION" if c.regressions else "OK"
    return (
        f"compare: {verdict}: {len(c.regressions)} regressions, {len(c.improvements)} improvements, "
        f"{sum(d.status == UNCHANGED for d in c.deltas)} unchanged "
        f"(baseline {c.a.run_id} -> {c.b.run_id})"
    )


def render_text(c: Comparison) -> str:
    lines = [headline(c), *(f"note: {n}" for n in c.notes)]
    width = max((len(d.key) for d in c.deltas), default=10)
    for d in _sorted(c):
        if d.status == UNCHANGED:
            continue
        lines.append(
            f"  {d.status:<11} {d.key:<{width}}  {_v(d.a, d.unit)} -> {_v(d.b, d.unit)}  {_change(d)}"
            + (f"  [limit {_limit(d)}]" if d.status in {REGRESSION, IMPROVEMENT} else "")
        )
    return "\n".join(lines) + "\n"


def render_markdown(c: Comparison) -> str:
    lines = [f"**{headline(c)}**", "", *(f"- note: {n}" for n in c.notes)]
    lines += ["", "| status | metric | A | B | change | threshold |", "| --- | --- | --- | --- | --- | --- |"]
    for d in _sorted(c):
        lines.append(f"| {d.status} | `{d.key}` | {_v(d.a, d.unit)} | {_v(d.b, d.unit)} | {_change(d)} | {_limit(d)} |")
    return "\n".join(lines) + "\n"


def render_comparison(c: Comparison, fmt: str = "text") -> str:
    """`text` (regressions and improvements only), `markdown` (every figure) or `json`."""
    if fmt == "json":
        return json.dumps(c.as_dict(), indent=2) + "\n"
    if fmt == "markdown":
        return render_markdown(c)
    return render_text(c)
