"""Run comparison: `compare_runs(A, B)` lists regressions and improvements beyond thresholds.

>>> # compare_runs(Path("reports/a"), Path("reports/b")).regressions  ->  (Delta(...), ...)
"""

from mcproof.compare.diff import Comparison, Delta, RunRef, compare_runs, judge
from mcproof.compare.metrics import Metric, extract_metrics
from mcproof.compare.render import render_comparison
from mcproof.compare.thresholds import DEFAULTS, Threshold, Thresholds, load_thresholds, parse_thresholds

__all__ = [
    "DEFAULTS",
    "Comparison",
    "Delta",
    "Metric",
    "RunRef",
    "Threshold",
    "Thresholds",
    "compare_runs",
    "extract_metrics",
    "judge",
    "load_thresholds",
    "parse_thresholds",
    "render_comparison",
]
