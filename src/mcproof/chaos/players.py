"""Players in chaos: who was dropped, where, how long until back in play, and the blast radius at player level.

An experiment declares a player population in its ``mcproof`` extension (numbers it leaves out come from
the environment's ``players:`` section, then the defaults below)::

    "extensions": [{"name": "mcproof", "players": {"population_per_server": 2, "unaffected": 2,
                    "rejoin_deadline_s": 60, "min_players": 2, "tps_min": 15}}]

The population (:class:`mcproof.players.population.Population`) keeps that many players in play on every
server the fault may hit and on ``unaffected`` other servers, for the whole experiment beside the observer.

Verdict contributions (pure, :func:`judge_players`, from the samples):

- **fail**: a player dropped on a server OUTSIDE the fault's declared blast radius (the reason names the
  server and the players); a player dropped on an affected server and not back in play within
  ``rejoin_deadline_s`` of its drop; a server outside the blast radius whose players measured a tick rate
  below ``tps_min`` during the fault.
- **inconclusive**: too few players were in play when the fault was injected (fewer than ``min_players``,
  or none on the affected servers, or none outside them when the experiment has unaffected servers); with
  ``tps_min`` set, a server outside the blast radius whose players gave no TPS figure (a frozen world age,
  too few updates); a drop on an affected server too close to the end to know whether the player got back
  (neither back nor given up, less than the rejoin deadline observed); sessions silent at the end; a
  ``client_timeout`` kick (the server says WE stalled); the population's own trouble (a note); and, when the
  population's event loop lagged more than ``LAG_GAP_SHARE`` of the TPS window during the fault, the TPS
  floor and keep-alive-timeout drops (the figure names the lag).
- ``degraded``: the affected servers the players saw degrade after the injection (dropped, or a tick rate
  below ``tps_min``), so a fault invisible to status pings (a lagging server) is still seen to take effect.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from mcproof.errors import ConfigError
from mcproof.players.slis import Rejoin, rejoin_times, tick_rates

if TYPE_CHECKING:
    from mcproof.config import Environment
    from mcproof.minecraft.player.samples import JoinAttempt
    from mcproof.players.population import PlayerSamples

__all__ = ["PlayerJudgement", "PlayerPlan", "judge_players", "player_plan", "rejoins", "server_tps"]

METHOD = (
    "player population: offline-mode players kept in play on every server the fault may hit and on a sample of "
    "the rest; a drop is a session that ended without our leave; back in play = the same player's (else a "
    "replacement's) first later join that reached the play phase (its start + join time); TPS per server = "
    "the worst span of its players' world-time updates between the injection and the rollbacks "
    "(mcproof.players.slis)"
)
LAG_GAP_SHARE = 0.05  # loop lag above this share of the TPS window makes keep-alive-timeout drops harness-side
HARNESS_SIDE = ("client_timeout",)  # drops the server blames on us: a gap, never the server's drop
_LAG_SENSITIVE = ("keepalive_timeout",)  # drops a stalled harness can cause by itself


@dataclass(frozen=True)
class PlayerPlan:
    """How many players, where, and what they must see."""

    population_per_server: int = 1
    unaffected: int = 2  # servers outside the blast radius that get players too
    rejoin_deadline_s: float = 60.0
    retry_interval_s: float = 0.5
    phase_timeout_s: float = 5.0  # each join phase's deadline (default: players.phase_timeout_s)
    min_players: int = 2
    tps_min: float | None = None  # a TPS floor checked per server during the fault (None: not checked)
    in_play_timeout_s: float = 30.0  # every player must be in play before the experiment starts

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_KEYS = set(PlayerPlan.__dataclass_fields__)


def player_plan(extension: Mapping[str, Any], env: Environment | None = None) -> PlayerPlan | None:
    """The experiment's player plan (None: it declares no players). ConfigError names a bad key or value."""
    declared = extension.get("players")
    if not declared:
        return None
    if declared is True:
        declared = {}
    if not isinstance(declared, Mapping):
        raise ConfigError('the mcproof extension\'s "players" must be an object, e.g. {"population_per_server": 2}')
    unknown = sorted(set(declared) - _KEYS)
    if unknown:
        raise ConfigError(f"unknown players key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}")
    base: dict[str, Any] = {}
    settings = env.players if env is not None else None
    if settings is not None:  # the environment's players: section (mcproof.players.settings)
        base["population_per_server"] = settings.population_per_server
        base["phase_timeout_s"] = settings.phase_timeout_s
        if settings.slo.rejoin_time_max_s is not None:
            base["rejoin_deadline_s"] = settings.slo.rejoin_time_max_s
        if settings.slo.tps_min is not None:
            base["tps_min"] = settings.slo.tps_min
    merged = {**base, **dict(declared)}
    try:
        plan = PlayerPlan(**merged)
    except TypeError as err:
        raise ConfigError(f"players: {err}") from None
    for key in ("population_per_server", "min_players", "unaffected"):
        value = getattr(plan, key)
        if (
            isinstance(value, bool)
            or not isinstance(value, int)
            or value < (1 if key == "population_per_server" else 0)
        ):
            raise ConfigError(
                f"players.{key} must be a whole number >= {int(key == 'population_per_server')}, got {value!r}"
            )
    for key in ("rejoin_deadline_s", "retry_interval_s", "phase_timeout_s", "in_play_timeout_s"):
        value = getattr(plan, key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ConfigError(f"players.{key} must be a positive number of seconds, got {value!r}")
    if plan.tps_min is not None and (
        isinstance(plan.tps_min, bool) or not isinstance(plan.tps_min, int | float) or plan.tps_min <= 0
    ):
        raise ConfigError(
            f"players.tps_min must be a positive number of ticks per second, e.g. 15, got {plan.tps_min!r}"
        )
    return plan


def _back_in_play(join: JoinAttempt) -> float:
    return join.started_mono + (join.join_s or 0.0)


def rejoins(samples: PlayerSamples) -> list[Rejoin]:
    """Every drop over the population's whole run and the time until a player was back in play on that
    server (:func:`mcproof.players.slis.rejoin_times`: the same player's first later join, else a
    replacement's; ``rejoin_s`` None: not back).

    >>> from mcproof.players.population import PlayerSamples
    >>> from mcproof.minecraft.player.samples import JoinAttempt, SessionEnd
    >>> j = lambda t, ok: JoinAttempt("mc-1", "h:1", "p", ok, "play", "", t, 0.5 if ok else None)
    >>> end = SessionEnd("mc-1", "p", "closed", "reset", 0.0, 10.0, "")
    >>> s = PlayerSamples((j(0.0, True), j(11.0, False), j(12.0, True)), (end,), (), {"p": "mc-1"}, 0, 20, 0.5, 60)
    >>> rejoins(s)[0].rejoin_s
    2.5
    """
    window = (samples.started_mono, max(samples.stopped_mono, samples.started_mono))
    return list(rejoin_times(samples.joins, samples.ends, window=window).rejoins)


def server_tps(
    samples: PlayerSamples, start_mono: float, end_mono: float, *, span_s: float = 5.0, min_updates: int = 2
) -> dict[str, dict[str, Any]]:
    """Server -> its tick rate between two monotonic times (:func:`mcproof.players.slis.tick_rates`: the
    worst span's TPS is ``tps``); every server with players has a row (``tps`` None: too few updates)."""
    figure = tick_rates(
        samples.times, window=(start_mono, max(end_mono, start_mono)), span_s=span_s, min_updates=min_updates
    )
    by_server = {s.server: s for s in figure.servers}
    out: dict[str, dict[str, Any]] = {}
    for server in sorted(set(samples.players.values())):
        row = by_server.get(server)
        out[server] = {
            "tps": row.tps_min if row is not None else None,
            "tps_mean": row.tps_mean if row is not None else None,
            "updates": row.updates if row is not None else 0,
            "spans": row.spans if row is not None else 0,
        }
    return out


@dataclass(frozen=True)
class PlayerJudgement:
    failures: list[str]
    gaps: list[str]  # could not measure at player level: the experiment is inconclusive
    degraded: list[str]  # affected servers whose players saw the fault
    evidence: dict[str, Any] = field(default_factory=dict)


def _in_play_at(samples: PlayerSamples, t_mono: float) -> dict[str, str]:
    """Player -> server for the players in play at ``t_mono`` (joined before it, no end between); joins and
    ends indexed by player once (linear in the samples)."""
    last_in: dict[str, float] = {}
    for j in samples.joins:
        if j.ok and (t := _back_in_play(j)) <= t_mono and t > last_in.get(j.player, float("-inf")):
            last_in[j.player] = t
    ends: dict[str, list[float]] = {}
    for e in samples.ends:
        ends.setdefault(e.player, []).append(e.ended_mono)
    out = {}
    for player, server in samples.players.items():
        last = last_in.get(player)
        if last is not None and not any(last <= t <= t_mono for t in ends.get(player, ())):
            out[player] = server
    return out


def _no_tps_why(samples: PlayerSamples, server: str, start: float, end: float, row: dict[str, Any]) -> str:
    ages = {u.world_age for u in samples.times if u.server == server and start <= u.received_mono <= end}
    if row.get("updates", 0) and len(ages) <= 1:
        return f"its world age never advanced ({row['updates']} update(s) at age {min(ages) if ages else '?'})"
    return f"{row.get('updates', 0)} world-time update(s) in the window, too few for a span"


def judge_players(
    samples: PlayerSamples,
    plan: PlayerPlan,
    affected: Collection[str],
    *,
    injected_mono: float | None,
    cutoff_mono: float | None,
    tps_span_s: float = 5.0,
    min_tps_updates: int = 2,
) -> PlayerJudgement:
    """The player-level verdict inputs and evidence of one experiment (see the module docstring).

    ``injected_mono`` / ``cutoff_mono``: the injection and the rollbacks' start, taken on the monotonic
    clock during the run (the population's clock)."""
    affected = set(affected)
    servers = sorted(set(samples.players.values()))
    outside = [s for s in servers if s not in affected]
    drops = rejoins(samples)
    failures: list[str] = []
    gaps: list[str] = [f"players: {note}" for note in samples.notes]  # population trouble is never silence
    at = injected_mono if injected_mono is not None else samples.stopped_mono
    window_end = cutoff_mono if cutoff_mono is not None else samples.stopped_mono
    lag = samples.loop_lag_max(at, max(window_end, samples.stopped_mono)) if injected_mono is not None else 0.0
    lagged = lag > LAG_GAP_SHARE * tps_span_s
    present = _in_play_at(samples, at)
    present_affected = [p for p, s in present.items() if s in affected]
    present_outside = [p for p, s in present.items() if s not in affected]
    if injected_mono is None:
        gaps.append("players: no fault action ran, so no player was in play at an injection")
    elif len(present) < plan.min_players:
        gaps.append(
            f"too few players observed: {len(present)} in play when the fault was injected, the experiment needs "
            f"{plan.min_players} (players.min_players)"
        )
    elif not present_affected and affected & set(servers):
        gaps.append("too few players observed: none was in play on the affected servers when the fault was injected")
    elif outside and not present_outside:
        gaps.append("too few players observed: none was in play outside the blast radius when the fault was injected")
    harness_side = [d for d in drops if d.reason in HARNESS_SIDE or (lagged and d.reason in _LAG_SENSITIVE)]
    if harness_side:
        who = ", ".join(f"{d.player}@{d.server} ({d.reason})" for d in harness_side[:10])
        why = f"; the population's loop lagged {lag:.2f}s" if lagged else ""
        gaps.append(f"players: {len(harness_side)} drop(s) the harness itself may have caused: {who}{why}")
    server_drops = [d for d in drops if d not in harness_side]
    by_server: dict[str, list[Rejoin]] = {}
    for d in server_drops:
        by_server.setdefault(d.server, []).append(d)
    for server in outside:
        if server in by_server:
            who = ", ".join(f"{d.player} ({d.reason})" for d in by_server[server][:10])
            failures.append(
                f"players dropped outside the fault's blast radius on {server}: {who} "
                f"(declared: {', '.join(sorted(affected)[:10]) or 'none'})"
            )
    gave_up = set(samples.gave_up)
    late, unjudged = [], []
    for d in server_drops:
        if d.server not in affected:
            continue
        if d.rejoin_s is not None:
            if d.rejoin_s > plan.rejoin_deadline_s:
                late.append(d)
        elif d.player in gave_up or samples.stopped_mono - d.dropped_mono >= plan.rejoin_deadline_s:
            late.append(d)
        else:
            unjudged.append(d)
    for d in late[:10]:
        seen = "never back in play" if d.rejoin_s is None else f"back in play only after {d.rejoin_s:.1f}s"
        failures.append(
            f"player {d.player} dropped on {d.server} was {seen}, beyond the rejoin deadline {plan.rejoin_deadline_s:g}s"
        )
    if unjudged:
        who = ", ".join(
            f"{d.player}@{d.server} ({samples.stopped_mono - d.dropped_mono:.1f}s observed)" for d in unjudged[:10]
        )
        gaps.append(
            f"players: {len(unjudged)} drop(s) too close to the end to see a rejoin within "
            f"{plan.rejoin_deadline_s:g}s: {who}"
        )
    if samples.silent:
        who = ", ".join(f"{p}@{srv} ({q:.0f}s)" for srv, p, q in samples.silent[:10])
        gaps.append(f"players: {len(samples.silent)} session(s) heard nothing from the server at the end: {who}")
    tps = (
        server_tps(samples, at, window_end, span_s=tps_span_s, min_updates=min_tps_updates)
        if injected_mono is not None
        else {}
    )
    slow: list[str] = []
    unsure: list[str] = []
    if plan.tps_min is not None:
        for server, row in tps.items():
            row["tps_min"] = plan.tps_min
            if row["tps"] is None:
                row["passed"] = None
                if server not in affected:
                    row["why"] = _no_tps_why(samples, server, at, window_end, row)
                    gaps.append(f"players: {server} gave no TPS figure during the fault: {row['why']}")
                continue
            # a read the population's loop took `lag` late moves a span of >= tps_span_s by at most this much
            # either way: only a verdict the bound cannot flip is judged
            bound = row["tps"] * lag / tps_span_s if tps_span_s > 0 else 0.0
            row["lag_bound"] = round(bound, 4)
            if row["tps"] - bound >= plan.tps_min:
                row["passed"] = True
            elif row["tps"] + bound < plan.tps_min:
                row["passed"] = False
                slow.append(server)
            else:
                row["passed"] = None
                unsure.append(server)
        for server in slow:
            if server not in affected:
                failures.append(
                    f"{server} outside the blast radius ticked at {tps[server]['tps']:.2f} TPS during the fault, "
                    f"below players.tps_min {plan.tps_min:g}"
                )
        unsure_outside = [s for s in unsure if s not in affected]
        if unsure_outside:
            gaps.append(
                f"players: the population's event loop lagged {lag:.2f}s during the fault, enough to move the TPS "
                f"of {', '.join(unsure_outside[:10])} across players.tps_min {plan.tps_min:g}: not judged"
            )
    after = [d for d in server_drops if injected_mono is not None and d.dropped_mono >= injected_mono]
    degraded = sorted({d.server for d in after if d.server in affected} | {s for s in slow if s in affected})
    dropped_on = {s: [d.player for d in ds] for s, ds in by_server.items()}
    back = [d.rejoin_s for d in drops if d.rejoin_s is not None]
    evidence = {
        "method": METHOD,
        "plan": plan.as_dict(),
        "servers": servers,
        "affected": sorted(affected & set(servers)),
        "players": len(samples.players),
        "in_play_at_injection": len(present),
        "joins": len(samples.joins),
        "joins_failed": sum(1 for j in samples.joins if not j.ok),
        "sessions_ended": len(samples.ends),
        "drops": [d.as_dict() for d in drops],
        "dropped_by_server": dropped_on,
        "dropped_outside": {s: dropped_on[s] for s in outside if s in dropped_on},
        "harness_side_drops": [d.as_dict() for d in harness_side],
        "rejoin_s_max": max(back) if back else None,
        "rejoin_s_median": round(statistics.median(back), 3) if back else None,
        "not_back": [d.player for d in drops if d.rejoin_s is None],
        "not_judged": [d.player for d in unjudged],
        "gave_up": list(samples.gave_up),
        "silent_at_end": [list(k) for k in samples.silent],
        "alive_at_end": len(samples.alive_at_end),
        "loop_lag_max_s": round(lag, 3),
        "tps": tps,
        "notes": list(samples.notes),
    }
    return PlayerJudgement(failures, gaps, degraded, evidence)


def players_for(victims: Sequence[Any], rest: Sequence[Any], plan: PlayerPlan) -> list[Any]:
    """The servers that get players: every victim, and ``plan.unaffected`` evenly picked others."""
    from mcproof.minecraft.latency import pick_evenly

    others = pick_evenly(list(rest), plan.unaffected) if rest and plan.unaffected else []
    return [*victims, *others]
