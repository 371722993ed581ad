"""Where activities act: the environment named in chaoslib's configuration, and which targets.

Victim selection is a pure, seeded function, so the runner (which starts the observer and checks the
blast radius before the experiment) and the actions (inside chaoslib) pick the same servers.
"""

from __future__ import annotations

import math
import os
import random
from collections.abc import Mapping, Sequence
from typing import Any

from mcproof.chaos.settings import ChaosSettings
from mcproof.config import Environment, load_environment
from mcproof.connect.targets import Target, discover_targets
from mcproof.errors import ConfigError

__all__ = [
    "ENV_KEY",
    "SEED_KEY",
    "chaos_settings",
    "environment_from",
    "matches_labels",
    "parse_selector",
    "select_victims",
    "victim_count",
]

ENV_KEY = "mcproof_env"
SEED_KEY = "mcproof_seed"


def environment_from(configuration: Mapping[str, Any] | None) -> Environment:
    """The environment named by ``configuration["mcproof_env"]`` (or $MCPROOF_ENV, or local)."""
    ref = (configuration or {}).get(ENV_KEY) or os.environ.get("MCPROOF_ENV") or "local"
    return load_environment(str(ref))


def chaos_settings(env: Environment) -> ChaosSettings:
    return getattr(env, "chaos", None) or ChaosSettings()


def seed_from(configuration: Mapping[str, Any] | None) -> int:
    value = (configuration or {}).get(SEED_KEY, 0)
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"configuration {SEED_KEY} must be an integer, got {value!r}") from None


def victim_count(total: int, count: int | None = None, share: float | None = None) -> int:
    """How many of ``total`` targets an activity hits: ``count``, or ``ceil(share * total)``; at least 1.

    >>> victim_count(20, share=0.2), victim_count(20, count=1), victim_count(7, share=0.2)
    (4, 1, 2)
    """
    if (count is None) == (share is None):
        raise ConfigError("give exactly one of count or share for the servers to affect")
    if count is not None:
        if count < 1:
            raise ConfigError(f"count must be >= 1, got {count}")
        return min(count, total)
    assert share is not None
    if not 0 < share <= 1:
        raise ConfigError(f"share must be in (0, 1], got {share}")
    return min(total, max(1, math.ceil(round(share * total, 9))))


def parse_selector(selector: str | None) -> dict[str, str]:
    """``"a=b,c=d"`` -> ``{"a": "b", "c": "d"}`` (equality selectors only).

    >>> parse_selector("app=mc, tier=gold")
    {'app': 'mc', 'tier': 'gold'}
    """
    out: dict[str, str] = {}
    for part in (selector or "").split(","):
        if not part.strip():
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"label selector part {part.strip()!r} is not key=value; use e.g. app=minecraft")
        out[key.strip()] = value.strip()
    return out


def matches_labels(target: Target, selector: Mapping[str, str]) -> bool:
    return all(target.labels.get(k) == v for k, v in selector.items())


def select_victims(
    targets: Sequence[Target],
    *,
    count: int | None = None,
    share: float | None = None,
    seed: int = 0,
    namespace: str | None = None,
    label_selector: str | None = None,
) -> list[Target]:
    """Seeded choice of the targets to fault, in id order; same inputs -> same victims.

    >>> ts = [Target(id=f"mc-{i}", host="127.0.0.1", port=25565 + i) for i in range(10)]
    >>> [t.id for t in select_victims(ts, count=2, seed=1)] == [t.id for t in select_victims(ts, count=2, seed=1)]
    True
    """
    selector = parse_selector(label_selector)
    pool = sorted(
        (t for t in targets if (namespace is None or t.namespace == namespace) and matches_labels(t, selector)),
        key=lambda t: t.id,
    )
    if not pool:
        where = f" in namespace {namespace!r}" if namespace else ""
        raise ConfigError(f"no targets{where} match selector {label_selector!r}; check the experiment's arguments")
    n = victim_count(len(pool), count, share)
    chosen = random.Random(seed).sample(range(len(pool)), n)
    return [pool[i] for i in sorted(chosen)]


def targets_of(env: Environment) -> list[Target]:
    return discover_targets(env)
