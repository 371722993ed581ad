"""Load shapes as pure stage plans: ramp, steady, spike (a player rush), soak.

A plan is a list of stages `(until_s, users, spawn_rate)`; `tick(t)` gives what Locust's
LoadTestShape.tick must return at run time `t`, and None once the plan is over (the run stops by
itself). `full_load_window` is the span where the plan holds its peak user count, after a warm-up
(one ping interval by default: users start at a random offset within it), over which throughput
thresholds are measured. Locust's LoadTestShape subclasses wrapping these plans live in
`mcproof.load.locust_process` (imported only where Locust may monkey-patch the process).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.errors import ConfigError
from mcproof.load.settings import SHAPE_NAMES, LoadSettings

__all__ = ["ShapePlan", "Stage", "plan_shape"]

_FAST_SPAWN_S = 1.0  # "at once": spawn every user within about a second


@dataclass(frozen=True)
class Stage:
    until_s: float
    users: int
    spawn_rate: float


@dataclass(frozen=True)
class ShapePlan:
    """Stages of a shape, its peak and its full-load window.

    >>> p = plan_shape("ramp", users=100, duration_s=30, ramp_s=10, ping_interval_s=1)
    >>> p.tick(5.0), p.tick(29.0), p.tick(31.0)
    ((100, 10.0), (100, 10.0), None)
    >>> p.full_load_window
    (11.0, 30.0)
    """

    name: str
    stages: tuple[Stage, ...]
    peak_users: int
    full_load_window: tuple[float, float]
    jitter_start: bool = True

    @property
    def duration_s(self) -> float:
        return self.stages[-1].until_s

    def tick(self, run_time: float) -> tuple[int, float] | None:
        for stage in self.stages:
            if run_time < stage.until_s:
                return stage.users, stage.spawn_rate
        return None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["stages"] = [asdict(s) for s in self.stages]
        data["full_load_window"] = list(self.full_load_window)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShapePlan:
        return cls(
            name=str(data["name"]),
            stages=tuple(Stage(float(s["until_s"]), int(s["users"]), float(s["spawn_rate"])) for s in data["stages"]),
            peak_users=int(data["peak_users"]),
            full_load_window=(float(data["full_load_window"][0]), float(data["full_load_window"][1])),
            jitter_start=bool(data.get("jitter_start", True)),
        )


def _window(start: float, end: float) -> tuple[float, float]:
    start = min(start, end)
    return round(float(start), 3), round(float(end), 3)


def plan_shape(
    name: str,
    *,
    users: int,
    duration_s: float,
    ramp_s: float = 10.0,
    ping_interval_s: float = 5.0,
    warmup_s: float | None = None,
    spike_base_ratio: float = 0.2,
    spike_at_s: float = 10.0,
    spike_hold_s: float = 20.0,
) -> ShapePlan:
    """The stage plan of shape `name` for `users` simulated servers over `duration_s` seconds.

    >>> plan_shape("spike", users=100, duration_s=40, spike_at_s=10, spike_hold_s=20).tick(15.0)
    (100, 100.0)
    """
    if name not in SHAPE_NAMES:
        raise ConfigError(f"unknown load shape {name!r}; use one of {', '.join(SHAPE_NAMES)}")
    if users < 1 or duration_s <= 0:
        raise ConfigError(f"load shape needs users >= 1 and duration_s > 0, got {users} and {duration_s}")
    warm = ping_interval_s if warmup_s is None else warmup_s
    if name in ("ramp", "soak"):
        ramp = max(ramp_s, 0.001)
        stages = (Stage(duration_s, users, users / ramp),)
        return ShapePlan(name, stages, users, _window(ramp + warm, duration_s))
    if name == "steady":
        stages = (Stage(duration_s, users, users / _FAST_SPAWN_S),)
        return ShapePlan(name, stages, users, _window(_FAST_SPAWN_S + warm, duration_s))
    base = max(1, math.ceil(users * spike_base_ratio))
    rush_end = min(spike_at_s + spike_hold_s, duration_s)
    if spike_at_s >= duration_s:
        raise ConfigError(f"spike_at_s {spike_at_s} must be before duration_s {duration_s}; lower spike_at_s")
    spike = [Stage(spike_at_s, base, base / _FAST_SPAWN_S), Stage(rush_end, users, users / _FAST_SPAWN_S)]
    if rush_end < duration_s:
        spike.append(Stage(duration_s, base, users / _FAST_SPAWN_S))
    window = _window(spike_at_s + _FAST_SPAWN_S + min(warm, 1.0), rush_end)
    return ShapePlan("spike", tuple(spike), users, window, jitter_start=False)


def plan_from_settings(settings: LoadSettings, users: int, duration_s: float | None = None) -> ShapePlan:
    """The plan the environment's load section describes (duration overridable, e.g. by --duration)."""
    return plan_shape(
        settings.shape,
        users=users,
        duration_s=duration_s or settings.duration_s,
        ramp_s=settings.ramp_s,
        ping_interval_s=settings.ping_interval_s,
        warmup_s=settings.warmup_s,
        spike_base_ratio=settings.spike_base_ratio,
        spike_at_s=settings.spike_at_s,
        spike_hold_s=settings.spike_hold_s,
    )
