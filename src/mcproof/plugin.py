"""pytest plugin: the `mcproof` option group, suite markers, and evidence hooks.

It activates when `--env` is given (or MCPROOF_ENV is set) or when the collected paths are under
`suites/`. Activated, it loads the environment (one-line UsageError on a bad file), opens
`reports/<run-id>/`, points JUnit XML and Allure results there unless told otherwise, records a
`CheckOutcome` per check, and at the end writes `run_end` and the report, and links `reports/latest`.
A check that raises `InconclusiveError` (`mcproof.verdict.inconclusive`) is recorded `inconclusive`,
shown as INCONCLUSIVE in the terminal and as failed (JUnit) / broken (Allure) with its reason; the
session's exit code is the run verdict's (`mcproof.verdict`: 0 pass, 1 fail, 2 refused, 3 inconclusive).
With Allure enabled, each check's Allure result gets the evidence records it appended as JSON
attachments (redacted by the store, size-capped; see `mcproof.evidence.attachments`).
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from mcproof.config import load_environment
from mcproof.errors import InconclusiveError, McproofError
from mcproof.evidence import CheckOutcome, RunScope
from mcproof.session import SUITES, RunSession
from mcproof.verdict import EXIT_INCONCLUSIVE, EXIT_REFUSED, exit_code

SESSION_KEY = pytest.StashKey[RunSession]()
EVIDENCE_OFFSET_KEY = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcproof", "mcproof: target environment and evidence")
    group.addoption(
        "--env",
        dest="mcproof_env",
        default=os.environ.get("MCPROOF_ENV"),
        help="environment name in environments/ or a path to its YAML (default: local)",
    )
    group.addoption(
        "--reports-dir",
        dest="mcproof_reports_dir",
        default=os.environ.get("MCPROOF_REPORTS_DIR", "reports"),
        help="where reports/<run-id>/ is written (default: reports)",
    )
    group.addoption("--run-id", dest="mcproof_run_id", default=None, help="run id (default: time-env-random)")
    group.addoption(
        "--require-suites",
        dest="mcproof_require_suites",
        default="",
        help="comma-separated suites (or 'all') whose SLOs the run is held to even if their checks were "
        "deselected (a sign-off requires all)",
    )
    group.addoption(
        "--no-report",
        dest="mcproof_no_report",
        action="store_true",
        help="record evidence but do not render the report at the end",
    )


def _targets_suites(config: pytest.Config) -> bool:
    paths = config.args or []
    root = Path(str(config.rootpath)) / "suites"
    for arg in paths:
        path = Path(arg.split("::", 1)[0])
        resolved = path if path.is_absolute() else Path(str(config.invocation_params.dir)) / path
        try:
            resolved.resolve().relative_to(root.resolve())
            return True
        except ValueError:
            continue
    return False


def get_session(config: pytest.Config) -> RunSession | None:
    return config.stash.get(SESSION_KEY, None)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    for suite in SUITES:
        config.addinivalue_line("markers", f"{suite}: mcproof {suite} suite")
    env_name = config.getoption("mcproof_env")
    if env_name is None and not _targets_suites(config):
        return
    if hasattr(config, "workerinput"):
        return  # xdist workers report to the controller; the controller owns the run store
    try:
        env = load_environment(env_name or "local")
        session = RunSession.start(
            env, Path(config.getoption("mcproof_reports_dir")), config.getoption("mcproof_run_id")
        )
    except McproofError as err:
        raise pytest.UsageError(str(err)) from None
    config.stash[SESSION_KEY] = session
    run_dir = session.store.run_dir
    if not getattr(config.option, "xmlpath", None):
        config.option.xmlpath = str(run_dir / "junit.xml")
    if hasattr(config.option, "allure_report_dir") and not config.option.allure_report_dir:
        config.option.allure_report_dir = str(run_dir / "allure-results")


def suite_of(item: pytest.Item) -> str | None:
    """The suite a check belongs to: its marker, else its folder under suites/."""
    for suite in SUITES:
        if item.get_closest_marker(suite) is not None:
            return suite
    parts = Path(str(item.path)).parts
    if "suites" in parts:
        index = parts.index("suites")
        if index + 1 < len(parts) and parts[index + 1] in SUITES:
            return parts[index + 1]
    return None


INCONCLUSIVE_ATTR = "mcproof_inconclusive"


def _message(report: pytest.TestReport) -> str:
    reason = getattr(report, INCONCLUSIVE_ATTR, None)
    if reason:
        return str(reason)
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longrepr or "")[:2000]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(InconclusiveError):
        setattr(report, INCONCLUSIVE_ATTR, str(call.excinfo.value))
        report.user_properties.append(("mcproof_verdict", "inconclusive"))
    session = get_session(item.config)
    suite = suite_of(item)
    if session is None or suite is None:
        return
    failed_setup = report.when == "setup" and not report.passed
    failed_teardown = report.when == "teardown" and report.failed
    if report.when != "call" and not failed_setup and not failed_teardown:
        return
    if report.skipped:
        verdict = "skipped"
    elif getattr(report, INCONCLUSIVE_ATTR, None):
        verdict = "inconclusive"
    elif report.failed:
        verdict = "failed" if report.when == "call" else "error"
    else:
        verdict = "passed"
    session.checks += 1
    session.store.append(
        CheckOutcome(
            environment=session.environment.name,
            suite=suite,
            check=item.name,
            nodeid=item.nodeid,
            outcome=verdict,
            duration_s=round(report.duration, 4),
            message=_message(report) if verdict != "passed" else "",
        )
    )


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> tuple[str, str, str] | None:
    """Inconclusive checks get their own word in the terminal (pytest still counts them as failed)."""
    if getattr(report, INCONCLUSIVE_ATTR, None):
        return "inconclusive", "I", "INCONCLUSIVE"
    return None


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Record which suites this run covers: the report requires the SLOs those suites evidence."""
    run = get_session(session.config)
    if run is None:
        return
    suites = {s for s in (suite_of(item) for item in session.items) if s is not None}
    required = str(session.config.getoption("mcproof_require_suites") or "")
    suites |= set(SUITES) if required.strip() == "all" else {s.strip() for s in required.split(",") if s.strip()}
    run.store.append(RunScope(run_id=run.run_id, suites=sorted(suites), checks=len(session.items)))


def _allure_enabled(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "allure_report_dir", None))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Remember where evidence.jsonl ends before the check (and the fixtures it sets up first) run."""
    session = get_session(item.config)
    if session is None or not _allure_enabled(item.config):
        return
    try:
        item.stash[EVIDENCE_OFFSET_KEY] = session.store.evidence_path.stat().st_size
    except OSError:
        item.stash[EVIDENCE_OFFSET_KEY] = 0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Generator[None, Any, None]:
    """After teardown, attach to the check's Allure result the evidence it appended (redacted, capped)."""
    yield
    session = get_session(item.config)
    offset = item.stash.get(EVIDENCE_OFFSET_KEY, None)
    if session is None or offset is None:
        return
    from mcproof.evidence.attachments import attach_to_allure, read_new_lines

    attach_to_allure(read_new_lines(session.store.evidence_path, offset))


# pytest's own exit statuses that mean the run was refused or broke off (interrupted, internal, usage).
_PYTEST_REFUSED = {
    int(pytest.ExitCode.INTERRUPTED),
    int(pytest.ExitCode.INTERNAL_ERROR),
    int(pytest.ExitCode.USAGE_ERROR),
}


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Close the run and make the exit code the verdict's (refusals and interruptions stay 2)."""
    run = get_session(session.config)
    if run is None:
        return
    run.finish(int(exitstatus), run.checks, render=not session.config.getoption("mcproof_no_report"))
    if int(exitstatus) in _PYTEST_REFUSED:
        session.exitstatus = EXIT_REFUSED
    elif run.verdict is None:
        session.exitstatus = EXIT_INCONCLUSIVE
    else:
        session.exitstatus = exit_code(run.verdict)


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    run = get_session(config)
    if run is None:
        return
    if config.getoption("mcproof_no_report"):
        terminalreporter.write_line(f"mcproof evidence: {run.store.run_dir}")
        return
    from mcproof.report import render_summary_lines

    if run.report is None:
        terminalreporter.write_line(f"mcproof report NOT written: {run.report_error}", red=True)
        return
    for line in render_summary_lines(run.report, run.store.run_dir):
        terminalreporter.write_line(line)
