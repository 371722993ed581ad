"""The report's Releases table, from ``rollout_gate`` evidence records only
(:class:`~mcproof.evidence.records.RolloutGateEvidence`): one row per gated release (docs/rollout.md).

No such record -> ``measured`` False and a note saying "not measured", never an empty table that looks fine.
A release whose verdict is not ``pass`` is listed in ``failed``.

>>> build_release_panel([]).note
'not measured: no rollout gate evidence in this run (suites/chaos/test_release_gate.py / mcproof rollout gate did not run)'
>>> ReleaseRow("Deployment a/b", "p.yaml", "pass", "ok", 10, 0, 0, 0, 0, 1, 3.0).rollback_text
'not needed'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from mcproof.evidence.records import Record, RolloutGateEvidence

__all__ = ["ReleasePanel", "ReleaseRow", "build_release_panel"]

NOT_MEASURED = (
    "not measured: no rollout gate evidence in this run "
    "(suites/chaos/test_release_gate.py / mcproof rollout gate did not run)"
)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ReleaseRow:
    workload: str  # "Kind ns/name"
    update: str
    verdict: str  # pass | fail | inconclusive
    reason: str
    samples: int
    failed_requests: int
    routed_failures: int  # on serving routed endpoints
    startup_failures: int  # on routed pods still starting
    max_unavailable_observed: int
    max_unavailable_allowed: int
    rollout_s: float | None  # None: the rollout did not complete
    servers: int = 0  # StatefulSet servers replaced (with a downtime entry); 0 for a Deployment
    worst_server: str = ""
    worst_server_downtime_s: float | None = None  # None with servers > 0: a new server never answered
    rollback_performed: bool = False
    time_to_rollback_s: float | None = None  # decision -> undo applied
    time_to_healthy_s: float | None = None  # undo applied -> every replica answering the old version
    rollback_result: str = ""  # "healthy", else the problem ("not requested (--rollback)", ...); "" if none

    @property
    def downtime_text(self) -> str:
        """Worst per-server downtime of a StatefulSet, "—" for a Deployment."""
        if not self.servers:
            return "no server replaced" if self.workload.startswith("StatefulSet") else "—"
        worst = "never answered" if self.worst_server_downtime_s is None else f"{self.worst_server_downtime_s:.3g} s"
        return f"{worst} ({self.worst_server}; worst of {self.servers} server(s))"

    @property
    def rollback_text(self) -> str:
        """Performed (time to roll back, time to healthy or its problem), not performed (why) or not needed."""
        if not self.rollback_performed:
            if self.rollback_result:
                return f"not performed: {self.rollback_result}"
            return "not needed" if self.verdict == "pass" else "not performed"
        back = "—" if self.time_to_rollback_s is None else f"{self.time_to_rollback_s:.3g} s"
        if self.rollback_result == "healthy" and self.time_to_healthy_s is not None:
            return f"performed: rolled back in {back}, healthy after {self.time_to_healthy_s:.3g} s"
        return f"performed: rolled back in {back}, NOT healthy: {self.rollback_result or 'unknown'}"


@dataclass(frozen=True)
class ReleasePanel:
    measured: bool
    note: str
    rows: tuple[ReleaseRow, ...] = ()
    failed: tuple[str, ...] = ()  # "verdict: workload → update: reason" of each release that did not pass

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _down(server: Mapping[str, Any]) -> float:
    """A server's downtime for ranking; a new server that never answered is the worst."""
    down = _num(server.get("downtime_s"))
    return float("inf") if down is None else down


def _row(r: RolloutGateEvidence) -> ReleaseRow:
    servers = [s for s in r.server_downtime if isinstance(s, Mapping)]
    worst = max(servers, key=_down, default={})
    rb = r.rollback if isinstance(r.rollback, Mapping) else {}
    performed = bool(rb.get("performed"))
    result = "healthy" if performed and rb.get("healthy") else str(rb.get("problem") or "")
    return ReleaseRow(
        r.workload,
        r.update,
        r.verdict,
        r.reason,
        r.samples,
        r.failed_requests,
        r.routed_failures,
        r.startup_failures,
        r.max_unavailable_observed,
        r.max_unavailable_allowed,
        _num(r.rollout_s),
        len(servers),
        str(worst.get("server", "")),
        _num(worst.get("downtime_s")),
        performed,
        _num(rb.get("time_to_rollback_s")),
        _num(rb.get("time_to_healthy_s")),
        result,
    )


def build_release_panel(records: Iterable[Record]) -> ReleasePanel:
    """Every rollout gate record's row, in record order (a run may gate several releases)."""
    rows = tuple(_row(r) for r in records if isinstance(r, RolloutGateEvidence))
    if not rows:
        return ReleasePanel(False, NOT_MEASURED)
    counts = {v: sum(1 for r in rows if r.verdict == v) for v in ("pass", "fail", "inconclusive")}
    note = f"{len(rows)} gated release(s): " + ", ".join(f"{n} {v}" for v, n in counts.items())
    failed = tuple(f"{r.verdict}: {r.workload} → {r.update}: {r.reason}" for r in rows if r.verdict != "pass")
    return ReleasePanel(True, note, rows, failed)
