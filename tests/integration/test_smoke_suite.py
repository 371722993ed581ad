"""The smoke suite against a real sandbox: passes when healthy, and FAILS naming the server and
the reason for every planted fault (wrong version, closed port, hang, malformed reply, slow replies)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from suite_runs import check_outcomes, run_cli, run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

SandboxFactory = Callable[..., Sandbox]


_MINECRAFT_CHECKS = ("smoke/test_minecraft.py", "smoke/test_players.py")


def test_healthy_sandbox_passes_and_writes_every_output(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=20)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    run = run_suite(env_file, tmp_path / "reports")
    assert run.code == 0, run.output
    assert run.run_dir is not None
    for name in ("evidence.jsonl", "environment.json", "report.json", "report.md", "index.html", "junit.xml"):
        assert (run.run_dir / name).is_file(), name
    assert any((run.run_dir / "allure-results").iterdir())
    assert (tmp_path / "reports" / "latest").resolve() == run.run_dir.resolve()
    report = run.report()
    assert report["verdict"] == "pass"
    outcomes = check_outcomes(run)
    minecraft = {k: o for k, o in outcomes.items() if o["nodeid"].split("::")[0].endswith(_MINECRAFT_CHECKS)}
    assert len(minecraft) == 7  # six status/query checks and "a player can join"
    assert {o["outcome"] for o in minecraft.values()} == {"passed"}, minecraft
    others = [o for o in outcomes.values() if o not in minecraft.values()]
    assert all(o["outcome"] == "skipped" and o["message"] for o in others), others  # not configured here: say why
    fleet = next(r for r in run.evidence() if r["type"] == "fleet_status")
    assert fleet["total"] == 20
    assert fleet["serving"] == 20
    assert len(fleet["results"]) == 20
    slos = {r["slo"]: r for r in run.evidence() if r["type"] == "slo"}
    assert slos["serving_ratio"]["measured"] == 1.0
    assert 0 < slos["status_latency_p95_ms"]["measured"] < 250


def test_planted_faults_fail_with_server_and_reason(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=20)
    sandbox.inject(["mc-00001"], "wrong_version", version_name="1.8.9", protocol=47)
    sandbox.inject(["mc-00002"], "refuse")
    sandbox.inject(["mc-00003"], "hang")
    sandbox.inject(["mc-00004"], "malformed")
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    run = run_suite(env_file, tmp_path / "reports", timeout=120)
    assert run.code == 1, run.output
    outcomes = check_outcomes(run)

    answers = outcomes["test_every_server_answers_status"]
    assert answers["outcome"] == "failed"
    message = answers["message"]
    assert "3 of 20 servers failed" in message
    assert "mc-00002 (refused" in message
    assert "mc-00003 (timeout" in message
    assert "mc-00004 (malformed" in message

    version = outcomes["test_version_and_protocol_match"]
    assert version["outcome"] == "failed"
    assert "mc-00001 (version '1.8.9' != expected '1.21.4'; protocol 47 != expected 769)" in version["message"]

    ratio = outcomes["test_fleet_serving_ratio"]
    assert ratio["outcome"] == "failed"
    assert "17 of 20" in ratio["message"]
    assert run.report()["verdict"] == "fail"
    fleet = next(r for r in run.evidence() if r["type"] == "fleet_status")
    kinds = {f["target"]: f["error_kind"] for f in fleet["failures"]}
    assert kinds == {"mc-00002": "refused", "mc-00003": "timeout", "mc-00004": "malformed"}


def test_slow_servers_break_the_latency_slo(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=20)
    sandbox.inject(["mc-00005", "mc-00006"], "slow", delay_s=0.3)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, slo__status_latency_p95_ms=100)
    run = run_suite(env_file, tmp_path / "reports", "-k", "latency")
    assert run.code == 1, run.output
    latency = check_outcomes(run)["test_status_latency_p95_within_slo"]
    assert latency["outcome"] == "failed"
    assert "exceeds the SLO 100" in latency["message"]
    assert "mc-00005" in latency["message"] or "mc-00006" in latency["message"]
    slo = next(r for r in run.evidence() if r["type"] == "slo" and r["slo"] == "status_latency_p95_ms")
    assert slo["passed"] is False
    assert slo["measured"] > 100


def test_query_check_fails_on_a_closed_server(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=10)
    sandbox.inject(["mc-00007"], "refuse")
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    run = run_suite(env_file, tmp_path / "reports", "-k", "query")
    assert run.code == 1, run.output
    query = check_outcomes(run)["test_query_answers"]
    assert query["outcome"] == "failed"
    assert "mc-00007" in query["message"]


def test_query_is_skipped_with_reason_when_disabled(sandbox_factory: SandboxFactory, tmp_path: Path) -> None:
    sandbox = sandbox_factory(servers=5)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir, minecraft__query_enabled=False)
    run = run_suite(env_file, tmp_path / "reports", "-k", "query")
    assert run.code == 3, run.output  # a run in which every check was skipped measured nothing: inconclusive
    assert run.report()["verdict"] == "inconclusive"
    query = check_outcomes(run)["test_query_answers"]
    assert query["outcome"] == "skipped"
    assert "Query is not enabled" in query["message"]


def test_stopped_sandbox_fails_with_one_line_hint(tmp_path: Path) -> None:
    env_file = write_environment(tmp_path / "env.yaml", tmp_path / "no-sandbox")
    run = run_suite(env_file, tmp_path / "reports", "-k", "answers_status")
    assert run.code == 1
    message = check_outcomes(run)["test_every_server_answers_status"]["message"]
    assert "mcproof sandbox up" in message
    assert "Traceback" not in message


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("name: x\ntier: [dev\n", "malformed YAML"),
        ("name: x\ntier: dev\n", "field minecraft"),
    ],
)
def test_bad_environment_file_is_one_line(tmp_path: Path, content: str, fragment: str) -> None:
    env_file = tmp_path / "bad.yaml"
    env_file.write_text(content)
    done = run_cli("run", "--env", str(env_file), "--suite", "smoke")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("mcproof: error: ")
    assert fragment in lines[0]
    assert "Traceback" not in done.stdout + done.stderr


def test_unknown_environment_name_is_one_line() -> None:
    done = run_cli("run", "--env", "no-such-env", "--suite", "smoke")
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "mcproof: error: unknown environment 'no-such-env' (known: local, local-pterodactyl, production.example, pterodactyl.example, staging.example); "
        "pass --env NAME or a path to a YAML file"
    )


def test_pytest_usage_error_for_bad_env(tmp_path: Path) -> None:
    env_file = tmp_path / "bad.yaml"
    env_file.write_text("name: x\ntier: dev\n")
    run = run_suite(env_file, tmp_path / "reports")
    assert run.code == 4
    assert "field minecraft" in run.output
    assert "Traceback" not in run.output
