"""Incident detection: inject an outage, poll Prometheus's alerts until the matching alert fires.

Time to fire = first poll that sees the alert ``firing`` minus the injection time (resolution: the poll
interval). Detection passes when that happens within the window; an alert that never fires (a rule on a
metric that does not exist, a ``for:`` longer than the window) fails it, with every poll kept as evidence.

>>> polls = [AlertPoll(10.0, "inactive"), AlertPoll(10.5, "pending"), AlertPoll(11.0, "firing")]
>>> first_firing(polls)
11.0
>>> alert_matches(ActiveAlert("X", "firing", {"alertname": "X", "server": "a"}, ""), "X", {"server": "a"})
True
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.evidence.records import DetectionEvidence
from mcproof.monitoring.promql import ActiveAlert, PromClient, PromError
from mcproof.monitoring.runbooks import alerts_from_rule_groups

__all__ = [
    "AlertPoll",
    "alert_matches",
    "await_alert",
    "await_alert_state",
    "first_firing",
    "measure_detection",
    "runbook_url_of",
]


@dataclass(frozen=True)
class AlertPoll:
    """One look at ``/api/v1/alerts``: the matching alert's state (inactive | pending | firing | error)."""

    t: float
    state: str
    active_at: str = ""
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def alert_matches(alert: ActiveAlert, name: str, labels: Mapping[str, str]) -> bool:
    return alert.name == name and all(alert.labels.get(k) == v for k, v in labels.items())


def first_firing(polls: Sequence[AlertPoll]) -> float | None:
    """Time of the first poll that saw the alert firing (None: never)."""
    return next((p.t for p in polls if p.state == "firing"), None)


def _poll(prom: PromClient, name: str, labels: Mapping[str, str]) -> AlertPoll:
    now = time.time()
    try:
        matching = [a for a in prom.alerts() if alert_matches(a, name, labels)]
    except PromError as err:
        return AlertPoll(now, "error", detail=str(err)[:200])
    firing = next((a for a in matching if a.firing), None)
    chosen = firing or (matching[0] if matching else None)
    return AlertPoll(now, chosen.state if chosen else "inactive", chosen.active_at if chosen else "")


def await_alert_state(
    prom: PromClient, name: str, labels: Mapping[str, str], state: str, *, until: float, poll_s: float = 0.25
) -> list[AlertPoll]:
    """Poll until the alert is in ``state`` or epoch ``until`` passes (one last poll at the deadline); bounded."""
    polls: list[AlertPoll] = []
    for _ in range(100_000):
        polls.append(_poll(prom, name, labels))
        if polls[-1].state == state or polls[-1].t >= until:
            break
        time.sleep(max(0.0, min(poll_s, until - time.time())))
    return polls


def await_alert(
    prom: PromClient, name: str, labels: Mapping[str, str], *, until: float, poll_s: float = 0.25
) -> list[AlertPoll]:
    """Poll until the alert fires or epoch ``until`` passes (one last poll at the deadline); bounded."""
    return await_alert_state(prom, name, labels, "firing", until=until, poll_s=poll_s)


def runbook_url_of(prom: PromClient, alert: str) -> str | None:
    """The ``runbook_url`` annotation of ``alert``'s rule (None: no such annotation, or the rules API failed)."""
    try:
        rules = prom.rules()
    except PromError:
        return None
    return next((a.runbook_url for a in alerts_from_rule_groups([{"rules": rules}]) if a.name == alert), None)


def measure_detection(
    prom: PromClient,
    *,
    inject: Callable[[], object],
    alert: str,
    labels: Mapping[str, str],
    window_s: float,
    environment: str,
    check: str,
    outage: str = "",
    poll_s: float = 0.25,
    baseline_timeout_s: float = 15.0,
) -> DetectionEvidence:
    """Run ``inject`` (the outage), then wait up to ``window_s`` for ``alert`` with ``labels`` to fire.

    First waits (up to ``baseline_timeout_s``) until that alert is not active: a still-firing alert from an
    earlier outage of the same server would otherwise count as an instant detection. PromError when it
    stays active (nothing is injected then).
    """
    baseline = await_alert_state(prom, alert, labels, "inactive", until=time.time() + baseline_timeout_s)
    if baseline[-1].state != "inactive":
        raise PromError(
            f"{alert} is already {baseline[-1].state} for {dict(labels)} before the outage and stayed so for "
            f"{baseline_timeout_s:g}s; resolve the earlier incident first"
        )
    injected_at = time.time()
    inject()
    polls = await_alert(prom, alert, labels, until=injected_at + window_s, poll_s=poll_s)
    fired = first_firing(polls)
    fired_in_window = fired if fired is not None and fired - injected_at <= window_s else None
    shown = ", ".join(f"{k}={v}" for k, v in labels.items())
    return DetectionEvidence(
        runbook_url=runbook_url_of(prom, alert) if fired is not None else None,
        environment=environment,
        method=f"outage: {outage or 'injected'}; polled {prom.base_url}/api/v1/alerts every {poll_s:g}s for "
        f"{alert}{{{shown}}}; fired_at = first poll seeing state 'firing' (resolution {poll_s:g}s)",
        check=check,
        alert=alert,
        injected_at=injected_at,
        fired_at=fired,
        time_to_fire_s=round(fired - injected_at, 3) if fired is not None else None,
        window_s=window_s,
        passed=fired_in_window is not None,
        samples=[p.as_dict() for p in polls],
    )
