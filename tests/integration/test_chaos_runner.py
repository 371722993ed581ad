"""Chaos runner against a real sandbox: observer MTTR vs an independent probe loop, an unrecovered target,
network faults through the fault proxy, faults that did not take effect (inconclusive), and a game day."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from mcstatus import JavaServer
from suite_runs import write_environment

from mcproof.chaos.experiment import plan_experiment, run_chaos_experiment
from mcproof.chaos.gameday import GameDayPlan, run_gameday
from mcproof.chaos.recovery import iso_to_epoch
from mcproof.config import load_environment
from mcproof.errors import ConfigError
from mcproof.evidence.store import RunStore
from mcproof.verdict import combine
from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]
FAST = {"observer_interval_s": 0.5, "observer_timeout_s": 1.0, "recovery_window_s": 6}


def _answers(host: str, port: int) -> bool:
    try:
        JavaServer(host, port, timeout=0.3).status(tries=1)
        return True
    except Exception:
        return False


class ProbeLoop:
    """The test's own loop: raw mcstatus pings of one server every 50 ms, first failure and first answer after."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.first_failure: float | None = None
        self.recovered: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        deadline = time.monotonic() + 25
        while not self._stop.is_set() and time.monotonic() < deadline:
            t = time.time()
            ok = _answers(self.host, self.port)
            if not ok and self.first_failure is None:
                self.first_failure = t
            if ok and self.first_failure is not None and self.recovered is None:
                self.recovered = t
            time.sleep(0.05)

    def __enter__(self) -> ProbeLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


def test_observer_mttr_agrees_with_an_independent_probe_loop(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10, boot_delay_s=1.5)
    env = load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)))
    victim = plan_experiment(env, "kill-one-server", seed=11).victims[0]
    store = RunStore.create(tmp_path / "reports", "r1")
    with ProbeLoop(victim.host, victim.port) as loop:
        outcome = run_chaos_experiment(env, "kill-one-server", store, seed=11)
    assert outcome.passed, outcome.reasons
    ev = outcome.evidence
    assert ev is not None
    assert ev.affected == [victim.id]
    assert ev.unrecovered == []
    assert loop.first_failure is not None
    assert loop.recovered is not None
    injected = iso_to_epoch(str(ev.injected_at))
    independent = loop.recovered - injected
    assert ev.fleet_mttr_s is not None
    assert abs(ev.fleet_mttr_s - independent) <= 0.5, (ev.fleet_mttr_s, independent)
    assert 1.5 <= ev.fleet_mttr_s <= 3.0  # the sandbox's boot delay plus sampling
    assert (store.run_dir / ev.journal).is_file()
    slos = {r["slo"] for r in map(json.loads, store.evidence_path.read_text().splitlines()) if r["type"] == "slo"}
    assert slos == {"mttr_s"}  # chaos measures recovery, not availability (no 30-day projection)
    assert ev.verdict == "pass"
    assert ev.fault_targets == [victim.id]
    budget = ev.error_budget
    assert budget["budget_server_s"] == pytest.approx(0.001 * 30 * 86400 * 10)  # 0.999 x 30 days x 10 servers
    assert abs(budget["burned_server_s"] - ev.fleet_mttr_s) <= 0.5  # one server down for about its MTTR
    assert budget["burned_share"] == pytest.approx(budget["burned_server_s"] / budget["budget_server_s"], rel=1e-3)
    assert "error budget:" in "\n".join(outcome.lines)


@pytest.mark.parametrize("experiment", ["network-partition", "network-latency"])
def test_network_faults_on_the_fault_path_recover(
    sandbox_factory: SandboxFactory, tmp_path: Path, experiment: str
) -> None:
    sandbox = sandbox_factory(servers=10)
    chaos = {**FAST, "proxy_base_address": f"127.251.{int(time.time() * 1000) % 250}.1"}
    env = load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=chaos)))
    outcome = run_chaos_experiment(env, experiment, RunStore.create(tmp_path / "reports", "r1"), seed=3)
    assert outcome.passed, outcome.reasons
    ev = outcome.evidence
    assert ev is not None
    assert len(ev.affected) == 1
    assert ev.fleet_mttr_s is not None
    assert 1.5 <= ev.fleet_mttr_s <= 4.0, ev.fleet_mttr_s  # the experiment holds the fault for 2 s
    front = ev.timeline[0]
    assert front["target"] == ev.affected[0]
    kinds = {s["error_kind"] for s in ev.timeline if s["target"] == ev.affected[0] and not s["ok"]}
    assert experiment != "network-partition" or kinds == {"timeout"}


def test_gameday_runs_in_order_skips_with_reason_and_aborts_below_floor(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=10)
    env = load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)))
    plan = GameDayPlan.model_validate(
        {
            "name": "t",
            "serving_floor": 0.9,
            "experiments": [{"experiment": "kill-one-server"}, {"experiment": "k8s-pod-kill"}],
        }
    )
    store = RunStore.create(tmp_path / "reports", "g1")
    summary = run_gameday(env, plan, store)
    rows = {r["experiment"]: r for r in summary["experiments"]}
    assert summary["verdict"] == "pass", summary
    assert rows["kill-one-server"]["result"] == "pass"
    assert rows["kill-one-server"]["fleet_mttr_s"] > 0
    assert rows["k8s-pod-kill"]["result"] == "skipped"
    assert "needs the environment's kubernetes section" in rows["k8s-pod-kill"]["reason"]
    assert (store.run_dir / "gameday-summary.md").read_text().startswith("# Game day t on itest: PASS")

    sandbox.inject(["mc-00001", "mc-00002"], "refuse")  # 80 % serving < floor 0.9
    aborted = run_gameday(env, plan, RunStore.create(tmp_path / "reports", "g2"))
    assert aborted["verdict"] == "inconclusive"  # nothing ran: nothing was measured
    assert "below the floor 0.9 before kill-one-server" in aborted["aborted"]
    assert aborted["reasons"][0].startswith("nothing ran: kill-one-server (not run: fleet serving ratio 0.800")
    assert "restore the fleet" in aborted["fix"]
    assert {r["result"] for r in aborted["experiments"]} == {"not run"}
    assert sandbox.status().faults.keys() == {"mc-00001", "mc-00002"}  # nothing else was touched


def test_plan_file_round_trip(tmp_path: Path) -> None:
    from mcproof.chaos.gameday import load_plan

    path = Path(__file__).resolve().parents[2] / "suites" / "chaos" / "plans" / "weekly-gameday.yaml"
    plan = load_plan(path)
    assert plan.experiments[0].experiment == "kill-one-server"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"experiments": []}))
    with pytest.raises(Exception, match="field experiments"):
        load_plan(bad)


def test_gameday_interrupts_an_experiment_below_the_floor_and_rolls_back(
    sandbox_factory: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=10, supervise=False)  # killed servers stay down until the rollback
    env = load_environment(
        str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos={**FAST, "recovery_window_s": 20}))
    )
    plan = GameDayPlan.model_validate(
        {
            "name": "t",
            "serving_floor": 0.9,
            "experiments": [{"experiment": "kill-20-percent"}, {"experiment": "kill-one-server"}],
        }
    )
    store = RunStore.create(tmp_path / "reports", "g1")
    started = time.monotonic()
    summary = run_gameday(env, plan, store)
    assert time.monotonic() - started < 15  # interrupted, not left to the 20 s recovery window
    assert summary["verdict"] == "fail"  # the fault took effect and the fleet fell below the floor
    assert "below the abort floor 0.9 during kill-20-percent" in summary["aborted"]
    assert [r["result"] for r in summary["experiments"]] == ["fail", "not run"]
    assert summary["verdict"] == combine(["fail"]).value
    journal = json.loads(next(store.run_dir.glob("journal-kill-20-percent-*.json")).read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    status = sandbox.status()
    assert status is not None
    assert status.down == []
    assert status.faults == {}


def _custom(tmp_path: Path, name: str, action: dict[str, object]) -> Path:
    """kill-one-server.json with its fault action replaced (hypothesis, wait and rollback kept)."""
    data = json.loads(
        (Path(__file__).resolve().parents[2] / "suites/chaos/experiments/kill-one-server.json").read_text()
    )
    data["method"][0] = {"type": "action", "name": name, "provider": {"type": "python", **action}}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return path


def test_a_fault_action_that_fails_is_inconclusive_not_pass(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    """The measured bug: the method action raised inside chaoslib, the journal still ended `completed`, and the
    run said PASS with MTTR 0.00 s over 0 servers. Here the sandbox refuses the fault's argument at run time."""
    sandbox = sandbox_factory(servers=10)
    env = load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)))
    experiment = _custom(
        tmp_path,
        "slow-by-nothing",
        {"module": "mcproof.chaos.actions", "func": "slow_servers", "arguments": {"count": 1, "delay_s": 0}},
    )
    store = RunStore.create(tmp_path / "reports", "r1")
    outcome = run_chaos_experiment(env, str(experiment), store, seed=1)
    journal = outcome.journal or {}
    assert journal["status"] == "completed"  # chaoslib's view ...
    assert journal["deviated"] is False
    assert journal["run"][0]["status"] == "failed"  # ... while the fault action failed
    assert outcome.verdict == "inconclusive"
    assert not outcome.passed
    assert outcome.reasons == [
        "fault action failed: slow-by-nothing: mcproof.errors.SandboxError: slow delay_s must "
        "be a number in (0, 300], got 0"
    ]
    assert "fault action reported" in outcome.fix
    ev = outcome.evidence
    assert ev is not None
    assert (ev.verdict, ev.passed, ev.fix) == ("inconclusive", False, outcome.fix)
    assert (ev.fleet_mttr_s, ev.mttr_p95_s) == (None, None)  # not "0.00 s": nothing was measured
    records = [json.loads(line) for line in store.evidence_path.read_text().splitlines()]
    assert not [r for r in records if r["type"] == "slo"]  # no MTTR of a fault that never happened
    text = "\n".join(outcome.lines)
    assert "verdict INCONCLUSIVE" in text
    assert "fleet MTTR" not in text
    assert "verdict PASS" not in text
    # a network fault with no fault path used to fail inside chaoslib the same way (GuardError): now refused
    path = _custom(tmp_path, "partition-without-path", {"module": "mcproof.chaos.actions", "func": "partition_network"})
    with pytest.raises(ConfigError, match="partition_network acts on the fault path, but the experiment declares none"):
        run_chaos_experiment(env, str(path), store, seed=1)
    assert len(list(store.run_dir.glob("journal-*.json"))) == 1  # chaoslib did not run for the refused one


def test_a_fault_the_observer_never_sees_is_inconclusive(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    env = load_environment(str(write_environment(tmp_path / "env.yaml", sandbox.state_dir, chaos=FAST)))
    experiment = _custom(
        tmp_path,
        "slow-by-10ms",
        {"module": "mcproof.chaos.actions", "func": "slow_servers", "arguments": {"count": 1, "delay_s": 0.01}},
    )
    victim = plan_experiment(env, str(experiment), seed=4).victims[0]
    outcome = run_chaos_experiment(env, str(experiment), RunStore.create(tmp_path / "reports", "r1"), seed=4)
    assert (outcome.journal or {})["run"][0]["status"] == "succeeded"  # the action itself worked
    assert outcome.verdict == "inconclusive", outcome.reasons
    assert outcome.reasons[0] == (
        f"fault affected no observed target: slow-by-10ms named {victim.id}, but the observer saw it serve throughout"
    )
    assert outcome.evidence is not None
    assert outcome.evidence.fault_targets == [victim.id]
    assert outcome.evidence.affected == []


def test_a_process_fault_without_a_fault_injector_is_refused_at_plan_time(tmp_path: Path) -> None:
    from mcproof.chaos.experiment import ExperimentSkipped

    env_file = write_environment(
        tmp_path / "env.yaml",
        tmp_path / "none",
        minecraft={
            "discovery": {"kind": "static", "servers": [{"name": "a", "host": "127.0.0.1", "port": 9}]},
            "status_timeout_s": 1.0,
        },
        sandbox=None,
    )
    env = load_environment(str(env_file))
    store = RunStore.create(tmp_path / "reports", "r1")
    with pytest.raises(ExperimentSkipped) as err:
        run_chaos_experiment(env, "kill-one-server", store)
    text = str(err.value)
    assert "\n" not in text
    assert "needs the fault capability 'process.kill'" in text
    assert "fault injector: none" in text
    assert "declare a `faults:` section" in text
    assert not list(store.run_dir.glob("journal-*.json"))  # chaoslib never started
    with pytest.raises(ConfigError):
        plan_experiment(env, "no-such-experiment")
