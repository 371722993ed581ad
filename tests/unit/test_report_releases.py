"""The report's Releases panel, from rollout_gate evidence only."""

from __future__ import annotations

import json
from typing import Any

from mcproof.evidence import RunInfo
from mcproof.evidence.records import RolloutGateEvidence
from mcproof.report.model import build_report
from mcproof.report.releases import build_release_panel
from mcproof.report.render_html import render_html
from mcproof.report.render_json import render_json
from mcproof.report.render_markdown import render_markdown

RUN = RunInfo("r1", "e", "dev", "t", "0", [], {}, "h")


def _gate(**kw: Any) -> RolloutGateEvidence:
    args: dict[str, Any] = {
        "environment": "e",
        "method": "m",
        "check": "c",
        "workload": "Deployment minecraft/proxy",
        "service": "minecraft/proxy",
        "update": "patch release.yaml",
        "strategy": "RollingUpdate",
        "replicas": 3,
        "max_unavailable_allowed": 1,
        "max_unavailable_observed": 1,
        "expected_version": "1.21.5",
        "expected_protocol": 770,
        "old_versions": ["1.21.4/769"],
        "started_at": "t0",
        "ended_at": "t1",
        "interval_s": 0.2,
        "ping_timeout_s": 0.5,
        "template_changed": True,
        "rollout_completed": True,
        "rollout_s": 4.25,
        "samples": 137,
        "failed_requests": 3,
        "routed_failures": 0,
        "startup_failures": 3,
        "endpoints": [],
        "new_pods": [],
        "verdict": "pass",
        "reason": "every new pod answered 1.21.5/770",
        "decision_s": 5.0,
        "rollback": {"requested": True, "performed": False},
        "ticks": [],
    }
    args.update(kw)
    return RolloutGateEvidence(**args)


def _section(md: str) -> str:
    return md.split("## Releases", 1)[1].split("\n## ", 1)[0]


def test_no_gate_record_is_not_measured_never_an_empty_table() -> None:
    panel = build_release_panel([])
    assert not panel.measured
    assert not panel.rows
    assert panel.note.startswith("not measured")
    report = build_report([RUN])
    assert "**not measured: no rollout gate evidence" in _section(render_markdown(report))
    html = render_html(report).split('<section id="releases">', 1)[1].split("</section>", 1)[0]
    assert "not measured" in html
    assert "<table>" not in html
    assert '<a href="#releases">Releases</a>' in render_html(report)
    data = json.loads(render_json(report))["releases"]
    assert data["measured"] is False
    assert data["rows"] == []


def test_a_passing_release_renders_its_figures() -> None:
    report = build_report([RUN, _gate()])
    panel = report.releases
    assert panel.measured
    assert not panel.failed
    assert panel.note == "1 gated release(s): 1 pass, 0 fail, 0 inconclusive"
    md = _section(render_markdown(report))
    assert (
        "| Deployment minecraft/proxy | patch release.yaml | ✅ pass | every new pod answered 1.21.5/770 | 137 "
        "| 3 (0 / 3) | 1 / 1 | 4.25 s | — | not needed |"
    ) in md
    html = render_html(report)
    assert '<span class="badge pass">pass</span>' in html
    assert "<td>137</td><td>3 (0 / 3)</td><td>1 / 1</td><td>4.25 s</td>" in html
    row = json.loads(render_json(report))["releases"]["rows"][0]
    assert row["samples"] == 137
    assert row["startup_failures"] == 3
    assert row["routed_failures"] == 0
    assert row["rollout_s"] == 4.25
    assert row["rollback_performed"] is False
    assert row["servers"] == 0


def test_a_failed_release_with_a_rollback_shows_its_timeline_and_is_listed_as_failed() -> None:
    rb = {"requested": True, "performed": True, "to_revision": "3", "time_to_rollback_s": 0.12}
    failed = _gate(
        verdict="fail",
        reason="a pod stopped answering while still Ready",
        routed_failures=2,
        failed_requests=2,
        startup_failures=0,
        max_unavailable_observed=2,
        rollout_s=None,
        rollback={**rb, "healthy": True, "time_to_healthy_s": 3.5},
    )
    stuck = _gate(
        workload="Deployment minecraft/lobby",
        verdict="inconclusive",
        reason="the API server failed mid-rollout",
        rollback={**rb, "healthy": False, "time_to_healthy_s": None, "problem": "not every replica answered"},
    )
    unrequested = _gate(
        workload="Deployment minecraft/hub",
        verdict="fail",
        reason="wrong version",
        rollback={"requested": False, "performed": False, "problem": "not requested (--rollback)"},
    )
    report = build_report([RUN, failed, stuck, unrequested])
    panel = report.releases
    assert panel.note == "3 gated release(s): 0 pass, 2 fail, 1 inconclusive"
    assert len(panel.failed) == 3
    assert (
        panel.failed[0]
        == "fail: Deployment minecraft/proxy → patch release.yaml: a pod stopped answering while still Ready"
    )
    assert panel.failed[1].startswith("inconclusive: Deployment minecraft/lobby")
    md = _section(render_markdown(report))
    assert "| ❌ fail |" in md
    assert "| ⚠️ inconclusive |" in md
    assert "✅ pass" not in md
    assert "| 2 (2 / 0) | 2 / 1 | not completed |" in md
    assert "performed: rolled back in 0.12 s, healthy after 3.5 s" in md
    assert "performed: rolled back in 0.12 s, NOT healthy: not every replica answered" in md
    assert "not performed: not requested (--rollback)" in md
    assert "- fail: Deployment minecraft/proxy → patch release.yaml: a pod stopped answering" in md
    html = render_html(report)
    assert '<span class="badge fail">fail</span>' in html
    assert '<span class="badge inconclusive">' in html
    assert "<li>fail: Deployment minecraft/proxy → patch release.yaml" in html
    row = json.loads(render_json(report))["releases"]["rows"][0]
    assert row["time_to_rollback_s"] == 0.12
    assert row["time_to_healthy_s"] == 3.5
    assert row["rollback_result"] == "healthy"


def test_a_statefulset_shows_its_worst_server_downtime() -> None:
    down = [
        {"server": "mc-0", "last_old_answer_s": 1.0, "first_new_answer_s": 2.5, "downtime_s": 1.5},
        {"server": "mc-1", "last_old_answer_s": 3.0, "first_new_answer_s": 9.2, "downtime_s": 6.2},
        {"server": "mc-2", "last_old_answer_s": 10.0, "first_new_answer_s": 11.0, "downtime_s": 1.0},
    ]
    gate = _gate(workload="StatefulSet minecraft/mc", strategy="RollingUpdate", server_downtime=down)
    report = build_report([RUN, gate])
    row = report.releases.rows[0]
    assert (row.servers, row.worst_server, row.worst_server_downtime_s) == (3, "mc-1", 6.2)
    assert "| 6.2 s (mc-1; worst of 3 server(s)) |" in _section(render_markdown(report))
    assert "<td>6.2 s (mc-1; worst of 3 server(s))</td>" in render_html(report)
    never = _gate(
        workload="StatefulSet minecraft/mc",
        verdict="fail",
        server_downtime=[*down[:1], {**down[1], "first_new_answer_s": None, "downtime_s": None}],
    )
    row = build_release_panel([never]).rows[0]
    assert row.worst_server == "mc-1"
    assert row.worst_server_downtime_s is None
    assert row.downtime_text == "never answered (mc-1; worst of 2 server(s))"
    assert (
        build_release_panel([_gate(workload="StatefulSet minecraft/mc")]).rows[0].downtime_text == "no server replaced"
    )
