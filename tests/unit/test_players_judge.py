"""Player SLO verdicts: each SLO can pass, FAIL and be inconclusive; unset is not judged; waivers (no network)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from tests.unit.test_players_slis import end, failed, ok, ticks

from mcproof.config import parse_environment
from mcproof.errors import ConfigError
from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.players.evidence import player_evidence, player_slo_records
from mcproof.players.judge import NOT_JUDGED, WAIVED, combine_player_verdicts, judge_players
from mcproof.players.settings import PLAYER_SLO_NAMES, PlayerSettings, PlayerSlo
from mcproof.players.slis import compute_figures

W = (0.0, 100.0)
ALL = PlayerSlo(
    join_success_ratio=0.99,
    join_time_p50_s=1.0,
    join_time_p95_s=3.0,
    session_drop_ratio=0.01,
    rejoin_time_max_s=60,
    tps_min=18,
    tps_p5=19,
)
SETTINGS = PlayerSettings(slo=ALL, min_samples=20, tps_window_s=5.0, min_tps_updates=5)


def healthy(n: int = 100, join_s: float = 0.2) -> tuple[list[JoinAttempt], list[SessionEnd], list[TimeUpdate]]:
    attempts = [ok(f"s{i % 10}", f"p{i}", 1.0 + i * 0.1, join_s) for i in range(n)]
    ends = [end(a.server, a.player, a.started_mono + join_s, 60.0, "left") for a in attempts]
    updates = [u for i in range(10) for u in ticks(f"s{i}", 0.0, 60.0)]
    return attempts, ends, updates


def verdicts(attempts, ends, updates, settings=SETTINGS, **kw):  # type: ignore[no-untyped-def]
    figures = compute_figures(attempts, ends, updates, window=W, tps_span_s=5.0, min_tps_updates=5)
    return {v.slo.removeprefix("players."): v for v in judge_players(figures, settings, **kw)}


def test_healthy_players_pass_everything_but_rejoin_which_was_not_exercised() -> None:
    v = verdicts(*healthy())
    assert {k: x.verdict for k, x in v.items() if k != "rejoin_time_max_s"} == dict.fromkeys(
        ["join_success_ratio", "join_time_p50_s", "join_time_p95_s", "session_drop_ratio", "tps_min", "tps_p5"],
        "pass",
    )
    assert v["rejoin_time_max_s"].verdict == "inconclusive"
    assert "not exercised" in v["rejoin_time_max_s"].reason


def test_join_success_ratio_fails_naming_servers_and_phases() -> None:
    attempts, ends, updates = healthy()
    attempts += [failed("s3", f"x{i}", 5.0) for i in range(3)]
    v = verdicts(attempts, ends, updates)["join_success_ratio"]
    assert v.verdict == "fail"
    assert "s3 (3 failed)" in v.reason
    assert "timeout 3" in v.reason
    assert v.measured == pytest.approx(100 / 103)


def test_join_ratio_with_too_few_attempts_is_inconclusive_with_the_fix() -> None:
    attempts, ends, updates = healthy(10)
    v = verdicts(attempts, ends, updates)["join_success_ratio"]
    assert v.verdict == "inconclusive"
    assert "fewer than players.min_samples (20)" in v.reason
    assert "players.population_per_server" in v.fix
    assert "session_s" in v.fix


def test_join_ratio_needs_enough_attempts_to_resolve_the_budget() -> None:
    v = verdicts(*healthy(50))["join_success_ratio"]  # 1/50 = 2 % > the 1 % budget
    assert v.verdict == "inconclusive"
    assert "resolve" in v.reason
    assert "at least 100" in v.fix


@pytest.mark.parametrize(("field", "join_s"), [("join_time_p50_s", 1.5), ("join_time_p95_s", 3.5)])
def test_join_time_fails(field: str, join_s: float) -> None:
    v = verdicts(*healthy(join_s=join_s))[field]
    assert v.verdict == "fail"
    assert "slowest servers" in v.reason
    assert v.worst


def test_session_drop_ratio_fails_naming_where() -> None:
    attempts, ends, updates = healthy()
    ends = [end(e.server, e.player, e.joined_mono, e.ended_mono, "closed") if e.server == "s7" else e for e in ends]
    v = verdicts(attempts, ends, updates)["session_drop_ratio"]
    assert v.verdict == "fail"
    assert "s7 (10 dropped)" in v.reason
    assert "closed 10" in v.reason


def test_unaccounted_open_sessions_that_could_fail_the_ratio_make_it_inconclusive() -> None:
    attempts, ends, updates = healthy(120)
    ends = ends[:100]  # 20 still open at the end, never observed alive
    v = verdicts(attempts, ends, updates)["session_drop_ratio"]
    assert v.verdict == "inconclusive"
    assert "not observed alive" in v.reason
    alive = [(a.server, a.player) for a in attempts[100:]]
    figures = compute_figures(attempts, ends, updates, window=W, alive_at_end=alive)
    (drop,) = [x for x in judge_players(figures, SETTINGS) if x.slo == "players.session_drop_ratio"]
    assert drop.verdict == "pass"


def test_an_unrecovered_drop_fails_rejoin() -> None:
    attempts, ends, updates = healthy()
    ends.append(end("s1", "gone", 1.0, 20.0, "closed"))  # 80 s left in the window: nobody came back
    v = verdicts(attempts, ends, updates)["rejoin_time_max_s"]
    assert v.verdict == "fail"
    assert "unrecovered" in v.reason
    assert "s1/gone (never back)" in v.worst


def test_a_slow_rejoin_fails_and_a_quick_one_passes() -> None:
    attempts, ends, updates = healthy()
    drops = [*ends, end("s1", "p1", 1.2, 10.0, "closed")]
    slow = verdicts([*attempts, ok("s1", "p1", 80.0, 0.2)], drops, updates)["rejoin_time_max_s"]
    assert slow.verdict == "fail"
    assert slow.measured == pytest.approx(70.2)
    quick = verdicts([*attempts, ok("s1", "p1", 15.0, 0.2)], drops, updates)["rejoin_time_max_s"]
    assert quick.verdict == "pass"
    assert quick.measured == pytest.approx(5.2)


def test_a_drop_too_close_to_the_window_end_is_inconclusive_not_left_out() -> None:
    attempts, ends, updates = healthy()
    v = verdicts(attempts, [*ends, end("s1", "late", 1.0, 90.0, "closed")], updates)["rejoin_time_max_s"]
    assert v.verdict == "inconclusive"
    assert v.samples == 1
    assert "keep observing" in v.fix


@pytest.mark.parametrize("field", ["tps_min", "tps_p5"])
def test_tps_fails_naming_the_lagging_server(field: str) -> None:
    attempts, ends, updates = healthy()
    updates = [u for u in updates if u.server != "s4"] + ticks("s4", 0.0, 60.0, tps=9.0)
    v = verdicts(attempts, ends, updates)[field]
    assert v.verdict == "fail"
    assert v.worst[0].startswith("s4 (")
    assert "1 of 10 servers" in v.reason


def test_tps_with_a_server_without_enough_updates_is_inconclusive_and_named() -> None:
    attempts, ends, updates = healthy()
    updates = [u for u in updates if u.server != "s4"] + ticks("s4", 0.0, 2.0)
    v = verdicts(attempts, ends, updates)["tps_min"]
    assert v.verdict == "inconclusive"
    assert "s4" in v.reason


def test_no_time_updates_is_inconclusive() -> None:
    attempts, ends, _ = healthy()
    assert verdicts(attempts, ends, [])["tps_p5"].verdict == "inconclusive"


def test_an_slo_not_set_is_not_judged_never_pass() -> None:
    settings = PlayerSettings(slo=PlayerSlo(join_success_ratio=0.99), min_samples=20)
    v = verdicts(*healthy(), settings=settings)
    assert v["join_success_ratio"].verdict == "pass"
    assert {k for k, x in v.items() if x.verdict == NOT_JUDGED} == set(PlayerSlo.model_fields) - {"join_success_ratio"}
    nothing = PlayerSettings()
    outcome = combine_player_verdicts(verdicts(*healthy(), settings=nothing).values())
    assert outcome.verdict == "inconclusive"
    assert "players.slo" in outcome.fix


def test_only_judges_the_context_slos() -> None:
    v = verdicts(*healthy(), only=["players.join_success_ratio", "tps_min"])
    assert {k for k, x in v.items() if x.verdict != NOT_JUDGED} == {"join_success_ratio", "tps_min"}
    assert combine_player_verdicts(v.values()).verdict == "pass"


def test_a_waiver_turns_inconclusive_into_waived_never_a_fail() -> None:
    waiver = SimpleNamespace(reason="measured in the game-day", owner="sre")
    attempts, ends, updates = healthy()
    v = verdicts(attempts, ends, updates, waiver_for=lambda slo: waiver if slo.endswith("rejoin_time_max_s") else None)
    assert v["rejoin_time_max_s"].verdict == WAIVED
    assert v["rejoin_time_max_s"].waiver == {
        "reason": "measured in the game-day",
        "owner": "sre",
    }
    assert combine_player_verdicts(v.values()).verdict == "pass"
    ends.append(end("s1", "gone", 1.0, 20.0, "closed"))
    v = verdicts(attempts, ends, updates, waiver_for=lambda slo: waiver)
    assert v["rejoin_time_max_s"].verdict == "fail"


def test_evidence_record_and_slo_measurements() -> None:
    attempts, ends, updates = healthy()
    ev = player_evidence(
        attempts, ends, updates, window=W, settings=SETTINGS, environment="e", check="c", context="chaos:kill-one"
    )
    assert ev.verdict == "inconclusive"  # rejoin not exercised
    assert ev.samples == {
        "join_attempts": 100,
        "joins_ok": 100,
        "session_ends": 100,
        "time_updates": 610,
        "servers": 10,
    }
    assert len(ev.join_time_quantiles_s) == 101
    assert len(ev.tps_series) == 10
    assert "series" not in ev.figures["tps"]["servers"][0]
    records = player_slo_records(ev)
    assert {m.slo for m in records} == {f"players.{f}" for f in PlayerSlo.model_fields} - {"players.rejoin_time_max_s"}
    assert all(m.passed for m in records)
    with pytest.raises(ValueError, match="chaos:<experiment>"):
        player_evidence([], [], [], window=W, settings=SETTINGS, environment="e", check="c", context="party")


def test_environment_players_section_and_player_waivers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    base = "name: t\ntier: dev\nminecraft: {discovery: {kind: static, servers: [{host: 127.0.0.1}]}}\n"
    env = parse_environment(base + "players: {slo: {tps_min: 18}, session_s: 10}\n", tmp_path / "t.yaml")
    assert env.players is not None
    assert env.players.slo.tps_min == 18
    assert env.players.slo.tps_p5 is None
    waived = base + "waivers: [{slo: players.tps_p5, reason: not yet, owner: me}]\n"
    assert parse_environment(waived, tmp_path / "t.yaml").waiver_for(slo="players.tps_p5") is not None
    assert "players.tps_p5" in PLAYER_SLO_NAMES
    with pytest.raises(ConfigError, match=r"players\.slo\.join_success_ratio"):
        parse_environment(base + "players: {slo: {join_success_ratio: 2}}\n", tmp_path / "t.yaml")


def test_gaps_are_flagged_and_not_exercised_is_not() -> None:
    attempts, ends, updates = healthy()
    v = verdicts(attempts, ends, updates)
    assert v["rejoin_time_max_s"].verdict == "inconclusive"
    assert not v["rejoin_time_max_s"].gap  # not exercised: no information, not a gap
    # 5 sessions the harness lost (the server timed us out) could turn a 1 % drop ratio: inconclusive, a gap
    lost = [end(a.server, a.player, a.started_mono, 60.0, "client_timeout") for a in attempts[:5]]
    drops = verdicts(attempts, lost + ends[5:], updates)["session_drop_ratio"]
    assert (drops.verdict, drops.gap) == ("inconclusive", True)
    assert "client_timeout" in drops.reason
    # a server with players but a frozen world age: tps inconclusive, a gap, named with why
    frozen = [u for u in updates if u.server != "s4"] + [TimeUpdate("s4", 7, float(t)) for t in range(61)]
    tps = verdicts(attempts, ends, frozen)["tps_min"]
    assert (tps.verdict, tps.gap) == ("inconclusive", True)
    assert "s4: world age did not advance over 61 updates" in tps.reason
    # a drop less than the objective before the end, not back yet: inconclusive, a gap
    late = [*ends, end("s1", "p1", 1.2, 90.0, "closed")]
    assert verdicts(attempts, late, updates)["rejoin_time_max_s"].gap
    # a client_timeout never back: a gap in the rejoin SLO, never a fail
    ours = [*ends[1:], end(ends[0].server, ends[0].player, 1.2, 10.0, "client_timeout")]
    rejoin = verdicts(attempts, ours, updates)["rejoin_time_max_s"]
    assert (rejoin.verdict, rejoin.gap) == ("inconclusive", True)
    assert "client_timeout" in rejoin.reason
