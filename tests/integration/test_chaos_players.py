"""Players in chaos, against a real sandbox: a killed server drops exactly its own players and they are back
in play after the restart (time measured); players elsewhere see no drop; a fault that also drops players
outside the declared blast radius fails the experiment; a lagging server fails the TPS floor alone; too few
players in play is inconclusive."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from suite_runs import write_environment

from mcproof.chaos.experiment import plan_experiment, run_chaos_experiment
from mcproof.chaos.library import find_experiment
from mcproof.config import Environment, load_environment
from mcproof.evidence.store import RunStore
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
FAST = {"observer_interval_s": 0.5, "observer_timeout_s": 1.0, "recovery_window_s": 10}


def _env(tmp_path: Path, sandbox: Sandbox, **overrides: Any) -> Environment:
    return load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST, **overrides)))


def _experiment(tmp_path: Path, name: str, edit: Callable[[dict[str, Any]], None]) -> str:
    data = json.loads(find_experiment(name).read_text())
    edit(data)
    path = tmp_path / f"{name}-edited.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_a_killed_server_drops_exactly_its_players_and_they_rejoin(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=8, boot_delay_s=1.0)
    env = _env(tmp_path, sandbox)
    planned = plan_experiment(env, "crash-one-server-with-players", seed=5)
    victim = planned.victims[0].id
    store = RunStore.create(tmp_path / "r", "r1")
    outcome = run_chaos_experiment(env, "crash-one-server-with-players", store, seed=5)
    ev = outcome.evidence
    assert ev is not None
    players = ev.players
    assert outcome.verdict == "pass", outcome.reasons
    assert players["affected"] == [victim]
    assert len(players["servers"]) == 3  # the victim and two unaffected servers
    assert players["in_play_at_injection"] == 6
    assert list(players["dropped_by_server"]) == [victim]  # exactly the killed server's players, nobody else
    assert sorted(players["dropped_by_server"][victim]) == ["mcp_s0_p0", "mcp_s0_p1"]  # the victim's two players
    assert players["dropped_outside"] == {}
    assert players["not_back"] == []
    for drop in players["drops"]:
        assert drop["reason"] in ("closed", "kicked")
        assert drop["rejoin_s"] is not None
        assert drop["rejoin_s"] > 0  # measured: from the drop to back in play, after the restart
    assert players["rejoin_s_max"] is not None
    assert any(line.startswith("  players: 6 of 6 in play") for line in outcome.lines)
    rows = [json.loads(line) for line in store.evidence_path.read_text().splitlines()]
    player_rows = [r for r in rows if r["type"] == "players"]
    assert [r["context"] for r in player_rows] == ["chaos:crash-one-server-with-players"]
    assert sorted(r["player"] for r in player_rows[0]["rejoins"]) == ["mcp_s0_p0", "mcp_s0_p1"]
    assert all(r["rejoin_s"] is not None for r in player_rows[0]["rejoins"])


def test_a_fault_that_drops_players_outside_its_blast_radius_fails(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=4, boot_delay_s=1.0)
    env = _env(tmp_path, sandbox, guards__max_blast_radius=0.5)
    victim = plan_experiment(env, "crash-one-server-with-players", seed=2).victims[0].id
    other = next(t.id for t in plan_experiment(env, "crash-one-server-with-players", seed=2).targets if t.id != victim)

    def widen(data: dict[str, Any]) -> None:
        data["extensions"][0]["players"]["unaffected"] = 3  # players on every other server of the 4
        data["method"].insert(
            1,
            {
                "type": "action",
                "name": "kill-a-server-the-experiment-does-not-declare",
                "provider": {
                    "type": "python",
                    "module": "undeclared_faults",
                    "func": "kill_undeclared",
                    "arguments": {"server": other},
                },
            },
        )

    ref = _experiment(tmp_path, "crash-one-server-with-players", widen)
    outcome = run_chaos_experiment(env, ref, RunStore.create(tmp_path / "r", "r1"), seed=2)
    assert outcome.verdict == "fail", (outcome.verdict, outcome.reasons)
    blast = [r for r in outcome.reasons if "outside the fault's blast radius" in r]
    assert len(blast) == 1, outcome.reasons
    assert f"on {other}:" in blast[0]
    ev = outcome.evidence
    assert ev is not None
    assert sorted(ev.players["dropped_outside"]) == [other]
    assert all(p in blast[0] for p in ev.players["dropped_outside"][other])


def test_a_lagging_server_fails_the_tps_floor_alone(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=6, boot_delay_s=0.5)
    env = _env(tmp_path, sandbox)
    victim = plan_experiment(env, "lag-one-server", seed=4).victims[0].id
    outcome = run_chaos_experiment(env, "lag-one-server", RunStore.create(tmp_path / "r", "r1"), seed=4)
    ev = outcome.evidence
    assert ev is not None
    tps = ev.players["tps"]
    assert outcome.verdict == "pass", (outcome.reasons, tps)
    assert tps[victim]["passed"] is False  # the lagged server's players saw it tick below the floor
    assert tps[victim]["tps"] < ev.players["plan"]["tps_min"]
    others = {s: row for s, row in tps.items() if s != victim}
    assert len(others) == 2
    assert all(row["passed"] is True for row in others.values()), tps
    assert ev.players["drops"] == []  # a lag drops nobody
    assert ev.affected == []  # status pings never saw it: the players did


def test_too_few_players_in_play_is_inconclusive(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=6, boot_delay_s=0.5)
    env = _env(tmp_path, sandbox)

    def short(data: dict[str, Any]) -> None:  # every login refused: the client speaks a protocol the fleet does not
        data["extensions"][0]["players"].update({"in_play_timeout_s": 2})

    ref = _experiment(tmp_path, "crash-one-server-with-players", short)
    env = _env(tmp_path, sandbox, minecraft__expect={"name": "26.1", "protocol": 775})
    outcome = run_chaos_experiment(env, ref, RunStore.create(tmp_path / "r", "r1"), seed=1)
    assert outcome.verdict == "inconclusive", outcome.reasons
    assert any(r.startswith("too few players observed: 0 in play") for r in outcome.reasons), outcome.reasons
    assert "players" in outcome.fix
