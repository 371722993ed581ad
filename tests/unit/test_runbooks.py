"""Runbook coverage: parsing, slugs, sections, links, experiments (pure; the dry run is in
tests/integration/test_runbook_dry_run.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from mcproof.monitoring import runbooks as rb
from mcproof.monitoring.settings import RunbookSettings
from mcproof_sandbox.monitoring.rules import RUNBOOKS, rule_groups

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "docs" / "operations"
EXPERIMENTS = ROOT / "suites" / "chaos" / "experiments"


def _sandbox_alerts() -> list[rb.Alert]:
    return rb.alerts_from_rule_groups(rule_groups(kube=True))


def test_slug_matches_github() -> None:
    assert rb.github_slug("Mitigation") == "mitigation"
    assert rb.github_slug("What's up? (v2.0)") == "whats-up-v20"
    assert rb.github_slug("a_b C") == "a_b-c"
    assert rb.anchors("# A\n# A\n## b") == {"a", "a-1", "b"}


def test_headings_skip_fenced_blocks() -> None:
    text = "# T\n```sh\n# comment\n```\n~~~\n## no\n~~~\n  ## Indented ok\n    ## code"
    assert rb.headings(text) == ["T", "Indented ok"]


def test_commands_join_continuations_and_carry_substitutions() -> None:
    text = "```sh\n# mcproof-dry-run: ns=a pod=p\nkubectl -n <ns> \\\n  delete pod <pod>\n$ kubectl get nodes\n```\n"
    text += "```text\nkubectl delete ns x\n```\n```sh\nkubectl get pod <pod>\n```"
    cmds = rb.commands_in(text)
    assert [c.text for c in cmds] == ["kubectl -n <ns>  delete pod <pod>", "kubectl get nodes", "kubectl get pod <pod>"]
    assert rb.substitute(cmds[0]) == ("kubectl -n a  delete pod p", [])
    assert rb.substitute(cmds[2])[1] == ["pod"]  # a new block starts without substitutions


def test_unresolved_placeholder_is_inconclusive_never_pass() -> None:
    cmd = rb.commands_in("```sh\nkubectl get pod <pod>\n```")[0]
    f = rb.dry_run(cmd, api_client=None, subject="x.md")
    assert f.verdict == "inconclusive"
    assert "mcproof-dry-run: pod=..." in f.detail


def test_parse_kubectl_forms() -> None:
    c = rb.parse_kubectl("kubectl scale --replicas 3 -n g deployment/web")
    assert (c.verb, c.args, c.flags["replicas"], c.namespace) == ("scale", ("deployment/web",), "3", "g")
    c = rb.parse_kubectl("kubectl annotate sts/a k=v --overwrite")
    assert c.args == ("sts/a", "k=v")
    assert c.namespace == "default"
    with pytest.raises(ValueError, match="not supported"):
        rb.parse_kubectl("kubectl exec -it p -- sh")
    with pytest.raises(ValueError, match="not a kubectl"):
        rb.parse_kubectl("curl http://127.0.0.1")


def test_sandbox_runbooks_pass_every_file_check() -> None:
    alerts = _sandbox_alerts()
    assert {a.name for a in alerts} == set(RUNBOOKS)
    links = rb.check_alert_links(alerts, str(OPS))
    assert [f.verdict for f in links] == ["pass"] * len(alerts), links
    for p in sorted(OPS.glob("*.md")):
        assert rb.check_sections(p).verdict == "pass", p
    exp = rb.check_experiments(EXPERIMENTS, alerts, str(OPS))
    assert exp
    assert all(f.verdict == "pass" for f in exp), exp


@pytest.fixture
def weak(tmp_path: Path) -> tuple[list[rb.Alert], Path, Path]:
    """A weakened copy: one alert without runbook_url, one with a dangling anchor, one runbook missing a
    section, one experiment without an alert."""
    ops = tmp_path / "ops"
    shutil.copytree(OPS, ops)
    text = (ops / "backup-too-old.md").read_text().replace("## Escalation", "## Who to call")
    (ops / "backup-too-old.md").write_text(text)
    groups = rule_groups(kube=True)
    for r in groups[1]["rules"]:
        if r["alert"] == "MinecraftServerDown":
            del r["annotations"]["runbook_url"]
        if r["alert"] == "MonitoringTargetDown":
            r["annotations"]["runbook_url"] = "monitoring-target-down.md#no-such-heading"
        if r["alert"] == "BackupTooOld":
            r["annotations"]["runbook_url"] = "missing.md"
    exps = tmp_path / "exp"
    shutil.copytree(EXPERIMENTS, exps)
    doc = json.loads((exps / "kill-one-server.json").read_text())
    doc["extensions"] = [e for e in doc["extensions"] if e["name"] != "mcproof"]
    (exps / "kill-one-server.json").write_text(json.dumps(doc))
    doc = json.loads((exps / "lag-one-server.json").read_text())
    next(e for e in doc["extensions"] if e["name"] == "mcproof")["alert"] = "NoSuchAlert"
    (exps / "lag-one-server.json").write_text(json.dumps(doc))
    return rb.alerts_from_rule_groups(groups), ops, exps


def test_weak_copy_fails_each_check(weak: tuple[list[rb.Alert], Path, Path]) -> None:
    alerts, ops, exps = weak
    links = {f.subject: f for f in rb.check_alert_links(alerts, str(ops))}
    assert links["MinecraftServerDown"].verdict == "fail"
    assert "no runbook_url" in links["MinecraftServerDown"].detail
    assert links["MonitoringTargetDown"].verdict == "fail"
    assert "#no-such-heading" in links["MonitoringTargetDown"].detail
    assert links["BackupTooOld"].verdict == "fail"
    assert "does not exist" in links["BackupTooOld"].detail
    assert links["KubeApiserverDown"].verdict == "pass"
    sec = rb.check_sections(ops / "backup-too-old.md")
    assert sec.verdict == "fail"
    assert "escalation" in sec.detail
    assert "backup-too-old.md" in sec.subject
    assert rb.check_sections(ops / "backup-too-old.md", ("symptoms", "impact")).verdict == "pass"
    exp = {f.subject: f for f in rb.check_experiments(exps, alerts, str(ops))}
    assert exp["kill-one-server.json"].verdict == "fail"
    assert "`alert`" in exp["kill-one-server.json"].detail
    assert exp["lag-one-server.json"].verdict == "fail"
    assert "NoSuchAlert" in exp["lag-one-server.json"].detail


def test_http_runbooks_are_inconclusive_not_pass() -> None:
    alerts = [rb.Alert("A", "https://wiki.example/runbooks/a.md#x")]
    (f,) = rb.check_alert_links(alerts, "https://wiki.example/runbooks")
    assert f.verdict == "inconclusive"
    assert "loopback" in f.detail
    (f,) = rb.check_alert_links(alerts, "/nonexistent")
    assert f.verdict == "inconclusive"


def test_load_alerts_from_file_and_refuses_remote(tmp_path: Path) -> None:
    from mcproof_sandbox.monitoring.rules import render_rules

    p = tmp_path / "rules.yml"
    p.write_text(render_rules(rule_groups()))
    assert next(a.name for a in rb.load_alerts(str(p))) == "MinecraftServerDown"
    with pytest.raises(ValueError, match="not found"):
        rb.load_alerts(str(tmp_path / "nope.yml"))
    with pytest.raises(ValueError, match="loopback"):
        rb.load_alerts("https://prometheus.example:9090")


def test_settings_reject_bad_input() -> None:
    with pytest.raises(ValidationError, match="must name"):
        RunbookSettings(alert_rules=" ", runbooks="docs/operations")
    with pytest.raises(ValidationError, match="at least one"):
        RunbookSettings(alert_rules="api", runbooks="d", required_sections=())
    assert RunbookSettings(alert_rules="api", runbooks="d").required_sections[0] == "symptoms"


def test_coverage_rows_and_report_table(weak: tuple[list[rb.Alert], Path, Path]) -> None:
    from mcproof.evidence.records import RunbookCoverageEvidence
    from mcproof.report.runbooks import build_runbook_panel

    alerts, ops, exps = weak
    rows, findings = rb.coverage(alerts, str(ops), experiments=exps, api_client=None)
    by = {r["alert"]: r for r in rows}
    assert by["MinecraftServerDown"]["link"] == "fail"
    assert "sections" not in by["MinecraftServerDown"]
    assert by["KubeApiserverDown"]["sections"] == "pass"
    assert by["KubeApiserverDown"]["dry_run"] == "inconclusive"  # no cluster: never a pass
    assert rb.overall(findings) == "fail"
    assert rb.overall([]) == "inconclusive"
    ev = RunbookCoverageEvidence("e", "m", "c", rb.overall(findings), rows, [f.__dict__ for f in findings])
    panel = build_runbook_panel([ev])
    assert panel.measured
    assert next(r.alert for r in panel.rows) == "MinecraftServerDown"
    assert any("backup-too-old.md" in f for f in panel.failed)
    assert not build_runbook_panel([]).measured


def test_report_renders_runbook_table() -> None:
    from dataclasses import replace

    from mcproof.evidence import RunInfo
    from mcproof.report.model import build_report
    from mcproof.report.render_html import render_html
    from mcproof.report.render_markdown import render_markdown
    from mcproof.report.runbooks import RunbookPanel, RunbookRow

    base = build_report([RunInfo("r1", "e", "dev", "t", "0", [], {}, "h")])
    panel = RunbookPanel(True, "runbook coverage fail", (RunbookRow("A", "a.md#x", "pass", "fail", "pass", 2),))
    report = replace(base, runbooks=panel)
    md = render_markdown(report)
    assert "## Runbook coverage" in md
    assert "| A | a.md#x | pass | fail | pass (2) |" in md
    assert "<td>a.md#x</td>" in render_html(report)
    assert "not measured" in render_markdown(base).split("## Runbook coverage", 1)[1]


def test_detection_records_the_fired_alerts_runbook() -> None:
    from typing import Any, cast

    from mcproof.monitoring.detection import runbook_url_of
    from mcproof.monitoring.promql import PromClient, PromError

    class Rules:
        def __init__(self, rules: list[dict[str, Any]] | None) -> None:
            self._rules = rules

        def rules(self) -> list[dict[str, Any]]:
            if self._rules is None:
                raise PromError("down")
            return self._rules

    rules = [
        {"type": "recording", "name": "r"},
        {"type": "alerting", "name": "A", "annotations": {"runbook_url": "a.md#mitigation"}},
        {"type": "alerting", "name": "B", "annotations": {}},
    ]
    assert runbook_url_of(cast(PromClient, Rules(rules)), "A") == "a.md#mitigation"
    assert runbook_url_of(cast(PromClient, Rules(rules)), "B") is None
    assert runbook_url_of(cast(PromClient, Rules(None)), "A") is None


def test_an_experiment_library_with_nothing_to_check_is_not_a_pass(tmp_path: Path) -> None:
    alerts = [rb.Alert("A", "a.md")]
    (missing,) = rb.check_experiments(tmp_path / "nope", alerts, str(tmp_path))
    assert missing.verdict == "inconclusive"
    assert "no experiment files" in missing.detail
    (tmp_path / "broken.json").write_text("{not json")
    (broken,) = rb.check_experiments(tmp_path, alerts, str(tmp_path))
    assert broken.verdict == "fail"
    assert broken.subject == "broken.json"


def test_a_malformed_rules_file_is_a_one_line_error(tmp_path: Path) -> None:
    p = tmp_path / "rules.yml"
    p.write_text("groups: [unclosed\n")
    with pytest.raises(ValueError, match="not a YAML rules file") as err:
        rb.load_alerts(str(p))
    assert "\n" not in str(err.value)
