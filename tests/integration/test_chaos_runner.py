"""Chaos runner against a real sandbox: observer MTTR vs an independent probe loop, an unrecovered target,
network faults through the fault proxy, and a game day."""

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

from mcproof.chaos.gameday import GameDayPlan, run_gameday
from mcproof.chaos.recovery import iso_to_epoch
from mcproof.chaos.runner import plan_experiment, run_chaos_experiment
from mcproof.config import load_environment
from mcproof.evidence.store import RunStore
from mcproof.sandbox import Sandbox

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
    slos = {r["slo"] for r in map(json.loads, store.evidence_path.read_text().splitlines())
            if r["type"] == "slo"}  # fmt: skip
    assert slos == {"mttr_s", "availability"}


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
        {"name": "t", "serving_floor": 0.9,
         "experiments": [{"experiment": "kill-one-server"}, {"experiment": "k8s-pod-kill"}]}
    )  # fmt: skip
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
    assert aborted["verdict"] == "aborted"
    assert "below the floor 0.9 before kill-one-server" in aborted["aborted"]
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
        {"name": "t", "serving_floor": 0.9,
         "experiments": [{"experiment": "kill-20-percent"}, {"experiment": "kill-one-server"}]}
    )  # fmt: skip
    store = RunStore.create(tmp_path / "reports", "g1")
    started = time.monotonic()
    summary = run_gameday(env, plan, store)
    assert time.monotonic() - started < 15  # interrupted, not left to the 20 s recovery window
    assert summary["verdict"] == "aborted"
    assert "below the abort floor 0.9 during kill-20-percent" in summary["aborted"]
    assert [r["result"] for r in summary["experiments"]] == ["fail", "not run"]
    journal = json.loads(next(store.run_dir.glob("journal-kill-20-percent-*.json")).read_text())
    assert journal["status"] == "interrupted"
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    status = sandbox.status()
    assert status is not None
    assert status.down == []
    assert status.faults == {}
