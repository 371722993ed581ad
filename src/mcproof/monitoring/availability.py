"""Availability over an observed window, measured twice: from the observer's status pings and from Prometheus.

Both are *good-sample ratios* over the same ``n`` servers and window ``W`` (a failed or timed-out ping
is a bad sample, never a gap):

- observer: good / all samples whose ping started inside [start, end] (every ``i_o`` s per server,
  ``N_o`` samples in all);
- Prometheus: ``sum(sum_over_time(up{server=~ids}[W])) / sum(count_over_time(...[W]))`` at ``end``
  (every scraped sample in (end - W, end], one per ``i_p`` s per server, ``N_p`` in all; ``N_p`` is
  queried too, so ``i_p = n * W / N_p`` is measured, not assumed).

**Resolution (when a window can judge an objective).** The observer pings every server at the same
instants, so a fleet-wide outage shorter than one interval can fall between two ticks and be missed:
the window resolves availability to ``r = i_o / W = 1 / m`` (``m`` = samples per server; pooling more
servers does not help against a fleet-wide blip). An objective ``A`` leaves an error budget
``B = 1 - A``; the window resolves it only when ``r <= B``, i.e. ``W >= i_o / B`` (99.9 % at 0.5 s:
500 s; at 0.1 s: 100 s). A 20 s window at 0.5 s has ``r = 2.5 %``: it cannot tell 99.9 % from 100 %,
so its verdict is *inconclusive*, never pass. It is *fail* only when even the most favourable reading
misses the budget: each of the ``E`` down episodes seen (runs of bad samples of one server) may be one
sample longer than its true duration, so unavailability >= ``(d - E) / N_o`` (``d`` bad samples).
An observer that made fewer than 90 % of the ``W / i_o`` ticks was saturated (its ticks overlap, so a
target that times out does not slow it; only the harness host does): inconclusive, since its timeouts
may be the harness's own (measured: 50 servers at 0.1 s on a loaded 2-core host gave 976 of 1,200
ticks and 12 % timeouts; 20 servers gave 1,194 ticks and none).

**Agreement tolerance (observer vs PromQL).** Sampling one down episode of one server at fixed
intervals counts its duration to within one sample: ``|count * i - duration| < i``. So each figure is
within ``1/N`` of the true share per episode, and the two differ by less than
``E * (1/N_o + 1/N_p) = E * (i_o + i_p) / (n * W)`` from sampling alone. The tolerance
(``monitoring.availability_tolerance``) is justified for a window only when one episode's bound
``delta_1 = (i_o + i_p) / (n * W)`` fits inside it (else: inconclusive, the window is too short to
check agreement that finely), and it matters only when it is at most the error budget ``B`` (0.001
for 99.9 %: a Prometheus that misses the whole budget must not "agree"). ``E`` counts the observer's
episodes (the finer sampler), at least 1. Local sandbox: ``i_o = 0.15``, ``n = 30``, ``W = 180`` give
``r = 0.083 % <= B``; the sandbox asks for a 2 s scrape but a 1,000-server exporter on a loaded host
measured ``i_p = 4.14`` s, so ``delta_1 = (0.15 + 4.14) / (30 * 180) = 0.00079 <= 0.001`` (it holds
up to ``i_p = 5.25`` s). A difference above the tolerance that ``E`` episodes explain is
inconclusive; above that, fail.

>>> from mcproof.chaos.recovery import Sample
>>> observer_availability([Sample("a", 1.0, True), Sample("a", 2.0, False), Sample("b", 9.0, False)], 0.0, 5.0)
(0.5, 2)
>>> window_resolution(0.5, 20.0), resolves(0.999, samples_per_server=40), resolves(0.999, samples_per_server=1200)
(0.025, False, True)
>>> round(agreement_bound(24_000, 1_200), 6)
0.000875
>>> availability_promql("mcproof_server_up", "server", ["a", "b"], 12.5)
'sum(sum_over_time(mcproof_server_up{server=~"a|b"}[12500ms])) / sum(count_over_time(mcproof_server_up{server=~"a|b"}[12500ms]))'
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence

from mcproof.chaos.recovery import Sample
from mcproof.evidence.records import AvailabilityEvidence, SloMeasurement
from mcproof.monitoring.promql import PromClient, PromError
from mcproof.stats import error_budget_consumed
from mcproof.verdict import Verdict

__all__ = [
    "MIN_TICK_COVERAGE",
    "agreement_bound",
    "availability_evidence",
    "availability_promql",
    "availability_slo",
    "down_episodes",
    "judge_agreement",
    "judge_slo",
    "observer_availability",
    "resolves",
    "sample_count_promql",
    "wait_scraped_after",
    "window_needed_s",
    "window_resolution",
]

_EPS = 1e-9
_MAX_FAILED_SAMPLES = 200  # raw bad samples kept in the evidence
MIN_TICK_COVERAGE = 0.9  # fewer ticks than this share of window/interval: the observer itself fell behind


def observer_availability(samples: Sequence[Sample], start: float, end: float) -> tuple[float, int]:
    """(good ratio, sample count) of the samples that started within [start, end]."""
    inside = [s for s in samples if start <= s.t <= end]
    if not inside:
        raise ValueError(f"no observer samples between {start:.3f} and {end:.3f}")
    return sum(s.ok for s in inside) / len(inside), len(inside)


def window_resolution(interval_s: float, window_s: float) -> float:
    """The smallest share of a window a fleet-wide outage can occupy and still be seen: ``interval / window``."""
    return interval_s / window_s


def window_needed_s(interval_s: float, objective: float) -> float:
    """How long to observe at ``interval_s`` to resolve ``objective`` (``interval / (1 - objective)``).

    >>> round(window_needed_s(0.5, 0.999), 3), round(window_needed_s(0.1, 0.999), 3)
    (500.0, 100.0)
    """
    budget = 1 - objective
    return float("inf") if budget <= 0 else interval_s / budget


def resolves(objective: float, *, samples_per_server: int) -> bool:
    """Whether ``samples_per_server`` evenly spaced samples resolve the error budget ``1 - objective``."""
    return samples_per_server > 0 and 1 / samples_per_server <= (1 - objective) * (1 + _EPS)


def agreement_bound(observer_samples: int, prometheus_samples: int, episodes: int = 1) -> float:
    """Largest |observer - PromQL| that sampling alone explains for ``episodes`` down episodes."""
    if observer_samples <= 0 or prometheus_samples <= 0:
        return 1.0
    return max(1, episodes) * (1 / observer_samples + 1 / prometheus_samples)


def down_episodes(samples: Sequence[Sample]) -> int:
    """Runs of consecutive bad samples, per server, summed.

    >>> down_episodes([Sample("a", 1, False), Sample("a", 2, False), Sample("a", 3, True), Sample("a", 4, False),
    ...                Sample("b", 1, False)])
    3
    """
    episodes = 0
    last: dict[str, bool] = {}
    for s in sorted(samples, key=lambda s: (s.target, s.t)):
        if not s.ok and last.get(s.target, True):
            episodes += 1
        last[s.target] = s.ok
    return episodes


def judge_slo(
    availability: float,
    objective: float,
    *,
    samples: int,
    samples_per_server: int,
    bad: int,
    episodes: int,
    interval_s: float,
    window_s: float,
) -> tuple[Verdict, str, str]:
    """(verdict, reason, fix) of the availability SLO for one window (the rule is in the module docstring)."""
    budget = 1 - objective
    seen = f"{availability:.4%} over {window_s:.0f}s ({samples} samples, {samples_per_server} per server)"
    expected = max(1, int(window_s / interval_s + _EPS))
    saturated = samples_per_server < MIN_TICK_COVERAGE * expected
    coverage = (
        f"the observer made {samples_per_server} of the {expected} ticks a {window_s:.0f}s window at "
        f"{interval_s:g}s should have: it was saturated, so its timeouts (availability {availability:.4%}) "
        "may be the harness's, not the target's"
    )
    if saturated and resolves(objective, samples_per_server=expected):
        return (
            Verdict.INCONCLUSIVE,
            coverage,
            "observe fewer servers (monitoring.availability_servers) or ping less often "
            "(monitoring.observer_interval_s, with a longer availability_window_s), on a less loaded host",
        )
    if not saturated and resolves(objective, samples_per_server=samples_per_server):
        if availability >= objective:
            return Verdict.PASS, f"availability {seen} >= {objective:.3%}", ""
        return Verdict.FAIL, f"availability {seen} below the objective {objective:.3%}", "find the bad samples"
    lower = (bad - episodes) / samples if samples else 0.0
    if not saturated and lower > budget + _EPS:
        return (
            Verdict.FAIL,
            f"availability {seen} misses {objective:.3%} even granting each of {episodes} down "
            f"episode(s) one sample of doubt (unavailability >= {lower:.3%})",
            "find the bad samples",
        )
    # The window itself is too coarse for the objective (whatever the host did): say that first, it is the fix.
    needed = window_needed_s(interval_s, objective)
    resolution = 1 / samples_per_server if samples_per_server else 1.0
    also = f"; besides, {coverage}" if saturated else ""
    return (
        Verdict.INCONCLUSIVE,
        f"a {window_s:.0f}s window sampled every {interval_s:g}s resolves availability to {resolution:.3%} "
        f"(1 sample of {samples_per_server} per server), coarser than the {budget:.3%} error budget of "
        f"{objective:.3%}: it cannot tell {objective:.3%} from 100 % (measured {availability:.4%}){also}",
        f"observe for at least {needed:.0f}s (monitoring.availability_window_s; interval / (1 - objective)) "
        f"or ping every <= {window_s * budget:.3g}s (monitoring.observer_interval_s)",
    )


def judge_agreement(
    observer: float,
    prometheus: float | None,
    *,
    tolerance: float,
    objective: float,
    bound_one: float,
    bound: float,
    episodes: int,
) -> tuple[Verdict, str, str]:
    """(verdict, reason, fix) of observer-vs-PromQL agreement (the rule is in the module docstring)."""
    budget = 1 - objective
    if prometheus is None:
        return (
            Verdict.FAIL,
            "Prometheus returned no availability for the observed servers",
            "check that monitoring.up_metric and server_label match its series",
        )
    if tolerance > budget + _EPS:
        return (
            Verdict.INCONCLUSIVE,
            f"tolerance {tolerance:g} is looser than the error budget {budget:.3g} of "
            f"{objective:.3%}: a Prometheus that misses the whole budget would still agree",
            f"set monitoring.availability_tolerance <= {budget:.3g}",
        )
    if bound_one > tolerance + _EPS:
        return (
            Verdict.INCONCLUSIVE,
            f"one down episode alone can move the two figures {bound_one:.3g} apart at "
            f"this sampling (observer + scrape interval over servers x window), more than the tolerance {tolerance:g}",
            "observe longer (monitoring.availability_window_s), more servers (monitoring.availability_servers) "
            "or ping more often (monitoring.observer_interval_s)",
        )
    diff = abs(observer - prometheus)
    if diff <= tolerance + _EPS:
        return Verdict.PASS, f"|observer - prometheus| = {diff:.3g} <= {tolerance:g}", ""
    if diff <= bound + _EPS:
        return (
            Verdict.INCONCLUSIVE,
            f"observer {observer:.4%} and Prometheus {prometheus:.4%} differ by {diff:.3g} > "
            f"{tolerance:g}, but sampling {episodes} down episode(s) explains up to {bound:.3g}",
            "repeat over a longer window or with a shorter scrape interval",
        )
    return (
        Verdict.FAIL,
        f"observer {observer:.4%} and Prometheus {prometheus:.4%} differ by {diff:.3g}, more than "
        f"the tolerance {tolerance:g} and the sampling bound {bound:.3g}",
        "one of them does not see what customers see: compare the failed samples with the scraped series",
    )


def _label_regex(values: Sequence[str]) -> str:
    """A PromQL-string-safe alternation of literal values."""
    return "|".join(re.escape(v).replace("\\", "\\\\") for v in values)


def _selector(metric: str, label: str, servers: Sequence[str]) -> str:
    return f'{metric}{{{label}=~"{_label_regex(servers)}"}}' if servers else metric


def _range(window_s: float) -> str:
    return f"{max(1, round(window_s * 1000))}ms"


def availability_promql(metric: str, label: str, servers: Sequence[str], window_s: float) -> str:
    sel, w = _selector(metric, label, servers), _range(window_s)
    return f"sum(sum_over_time({sel}[{w}])) / sum(count_over_time({sel}[{w}]))"


def sample_count_promql(metric: str, label: str, servers: Sequence[str], window_s: float) -> str:
    """How many samples Prometheus holds for those servers in the window (``N_p``)."""
    return f"sum(count_over_time({_selector(metric, label, servers)}[{_range(window_s)}]))"


def wait_scraped_after(prom: PromClient, metric: str, at: float, *, timeout: float = 30.0) -> bool:
    """Wait until Prometheus holds a sample of ``metric`` scraped at or after ``at`` (False on timeout)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            newest = prom.scalar(f"max(timestamp({metric}))")
        except PromError:
            newest = None
        if newest is not None and newest >= at:
            return True
        time.sleep(0.25)
    return False


def availability_evidence(
    prom: PromClient | None,
    samples: Sequence[Sample],
    *,
    servers: Sequence[str],
    start: float,
    end: float,
    objective: float,
    tolerance: float,
    environment: str,
    check: str,
    interval_s: float = 0.5,
    metric: str = "mcproof_server_up",
    label: str = "server",
    method: str = "",
) -> AvailabilityEvidence:
    """Both availabilities, the window's resolution, both verdicts and the error budget consumed."""
    observed, count = observer_availability(samples, start, end)
    inside = [s for s in samples if start <= s.t <= end]
    per_server = {sid: 0 for sid in servers} or {s.target: 0 for s in inside}
    for s in inside:
        if s.target in per_server:
            per_server[s.target] += 1
    m = min(per_server.values())
    bad = [s for s in inside if not s.ok]
    episodes = down_episodes(inside)
    window = end - start
    expr = availability_promql(metric, label, servers, window)
    from_prom: float | None = None
    prom_samples: int | None = None
    problem = ""
    if prom is not None:
        try:
            from_prom = prom.scalar(expr, at=end)
            n_p = prom.scalar(sample_count_promql(metric, label, servers, window), at=end)
            prom_samples = int(n_p) if n_p is not None else None
        except PromError as err:
            problem = f"; PromQL failed: {err}"
    n = len(per_server)
    scrape_s = n * window / prom_samples if prom_samples else None
    bound_one = agreement_bound(count, prom_samples or 0)
    bound = agreement_bound(count, prom_samples or 0, episodes)
    slo_v, slo_why, slo_fix = judge_slo(
        observed,
        objective,
        samples=count,
        samples_per_server=m,
        bad=len(bad),
        episodes=episodes,
        interval_s=interval_s,
        window_s=window,
    )
    agree_v, agree_why, agree_fix = judge_agreement(
        observed,
        from_prom,
        tolerance=tolerance,
        objective=objective,
        bound_one=bound_one,
        bound=bound,
        episodes=episodes,
    )
    resolution = 1 / m if m else 1.0
    scraped = f"every {scrape_s:.3g}s ({prom_samples} samples)" if scrape_s else "(no samples)"
    return AvailabilityEvidence(
        environment=environment,
        method=(
            method
            or "observer: good/all status pings (a failed or timed-out ping is a bad sample); "
            "Prometheus: good/all scraped samples"
        )
        + f"; {n} servers, window {window:.1f}s, observer every {interval_s:g}s ({count} samples, {m} per server, "
        f"resolution {resolution:.3%} = interval/window), Prometheus {scraped}; agreement |observer - prometheus| "
        f"<= {tolerance:g} (one-episode sampling bound {bound_one:.3g}){problem}",
        check=check,
        window_start=start,
        window_end=end,
        observer_availability=round(observed, 6),
        prometheus_availability=round(from_prom, 6) if from_prom is not None else None,
        tolerance=tolerance,
        agree=agree_v is Verdict.PASS,
        objective=objective,
        error_budget_consumed=round(error_budget_consumed(observed, objective), 4),
        observer_samples=count,
        promql=expr,
        servers=n,
        window_s=round(window, 3),
        observer_interval_s=interval_s,
        samples_per_server=m,
        resolution=round(resolution, 8),
        prometheus_samples=prom_samples,
        scrape_interval_s=round(scrape_s, 4) if scrape_s else None,
        bad_samples=len(bad),
        down_episodes=episodes,
        agreement_bound=round(bound, 8),
        slo_verdict=slo_v.value,
        slo_reason=slo_why,
        slo_fix=slo_fix,
        agreement_verdict=agree_v.value,
        agreement_reason=agree_why,
        agreement_fix=agree_fix,
        failed_samples=[s.as_dict() for s in sorted(bad, key=lambda s: s.t)[:_MAX_FAILED_SAMPLES]],
    )


def availability_slo(ev: AvailabilityEvidence) -> SloMeasurement | None:
    """The ``availability`` SLO measurement (the observer's figure), or None when the window could not
    judge the objective (inconclusive: record nothing that could be read as a pass)."""
    if ev.slo_verdict not in (Verdict.PASS.value, Verdict.FAIL.value):
        return None
    return SloMeasurement(
        environment=ev.environment,
        slo="availability",
        objective=f"good status pings / all pings >= {ev.objective} over the observed window "
        f"({ev.window_end - ev.window_start:.1f}s, resolution {ev.resolution:.3%}); "
        f"error budget consumed {ev.error_budget_consumed:.2%}",
        target=ev.objective,
        measured=ev.observer_availability,
        unit="ratio",
        comparator=">=",
        passed=ev.slo_verdict == Verdict.PASS.value,
        method=ev.method,
        check=ev.check,
        samples=ev.observer_samples,
    )
