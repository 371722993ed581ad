"""Load shapes as pure stage plans: ramp, steady, spike (a server-list rush), soak; and the player plan
(a steady population plus an event rush of N joins within S seconds, `PlayerPlan`).

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

__all__ = [
    "PlayerPlan",
    "ShapePlan",
    "Stage",
    "plan_shape",
    "player_name",
    "player_plan_from_settings",
    "thresholds_from_slo",
]

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


@dataclass(frozen=True)
class PlayerPlan:
    """The players of a load run: a steady population held throughout, plus an event rush.

    Every player is a Locust user spawned with the run (a fixed count beside the server-list users);
    when it joins is the plan's, not the spawn's: population players join as they spawn, rush player
    ``i`` of ``rush_joins`` joins at run time ``rush_at_s + i * rush_within_s / rush_joins`` (N joins
    spread evenly within S seconds). Each then holds a session of ``session_s``, leaves, and joins again
    until the run ends.

    >>> p = PlayerPlan(population=10, rush_joins=4, rush_within_s=2.0, rush_at_s=5.0)
    >>> p.players, [p.join_at_s(i) for i in (0, 9, 10, 13)]
    (14, [0.0, 0.0, 5.0, 6.5])
    """

    population: int = 0
    rush_joins: int = 0
    rush_within_s: float = 10.0
    rush_at_s: float = 5.0
    session_s: float = 30.0
    rejoin_pause_s: float = 0.0
    join_timeout_s: float = 5.0
    keepalive_timeout_s: float = 30.0
    protocol: int | None = None  # the protocol version players speak (the environment's expected one)
    name_prefix: str = "mcproof"
    thresholds: tuple[str, ...] = ()
    tps_updates_per_server: int = 600

    @property
    def players(self) -> int:
        return self.population + self.rush_joins

    def join_at_s(self, index: int) -> float:
        """Run time of player `index`'s first join (0: as soon as it is spawned)."""
        if index < self.population or self.rush_joins < 1:
            return 0.0
        return self.rush_at_s + (index - self.population) * self.rush_within_s / self.rush_joins

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["thresholds"] = list(self.thresholds)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PlayerPlan:
        values = dict(data)
        values["thresholds"] = tuple(values.get("thresholds", ()))
        return cls(**values)


def thresholds_from_slo(slo: Any) -> tuple[str, ...]:
    """Load thresholds on the player metrics from the environment's ``players.slo`` (a PlayerSlo; None: none).

    >>> from mcproof.players.settings import PlayerSlo
    >>> thresholds_from_slo(PlayerSlo(join_success_ratio=0.99, join_time_p95_s=3.0, tps_min=18))
    ('join_success_ratio >= 0.99', 'join_p95_ms <= 3000', 'tps_min >= 18')
    """
    if slo is None:
        return ()
    pairs = (
        ("join_success_ratio", "join_success_ratio >= {:g}", 1.0),
        ("join_time_p50_s", "join_p50_ms <= {:g}", 1000.0),
        ("join_time_p95_s", "join_p95_ms <= {:g}", 1000.0),
        ("session_drop_ratio", "drop_ratio <= {:g}", 1.0),
        ("tps_min", "tps_min >= {:g}", 1.0),
        ("tps_p5", "tps_p5 >= {:g}", 1.0),
    )
    return tuple(form.format(getattr(slo, f) * k) for f, form, k in pairs if getattr(slo, f, None) is not None)


def player_plan_from_settings(
    settings: Any, duration_s: float, *, protocol: int | None, players: Any = None, join_timeout_s: float = 5.0
) -> PlayerPlan | None:
    """The PlayerPlan of `load.players` (a PlayerLoadSettings) for a run of `duration_s`; None with no players.

    `players`: the environment's `players:` section (PlayerSettings or None): session length, deadlines and,
    unless `load.players.thresholds` is given, the thresholds (from its SLOs). ConfigError when the rush
    does not fit in the run.
    """
    rush = settings.rush
    if settings.population + rush.joins < 1:
        return None
    if rush.joins and rush.at_s + rush.within_s > duration_s:
        raise ConfigError(
            f"load.players.rush ends at {rush.at_s + rush.within_s:g} s, after the run's {duration_s:g} s; "
            "lower rush.at_s or rush.within_s, or lengthen load.duration_s"
        )
    thresholds = tuple(settings.thresholds) or thresholds_from_slo(getattr(players, "slo", None))
    return PlayerPlan(
        population=settings.population,
        rush_joins=rush.joins,
        rush_within_s=rush.within_s,
        rush_at_s=rush.at_s,
        session_s=settings.session_s or getattr(players, "session_s", 30.0),
        rejoin_pause_s=settings.rejoin_pause_s,
        join_timeout_s=settings.join_timeout_s or getattr(players, "phase_timeout_s", join_timeout_s),
        keepalive_timeout_s=settings.keepalive_timeout_s or getattr(players, "keepalive_timeout_s", 30.0),
        protocol=protocol,
        name_prefix=settings.name_prefix,
        thresholds=thresholds,
        tps_updates_per_server=settings.tps_updates_per_server,
    )


def player_name(prefix: str, worker: int, seq: int) -> str:
    """An offline-mode user name (<= 16 characters of [A-Za-z0-9_]) unique in the run.

    >>> player_name("mcproof", 0, 7), player_name("mcproof", 3, 12345)
    ('mcproof_0_7', 'mcproof_3_9ix')
    """
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    n, out = seq, ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if n == 0:
            break
    return f"{prefix}_{worker}_{out}"[:16]
