"""The state of one mcproof run inside pytest: environment, run store, secrets for redaction."""

from __future__ import annotations

import platform
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof import __version__
from mcproof.clock import utc_now
from mcproof.config import Environment
from mcproof.errors import McproofError, SecretError
from mcproof.evidence import RunInfo, RunStore, new_run_id
from mcproof.secrets import Secret, SecretRef

SUITES = ("smoke", "load", "chaos", "dr", "security", "compliance")


def _secret_refs(env: Environment) -> list[SecretRef]:
    refs = [env.minecraft.rcon.password]
    if env.platform_api is not None:
        refs.append(env.platform_api.token)
    return [ref for ref in refs if ref is not None]


def resolvable_secrets(env: Environment) -> list[Secret]:
    """Every secret of the environment that can be read now (for redaction; missing ones are skipped)."""
    found: list[Secret] = []
    for ref in _secret_refs(env):
        try:
            found.append(ref.resolve(env.base_dir))
        except SecretError:
            continue
    return found


@dataclass
class RunSession:
    """One run: created when the plugin activates, closed at session finish."""

    environment: Environment
    store: RunStore
    run_id: str
    checks: int = 0
    report: Any = None
    report_error: str = "no report rendered"
    verdict: str | None = None

    @classmethod
    def start(cls, env: Environment, reports_dir: Path, run_id: str | None = None) -> RunSession:
        run_id = run_id or new_run_id(env.name)
        store = RunStore.create(reports_dir, run_id, resolvable_secrets(env))
        store.write_json("environment.json", env.snapshot())
        store.append(
            RunInfo(
                run_id=run_id,
                environment=env.name,
                tier=env.tier.value,
                started_at=utc_now(),
                mcproof_version=__version__,
                argv=[store.redact(arg) for arg in sys.argv],
                environment_snapshot=env.snapshot(),
                host=platform.node(),
            )
        )
        return cls(environment=env, store=store, run_id=run_id)

    def scope(self, suites: list[str], checks: int) -> None:
        """Record what this run sets out to check (a command outside pytest): the report requires the SLOs
        these suites evidence."""
        from mcproof.evidence import RunScope

        self.store.append(RunScope(run_id=self.run_id, suites=list(suites), checks=checks))

    def add_secret(self, secret: Secret) -> None:
        """Register a secret discovered at run time (e.g. the sandbox RCON password) for redaction."""
        self.store.add_secret(secret)  # in place: earlier run-time secrets stay redacted too

    def finish(self, exit_status: int, checks: int, *, render: bool = True) -> str | None:
        """Close the run: `run_end`, `reports/latest`, the verdict, and the report unless told not to.

        Returns why the report could not be written or judged, else None; `self.verdict` stays None
        when the evidence could not be judged (callers treat that as inconclusive).
        """
        from mcproof.evidence import RunEnd
        from mcproof.report import build_report_from, write_report

        self.store.append(RunEnd(run_id=self.run_id, ended_at=utc_now(), exit_status=exit_status, checks=checks))
        self.store.link_latest()
        try:
            self.report = write_report(self.store.run_dir) if render else build_report_from(self.store.run_dir)
        except McproofError as err:
            self.report_error = str(err)
            return self.report_error
        self.verdict = str(self.report.verdict)
        return None
