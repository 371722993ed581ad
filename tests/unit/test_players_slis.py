"""Player SLIs from frozen samples: every figure, the anomalies, the bounds (no network)."""

from __future__ import annotations

import pytest

from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd, TimeUpdate
from mcproof.players.slis import (
    compute_figures,
    downsample,
    join_success_ratio,
    join_time,
    rejoin_times,
    session_drops,
    tick_rates,
)

W = (0.0, 100.0)


def ok(server: str, player: str, at: float, join_s: float = 0.1) -> JoinAttempt:
    return JoinAttempt(server, "127.0.0.1:25565", player, True, "play", "2026-12-02T00:00:00Z", at, join_s)


def failed(server: str, player: str, at: float, kind: str = "timeout", phase: str = "configuration") -> JoinAttempt:
    error = f"{phase} phase timed out after 5 s" if kind == "timeout" else f"{kind} in {phase}"
    return JoinAttempt(server, "127.0.0.1:25565", player, False, phase, "t", at, None, kind, error)


def end(server: str, player: str, joined: float, ended: float, reason: str = "left") -> SessionEnd:
    return SessionEnd(server, player, reason, reason, joined, ended, "2026-12-02T00:01:00Z")


def ticks(server: str, t0: float, t1: float, tps: float = 20.0, age0: int = 0, step: float = 1.0) -> list[TimeUpdate]:
    out, t = [], t0
    while t <= t1 + 1e-9:
        out.append(TimeUpdate(server, age0 + round((t - t0) * tps), t))
        t += step
    return out


def test_a_failed_join_counts_as_a_failure_never_a_gap() -> None:
    attempts = [ok("a", "p1", 1.0), failed("a", "p2", 2.0), failed("b", "p3", 3.0, "refused", "connect")]
    fig = join_success_ratio(attempts, window=W)
    assert (fig.samples, fig.ok, fig.value) == (3, 1, pytest.approx(1 / 3))
    assert fig.failed_by_kind == {"refused": 1, "timeout": 1}
    assert fig.failed_by_server == {"a": 1, "b": 1}
    assert "a: configuration phase timed out after 5 s" in fig.failures
    assert "failure" in fig.method


def test_join_ratio_counts_only_attempts_started_in_the_window() -> None:
    fig = join_success_ratio([ok("a", "p", 1.0), failed("a", "q", 150.0)], window=W)
    assert (fig.samples, fig.value) == (1, 1.0)
    assert join_success_ratio([], window=W).value is None


def test_join_time_percentiles_of_successful_joins_only() -> None:
    attempts = [ok("a", f"p{i}", float(i), join_s=0.1 * (i + 1)) for i in range(10)] + [failed("a", "x", 1.0)]
    fig = join_time(attempts, window=W)
    assert fig.samples == 10
    assert fig.p50_s == pytest.approx(0.55)
    assert fig.p95_s == pytest.approx(0.955)
    assert fig.max_s == pytest.approx(1.0)
    assert len(fig.quantiles_s) == 101
    assert fig.quantiles_s[0] == pytest.approx(0.1)
    assert fig.quantiles_s == tuple(sorted(fig.quantiles_s))
    assert list(fig.p95_by_server) == ["a"]


def test_session_drops_ended_plus_observed_alive_and_unaccounted() -> None:
    attempts = [ok("a", "p1", 1.0), ok("a", "p2", 1.0), ok("b", "p3", 1.0), ok("b", "p4", 1.0), ok("b", "p5", 1.0)]
    ends = [end("a", "p1", 1.1, 50.0, "left"), end("a", "p2", 1.1, 40.0, "closed")]
    fig = session_drops(attempts, ends, window=W, alive_at_end=[("b", "p3"), ("b", "p4")])
    assert (fig.ended, fig.alive_at_end, fig.unaccounted, fig.dropped, fig.samples) == (2, 2, 1, 1, 4)
    assert fig.value == pytest.approx(0.25)
    assert fig.dropped_by_server == {"a": 1}
    assert fig.dropped_by_reason == {"closed": 1}
    assert "observed alive" in fig.method


def test_a_session_ended_after_the_window_is_open_at_its_end() -> None:
    fig = session_drops([ok("a", "p", 1.0)], [end("a", "p", 1.1, 150.0, "kicked")], window=W)
    assert (fig.ended, fig.unaccounted, fig.samples, fig.value) == (0, 1, 0, None)


def test_rejoin_same_player_then_replacement_and_an_unrecovered_drop_stays() -> None:
    attempts = [
        ok("a", "p1", 20.0, join_s=0.5),  # p1 back at 20.5
        ok("a", "r9", 30.0, join_s=1.0),  # a replacement on a, in play at 31.0
    ]
    ends = [
        end("a", "p1", 1.0, 10.0, "closed"),
        end("a", "p2", 1.0, 10.0, "closed"),
        end("b", "p3", 1.0, 10.0, "keepalive_timeout"),  # nobody ever back on b
    ]
    fig = rejoin_times(attempts, ends, window=W)
    by = {(r.server, r.player): r for r in fig.rejoins}
    assert by[("a", "p1")].rejoin_s == pytest.approx(10.5)
    assert by[("a", "p1")].rejoined_by == "p1"
    assert by[("a", "p2")].rejoin_s == pytest.approx(21.0)
    assert by[("a", "p2")].rejoined_by == "r9"
    assert by[("b", "p3")].rejoin_s is None
    assert by[("b", "p3")].remaining_s == pytest.approx(90.0)
    assert (fig.samples, fig.recovered, fig.unrecovered) == (3, 2, 1)
    assert fig.max_s == pytest.approx(21.0)


def test_a_join_before_the_drop_or_in_play_after_the_window_is_no_rejoin() -> None:
    attempts = [ok("a", "p1", 5.0), ok("a", "p1", 99.5, join_s=1.0)]  # the second is in play at 100.5 > end
    fig = rejoin_times(attempts, [end("a", "p1", 5.1, 10.0, "kicked")], window=W)
    assert fig.unrecovered == 1
    assert fig.rejoins[0].rejoin_s is None


def test_tps_steady_server() -> None:
    fig = tick_rates(ticks("a", 0.0, 30.0), window=W, span_s=5.0)
    (server,) = fig.servers
    assert server.tps_min == pytest.approx(20.0)
    assert server.tps_p5 == pytest.approx(20.0)
    assert server.updates == 31
    assert server.spans == 6
    assert server.restarts == 0
    assert fig.unmeasured == ()


def test_tps_with_a_lag_segment_is_seen_by_min_and_p5() -> None:
    updates = ticks("a", 0.0, 20.0) + ticks("a", 21.0, 40.0, tps=10.0, age0=400) + ticks("a", 41.0, 60.0, age0=600)
    fig = tick_rates(updates, window=W, span_s=5.0)
    (server,) = fig.servers
    assert server.tps_min is not None
    assert server.tps_min < 12
    assert server.tps_p5 is not None
    assert server.tps_p5 < 12
    assert server.tps_mean is not None
    assert 12 < server.tps_mean < 20
    assert all(v >= 0 for _, v in server.series)


def test_consecutive_pairs_when_span_is_zero() -> None:
    updates = [TimeUpdate("a", 0, 0.0), TimeUpdate("a", 20, 1.0), TimeUpdate("a", 30, 2.0)]
    (server,) = tick_rates(updates, window=W, span_s=0).servers
    assert [v for _, v in server.series] == [20.0, 10.0]


def test_world_restart_starts_a_new_segment_and_never_gives_negative_tps() -> None:
    before = ticks("a", 0.0, 10.0, age0=50_000)
    after = ticks("a", 15.0, 30.0, age0=0)  # age back to 0: a new world / a restart
    fig = tick_rates(before + after, window=W, span_s=5.0)
    (server,) = fig.servers
    assert server.restarts == 1
    assert server.segments == 2
    assert server.tps_min == pytest.approx(20.0)
    assert all(v > 0 for _, v in server.series)


def test_repeated_ages_from_a_second_player_are_skipped() -> None:
    one = ticks("a", 0.0, 10.0)
    two = [TimeUpdate(u.server, u.world_age, u.received_mono + 0.01) for u in one]
    (server,) = tick_rates(one + two, window=W, span_s=5.0).servers
    assert server.restarts == 0
    assert server.tps_min == pytest.approx(20.0, rel=0.01)


def test_a_server_with_too_few_updates_has_no_tps_figure_and_is_named() -> None:
    updates = [*ticks("a", 0.0, 10.0), TimeUpdate("b", 100, 3.0)]
    fig = tick_rates(updates, window=W, span_s=5.0, min_updates=2)
    assert fig.unmeasured == ("b",)
    assert [s.server for s in fig.measured] == ["a"]
    assert fig.servers[-1].tps_min is None
    fig = tick_rates(ticks("c", 0.0, 3.0), window=W, min_updates=5)  # 4 updates < 5
    assert fig.unmeasured == ("c",)


def test_servers_worst_first() -> None:
    updates = ticks("good", 0.0, 20.0) + ticks("slow", 0.0, 20.0, tps=12.0)
    assert [s.server for s in tick_rates(updates, window=W).servers] == ["slow", "good"]


def test_downsample_is_bounded_and_keeps_the_dip() -> None:
    points = [(float(i), 20.0) for i in range(1000)]
    points[517] = (517.0, 3.0)
    out = downsample(points, 50)
    assert len(out) <= 50
    assert min(v for _, v in out) == 3.0
    assert downsample(points[:10], 50) == tuple(points[:10])


def test_one_late_read_does_not_push_a_20_tps_server_below_18() -> None:
    # a 20 TPS server, one update a second; one read 0.8 s late at every position of a 5 s span in turn
    for late in range(1, 12):
        updates = [
            TimeUpdate(u.server, u.world_age, u.received_mono + (0.8 if k == late else 0.0))
            for k, u in enumerate(ticks("a", 0.0, 20.0))
        ]
        (server,) = tick_rates(updates, window=W, span_s=5.0).servers
        assert server.tps_min is not None
        assert server.tps_min >= 18.0, (late, server.tps_min)


def test_a_real_slowdown_still_reads_slow() -> None:
    # 20 TPS for 10 s, then 10 TPS for 10 s: every late update is followed by a late one (nothing corrected)
    fast = ticks("a", 0.0, 10.0)
    slow = ticks("a", 11.0, 30.0, tps=10.0, age0=fast[-1].world_age + 10)
    (server,) = tick_rates(fast + slow, window=(0.0, 30.0), span_s=5.0).servers
    assert server.tps_min is not None
    assert server.tps_min < 11.0


def test_spans_are_per_player_and_pooled_per_server() -> None:
    # two players on one server, one reading 1.5 s behind the other: merged they would look like restarts
    one = [TimeUpdate("a", u.world_age, u.received_mono, player="p1") for u in ticks("a", 0.0, 30.0)]
    two = [TimeUpdate("a", u.world_age, u.received_mono + 1.5, player="p2") for u in ticks("a", 0.0, 28.0)]
    (server,) = tick_rates(one + two, window=(0.0, 30.0), span_s=5.0).servers
    assert server.restarts == 0
    assert server.players == 2
    assert server.tps_min == pytest.approx(20.0, abs=0.01)
    assert server.tps_p5 == pytest.approx(20.0, abs=0.01)
    assert server.spans == tick_rates(one, window=W).servers[0].spans + tick_rates(two, window=W).servers[0].spans


def test_min_updates_counts_distinct_ages() -> None:
    # three distinct ages seen by three players = 9 updates, still fewer than 5 distinct ages: no figure
    updates = [TimeUpdate("a", u.world_age, u.received_mono, player=p) for p in "xyz" for u in ticks("a", 0.0, 2.0)]
    (server,) = tick_rates(updates, window=W, span_s=0, min_updates=5).servers
    assert server.tps_min is None
    assert "only 3 distinct world ages in 9 updates" in server.unmeasured


def test_a_server_with_players_but_no_figure_is_named_with_why() -> None:
    frozen = [TimeUpdate("frozen", 0, float(t)) for t in range(10)]  # flying-squid: world age always 0
    fig = tick_rates([*frozen, *ticks("good", 0.0, 10.0)], window=(0.0, 10.0), expected=["frozen", "good", "mute"])
    by = {s.server: s for s in fig.servers}
    assert set(fig.unmeasured) == {"frozen", "mute"}
    assert by["frozen"].unmeasured == "world age did not advance over 10 updates (the server does not report world age)"
    assert by["mute"].unmeasured == "no world-time update while players were in play"
    assert by["mute"].updates == 0
    assert by["good"].unmeasured == ""


def test_silence_at_the_tail_is_not_read_as_healthy() -> None:
    updates = ticks("a", 0.0, 20.0)  # then nothing, while its player stayed in play until 30 s
    fig = tick_rates(updates, window=(0.0, 30.0), observed_until={"a": 30.0})
    (server,) = fig.servers
    assert fig.unmeasured == ("a",)
    assert "no world-time update for the last 10.0 s" in server.unmeasured
    assert server.tps_min == pytest.approx(20.0)  # its figure is kept (a figure below the floor still fails)
    assert tick_rates(updates, window=(0.0, 30.0), observed_until={"a": 22.0}).unmeasured == ()  # 2 intervals: fine


def test_compute_figures_owes_a_figure_for_each_server_players_stayed_on() -> None:
    attempts = [ok("a", "p1", 0.0), ok("b", "p2", 0.0), ok("c", "p3", 28.0)]  # c: in play for ~2 s only
    fig = compute_figures(attempts, [], ticks("a", 0.0, 30.0), window=(0.0, 30.0), tps_span_s=5.0, min_tps_updates=5)
    assert fig.tps.unmeasured == ("b",)  # b had a player for 30 s and sent nothing; c could not give a figure


def test_a_client_timeout_is_a_harness_gap_not_a_drop() -> None:
    attempts = [ok("a", f"p{i}", 1.0) for i in range(3)]
    ends = [end("a", "p0", 1.0, 5.0, "client_timeout"), end("a", "p1", 1.0, 6.0, "closed"), end("a", "p2", 1.0, 7.0)]
    drops = session_drops(attempts, ends, window=W)
    assert (drops.samples, drops.dropped, drops.unaccounted) == (2, 1, 1)
    assert "client_timeout" not in drops.dropped_by_reason
    assert [r.reason for r in rejoin_times(attempts, ends, window=W).rejoins] == ["client_timeout", "closed"]
