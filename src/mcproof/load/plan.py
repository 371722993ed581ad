"""LoadConfig: everything one load run needs, JSON-safe so it crosses into Locust processes.

Built from an environment (its `load:` section, SLOs and expectations) plus command-line
overrides; written to `<run_dir>/load-config.json` and read back by the headless runner, the Locust
master and every worker (environment variable MCPROOF_LOAD_CONFIG).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcproof.errors import ConfigError
from mcproof.load.settings import LoadSettings
from mcproof.load.shapes import PlayerPlan, ShapePlan, plan_from_settings, player_plan_from_settings
from mcproof.load.thresholds import PLAYER_METRICS, parse_thresholds

if TYPE_CHECKING:
    from mcproof.config import Environment, ExpectedVersion
    from mcproof.connect.targets import Target

__all__ = ["CONFIG_ENV", "LoadConfig", "TargetRef", "load_config_for", "target_index"]

CONFIG_ENV = "MCPROOF_LOAD_CONFIG"
RESULT_ENV = "MCPROOF_LOAD_RESULT"


@dataclass(frozen=True)
class TargetRef:
    """The part of a Target a load user needs."""

    id: str
    host: str
    port: int
    query_port: int | None = None
    # its own expected version/protocol in a mixed fleet (None: LoadConfig's)
    expect_version: str | None = None
    expect_protocol: int | None = None


@dataclass(frozen=True)
class LoadConfig:
    """One load run, fully specified (see module docstring)."""

    environment: str
    targets: tuple[TargetRef, ...]
    users: int
    plan: ShapePlan
    ping_interval_s: float
    timeout_s: float
    thresholds: tuple[str, ...]
    query_every: int = 0
    expect_version: str | None = None
    expect_protocol: int | None = None
    slow_ms: float = 250.0
    failure_targets_cap: int = 50
    workers: int = 0
    stop_grace_s: float = 10.0
    max_pings_per_user: int = 0
    run_dir: str | None = None
    latency_slo_ms: float = 250.0
    concurrent_servers_slo: int = 10_000
    saturation: dict[str, float] = field(default_factory=dict)  # mcproof.load.generator.SaturationLimits
    players: PlayerPlan | None = None  # player users in the same run (mcproof.load.player_users)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.targets:
            raise ConfigError("a load run needs at least one target; check the environment's discovery")
        parse_thresholds(self.thresholds)
        if self.players is not None:
            parse_thresholds(self.players.thresholds, PLAYER_METRICS)

    @property
    def hard_deadline_s(self) -> float:
        """Wall time after which a run is stopped no matter what (shape end + grace + start-up)."""
        return self.plan.duration_s + self.stop_grace_s + 30.0

    @property
    def distinct_targets(self) -> int:
        return min(self.users, len(self.targets))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["plan"] = self.plan.as_dict()
        data["targets"] = [asdict(t) for t in self.targets]
        data["players"] = self.players.as_dict() if self.players is not None else None
        return data

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), sort_keys=True)

    def write(self, path: Path) -> Path:
        path.write_text(self.to_json() + "\n", encoding="utf-8")
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LoadConfig:
        values = dict(data)
        values["plan"] = ShapePlan.from_dict(values["plan"])
        values["targets"] = tuple(TargetRef(**t) for t in values["targets"])
        values["thresholds"] = tuple(values["thresholds"])
        players = values.get("players")
        values["players"] = PlayerPlan.from_dict(players) if players else None
        return cls(**values)

    @classmethod
    def read(cls, path: Path) -> LoadConfig:
        try:
            return cls.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise ConfigError(f"load config {path} is unreadable ({err}); re-create it with 'mcproof load'") from None

    def with_changes(self, **changes: Any) -> LoadConfig:
        return replace(self, **changes)


def target_index(seq: int, worker_index: int, worker_count: int, n_targets: int) -> int:
    """Which target the `seq`-th user started on worker `worker_index` of `worker_count` watches.

    Users interleave across workers so N users over N targets cover every target once.

    >>> [target_index(s, w, 2, 4) for s in range(2) for w in range(2)]
    [0, 1, 2, 3]
    """
    if n_targets < 1:
        raise ValueError("no targets to assign users to")
    count = max(1, worker_count)
    return (seq * count + (worker_index % count)) % n_targets


def max_pings_per_user(duration_s: float, ping_interval_s: float) -> int:
    """Count bound per user: the pings its pacing allows over the run, plus slack.

    >>> max_pings_per_user(60, 5)
    14
    """
    return math.ceil(duration_s / ping_interval_s) + 2


def _target_ref(target: Target, expect: ExpectedVersion) -> TargetRef:
    return TargetRef(target.id, target.host, target.port, target.query_port, expect.name, expect.protocol)


def load_config_for(
    env: Environment,
    targets: list[Target],
    *,
    shape: str | None = None,
    users: int | None = None,
    duration_s: float | None = None,
    workers: int | None = None,
    run_dir: Path | None = None,
    players: int | None = None,
) -> LoadConfig:
    """The LoadConfig an environment (plus overrides) describes; ConfigError on a bad combination."""
    settings = env.load or LoadSettings()
    if shape is not None:
        settings = settings.model_copy(update={"shape": shape})  # plan_shape rejects unknown names
    count = users or settings.users or env.slo.concurrent_servers
    if players is not None:  # --players N: the population (0: no players at all, no rush either)
        rush = settings.players.rush if players else settings.players.rush.model_copy(update={"joins": 0})
        update = {"population": players, "rush": rush}
        settings = settings.model_copy(update={"players": settings.players.model_copy(update=update)})
    plan = plan_from_settings(settings, count, duration_s)
    return LoadConfig(
        environment=env.name,
        targets=tuple(_target_ref(t, env.minecraft.expect_for(t.id)) for t in targets),
        users=count,
        plan=plan,
        ping_interval_s=settings.ping_interval_s,
        timeout_s=settings.timeout_s or env.minecraft.status_timeout_s,
        thresholds=tuple(settings.thresholds),
        query_every=settings.query_every if env.minecraft.query_enabled else 0,
        expect_version=env.minecraft.expect.name,
        expect_protocol=env.minecraft.expect.protocol,
        slow_ms=env.slo.status_latency_p95_ms,
        failure_targets_cap=settings.failure_targets_cap,
        workers=settings.workers if workers is None else workers,
        stop_grace_s=settings.stop_grace_s,
        max_pings_per_user=max_pings_per_user(plan.duration_s, settings.ping_interval_s),
        run_dir=str(run_dir) if run_dir is not None else None,
        latency_slo_ms=env.slo.status_latency_p95_ms,
        concurrent_servers_slo=env.slo.concurrent_servers,
        saturation=settings.saturation.model_dump(),
        players=player_plan_from_settings(
            settings.players,
            plan.duration_s,
            protocol=env.minecraft.expect.protocol,
            players=env.players,
        ),
    )
