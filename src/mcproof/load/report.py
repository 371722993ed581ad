"""One-paragraph text of a load run for failure messages and the CLI (pure)."""

from __future__ import annotations

from mcproof.load.evidence import LoadEvidence

__all__ = ["describe_run", "threshold_lines"]


def _fmt(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def threshold_lines(record: LoadEvidence) -> list[str]:
    """`PASS status_p95_ms < 250 (observed 12)` lines, one per threshold."""
    return [
        f"{'PASS' if t['passed'] else 'FAIL'} {t['expression']} (observed {_fmt(t['observed'])})"
        for t in record.thresholds
    ]


def describe_run(record: LoadEvidence, cap: int = 10) -> str:
    """Verdict, failed thresholds, failures by kind and the most affected targets.

    >>> from mcproof.load.evidence import LoadEvidence
    >>> r = LoadEvidence("e", "m", "c", "a", "b", 1.0, "steady", {}, 2, 2, 0, 1.0, 1.0, False,
    ...     [{"expression": "failure_ratio < 0.001", "observed": 0.5, "passed": False}], {}, {}, {},
    ...     {"SLP:refused": 3}, 1, [{"target": "mc-1", "failures": 3, "kinds": {"refused": 3}}], 0, [], [], [], [])
    >>> describe_run(r)
    'load thresholds FAILED: failure_ratio < 0.001 (observed 0.5); failures by kind: SLP:refused=3; failing targets (1): mc-1 (refused=3)'
    """
    failed = [f"{t['expression']} (observed {_fmt(t['observed'])})" for t in record.thresholds if not t["passed"]]
    parts = [f"load thresholds {'FAILED: ' + '; '.join(failed) if failed else 'passed'}"]
    if record.failures_by_kind:
        parts.append("failures by kind: " + ", ".join(f"{k}={n}" for k, n in record.failures_by_kind.items()))
    if record.failures_by_target:
        shown = ", ".join(
            f"{f['target']} ({', '.join(f'{k}={n}' for k, n in f['kinds'].items())})"
            for f in record.failures_by_target[:cap]
        )
        more = f", +{record.failed_targets - cap} more" if record.failed_targets > cap else ""
        parts.append(f"failing targets ({record.failed_targets}): {shown}{more}")
    if record.slow_by_target:
        shown = ", ".join(f"{s['target']} ({s['slow_replies']} slow)" for s in record.slow_by_target[:cap])
        parts.append(f"slow targets ({record.slow_targets}, > SLO latency): {shown}")
    return "; ".join(parts)
