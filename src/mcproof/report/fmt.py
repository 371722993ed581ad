"""Number and text formatting shared by the Markdown and HTML renderers.

>>> fmt_value(0.9995, "ratio"), fmt_margin(0.0005, "ratio"), fmt_value(12.345, "ms"), fmt_margin(None, "s")
('99.95%', '+0.05 pp', '12.35 ms', '—')
>>> fmt_target(">=", 10000, "servers")
'≥ 10,000 servers'
"""

from __future__ import annotations

import math

DASH = "—"


def _fmt_number(value: float | None, unit: str, *, signed: bool) -> str:
    if value is None:
        return DASH
    if not math.isfinite(value):
        return str(value)
    sign = "+" if signed else ""
    if unit == "ratio":
        return f"{value * 100:{sign}.3g} pp" if signed else f"{value * 100:.5g}%"
    number = f"{value:{sign},.0f}" if abs(value) >= 1000 else f"{value:{sign}.4g}"
    return f"{number} {unit}".strip()


def fmt_value(value: float | None, unit: str) -> str:
    """A measured figure: `0.214 ms`, `99.95%`, `10,000 servers`."""
    return _fmt_number(value, unit, signed=False)


def fmt_margin(value: float | None, unit: str) -> str:
    """Room left against a target, signed: `+249.8 ms`, `+0.1 pp`."""
    return _fmt_number(value, unit, signed=True)


def fmt_target(comparator: str, value: float | None, unit: str) -> str:
    """`≤ 250 ms`; comparators are shown as symbols so no renderer has to escape them."""
    symbol = {"<=": "≤", ">=": "≥"}.get(comparator, comparator)
    return DASH if value is None else f"{symbol} {fmt_value(value, unit)}".strip()


def one_line(text: str, limit: int = 500) -> str:
    """Collapse whitespace and cap the length (full text stays in report.json)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
