"""Player-level chaos judgement from samples: who dropped where, rejoin deadlines, TPS, too few players."""

from __future__ import annotations

import pytest

from mcproof.chaos.players import PlayerPlan, judge_players, player_plan, rejoins, server_tps
from mcproof.errors import ConfigError
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.players.population import PlayerSamples, player_name

PLAYERS = {"a0": "mc-1", "a1": "mc-1", "b0": "mc-2", "c0": "mc-3"}


def _join(player: str, t: float, ok: bool = True) -> JoinAttempt:
    server = PLAYERS[player]
    return JoinAttempt(server, "127.0.0.1:1", player, ok, "play" if ok else "connect", "", t, 0.1 if ok else None)


def _end(player: str, t: float, reason: str = "closed", joined: float = 0.0) -> SessionEnd:
    return SessionEnd(PLAYERS[player], player, reason, "connection reset", joined, t, "")


def _samples(joins: list[JoinAttempt], ends: list[SessionEnd], times: tuple[TimeUpdate, ...] = ()) -> PlayerSamples:
    return PlayerSamples(tuple(joins), tuple(ends), times, dict(PLAYERS), 0.0, 100.0, 0.5, 30.0)


def _all_in(t: float = 0.0) -> list[JoinAttempt]:
    return [_join(p, t) for p in PLAYERS]


PLAN = PlayerPlan(population_per_server=1, unaffected=2, rejoin_deadline_s=30.0, min_players=2)


def test_affected_players_drop_and_rejoin_within_the_deadline_pass() -> None:
    joins = [*_all_in(), _join("a0", 12.0, ok=False), _join("a0", 14.0), _join("a1", 13.0)]
    ends = [_end("a0", 10.0), _end("a1", 10.0)]
    j = judge_players(_samples(joins, ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.failures == []
    assert j.gaps == []
    assert j.degraded == ["mc-1"]
    assert j.evidence["dropped_by_server"] == {"mc-1": ["a0", "a1"]}
    assert [d["rejoin_s"] for d in j.evidence["drops"]] == [4.1, 3.1]
    assert j.evidence["dropped_outside"] == {}


def test_a_drop_outside_the_blast_radius_fails_naming_server_and_players() -> None:
    joins = [*_all_in(), _join("a0", 11.0), _join("b0", 11.0)]
    ends = [_end("a0", 10.0), _end("b0", 10.5)]
    j = judge_players(_samples(joins, ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert len(j.failures) == 1
    assert "outside the fault's blast radius on mc-2" in j.failures[0]
    assert "b0 (closed)" in j.failures[0]
    assert j.evidence["dropped_outside"] == {"mc-2": ["b0"]}


def test_a_player_not_back_before_the_rejoin_deadline_fails() -> None:
    joins = [*_all_in(), _join("a1", 50.0)]
    ends = [_end("a0", 10.0), _end("a1", 10.0)]
    j = judge_players(_samples(joins, ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert any("a0 dropped on mc-1 was never back in play" in f for f in j.failures)
    assert any("a1 dropped on mc-1 was back in play only after 40.1s" in f for f in j.failures)


def test_our_own_leave_is_not_a_drop() -> None:
    ends = [_end(p, 90.0, reason="left") for p in PLAYERS]
    j = judge_players(_samples(_all_in(), ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.failures == []
    assert j.evidence["drops"] == []
    assert rejoins(_samples(_all_in(), ends)) == []


def test_too_few_players_in_play_at_the_injection_is_a_gap() -> None:
    joins = [_join("a0", 0.0), *[_join(p, 0.0, ok=False) for p in ("a1", "b0", "c0")]]
    j = judge_players(_samples(joins, []), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.gaps
    assert j.gaps[0].startswith("too few players observed: 1 in play")
    none_outside = [_join("a0", 0.0), _join("a1", 0.0), _join("b0", 0.0, ok=False), _join("c0", 0.0, ok=False)]
    j = judge_players(_samples(none_outside, []), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.gaps == ["too few players observed: none was in play outside the blast radius when the fault was injected"]


def _ticks(player: str, server: str, start: float, end: float, every_s: float, tps: float) -> list[TimeUpdate]:
    out, t, age = [], start, 1000
    while t <= end:
        out.append(TimeUpdate(server, age, t))
        t += every_s
        age += round(tps * every_s)
    return out


def test_tps_below_the_floor_marks_the_lagged_server_and_fails_it_elsewhere() -> None:
    plan = PlayerPlan(population_per_server=1, unaffected=2, min_players=2, tps_min=15.0)
    times = (
        *_ticks("a0", "mc-1", 10.0, 30.0, 2.0, 10.0),
        *_ticks("b0", "mc-2", 10.0, 30.0, 1.0, 20.0),
        *_ticks("c0", "mc-3", 10.0, 30.0, 1.0, 20.0),
    )
    only = {"a0": "mc-1", "b0": "mc-2", "c0": "mc-3"}
    joins = tuple(j for j in _all_in() if j.player in only)
    s = PlayerSamples(joins, (), times, only, 0.0, 100.0, 0.5, 30.0)
    j = judge_players(s, plan, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert j.failures == []
    assert j.degraded == ["mc-1"]
    assert j.evidence["tps"]["mc-1"]["tps"] == pytest.approx(10.0)
    assert j.evidence["tps"]["mc-1"]["passed"] is False
    assert j.evidence["tps"]["mc-2"]["passed"] is True
    assert j.evidence["tps"]["mc-3"]["passed"] is True
    j = judge_players(s, plan, {"mc-2"}, injected_mono=9.0, cutoff_mono=31.0)
    assert any(f.startswith("mc-1 outside the blast radius ticked at 10.00 TPS") for f in j.failures)
    assert server_tps(s, 40.0, 50.0)["mc-1"]["tps"] is None  # no updates in the window: no figure


def test_player_plan_is_declared_by_the_experiment_and_checked() -> None:
    assert player_plan({}) is None
    assert player_plan({"players": True}) == PlayerPlan()
    assert player_plan({"players": {"population_per_server": 3}}).population_per_server == 3  # type: ignore[union-attr]
    with pytest.raises(ConfigError, match="unknown players key"):
        player_plan({"players": {"per_server": 3}})
    with pytest.raises(ConfigError, match="rejoin_deadline_s must be a positive"):
        player_plan({"players": {"rejoin_deadline_s": 0}})


def test_player_names_are_offline_mode_user_names() -> None:
    assert player_name("mcp", 12, 3) == "mcp_s12_p3"
    with pytest.raises(ConfigError, match="shorter prefix"):
        player_name("a-very-long-prefix", 1, 1)


def test_the_population_is_bounded_before_it_connects_anywhere() -> None:
    from mcproof.players.population import Population
    from mcproof.target import Target

    targets = [Target(id=f"mc-{i}", host="127.0.0.1", port=1) for i in range(2)]
    with pytest.raises(ConfigError, match="population_per_server must be >= 1"):
        Population(targets, population_per_server=0)
    with pytest.raises(ConfigError, match="exceeds the population bound 1000"):
        Population(targets, population_per_server=600)
    assert [name for name, _ in Population(targets, population_per_server=2).slots] == [
        "mcp_s0_p0",
        "mcp_s0_p1",
        "mcp_s1_p0",
        "mcp_s1_p1",
    ]
