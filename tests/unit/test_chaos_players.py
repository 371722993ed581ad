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


# --- review fixes: gaps instead of silent passes/fails ---------------------------------------------------


def _only(times: tuple[TimeUpdate, ...] = (), **extra: object) -> PlayerSamples:
    only = {"a0": "mc-1", "b0": "mc-2", "c0": "mc-3"}
    joins = tuple(j for j in _all_in() if j.player in only)
    return PlayerSamples(joins, (), times, only, 0.0, 100.0, 0.5, 30.0, **extra)  # type: ignore[arg-type]


TPS_PLAN = PlayerPlan(population_per_server=1, unaffected=2, min_players=2, tps_min=15.0)


def test_a_server_outside_the_radius_without_a_tps_figure_is_a_gap_naming_a_frozen_age() -> None:
    frozen = tuple(TimeUpdate("mc-3", 0, 10.0 + i) for i in range(20))  # flying-squid: age always 0
    times = (*_ticks("a0", "mc-1", 10.0, 30.0, 1.0, 20.0), *_ticks("b0", "mc-2", 10.0, 30.0, 1.0, 20.0), *frozen)
    j = judge_players(_only(times), TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert j.failures == []
    assert j.evidence["tps"]["mc-3"]["passed"] is None
    assert any("mc-3 gave no TPS figure" in g and "world age never advanced" in g for g in j.gaps)
    assert not any("mc-2" in g for g in j.gaps)
    few = (*_ticks("a0", "mc-1", 10.0, 30.0, 1.0, 20.0), *_ticks("b0", "mc-2", 10.0, 30.0, 1.0, 20.0))
    j = judge_players(_only(few), TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert any("mc-3 gave no TPS figure" in g and "0 world-time update(s)" in g for g in j.gaps)
    untested = PlayerPlan(population_per_server=1, unaffected=2, min_players=2)  # no floor: nothing to miss
    assert judge_players(_only(few), untested, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0).gaps == []


def test_sessions_silent_at_the_end_are_a_gap_never_a_healthy_leave() -> None:
    s = _only(silent=(("mc-2", "b0", 41.0),), alive_at_end=(("mc-1", "a0"), ("mc-3", "c0")))
    j = judge_players(s, PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.failures == []
    assert any("heard nothing from the server at the end: b0@mc-2 (41s)" in g for g in j.gaps)
    assert j.evidence["silent_at_end"] == [["mc-2", "b0", 41.0]]
    assert j.evidence["alive_at_end"] == 2


def test_a_drop_too_close_to_the_end_is_a_gap_but_a_player_that_gave_up_fails() -> None:
    joins, ends = _all_in(), [_end("a0", 90.0)]  # stopped at 100: 10 s observed of a 30 s deadline
    j = judge_players(_samples(joins, ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.failures == []
    assert any("too close to the end" in g and "a0@mc-1 (10.0s observed)" in g for g in j.gaps)
    assert j.evidence["not_judged"] == ["a0"]
    s = PlayerSamples(tuple(joins), tuple(ends), (), dict(PLAYERS), 0.0, 100.0, 0.5, 30.0, gave_up=("a0",))
    j = judge_players(s, PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert any("a0 dropped on mc-1 was never back in play" in f for f in j.failures)


def test_population_notes_become_gaps() -> None:
    s = _only(notes=("player b0 stopped by TypeError: boom",))
    j = judge_players(s, PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert "players: player b0 stopped by TypeError: boom" in j.gaps


def test_a_timeout_kick_is_the_harness_side_never_a_blast_radius_failure() -> None:
    joins = [*_all_in(), _join("b0", 12.0)]
    ends = [_end("b0", 10.5, reason="client_timeout")]
    j = judge_players(_samples(joins, ends), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.failures == []
    assert any("harness itself may have caused: b0@mc-2 (client_timeout)" in g for g in j.gaps)


def test_a_lagging_population_loop_makes_tps_and_keepalive_drops_inconclusive() -> None:
    """A late loop moves a span's TPS by at most tps x lag / span: only what that bound could flip is a gap."""
    times = (*_ticks("a0", "mc-1", 10.0, 30.0, 1.0, 20.0), *_ticks("b0", "mc-2", 10.0, 30.0, 1.0, 14.0))
    times = (*times, *_ticks("c0", "mc-3", 10.0, 30.0, 1.0, 20.0))
    ends = (_end("c0", 20.0, reason="keepalive_timeout"),)
    base = _only(times)
    calm = PlayerSamples(base.joins, ends, times, base.players, 0.0, 100.0, 0.5, 30.0)
    j = judge_players(calm, TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert any("mc-2 outside the blast radius ticked at 14.00 TPS" in f for f in j.failures)
    assert any("on mc-3: c0 (keepalive_timeout)" in f for f in j.failures)
    lagged = PlayerSamples(calm.joins, ends, times, calm.players, 0.0, 100.0, 0.5, 30.0, loop_lags=((20.0, 1.2),))
    j = judge_players(lagged, TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert j.failures == []  # 14 TPS +- 14 x 1.2 / 5 straddles the floor of 15; the timeout drop is ours
    assert any("event loop lagged 1.20s" in g and "TPS of mc-2 across players.tps_min 15" in g for g in j.gaps)
    assert any("c0@mc-3 (keepalive_timeout)" in g for g in j.gaps)
    assert j.evidence["loop_lag_max_s"] == 1.2
    assert j.evidence["tps"]["mc-2"]["passed"] is None
    assert j.evidence["tps"]["mc-3"]["passed"] is True  # 20 - 4.8 still clears 15: a lag cannot excuse a pass
    before = PlayerSamples(calm.joins, ends, times, calm.players, 0.0, 100.0, 0.5, 30.0, loop_lags=((5.0, 1.2),))
    assert (
        judge_players(before, TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0).evidence["loop_lag_max_s"] == 0
    )


def test_a_lag_too_small_to_explain_a_slow_server_still_fails_it() -> None:
    times = (*_ticks("a0", "mc-1", 10.0, 30.0, 1.0, 20.0), *_ticks("b0", "mc-2", 10.0, 30.0, 1.0, 10.0))
    times = (*times, *_ticks("c0", "mc-3", 10.0, 30.0, 1.0, 20.0))
    base = _only(times)
    lagged = PlayerSamples(base.joins, (), times, base.players, 0.0, 100.0, 0.5, 30.0, loop_lags=((20.0, 0.3),))
    j = judge_players(lagged, TPS_PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=31.0)
    assert any("mc-2 outside the blast radius ticked at 10.00 TPS" in f for f in j.failures)  # 10 + 0.6 < 15


def test_drops_before_the_injection_are_not_the_fault_seen() -> None:
    joins = [*_all_in(), _join("a0", 6.0)]
    j = judge_players(_samples(joins, [_end("a0", 5.0)]), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.degraded == []
    j = judge_players(_samples(joins, [_end("a0", 10.0)]), PLAN, {"mc-1"}, injected_mono=9.0, cutoff_mono=40.0)
    assert j.degraded == ["mc-1"]


def test_player_plan_refuses_non_numbers_at_plan_time() -> None:
    with pytest.raises(ConfigError, match=r"players.tps_min must be a positive number .* got '15'"):
        player_plan({"players": {"tps_min": "15"}})
    with pytest.raises(ConfigError, match=r"players.unaffected must be a whole number >= 0, got '2'"):
        player_plan({"players": {"unaffected": "2"}})
    with pytest.raises(ConfigError, match=r"players\.min_players must be a whole number"):
        player_plan({"players": {"min_players": True}})
    assert player_plan({"players": {"tps_min": 15, "unaffected": 0}}).tps_min == 15  # type: ignore[union-attr]


def test_in_play_at_is_linear_and_exact_for_many_players() -> None:
    from mcproof.chaos.players import _in_play_at

    players = {f"p{i}": f"mc-{i % 50}" for i in range(2000)}
    joins = tuple(
        JoinAttempt(s, "h:1", p, True, "play", "", float(i % 7), 0.1) for i, (p, s) in enumerate(players.items())
    )
    ends = tuple(SessionEnd(players[p], p, "closed", "", 0.0, 8.5, "") for p in list(players)[:500])
    s = PlayerSamples(joins, ends, (), players, 0.0, 10.0, 0.5, 30.0)
    assert len(_in_play_at(s, 8.0)) == 2000
    assert len(_in_play_at(s, 9.0)) == 1500


def test_the_run_clock_takes_injection_and_cutoff_on_the_monotonic_clock() -> None:
    import time

    from mcproof.chaos.experiment import RunClock, _handler

    class Sync:
        def start_rollbacks(self, experiment: object) -> None:
            return None

    clock = RunClock()
    h = _handler(Sync(), clock)  # type: ignore[arg-type]
    h.start_activity({"type": "action", "name": "steady-state"})  # not in the method yet
    assert clock.injected_mono is None
    before = time.monotonic()
    h.start_method({})
    h.start_activity({"type": "probe", "name": "p"})
    assert clock.injected_mono is None
    h.start_activity({"type": "action", "name": "kill"})
    first = clock.injected_mono
    h.start_activity({"type": "action", "name": "second"})
    h.start_rollbacks({})
    assert first is not None
    assert before <= first == clock.injected_mono <= (clock.cutoff_mono or 0) <= time.monotonic()
