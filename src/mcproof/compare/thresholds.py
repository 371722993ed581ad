"""Regression thresholds: how much worse a figure may get before `compare` calls it a regression.

A change counts when it exceeds `max(relative * |baseline|, absolute)` (absolute in the metric's
unit). Lookup order for a metric key: an exact key, then glob patterns (`latency:*:p99_ms`) in file
order, then the family (`latency`), then `DEFAULTS`. `ignore: true` leaves a metric out of the verdict.

A thresholds file (YAML or JSON)::

    latency: {relative: 0.25, absolute: 2}        # ms
    "latency:*:p99_ms": {relative: 0.5, absolute: 5}
    "score:*:pings_per_s": {ignore: true}

>>> Threshold(0.25, 2.0).limit(100.0), Threshold(0.25, 2.0).limit(1.0)
(25.0, 2.0)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from mcproof.errors import ConfigError


@dataclass(frozen=True)
class Threshold:
    relative: float
    absolute: float
    ignore: bool = False

    def limit(self, baseline: float) -> float:
        return max(self.relative * abs(baseline), self.absolute)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULTS: dict[str, Threshold] = {
    "latency": Threshold(0.25, 2.0),  # loopback percentiles jitter by ~1 ms
    "throughput": Threshold(0.40, 0.0),  # a fleet sweep's pings/s on a shared 2-core host varies by ~25%
    "mttr": Threshold(0.25, 5.0),
    "rto": Threshold(0.25, 5.0),
    "rpo": Threshold(0.25, 5.0),
    "detection": Threshold(0.25, 5.0),
    "score": Threshold(0.0, 0.001),
    "capacity": Threshold(0.05, 0.0),
    "verdict": Threshold(0.0, 0.5),  # an SLO met before and missed now (1 -> 0) is a regression
}
FALLBACK = Threshold(0.25, 0.0)


@dataclass(frozen=True)
class Thresholds:
    rules: tuple[tuple[str, Threshold], ...] = ()

    def for_metric(self, key: str, family: str) -> Threshold:
        for pattern, threshold in self.rules:
            if pattern == key:
                return threshold
        for pattern, threshold in self.rules:
            if any(c in pattern for c in "*?[") and fnmatchcase(key, pattern):
                return threshold
        for pattern, threshold in self.rules:
            if pattern == family:
                return threshold
        return DEFAULTS.get(family, FALLBACK)


def _threshold(name: str, raw: Any, source: str) -> Threshold:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: {name!r} must map to {{relative, absolute}} or {{ignore: true}}")
    unknown = set(raw) - {"relative", "absolute", "ignore"}
    if unknown:
        raise ConfigError(f"{source}: {name!r} has unknown keys {sorted(unknown)}; use relative, absolute, ignore")
    base = DEFAULTS.get(name, FALLBACK)
    try:
        relative = float(raw.get("relative", base.relative))
        absolute = float(raw.get("absolute", base.absolute))
    except (TypeError, ValueError):
        raise ConfigError(f"{source}: {name!r} relative/absolute must be numbers") from None
    if relative < 0 or absolute < 0:
        raise ConfigError(f"{source}: {name!r} thresholds must be >= 0")
    return Threshold(relative, absolute, bool(raw.get("ignore", False)))


def parse_thresholds(data: Any, source: str = "thresholds") -> Thresholds:
    """Thresholds from a parsed YAML/JSON mapping (None: defaults only)."""
    if data is None:
        return Thresholds()
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping of family or metric key to thresholds")
    return Thresholds(tuple((str(k), _threshold(str(k), v, source)) for k, v in data.items()))


def load_thresholds(path: Path | None) -> Thresholds:
    """Thresholds from a YAML or JSON file; defaults when path is None."""
    if path is None:
        return Thresholds()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"thresholds file {path} cannot be read ({err.strerror}); check --thresholds") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"thresholds file {path} is not valid YAML/JSON ({str(err).splitlines()[0]})") from None
    return parse_thresholds(data, str(path))
