"""Prometheus text exposition of the sandbox's daemons, through prometheus-client (the fleet exporter's
``/metrics`` and the platform API's): label escaping and the format are the library's, not ours.

>>> print(render([gauge("demo_up", "1 when up.", ["server"], [(["a\\"b"], 1)])]), end="")
# HELP demo_up 1 when up.
# TYPE demo_up gauge
demo_up{server="a\\"b"} 1.0
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector, CollectorRegistry

__all__ = ["counter", "gauge", "render"]

Samples = Iterable[tuple[Sequence[str], float]]


def gauge(name: str, documentation: str, labels: Sequence[str], samples: Samples) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def counter(name: str, documentation: str, labels: Sequence[str], samples: Samples) -> Metric:
    family = CounterMetricFamily(name, documentation, labels=list(labels))
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


class _Snapshot(Collector):
    def __init__(self, families: Sequence[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def render(families: Sequence[Metric]) -> str:
    """The text exposition (format 0.0.4) of ``families``, one scrape's worth."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Snapshot(families))
    return generate_latest(registry).decode("utf-8")
