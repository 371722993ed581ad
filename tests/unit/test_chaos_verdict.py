"""A chaos verdict is true: the fault must be seen to take effect (journal statuses, what the actions named,
what the observer saw), otherwise the experiment is inconclusive; a game day where nothing ran is too.

Journals are in chaoslib 1.44's recorded shape: a raising action is ``failed`` with an ``exception`` list
while the journal still ends ``completed``."""

from __future__ import annotations

from typing import Any

import pytest

from mcproof.chaos.effect import FleetSnapshot, PodInfo, effect_problems, fault_effect
from mcproof.chaos.gameday import gameday_exit_code, gameday_verdict
from mcproof.chaos.measure import judge
from mcproof.chaos.recovery import Sample, compute_recovery
from mcproof.evidence.records import RecoveryEvidence, load_record

GUARD_FAILURE = (
    "chaoslib.exceptions.ActivityFailed: mcproof.errors.GuardError: process faults act on the embedded sandbox, "
    "but environment 'static' does not discover targets from one; use the chaostoolkit-kubernetes experiments\n"
)


def _action(
    name: str, func: str, status: str, output: Any = None, module: str = "mcproof.chaos.actions", **arguments: Any
) -> dict[str, Any]:
    run: dict[str, Any] = {
        "activity": {
            "type": "action",
            "name": name,
            "provider": {"type": "python", "module": module, "func": func, "arguments": arguments},
        },
        "output": output,
        "status": status,
        "start": "2026-12-01T20:00:00.000000+00:00",
        "end": "2026-12-01T20:00:00.100000+00:00",
        "duration": 0.1,
    }
    if status == "failed":
        run["exception"] = [GUARD_FAILURE]
    return run


def _probe(name: str) -> dict[str, Any]:
    return {
        "activity": {"type": "probe", "name": name, "provider": {"module": "mcproof.chaos.probes"}},
        "output": {"serving": True},
        "status": "succeeded",
    }


def _journal(*runs: dict[str, Any], status: str = "completed", deviated: bool = False) -> dict[str, Any]:
    return {
        "status": status,
        "deviated": deviated,
        "run": list(runs),
        "rollbacks": [],
        "steady_states": {"before": {"steady_state_met": True}},
    }


SNAP = FleetSnapshot(("mc-1", "mc-2", "mc-3"))
KILL_OK = _action("kill-one-server", "kill_servers", "succeeded", {"fault": "kill", "servers": ["mc-2"]})
DOWN = [Sample("mc-2", 10.0, True), Sample("mc-2", 10.5, False), Sample("mc-2", 11.0, True), Sample("mc-1", 10.5, True)]


def _verdict(journal: dict[str, Any], samples: list[Sample], snapshot: FleetSnapshot = SNAP, **kw: Any) -> Any:
    figures = compute_recovery(samples, 10.2)
    issues = effect_problems(fault_effect(journal, snapshot), set(snapshot.target_ids), set(figures.affected))
    return judge(
        journal,
        figures,
        effect_issues=issues,
        prior=kw.get("prior", []),
        aborted=kw.get("aborted", False),
        serving_after=kw.get("serving_after", True),
        last_down=[],
        mttr_slo_s=60,
        interval_s=0.5,
    )


def test_a_failed_fault_action_is_inconclusive_even_though_the_journal_completed() -> None:
    journal = _journal(_action("kill-one-server", "kill_servers", "failed"), _probe("wait-until-fleet-serving"))
    effect = fault_effect(journal, SNAP)
    assert effect.failed == (
        "kill-one-server: mcproof.errors.GuardError: process faults act on the embedded sandbox, but environment "
        "'static' does not discover targets from one; use the chaostoolkit-kubernetes experiments",
    )
    verdict = _verdict(journal, [Sample("mc-1", 10.5, True)])
    assert verdict.verdict.value == "inconclusive"
    assert verdict.reasons[0].startswith("fault action failed: kill-one-server: mcproof.errors.GuardError")
    assert "fault action reported" in verdict.fix


def test_a_fault_that_names_no_target_or_is_never_seen_is_inconclusive() -> None:
    nothing = _journal(_action("kill", "kill_servers", "succeeded", {"fault": "kill", "servers": []}))
    assert _verdict(nothing, DOWN).reasons == ["fault affected no observed target: kill named no Minecraft server"]
    unseen = _journal(KILL_OK)
    verdict = _verdict(unseen, [Sample("mc-2", 10.5, True), Sample("mc-2", 11.0, True)])
    assert verdict.verdict.value == "inconclusive"
    assert verdict.reasons == [
        "fault affected no observed target: kill-one-server named mc-2, but the observer saw it serve throughout"
    ]
    assert "observer_interval_s" in verdict.fix
    no_fault = _journal(_action("heal", "heal_network", "succeeded", {"path": None}))
    assert _verdict(no_fault, DOWN).reasons[0].startswith("no fault action ran")
    unwatched = effect_problems(fault_effect(unseen, SNAP), {"mc-1"}, {"mc-1"})
    assert unwatched == ["the observer did not watch the fault's target(s) mc-2"]


def test_a_fault_seen_to_take_effect_passes_or_fails_on_recovery() -> None:
    assert _verdict(_journal(KILL_OK), DOWN).verdict.value == "pass"
    never = [Sample("mc-2", 10.0, True), Sample("mc-2", 10.5, False), Sample("mc-2", 11.0, False)]
    failed = _verdict(_journal(KILL_OK, deviated=True), never)
    assert failed.verdict.value == "fail"
    assert "1 server(s) never recovered before the rollbacks: mc-2" in failed.reasons
    assert "the steady-state hypothesis deviated (journal deviated: true)" in failed.reasons
    floor = _verdict(
        _journal(KILL_OK, status="interrupted"),
        never,
        aborted=True,
        prior=["fleet serving ratio fell to 0.800, below the abort floor 0.9"],
    )
    assert floor.verdict.value == "fail"


def test_a_rollback_that_did_not_succeed_is_a_fail() -> None:
    journal = _journal(KILL_OK)
    journal["rollbacks"] = [_action("clear-all-sandbox-faults", "clear_faults", "failed")]
    verdict = _verdict(journal, DOWN)
    assert verdict.verdict.value == "fail"
    assert verdict.reasons == [
        "rollback clear-all-sandbox-faults did not succeed: mcproof.errors.GuardError: process faults act on the "
        "embedded sandbox, but environment 'static' does not discover targets from one; use the "
        "chaostoolkit-kubernetes experiments"
    ]


def test_an_outside_interruption_before_recovery_is_inconclusive() -> None:
    never = [Sample("mc-2", 10.0, True), Sample("mc-2", 10.5, False), Sample("mc-2", 11.0, False)]
    cut = _verdict(_journal(KILL_OK, status="interrupted"), never)
    assert cut.verdict.value == "inconclusive"
    assert cut.reasons[0].startswith("interrupted from outside (journal status interrupted)")
    assert cut.fix == "re-run the experiment without interrupting it"
    broken = _verdict(_journal(KILL_OK, status="interrupted"), never, serving_after=False)
    assert broken.verdict.value == "fail"  # the rollbacks did not restore the fleet: a fail whatever cut it short


def test_hypothesis_not_met_before_the_method_is_inconclusive() -> None:
    journal = {
        "status": "failed",
        "deviated": False,
        "run": [],
        "steady_states": {"before": {"steady_state_met": False}},
    }
    verdict = _verdict(journal, [])
    assert verdict.verdict.value == "inconclusive"
    assert verdict.reasons[0] == "the steady-state hypothesis was not met before the method: no fault was injected"


def test_kubernetes_outputs_resolve_to_observed_targets() -> None:
    snapshot = FleetSnapshot(
        ("t/mc-0", "t/mc-1", "t/proxy[0]", "t/proxy[1]"),
        {
            "t/mc-0": PodInfo("t/mc-0", "u0", "node-a", "t/mc-0"),
            "t/mc-1": PodInfo("t/mc-1", "u1", "node-b", "t/mc-1"),
            "t/proxy-5d-aa": PodInfo("t/proxy-5d-aa", "u2", "node-b", "t/proxy[0]"),
            "kube-system/dns": PodInfo("kube-system/dns", "u3", "node-b", None),
        },
    )
    kill = _action("terminate", "terminate_pods", "succeeded", ["mc-1"], module="chaosk8s.pod.actions", ns="t")
    assert fault_effect(_journal(kill), snapshot).targets == ("t/mc-1",)
    drain = _action("drain", "drain_nodes", "succeeded", ["node-b"], module="chaosk8s.node.actions")
    effect = fault_effect(_journal(drain), snapshot)
    assert effect.targets == ("t/mc-1", "t/proxy[0]")
    assert effect.pods == ("kube-system/dns", "t/mc-1", "t/proxy-5d-aa")
    # a Deployment's replacement comes back in another slot: any slot of the same workload seen down counts
    assert effect_problems(effect, set(snapshot.target_ids), {"t/mc-1", "t/proxy[1]"}) == []
    other_ns = _action(
        "terminate", "terminate_pods", "succeeded", ["dns"], module="chaosk8s.pod.actions", ns="kube-system"
    )
    assert effect_problems(fault_effect(_journal(other_ns), snapshot), set(snapshot.target_ids), set()) == [
        "fault affected no observed target: terminate named no Minecraft server"
    ]


def test_an_invisible_fault_needs_a_proof() -> None:
    effect = fault_effect(_journal(KILL_OK), SNAP)
    ids = set(SNAP.target_ids)
    assert effect_problems(effect, ids, set(), visible=False, proof=(True, "pod(s) t/mc-1 deleted")) == []
    assert effect_problems(effect, ids, set(), visible=False, proof=(False, "pod(s) t/mc-1 still run"))[0].endswith(
        "was not proven in place: pod(s) t/mc-1 still run"
    )
    assert "cannot prove" in effect_problems(effect, ids, set(), visible=False)[0]


def test_an_action_cut_by_an_interruption_is_not_a_failed_fault() -> None:
    cut = _action("heal-the-path", "heal_network", "succeeded")
    del cut["status"]
    journal = _journal(KILL_OK, cut, status="interrupted")
    assert fault_effect(journal, SNAP).failed == ()
    completed = _journal(KILL_OK, {**cut, "status": "failed", "exception": ["ActivityFailed: boom\n"]})
    assert fault_effect(completed, SNAP).failed == ("heal-the-path: ActivityFailed: boom",)


def test_gameday_with_everything_skipped_or_nothing_run_is_inconclusive() -> None:
    skipped = [
        {"experiment": "k8s-pod-kill", "result": "skipped", "reason": "needs kubernetes"},
        {"experiment": "kill-one-server", "result": "skipped", "reason": "no fault injector"},
    ]
    verdict, reasons, fix = gameday_verdict(skipped, None)
    assert verdict == "inconclusive"
    assert reasons[0].startswith("nothing ran: k8s-pod-kill (skipped: needs kubernetes)")
    assert fix
    assert gameday_exit_code({"verdict": verdict, "experiments": skipped}) == 3
    before = [{"experiment": "kill-one-server", "result": "not run", "reason": "below the floor 0.9 before it"}]
    assert gameday_verdict(before, "fleet serving ratio 0.8 below the floor 0.9 before kill-one-server")[0] == (
        "inconclusive"
    )
    mixed = [
        {"experiment": "a", "result": "pass"},
        {"experiment": "b", "result": "inconclusive", "reason": "x", "fix": "do y"},
    ]
    assert gameday_verdict(mixed, None) == ("inconclusive", ["b: inconclusive: x"], "do y")
    assert gameday_verdict([*mixed, {"experiment": "c", "result": "fail", "reason": "z"}], None)[0] == "fail"
    aborted = [{"experiment": "a", "result": "pass"}, {"experiment": "b", "result": "not run", "reason": "floor"}]
    assert gameday_verdict(aborted, "fleet serving ratio 0.7 below the floor 0.8 after a")[0] == "fail"
    assert gameday_exit_code({"verdict": "pass", "experiments": [{"result": "pass"}]}) == 0
    assert gameday_exit_code({"verdict": "dry-run", "experiments": [{"result": "dry-run"}]}) == 0


def test_recovery_evidence_verdict_and_passed_agree() -> None:
    base: dict[str, Any] = {
        "type": "recovery",
        "environment": "e",
        "method": "m",
        "check": "c",
        "experiment": "x",
        "journal": "j",
        "journal_status": "completed",
        "deviated": False,
        "passed": False,
        "reasons": [],
        "seed": 1,
        "injected_at": None,
        "observed_from": "t",
        "observed_to": "t",
        "interval_s": 0.5,
        "targets_observed": 1,
        "affected": [],
        "unrecovered": [],
        "per_server": [],
        "mttr_p50_s": None,
        "mttr_p95_s": None,
        "mttr_max_s": None,
        "fleet_mttr_s": None,
        "mttr_slo_s": 60.0,
        "good_sample_ratio": 1.0,
        "downtime_server_s": 0.0,
        "serving_after_rollback": True,
        "timeline": [],
    }
    older = load_record(base)  # written before `verdict` existed
    assert isinstance(older, RecoveryEvidence)
    assert older.verdict == "fail"
    assert load_record({**base, "passed": True}).verdict == "pass"  # type: ignore[attr-defined]
    record = load_record({**base, "verdict": "inconclusive", "fix": "f"})
    assert record.as_dict()["passed"] is False
    assert record.as_dict()["verdict"] == "inconclusive"
    with pytest.raises(ValueError, match="contradicts"):
        load_record({**base, "passed": True, "verdict": "inconclusive"})
    with pytest.raises(ValueError, match="pass, fail or inconclusive"):
        load_record({**base, "verdict": "aborted"})
