"""The DR drill, against any platform adapter: harness markers -> scheduled backups -> disaster -> restore.

Everything the figures rest on is observed by the harness on its own clock, never reported by the system
under test:

1. create a server (or take the one the environment names, on a panel that cannot create servers) and
   wait until it answers a status ping;
2. write numbered markers into the world through the console (``data modify storage mcproof:dr marks
   append value <n>``), one every ``write_interval_s``, recording when each write was acknowledged; they
   reach disk only when the server saves;
3. ``mode: scheduled`` (default): keep writing until the platform's OWN schedule has taken ``backups``
   backups after the first marker — the drill takes none. Each must appear within ``schedule_timeout_s``
   (default: the RPO SLO), or the drill FAILS naming the server and the age of its newest backup.
   ``mode: on_demand``: the drill takes ``backups`` backups itself (labelled so in the evidence);
4. keep writing ``settle_s`` after the newest backup, stop, note the time, inject the disaster through the
   adapter (server killed without saving, world deleted or corrupted; a panel: power kill + its file API);
5. detection: wait until the server stops answering; restore the newest backup through the API; boot:
   wait until it answers again; verification: read the markers back through the console and check the
   platform's world verification;
6. players: from the moment the restore call returned, a player join is tried every ``player_retry_s``
   (:mod:`mcproof.dr.player`, beside the boot and verification waits, not in their way) until the first
   reaches the play phase: ``first_player_join_s`` is measured from the restore end (and reported from the
   disaster too). No player in play within ``player_join_timeout_s`` FAILS the drill (the harness's own trouble, a loop that
   overran or crashed, is INCONCLUSIVE); a server the client
   cannot log in to (unknown protocol, online mode) makes it INCONCLUSIVE with the reason.

RPO/RTO follow :mod:`mcproof.dr.metrics`. Verdict: INCONCLUSIVE when the harness could not measure (no
drill server, markers could not be written, the disaster could not be applied), with the reason and the
fix; FAIL when the platform missed (no fresh scheduled backup, restore refused or unverified, data holes,
RPO or RTO over the SLO); PASS otherwise. Every wait is on a condition with a deadline.
"""

from __future__ import annotations

import contextlib
import itertools
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mcproof.dr.disaster import apply_disaster
from mcproof.dr.metrics import backups_after, newest_backup_at, rpo_from_markers, rto_parts
from mcproof.dr.player import FirstJoin, FirstJoinProbe
from mcproof.dr.settings import DrSettings
from mcproof.errors import InconclusiveError
from mcproof.evidence.records import DrEvidence, SloMeasurement
from mcproof.minecraft.status import status_ping, utc_now
from mcproof.platform.adapter import ApiCallError, PlatformAdapter, ServerRecord, Unsupported
from mcproof.verdict import Verdict

__all__ = ["DrillResult", "parse_storage_reply", "run_drill", "slo_records", "wait_serving", "wait_stopped"]

APPEND = "data modify storage mcproof:dr marks append value {seq}"
READ = "data get storage mcproof:dr marks"
_POLL_S = 0.05
_BACKUP_POLL_S = 0.5
_MAX_WRITE_FAILURES = 5  # consecutive: the harness cannot write its data


@dataclass(frozen=True)
class DrillResult:
    evidence: DrEvidence
    problems: list[str]
    verdict: Verdict = Verdict.PASS
    reason: str = ""
    fix: str = ""

    @property
    def passed(self) -> bool:
        return self.verdict == Verdict.PASS


def wait_serving(server: ServerRecord, timeout_s: float, status_timeout_s: float = 1.0) -> float | None:
    """Unix time of the first successful status ping within ``timeout_s`` (None: never)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if status_ping(server.host, server.port, timeout=status_timeout_s).ok:
            return time.time()
        time.sleep(_POLL_S)
    return None


def wait_stopped(server: ServerRecord, timeout_s: float, status_timeout_s: float = 1.0) -> float | None:
    """Unix time of the first failed status ping within ``timeout_s`` (None: it kept serving)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not status_ping(server.host, server.port, timeout=status_timeout_s).ok:
            return time.time()
        time.sleep(_POLL_S)
    return None


def parse_storage_reply(reply: str) -> list[int] | None:
    """Marker numbers in a ``data get storage`` reply (None: not such a reply).

    >>> parse_storage_reply("Storage mcproof:dr has the following contents: [1, 2, 5]")
    [1, 2, 5]
    >>> parse_storage_reply("Storage mcproof:dr has the following contents: []")
    []
    >>> parse_storage_reply("Unknown command") is None
    True
    """
    found = re.search(r"contents: (?:\{marks: )?\[([0-9, ]*)\]", reply)
    if found is None:
        return None
    return [int(x) for x in found.group(1).replace(" ", "").split(",") if x]


@dataclass
class _Drill:
    api: PlatformAdapter
    settings: DrSettings
    server: ServerRecord
    schedule_timeout_s: float
    timeline: list[dict[str, Any]] = field(default_factory=list)
    writes: list[dict[str, Any]] = field(default_factory=list)
    write_failures: list[dict[str, Any]] = field(default_factory=list)
    backups: list[dict[str, Any]] = field(default_factory=list)
    _seq: int = 0
    _failed_in_row: int = 0
    _last_backup_poll: float = 0.0

    def mark(self, event: str, at: float | None = None, **extra: Any) -> float:
        now = time.time() if at is None else at
        self.timeline.append({"event": event, "at": now, **extra})
        return now

    def write_one(self) -> None:
        """One marker through the console; the acknowledgement time is the harness's."""
        self._seq += 1
        sent = time.time()
        try:
            self.api.command(self.server.id, APPEND.format(seq=self._seq))
        except Unsupported as err:
            raise InconclusiveError(
                f"the platform offers no console command API, so the drill cannot write its markers: {err}",
                "implement PlatformAdapter.command for this panel (docs/platform-adapters.md)",
            ) from None
        except ApiCallError as err:
            self.write_failures.append({"seq": self._seq, "at": sent, "error": str(err)[:200]})
            self._failed_in_row += 1
            if self._failed_in_row >= _MAX_WRITE_FAILURES:
                raise InconclusiveError(
                    f"{self._failed_in_row} marker writes in a row to {self.server.id} failed (last: {err})",
                    "check that the drill server serves and takes console commands, then rerun the drill",
                ) from None
            return
        self._failed_in_row = 0
        self.writes.append({"seq": self._seq, "sent_at": sent, "acked_at": time.time()})

    def write_until(self, done: Callable[[], bool], deadline: float) -> bool:
        """Write markers until ``done()`` or the epoch ``deadline``; bounded by both."""
        while True:
            self.write_one()
            if done():
                return True
            if time.time() >= deadline:
                return False
            time.sleep(min(self.settings.write_interval_s, max(0.0, deadline - time.time())))

    def first_ack(self) -> float | None:
        return float(self.writes[0]["acked_at"]) if self.writes else None

    def list_backups(self) -> list[dict[str, Any]]:
        return self.api.list_backups(self.server.id)

    def scheduled_since_first_marker(self) -> list[dict[str, Any]]:
        now = time.time()
        if now - self._last_backup_poll < _BACKUP_POLL_S:
            return [b for b in self.backups if b.get("trigger") == "schedule"]
        self._last_backup_poll = now
        first = self.first_ack()
        seen = backups_after(self.list_backups(), first, "schedule") if first is not None else []
        known = {b["id"] for b in self.backups}
        for b in seen:
            if b["id"] not in known:
                self.backups.append(b)
                self.mark("scheduled_backup", at=float(b["created_at"]), backup=b["id"])
        return [b for b in self.backups if b.get("trigger") == "schedule"]


def run_drill(
    api: PlatformAdapter,
    settings: DrSettings,
    *,
    environment: str,
    rpo_target_s: float,
    rto_target_s: float,
    check: str = "dr drill",
    server_id: str | None = None,
) -> DrillResult:
    """Run one drill and return its evidence and verdict. The drill creates its server and deletes it
    afterwards (unless ``keep_server``); ``server_id`` names an existing one instead (a panel whose API cannot
    create servers, e.g. Pterodactyl's client API), which is kept."""
    started_at = utc_now()
    schedule_timeout = settings.schedule_timeout_s or rpo_target_s
    method = (
        (
            "scheduled backups (the platform's own schedule; the drill took none)"
            if settings.mode == "scheduled"
            else "on-demand backups taken by the drill"
        )
        + "; harness markers written through the console, acknowledgements timed by the harness; newest backup "
        "restored through the platform API; markers read back through the console"
    )

    def result(d: _Drill | None, verdict: Verdict, reason: str, fix: str, **figures: Any) -> DrillResult:
        problems = list(figures.pop("problems", [])) or ([reason] if reason and verdict != Verdict.PASS else [])
        base: dict[str, Any] = {
            "disaster_at": 0.0,
            "backup_id": "",
            "snapshot": "",
            "backup_created_at": 0.0,
            "last_written": None,
            "last_recovered": None,
            "rpo_s": 0.0,
            "rto_s": 0.0,
            "recovered": False,
            "integrity_ok": False,
            "integrity_problems": [],
            "restore_bytes": 0,
            "restore_duration_s": 0.0,
            "restore_throughput_mib_s": 0.0,
            "recovered_marks": [],
            "markers_written": 0,
            "markers_recovered": 0,
            "markers_lost": 0,
            "rto_parts": [],
            "schedule": {},
        }
        base.update(figures)
        written = [{"seq": w["seq"], "ts": w["acked_at"], "sent_at": w["sent_at"]} for w in (d.writes if d else [])]
        evidence = DrEvidence(
            environment=environment,
            method=method,
            check=check,
            started_at=started_at,
            ended_at=utc_now(),
            server=d.server.id if d else "",
            disaster=settings.disaster,
            rpo_target_s=rpo_target_s,
            rto_target_s=rto_target_s,
            written_marks=written,
            backups=d.backups if d else [],
            timeline=d.timeline if d else [],
            mode=settings.mode,
            verdict=verdict.value,
            reason=reason,
            fix=fix,
            **base,
        )
        return DrillResult(evidence, problems, verdict, reason, fix)

    if server_id:
        try:
            server = api.get_server(server_id)
            if server.power in ("offline", "stopped"):
                api.power(server.id, "start")
        except ApiCallError as err:
            return result(
                None,
                Verdict.INCONCLUSIVE,
                f"the drill server {server_id} is unusable: {err}",
                "name an existing, dedicated drill server in platform.server",
            )
    else:
        try:
            server = api.create_server("dr-drill")
        except Unsupported as err:
            return result(
                None,
                Verdict.INCONCLUSIVE,
                f"the platform cannot create a drill server: {err}",
                "name an existing, dedicated drill server in platform.server",
            )
        except ApiCallError as err:
            return result(
                None,
                Verdict.INCONCLUSIVE,
                f"the platform refused to create a drill server: {err}",
                "free a server slot for the tenant (or raise its quota) and rerun the drill",
            )
    d = _Drill(api, settings, server, schedule_timeout)
    d.mark("server_named" if server_id else "server_created", server=server.id)
    try:
        try:  # the disaster needs the panel's file manager: refuse before anything is written, not half-way
            api.list_files(server.id, api.world_root)
        except (ApiCallError, Unsupported) as err:
            raise InconclusiveError(
                f"the drill's disaster needs the platform's file manager (files/list, files/delete, files/write), "
                f"which refused for {server.id}: {err}",
                "give the drill's token the panel's file permissions (Pterodactyl: file.read, file.delete, "
                "file.update), or use a platform adapter that has them; nothing was changed",
            ) from None
        return _run(d, result, rpo_target_s, rto_target_s)
    except InconclusiveError as inc:
        return result(d, Verdict.INCONCLUSIVE, inc.reason, inc.fix)
    except ApiCallError as err:  # the platform failed mid-drill: a FAIL with the timeline so far, not a traceback
        return result(
            d,
            Verdict.FAIL,
            f"the platform API failed during the drill: {err}",
            "fix the platform API call named above (see the drill timeline), then rerun",
        )
    finally:
        if not settings.keep_server and not server_id:
            with contextlib.suppress(ApiCallError, Unsupported):
                api.delete_server(server.id)


def _run(d: _Drill, result: Callable[..., DrillResult], rpo_target_s: float, rto_target_s: float) -> DrillResult:
    s, api, server = d.settings, d.api, d.server
    if wait_serving(server, s.serving_timeout_s, s.status_timeout_s) is None:
        raise InconclusiveError(
            f"drill server {server.id} never answered a status ping within {s.serving_timeout_s:g}s",
            "check that new servers boot on this platform (provisioning suite), then rerun",
        )
    d.mark("serving")
    writing_started = d.mark("writing_started")
    d.write_until(_elapsed(writing_started, s.warmup_s), writing_started + s.warmup_s)
    if not d.writes:
        raise InconclusiveError(f"no marker write to {server.id} was acknowledged", "check the console command API")
    # --- backups: the platform's own schedule (or the drill's, on demand) ---------------------------------
    if s.mode == "on_demand":
        for i in range(s.backups):
            if i:
                d.write_until(_elapsed(time.time(), s.backup_interval_s), time.time() + s.backup_interval_s)
            b = api.create_backup(server.id)
            d.backups.append({**b, "trigger": b.get("trigger", "api")})
            d.mark("on_demand_backup", backup=b["id"])
    else:
        for i in range(1, s.backups + 1):
            wait_from = time.time()
            got = d.write_until(_scheduled_count(d, i), wait_from + d.schedule_timeout_s)
            if not got:
                return _stale(d, result, wait_from, rpo_target_s)
    newest = max(d.backups, key=lambda b: float(b["created_at"]))
    settle_from = float(newest["created_at"])
    d.write_until(_elapsed(settle_from, s.settle_s), max(time.time(), settle_from + s.settle_s))
    # --- disaster -------------------------------------------------------------------------------------
    disaster_at = d.mark("disaster", kind=s.disaster)
    try:
        apply_disaster(api, server.id, s.disaster)
    except (ApiCallError, Unsupported) as err:
        raise InconclusiveError(
            f"the harness could not apply the disaster ({s.disaster}) to {server.id}: {err}",
            "the platform must offer power kill and a file manager (list/delete/write) to the "
            "drill's token, as Pterodactyl's client API does",
        ) from None
    detected_at = wait_stopped(server, s.detection_timeout_s, s.status_timeout_s)
    if detected_at is None:
        raise InconclusiveError(
            f"{server.id} still answered {s.detection_timeout_s:g}s after the disaster: it was not applied",
            "check the platform's disaster/kill action; the drill measured nothing",
        )
    d.mark("detected", at=detected_at)
    # --- restore, boot, verification ------------------------------------------------------------------
    listed = d.list_backups()
    if not listed:
        return result(
            d,
            Verdict.FAIL,
            f"the platform lists no backup of {server.id} to restore after the disaster",
            "check the platform's backup listing and retention: a backup it made is gone",
        )
    latest = max(listed, key=lambda b: float(b["created_at"]))
    restore: dict[str, Any] = {}
    integrity: list[str] = []
    problems: list[str] = []
    restored_at = serving_at = verified_at = None
    probe: FirstJoinProbe | None = None
    d.mark("restore_requested", backup=latest["id"])
    try:
        restore = api.restore_backup(server.id, str(latest["id"]))
        restored_at = d.mark("restored", backup=latest["id"])
        if s.player_join:
            probe = _first_join_probe(s, server).start()
    except ApiCallError as err:
        integrity.append(str(err))
        d.mark("restore_failed", error=str(err)[:200])
    present: list[int] = []
    if restored_at is not None:
        serving_at = wait_serving(server, s.serving_timeout_s, s.status_timeout_s)
        if serving_at is None:
            problems.append(f"server {server.id} did not serve within {s.serving_timeout_s:g}s of the restore")
        else:
            d.mark("serving_again", at=serving_at)
            if probe is not None:  # served before the probe's deadline: it earns one last attempt
                probe.note_serving(time.monotonic() - max(0.0, time.time() - serving_at))
            read = _read_markers(d, s.serving_timeout_s)
            world = _platform_check(api, server.id)
            if read is None:
                problems.append(f"markers of {server.id} could not be read back within {s.serving_timeout_s:g}s")
            elif world is not None and not world.get("ok", False):
                integrity.extend(world.get("problems", []) or ["platform world verification failed"])
            else:
                present = read
                verified_at = d.mark("verified", markers=len(present))
    figures = rpo_from_markers(d.writes, present, disaster_at=disaster_at, writing_started=writing_started)
    if figures.missing_below_newest:
        integrity.append(
            f"restored world lacks markers {figures.missing_below_newest[:10]} below its newest "
            f"{(figures.last_recovered or {}).get('seq')}: the backup is not a consistent save"
        )
    unacked = {int(f["seq"]) for f in d.write_failures}  # sent, the reply lost: in the world is no corruption
    never_written = [q for q in figures.never_written if q not in unacked]
    if never_written:
        integrity.append(f"restored world holds markers the harness never wrote: {never_written[:10]}")
    recovered = verified_at is not None and not integrity
    rto = verified_at - disaster_at if verified_at is not None else time.time() - disaster_at
    first = probe.result() if probe is not None else None
    joined = _first_join_view(s, first, server.id, restored_at, disaster_at)
    if first is not None and first.ok and first.in_play_at is not None:
        d.mark("first_player_in_play", at=first.in_play_at)
    elif first is not None and first.unmeasurable is None and first.harness is None:
        problems.append(str(joined["player_join"]["reason"]))
    problems = integrity + problems
    reasons = list(problems)
    if recovered and figures.rpo_s > rpo_target_s:
        reasons.append(f"RPO {figures.rpo_s:.2f}s over the SLO {rpo_target_s:g}s")
    if recovered and rto > rto_target_s:
        reasons.append(f"RTO {rto:.2f}s over the SLO {rto_target_s:g}s")
    verdict = Verdict.FAIL if reasons or not recovered else Verdict.PASS
    fix = "see the timeline and rto_parts" if verdict == Verdict.FAIL else ""
    if verdict == Verdict.PASS and first is not None and first.harness is not None:
        verdict = Verdict.INCONCLUSIVE  # the harness could not measure the first join: never the server's FAIL
        reasons.append(str(joined["player_join"]["reason"]))
        fix = "the harness's first-join loop stalled or crashed (see player_join); rerun on a less loaded runner"
    elif verdict == Verdict.PASS and first is not None and first.unmeasurable is not None:
        verdict = Verdict.INCONCLUSIVE
        reasons.append(str(joined["player_join"]["reason"]))
        fix = (
            "run the drill against an offline-mode server whose protocol the player client speaks, or set "
            "dr.player_join: false to drill without the first-join check (the report says it was not checked)"
        )
    info = restore.get("restore", {})
    by_seq = {w["seq"]: w for w in d.writes}
    return result(
        d,
        verdict,
        "; ".join(reasons[:3]) or ("" if recovered else f"{server.id} did not recover"),
        fix,
        problems=problems,
        disaster_at=disaster_at,
        backup_id=str(latest["id"]),
        snapshot=str(latest.get("snapshot", "")),
        backup_created_at=float(latest["created_at"]),
        last_written=figures.last_written,
        last_recovered=figures.last_recovered,
        rpo_s=round(figures.rpo_s, 6),
        rto_s=round(rto, 6),
        recovered=recovered,
        integrity_ok=not integrity,
        integrity_problems=integrity,
        restore_bytes=int(info.get("bytes", 0)),
        restore_duration_s=float(info.get("duration_s", 0.0)),
        restore_throughput_mib_s=float(info.get("throughput_mib_s", 0.0)),
        recovered_marks=[{"seq": q, "ts": by_seq[q]["acked_at"]} for q in present if q in by_seq],
        markers_written=figures.written,
        markers_recovered=figures.recovered,
        markers_lost=figures.lost,
        rto_parts=rto_parts(disaster_at, detected_at, restored_at, serving_at, verified_at),
        schedule=_schedule_view(d, disaster_at),
        **joined,
    )


def _first_join_probe(s: DrSettings, server: ServerRecord) -> FirstJoinProbe:
    from mcproof.target import Target

    target = Target(id=server.id, host=server.host, port=server.port)
    timeout = s.player_join_timeout_s or s.serving_timeout_s
    return FirstJoinProbe(
        target, timeout_s=timeout, retry_s=s.player_retry_s, phase_timeout_s=min(s.player_phase_timeout_s, timeout)
    )


def _first_join_view(
    s: DrSettings, first: FirstJoin | None, server_id: str, restored_at: float | None, disaster_at: float
) -> dict[str, Any]:
    """The DrEvidence fields of the first-join check (``reason`` says why there is no figure)."""
    timeout = s.player_join_timeout_s or s.serving_timeout_s
    if first is None:
        why = "not checked: dr.player_join is false" if not s.player_join else "not checked: the restore failed"
        return {"player_join": {"checked": False, "reason": why}}
    view: dict[str, Any] = {"checked": True, "measured_from": "restore_end", **first.as_dict()}
    if first.ok and first.in_play_at is not None and restored_at is not None:
        return {
            "first_player_join_s": round(first.in_play_at - restored_at, 6),
            "first_player_join_after_disaster_s": round(first.in_play_at - disaster_at, 6),
            "player_join": view,
        }
    if first.harness is not None:
        view["reason"] = f"first join to {server_id} not measured: {first.harness}"
    elif first.unmeasurable is not None:
        view["reason"] = (
            f"the player client cannot log in to {server_id} ({first.unmeasurable}): first join not measured"
        )
    else:
        view["reason"] = (
            f"no player could join {server_id} within {timeout:g}s of the restore ({first.attempts} attempt(s); "
            f"last: {first.last_error or 'no answer'})"
        )
    return {"player_join": view}


def _elapsed(since: float, seconds: float) -> Callable[[], bool]:
    return lambda: time.time() - since >= seconds


def _scheduled_count(d: _Drill, count: int) -> Callable[[], bool]:
    return lambda: len(d.scheduled_since_first_marker()) >= count


def _stale(d: _Drill, result: Callable[..., DrillResult], wait_from: float, rpo_target_s: float) -> DrillResult:
    """No scheduled backup in the window: the platform's fault (FAIL), named with the backup's age."""
    now = time.time()
    newest = newest_backup_at(d.list_backups())
    first = d.first_ack() or wait_from
    age = f"its newest backup is {now - newest:.1f}s old" if newest is not None else "it has no backup at all"
    reason = (
        f"no scheduled backup of server {d.server.id} appeared within {d.schedule_timeout_s:g}s; {age}; "
        f"data written {now - first:.1f}s ago is in no backup"
    )
    exposed = now - (newest if newest is not None and newest > first else first)
    d.mark("schedule_stale", newest_backup_at=newest)
    return result(
        d,
        Verdict.FAIL,
        reason,
        "check the platform's backup schedule for this server (is it enabled, does it run?)",
        rpo_s=round(exposed, 6),
        markers_written=len(d.writes),
        schedule={
            "stale": True,
            "newest_backup_at": newest,
            "newest_backup_age_s": None if newest is None else round(now - newest, 3),
            "waited_s": round(now - wait_from, 3),
            "timeout_s": d.schedule_timeout_s,
            "scheduled_seen": len(d.backups),
        },
    )


def _schedule_view(d: _Drill, disaster_at: float) -> dict[str, Any]:
    created = sorted(float(b["created_at"]) for b in d.backups)
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(created)]
    return {
        "stale": False,
        "scheduled_seen": len([b for b in d.backups if b.get("trigger") == "schedule"]),
        "newest_backup_age_at_disaster_s": round(disaster_at - created[-1], 3) if created else None,
        "intervals_s": gaps,
        "timeout_s": d.schedule_timeout_s,
    }


def _read_markers(d: _Drill, timeout_s: float) -> list[int] | None:
    """The marker numbers the restored world holds, read through the console (retried until the deadline)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(ApiCallError):
            found = parse_storage_reply(str(d.api.command(d.server.id, READ).get("reply", "")))
            if found is not None:
                return found
        time.sleep(_POLL_S * 4)
    return None


def _platform_check(api: PlatformAdapter, server_id: str) -> dict[str, Any] | None:
    """The platform's own verification of the world (None: the panel reports none)."""
    try:
        saved = api.world(server_id).get("saved")
    except (ApiCallError, Unsupported):
        return None
    return dict(saved) if isinstance(saved, dict) else None


def slo_records(ev: DrEvidence) -> list[SloMeasurement]:
    """The drill's RPO and RTO held against the environment's SLOs (only what the drill measured)."""
    if ev.verdict == Verdict.INCONCLUSIVE.value:
        return []
    how = "scheduled" if ev.mode == "scheduled" else "on-demand"
    method = (
        f"DR drill ({ev.disaster} world, server killed) restored from {how} backup {ev.backup_id or '-'}; "
        "harness markers compared"
    )
    records = [
        SloMeasurement(
            environment=ev.environment,
            slo="rpo_s",
            objective=f"data lost in a disaster <= {ev.rpo_target_s:g} s",
            target=ev.rpo_target_s,
            measured=ev.rpo_s,
            unit="s",
            comparator="<=",
            passed=ev.recovered and ev.integrity_ok and ev.rpo_s <= ev.rpo_target_s,
            method=method,
            check=ev.check,
            samples=len(ev.written_marks) + len(ev.recovered_marks),
        ),
    ]
    if ev.disaster_at:
        records.append(
            SloMeasurement(
                environment=ev.environment,
                slo="rto_s",
                objective=f"disaster to serving with verified data <= {ev.rto_target_s:g} s",
                target=ev.rto_target_s,
                measured=ev.rto_s,
                unit="s",
                comparator="<=",
                passed=ev.recovered and ev.rto_s <= ev.rto_target_s,
                method=method,
                check=ev.check,
                samples=len(ev.timeline),
            )
        )
    return records
