"""Load shapes as stage plans, and how users are spread over targets (no network, no Locust import)."""

from __future__ import annotations

import pytest

from mcproof.errors import ConfigError
from mcproof.load.plan import max_pings_per_user, target_index
from mcproof.load.shapes import ShapePlan, plan_shape


def users_over_time(plan: ShapePlan, step: float = 0.5) -> list[int | None]:
    out: list[int | None] = []
    t = 0.0
    while t < plan.duration_s + 2:
        tick = plan.tick(t)
        out.append(None if tick is None else tick[0])
        t += step
    return out


@pytest.mark.parametrize("name", ["ramp", "steady", "spike", "soak"])
def test_every_shape_reaches_peak_then_stops_by_itself(name: str) -> None:
    plan = plan_shape(name, users=100, duration_s=30, ramp_s=5, ping_interval_s=1, spike_at_s=5, spike_hold_s=10)
    counts = users_over_time(plan)
    assert max(c for c in counts if c is not None) == 100 == plan.peak_users
    assert counts[-1] is None  # the run ends without anyone stopping it
    assert plan.tick(plan.duration_s) is None
    start, end = plan.full_load_window
    assert 0 < start < end <= plan.duration_s
    assert all(plan.tick(t) == plan.tick(start) for t in (start, (start + end) / 2, end - 0.01))


def test_ramp_spawns_over_ramp_time_and_window_waits_for_warmup() -> None:
    plan = plan_shape("ramp", users=1000, duration_s=60, ramp_s=20, ping_interval_s=5)
    assert plan.tick(0) == (1000, 50.0)
    assert plan.full_load_window == (25.0, 60.0)
    assert plan.jitter_start


def test_steady_spawns_at_once() -> None:
    plan = plan_shape("steady", users=500, duration_s=15, ping_interval_s=1)
    assert plan.tick(0.0) == (500, 500.0)
    assert plan.full_load_window == (2.0, 15.0)


def test_spike_is_a_rush_from_base_and_back() -> None:
    plan = plan_shape("spike", users=1000, duration_s=40, spike_base_ratio=0.1, spike_at_s=10, spike_hold_s=15)
    assert plan.tick(5) == (100, 100.0)
    assert plan.tick(12) == (1000, 1000.0)
    assert plan.tick(30)[0] == 100  # type: ignore[index]
    assert plan.full_load_window[1] == 25.0
    assert not plan.jitter_start  # a rush: everyone pings as soon as they arrive


def test_plan_round_trips_through_json_dict() -> None:
    plan = plan_shape("spike", users=10, duration_s=20, spike_at_s=5, spike_hold_s=5)
    assert ShapePlan.from_dict(plan.as_dict()) == plan


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"name": "wave"}, "unknown load shape"),
        ({"name": "ramp", "users": 0}, "users >= 1"),
        ({"name": "spike", "spike_at_s": 99}, "spike_at_s"),
    ],
)
def test_bad_shapes_raise_config_error(kwargs: dict[str, object], needle: str) -> None:
    args: dict[str, object] = {"users": 10, "duration_s": 30, **kwargs}
    with pytest.raises(ConfigError, match=needle):
        plan_shape(**args)  # type: ignore[arg-type]


def test_users_cover_every_target_once_across_workers() -> None:
    targets, workers = 1000, 3
    per_worker = [334, 333, 333]  # how Locust's dispatcher splits 1000 users over 3 workers
    seen = [target_index(seq, w, workers, targets) for w in range(workers) for seq in range(per_worker[w])]
    assert sorted(seen) == list(range(targets))


def test_more_users_than_targets_wrap_evenly() -> None:
    seen = [target_index(seq, 0, 1, 4) for seq in range(12)]
    assert [seen.count(i) for i in range(4)] == [3, 3, 3, 3]


def test_count_bound_per_user() -> None:
    assert max_pings_per_user(15, 1.0) == 17
    assert max_pings_per_user(60, 5.0) == 14
