"""The DR drill, against any platform adapter: markers -> backups -> disaster -> restore -> verified serving.

Steps (each timestamped in the timeline): create a server and wait until it answers a status ping; let
players write markers (``warmup_s``); take ``backups`` backups ``backup_interval_s`` apart; wait
``settle_s``; inject the disaster (server killed without saving, world deleted or corrupted); restore the
newest backup through the API; wait until the server answers a status ping again and the platform reports
the world verified (checksums); read the last recovered marker. RPO and RTO follow :mod:`mcproof.dr.metrics`.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any

from mcproof.dr.metrics import last_before, rpo_seconds, rto_seconds
from mcproof.dr.settings import DrSettings
from mcproof.evidence.records import DrEvidence, SloMeasurement
from mcproof.minecraft.status import status_ping, utc_now
from mcproof.platform.adapter import ApiCallError, PlatformAdapter, ServerRecord

__all__ = ["DrillResult", "run_drill", "slo_records", "wait_serving"]


@dataclass(frozen=True)
class DrillResult:
    evidence: DrEvidence
    problems: list[str]

    @property
    def passed(self) -> bool:
        ev = self.evidence
        return ev.recovered and ev.integrity_ok and ev.rpo_s <= ev.rpo_target_s and ev.rto_s <= ev.rto_target_s


def wait_serving(server: ServerRecord, timeout_s: float, status_timeout_s: float = 1.0) -> float | None:
    """Unix time of the first successful status ping within ``timeout_s`` (None: never)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if status_ping(server.host, server.port, timeout=status_timeout_s).ok:
            return time.time()
        time.sleep(0.05)
    return None


def run_drill(
    api: PlatformAdapter, settings: DrSettings, *, environment: str, rpo_target_s: float, rto_target_s: float,
    check: str = "dr drill",
) -> DrillResult:  # fmt: skip
    """Run one drill and return its evidence (the drill server is deleted afterwards unless ``keep_server``)."""
    started_at = utc_now()
    timeline: list[dict[str, Any]] = []

    def mark(event: str, **extra: Any) -> float:
        now = time.time()
        timeline.append({"event": event, "at": now, **extra})
        return now

    problems: list[str] = []
    server = api.create_server("dr-drill")
    data_started = mark("server_created", server=server.id)
    try:
        if wait_serving(server, settings.serving_timeout_s, settings.status_timeout_s) is None:
            raise ApiCallError(f"drill server {server.id} never answered a status ping")
        mark("serving")
        time.sleep(settings.warmup_s)
        backups: list[dict[str, Any]] = []
        for i in range(settings.backups):
            if i:
                time.sleep(settings.backup_interval_s)
            backups.append(api.create_backup(server.id))
            mark("backup", backup=backups[-1]["id"], last_seq=backups[-1]["last_seq"])
        time.sleep(settings.settle_s)
        disaster = api.inject_disaster(server.id, settings.disaster)
        disaster_at = float(disaster["at"])
        timeline.append({"event": "disaster", "at": disaster_at, "kind": settings.disaster})
        written_tail = [m for m in api.world(server.id)["written_tail"] if float(m["ts"]) <= disaster_at]
        last_written = last_before(written_tail, disaster_at)
        latest = max(api.list_backups(server.id), key=lambda b: float(b["created_at"]))
        restore: dict[str, Any] = {}
        integrity_problems: list[str] = []
        try:
            restore = api.restore_backup(server.id, str(latest["id"]))
            mark("restored", backup=latest["id"])
        except ApiCallError as err:
            integrity_problems.append(str(err))
            mark("restore_failed", error=str(err)[:200])
        recovered_at: float | None = None
        recovered_marks: list[dict[str, Any]] = []
        if not integrity_problems:
            serving_at = wait_serving(server, settings.serving_timeout_s, settings.status_timeout_s)
            if serving_at is None:
                problems.append(f"server {server.id} did not serve within {settings.serving_timeout_s:g}s of restore")
            else:
                mark("serving_again")
                world = api.world(server.id)
                saved = world["saved"]
                if not saved["ok"]:
                    integrity_problems.extend(saved["problems"])
                elif int(saved["last_seq"]) < int(restore["verification"]["last_seq"]):
                    integrity_problems.append("world after start is older than the restored backup")
                else:
                    recovered_at = mark("verified", last_seq=saved["last_seq"])
                recovered_marks = [m for m in world["saved_tail"] if float(m["ts"]) <= disaster_at]
        last_recovered = last_before(recovered_marks, disaster_at)
        rpo = rpo_seconds(last_written, last_recovered, data_started)
        rto = rto_seconds(disaster_at, recovered_at) if recovered_at is not None else time.time() - disaster_at
        problems.extend(integrity_problems)
        info = restore.get("restore", {})
        evidence = DrEvidence(
            environment=environment, method="platform API restore of the newest restic snapshot; markers compared",
            check=check, started_at=started_at, ended_at=utc_now(), server=server.id, disaster=settings.disaster,
            disaster_at=disaster_at, backup_id=str(latest["id"]), snapshot=str(latest["snapshot"]),
            backup_created_at=float(latest["created_at"]), last_written=last_written, last_recovered=last_recovered,
            rpo_s=round(rpo, 6), rto_s=round(rto, 6), rpo_target_s=rpo_target_s, rto_target_s=rto_target_s,
            recovered=recovered_at is not None, integrity_ok=not integrity_problems,
            integrity_problems=integrity_problems, restore_bytes=int(info.get("bytes", 0)),
            restore_duration_s=float(info.get("duration_s", 0.0)),
            restore_throughput_mib_s=float(info.get("throughput_mib_s", 0.0)),
            written_marks=written_tail, recovered_marks=recovered_marks, backups=backups, timeline=timeline,
        )  # fmt: skip
        return DrillResult(evidence, problems)
    finally:
        if not settings.keep_server:
            with contextlib.suppress(ApiCallError):
                api.delete_server(server.id)


def slo_records(ev: DrEvidence) -> list[SloMeasurement]:
    """The drill's RPO and RTO held against the environment's SLOs."""
    method = f"DR drill ({ev.disaster} world, server killed) restored from backup {ev.backup_id}; markers compared"
    return [
        SloMeasurement(
            environment=ev.environment, slo="rpo_s", objective=f"data lost in a disaster <= {ev.rpo_target_s:g} s",
            target=ev.rpo_target_s, measured=ev.rpo_s, unit="s", comparator="<=",
            passed=ev.integrity_ok and ev.rpo_s <= ev.rpo_target_s, method=method, check=ev.check,
            samples=len(ev.written_marks) + len(ev.recovered_marks),
        ),
        SloMeasurement(
            environment=ev.environment, slo="rto_s",
            objective=f"disaster to serving with verified data <= {ev.rto_target_s:g} s",
            target=ev.rto_target_s, measured=ev.rto_s, unit="s", comparator="<=",
            passed=ev.recovered and ev.rto_s <= ev.rto_target_s, method=method, check=ev.check,
            samples=len(ev.timeline),
        ),
    ]  # fmt: skip
