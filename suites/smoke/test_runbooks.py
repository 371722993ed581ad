"""Smoke (read-only; mutations are server-side dry runs): runbook coverage of the environment's alerts
(docs/runbooks.md). ``monitoring.runbooks`` names the alert rules (a rules file, or ``api``: the rules API of
``monitoring.prometheus_url``), the runbooks dir and the required sections. Every alert must link a runbook
that exists (and its ``#anchor``), every runbook must have the sections, every chaos experiment must name
its alert and runbook, and every kubectl command in a runbook's ``sh`` blocks must pass a server-side dry
run against the environment's cluster (inconclusive without a ``kubernetes`` section).

Skipped with the reason when the environment has no ``monitoring.runbooks``.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from mcproof.config import Environment
from mcproof.connect.prometheus import NoPrometheus, prometheus_client
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.evidence.records import RunbookCoverageEvidence
from mcproof.monitoring import runbooks as rb
from mcproof.monitoring.promql import PromError
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.smoke


def _path(value: str, root: Path) -> str:
    if value.startswith(("http://", "https://")) or Path(value).is_absolute():
        return value
    return str(root / value)


def test_every_alert_has_a_working_runbook(
    environment: Environment, evidence: RunStore, request: pytest.FixtureRequest
) -> None:
    settings = environment.monitoring
    cfg = settings.runbooks if settings is not None else None
    if cfg is None:
        pytest.skip(f"environment '{environment.name}' has no monitoring.runbooks; runbook coverage does not apply")
    root = Path(str(request.config.rootpath))
    if cfg.alert_rules == "api":
        try:
            prom = prometheus_client(environment)
            rules = prom.rules()
        except (NoPrometheus, PromError) as err:
            inconclusive(f"alert rules unreadable: {err}", "start the environment's Prometheus or give a rules file")
        alerts = rb.alerts_from_rule_groups([{"name": r.get("group", ""), "rules": [r]} for r in rules])
        source = f"{prom.base_url}/api/v1/rules"
    else:
        source = _path(cfg.alert_rules, root)
        try:
            alerts = rb.load_alerts(source)
        except ValueError as err:
            pytest.fail(str(err), pytrace=False)
    if not alerts:
        inconclusive(f"no alerting rules in {source}", "load the platform's alert rules into Prometheus")
    api_client = None
    if environment.kubernetes is not None:
        try:
            api_client = request.getfixturevalue("kube").client
        except McproofError:
            api_client = None
    runbooks = _path(cfg.runbooks, root)
    rows, findings = rb.coverage(
        alerts,
        runbooks,
        required=cfg.required_sections,
        experiments=Path(_path(cfg.experiments, root)) if cfg.experiments else None,
        api_client=api_client,
    )
    verdict = rb.overall(findings)
    evidence.append(
        RunbookCoverageEvidence(
            environment=environment.name,
            method=f"alerts from {source}; runbooks under {runbooks}; sections {', '.join(cfg.required_sections)}; "
            "kubectl commands of sh blocks as server-side dry runs (dryRun=All) or reads",
            check="test_every_alert_has_a_working_runbook",
            verdict=verdict,
            rows=rows,
            findings=[asdict(f) for f in findings],
        )
    )
    failed = [f for f in findings if f.verdict == "fail"]
    if failed:
        pytest.fail(
            f"{len(failed)} runbook finding(s) failed: " + "; ".join(f"{f.subject}: {f.detail}" for f in failed[:10]),
            pytrace=False,
        )
    unsure = [f for f in findings if f.verdict == "inconclusive"]
    if unsure:
        inconclusive(
            f"{len(unsure)} runbook finding(s) inconclusive: "
            + "; ".join(f"{f.subject}: {f.detail}" for f in unsure[:5]),
            "see docs/runbooks.md (placeholders need `# mcproof-dry-run:`; http runbooks cannot be fetched)",
        )
