"""Monitoring plots (data only, drawn by `svg.py`), from `detection` and `availability` evidence:

- `detection_time`: time from the injected outage to the alert firing, one bar per detection, against
  the detection window(s); an alert that never fired shows as a bar at its window labelled "✗ <alert>";
- `detection_timeline`: the alert's state as polled after the injection (0 inactive, 1 pending,
  2 firing), with the injection and the end of the window marked;
- `availability_agreement`: unavailability (%) seen by the observer's pings and by PromQL, against the
  error budget (100 % - objective) — plotted as unavailability so that 99.9 % and 99.8 % look different;
- `error_budget`: error budget consumed (%) per availability record, against 100 %.

>>> [p.kind for p in monitoring_plots([], [])]
[]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from mcproof.report.plots import Plot, Series, _num

__all__ = ["monitoring_plots"]

STATE_LEVEL = {"inactive": 0.0, "pending": 1.0, "firing": 2.0}


def _detection_timeline(anchor: str, r: Mapping[str, Any]) -> Iterator[Plot]:
    injected = _num(r.get("injected_at"))
    if injected is None:
        return
    points = tuple(
        (round(t - injected, 3), STATE_LEVEL[str(s.get("state"))])
        for s in r.get("samples") or []
        if isinstance(s, Mapping) and (t := _num(s.get("t"))) is not None and str(s.get("state")) in STATE_LEVEL
    )
    if len(points) < 2:
        return
    window = _num(r.get("window_s"))
    windows: tuple[tuple[float, float, str], ...] = ((0.0, 0.0, "outage injected"),)
    if window is not None:
        windows += ((window, window, "detection window ends"),)
    fired = _num(r.get("time_to_fire_s"))
    note = f"fired after {fired:.3g} s" if fired is not None else "never fired"
    yield Plot(
        f"plot-{anchor}",
        "detection_timeline",
        f"Alert {r.get('alert')} after the outage ({note})",
        "seconds since injection",
        "state 0/1/2 = inactive/pending/firing",
        (anchor,),
        series=(Series(str(r.get("alert")), points),),
        lines=(("firing", 2.0),),
        windows=windows,
    )


def _detection_time(detections: Sequence[tuple[str, Mapping[str, Any]]]) -> Iterator[Plot]:
    bars: list[tuple[str, float]] = []
    for _, d in detections:
        fired, window = _num(d.get("time_to_fire_s")), _num(d.get("window_s"))
        if fired is not None:
            bars.append((str(d.get("alert")), fired))
        elif window is not None:
            bars.append((f"✗ {d.get('alert')}", window))
    if not bars:
        return
    windows = dict.fromkeys(w for _, d in detections if (w := _num(d.get("window_s"))) is not None)
    lines = tuple(("window", w) for w in list(windows)[:3])
    title = "Incident detection: time to fire per alert vs the window (✗ never fired: bar at the window)"
    yield Plot(
        "plot-detection",
        "detection_time",
        title,
        "alert",
        "s",
        tuple(a for a, _ in detections),
        bars=tuple(bars),
        lines=lines,
    )


def _availability_agreement(anchor: str, r: Mapping[str, Any]) -> Iterator[Plot]:
    observer, promql, objective = (
        _num(r.get(k)) for k in ("observer_availability", "prometheus_availability", "objective")
    )
    if observer is None:
        return
    bars = [("observer", round((1 - observer) * 100, 6))]
    if promql is not None:
        bars.append(("Prometheus", round((1 - promql) * 100, 6)))
    tolerance = _num(r.get("tolerance"))
    note = "" if promql is not None else "; Prometheus: no data"
    agree = "agree" if r.get("agree") else "DISAGREE"
    title = f"Availability: observer vs PromQL ({agree} within {tolerance or 0:g}{note})"
    lines = (("error budget", round((1 - objective) * 100, 6)),) if objective is not None else ()
    yield Plot(
        f"plot-{anchor}",
        "availability_agreement",
        title,
        "measured by",
        "% unavailable",
        (anchor,),
        bars=tuple(bars),
        lines=lines,
    )


def _error_budget(availability: Sequence[tuple[str, Mapping[str, Any]]]) -> Iterator[Plot]:
    bars = tuple(
        (f"#{i} {r.get('check') or ''}".strip(), round(v * 100, 3))
        for i, (_, r) in enumerate(availability, start=1)
        if (v := _num(r.get("error_budget_consumed"))) is not None
    )
    if bars:
        yield Plot(
            "plot-error-budget",
            "error_budget",
            "Error budget consumed per availability window",
            "availability record",
            "% of budget",
            tuple(a for a, _ in availability),
            bars=bars,
            lines=(("budget", 100.0),),
        )


def monitoring_plots(
    detections: Sequence[tuple[str, Mapping[str, Any]]], availability: Sequence[tuple[str, Mapping[str, Any]]]
) -> list[Plot]:
    """The monitoring plots for ``(anchor, record dict)`` pairs of detection and availability evidence."""
    plots: list[Plot] = list(_detection_time(detections))
    for anchor, data in detections:
        plots.extend(_detection_timeline(anchor, data))
    for anchor, data in availability:
        plots.extend(_availability_agreement(anchor, data))
    plots.extend(_error_budget(availability))
    return plots
