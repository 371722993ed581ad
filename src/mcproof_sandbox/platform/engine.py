"""What the sandbox platform API does, apart from HTTP: servers, power, world, backups, metrics.

A platform server is a sandbox fleet server assigned to a tenant (SQLite). Power actions map onto the
fleet's public API: ``start`` clears faults, ``kill`` injects ``kill`` without restart (unsaved world data
is lost, at once: :meth:`WorldWriter.crash`), ``stop`` saves over RCON then stops cleanly without restart
(fault ``stop``: its players are kicked "Server closed"; a ``kill`` just drops them),
``restart`` saves then sends RCON ``stop`` (the supervised server comes back after its boot delay).
Backups are restic snapshots of the world directory, taken with autosave off after ``save-all`` (so the
snapshot is exactly that save); restores stop the server, restore, verify checksums, start it.

Backup schedule (``backup_interval_s`` > 0), per server as a panel's schedules: a running server is backed
up ``backup_interval_s`` after its previous scheduled backup (the first one that long after it was
created); ``provision_tenant`` gets one server at start whose first scheduled backup is taken at once.
Console commands (``POST /v1/servers/{id}/command``) need a serving server that answers over RCON; the
command storage ``mcproof:dr`` (``data modify storage mcproof:dr marks append value <n>`` / ``data get
storage mcproof:dr marks``) lives in the world and reaches disk only on save.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mcproof.minecraft.rcon import RconError, rcon_command
from mcproof_sandbox.exposition import counter, gauge, render
from mcproof_sandbox.fleet import Sandbox, read_rcon_password
from mcproof_sandbox.fleet.state import write_json_atomic
from mcproof_sandbox.platform.backups import BackupError, Restic
from mcproof_sandbox.platform.fleet_buffer import BufferPolicy, FleetBuffer
from mcproof_sandbox.platform.store import PlatformStore
from mcproof_sandbox.platform.world import WorldWriter, read_marks, storage_reply, verify_world
from mcproof_sandbox.state import FLEET_POOL_FILE, fleet_pool

__all__ = ["ApiError", "EngineConfig", "PlatformEngine"]

log = logging.getLogger("mcproof_sandbox.platform.engine")

POWER_SIGNALS = ("start", "stop", "restart", "kill")
_DOWN_FAULTS = {"kill", "stop", "refuse", "hang"}
_STORAGE_APPEND = re.compile(r"^data modify storage mcproof:dr marks append value (\d{1,15})$")
_STORAGE_GET = re.compile(r"^data get storage mcproof:dr marks$")


class ApiError(Exception):
    """An API-level failure: HTTP status and a message safe to show to the caller."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class EngineConfig:
    environment: str = "local"
    tenants: tuple[str, ...] = ("alpha", "beta")
    autosave_s: float = 5.0
    tick_s: float = 0.1
    backup_interval_s: float = 0.0  # per-server backup schedule; 0: no scheduled backups
    provision_tenant: str = ""  # one server for this tenant at start, backed up at once ("" : none)
    # restic forget policy (GET /v1/backups/policy); keep_daily 30 meets the catalog's retention.backups_days
    keep_last: int = 10
    keep_hourly: int = 24
    keep_daily: int = 30
    audit_max_age_days: int = 0  # audit log entries older than this are dropped at start; 0: never rotated
    filler_bytes: int = 1 << 20
    # security controls of the API (api.py); the weak_* switches exist ONLY for tests that prove the
    # security suite fails against a broken platform
    security_headers: bool = True  # HSTS, nosniff, no-store, CSP on every response
    rate_limit: bool = True  # 429 + Retry-After after repeated 401s from one client address
    auth_failures_max: int = 10
    auth_failures_window_s: float = 60.0
    auth_lockout_s: float = 5.0
    weak_unauthenticated_route: bool = False  # GET /v1/servers answers without a token (all tenants' servers)
    weak_tenant_isolation: bool = False  # any tenant may use any server (no ownership check)
    weak_crash_route: bool = False  # GET /v1/servers/{id}/backups 500s on ids without a numeric suffix
    weak_schedule_stops_after: int = 0  # a server's schedule silently stops after N scheduled backups (0: never)
    # the Pterodactyl client-API face (pterodactyl_face.py): its per-key request budget, and a switch for tests
    pterodactyl_rate_limit: int = 720  # requests per key per period (the panel's default: 720 a minute)
    pterodactyl_rate_period_s: float = 60.0
    weak_backup_never_completes: bool = False  # a backup made through that face stays in progress forever
    # the game-server fleet autoscaler (fleet_buffer.py): an Agones-style buffer of ready servers; 0: none
    fleet_buffer_size: int = 0
    fleet_pool_size: int = 0  # servers the fleet may use in all; taken from the top of the sandbox's ids
    fleet_boot_s: float = 2.0
    weak_fleet_scale_in: bool = False  # scale-in stops allocated servers (players on them) first


class PlatformEngine:
    def __init__(self, sandbox_state_dir: Path, platform_dir: Path, config: EngineConfig) -> None:
        self.config = config
        self.dir = platform_dir
        self.sandbox = Sandbox(sandbox_state_dir)
        self.rcon_password = read_rcon_password(self.sandbox.state_dir) or ""
        self.store = PlatformStore(platform_dir / "platform.sqlite")
        backups = platform_dir / "backups" / config.environment
        self.restic = Restic(backups / "repo", backups / "password", host=config.environment)
        self.world = WorldWriter(
            platform_dir / "worlds",
            platform_dir / "players",
            is_up=self._serving_ids,
            save_hook=self._rcon_save,
            tick_s=config.tick_s,
            autosave_s=config.autosave_s,
            filler_bytes=config.filler_bytes,
        )
        self._repo_lock = threading.Lock()
        self._stop = threading.Event()
        self._scheduler: threading.Thread | None = None
        self.started_at = time.time()
        self.counters: dict[tuple[str, str, int], int] = {}
        self._counter_lock = threading.Lock()
        self._assign_lock = threading.Lock()
        self._scheduled: dict[str, tuple[float, int]] = {}  # server -> (last scheduled backup or created, count)
        self.fleet: FleetBuffer | None = None

    # --- lifecycle -----------------------------------------------------------------------------------

    def start(self, tokens_dir: Path) -> dict[str, Path]:
        """Create tenants (fresh tokens in ``tokens_dir/<tenant>.token``), the restic repo, start threads."""
        tokens_dir.mkdir(parents=True, exist_ok=True)
        paths: dict[str, Path] = {}
        for tenant in self.config.tenants:
            token = "mcp_" + secrets.token_urlsafe(24)
            path = tokens_dir / f"{tenant}.token"
            path.touch(mode=0o600)
            path.write_text(token + "\n", encoding="utf-8")
            self.store.add_tenant(tenant, token)
            paths[tenant] = path
        self.restic.init()
        for row in self.store.servers():
            self.world.manage(row["id"])
        self.world.start()
        self._start_fleet()
        self._provision()
        if self.config.backup_interval_s > 0:
            self._scheduler = threading.Thread(target=self._schedule, name="backup-scheduler", daemon=True)
            self._scheduler.start()
        return paths

    def stop(self) -> None:
        self._stop.set()
        self.world.stop()
        if self.fleet is not None:
            self.fleet.stop()
        if self._scheduler is not None:
            self._scheduler.join(10.0)

    def _start_fleet(self) -> None:
        """The fleet autoscaler over the top ``fleet_pool_size`` sandbox servers no tenant holds; their ids go
        to ``FLEET_POOL_FILE``, which the fleet's discovery leaves out. A pool left by an earlier start with
        no autoscaler now is given back to the fleet (its servers started again)."""
        c = self.config
        pool_file = self.sandbox.state_dir / FLEET_POOL_FILE
        earlier = fleet_pool(self.sandbox.state_dir)
        pool = []
        if c.fleet_buffer_size > 0:
            taken = {r["id"] for r in self.store.servers()}
            free = [s for s in self.sandbox.servers() if s.id not in taken]
            pool = free[-max(c.fleet_pool_size, c.fleet_buffer_size) :]
        given_back = earlier - {s.id for s in pool}
        if given_back:  # an earlier pool's servers are the fleet's again: started, and listed again
            self.sandbox.clear(sorted(given_back))
        if not pool:
            pool_file.unlink(missing_ok=True)
            return
        write_json_atomic(pool_file, {"servers": [s.id for s in pool]})
        policy = BufferPolicy(c.fleet_buffer_size, len(pool), c.fleet_boot_s, weak_scale_in=c.weak_fleet_scale_in)
        servers = [(s.id, s.host, s.port) for s in pool]
        self.fleet = FleetBuffer(policy, self.sandbox, servers, time.time, down=self._down_ids).start()
        log.info("fleet autoscaler: buffer %d over a pool of %d servers", policy.buffer_size, len(pool))

    def _fleet(self) -> FleetBuffer:
        if self.fleet is None:
            raise ApiError(404, "this platform runs no game-server fleet autoscaler (sandbox.fleet_buffer is off)")
        return self.fleet

    def fleet_status(self, tenant: str) -> dict[str, Any]:
        return self._fleet().status(tenant)

    def allocate(self, tenant: str) -> dict[str, Any]:
        """A ready server of the fleet's buffer, allocated to ``tenant`` (409 when the buffer has none)."""
        server = self._fleet().allocate(tenant)
        if server is None:
            raise ApiError(409, "no ready server in the fleet buffer; retry when the autoscaler has refilled it")
        return server

    def release(self, tenant: str, server_id: str) -> None:
        if not self._fleet().release(tenant, server_id):
            raise ApiError(404, f"no allocation of server {server_id!r} for this tenant")

    def _provision(self) -> None:
        """``provision_tenant``: one server (unless the tenant has one) and its first scheduled backup now."""
        tenant = self.config.provision_tenant
        if not tenant or self.store.servers(tenant):
            return
        try:
            server = self.create_server(tenant, "provisioned")
            if self.config.backup_interval_s > 0:
                row = self.owned(tenant, server["id"])
                self._backup(row, trigger="schedule")
                self._scheduled[server["id"]] = (time.time(), 1)
        except ApiError as err:
            log.warning("could not provision a server for %s: %s", tenant, err.message)

    def _schedule(self) -> None:
        interval = self.config.backup_interval_s
        stops_after = self.config.weak_schedule_stops_after
        while not self._stop.wait(min(interval, 0.25)):
            for row in self.store.servers():
                last, count = self._scheduled.get(row["id"], (float(row["created_at"]), 0))
                if row["power"] != "running" or time.time() - last < interval:
                    continue
                if stops_after and count >= stops_after:
                    continue  # WEAK (tests only): the schedule stopped
                try:
                    self._backup(row, trigger="schedule")
                    self._retention(row["id"])
                except ApiError as err:
                    log.warning("scheduled backup of %s failed: %s", row["id"], err.message)
                except KeyError:
                    continue  # deleted meanwhile
                self._scheduled[row["id"]] = (time.time(), count + 1)

    # --- fleet view ----------------------------------------------------------------------------------

    def _serving_ids(self) -> set[str]:
        status = self.sandbox.status()
        if status is None:
            return set()
        down = set(status.down) | {sid for sid, faults in status.faults.items() if _DOWN_FAULTS & set(faults)}
        return {s.id for s in status.servers} - down

    def _down_ids(self) -> set[str] | None:
        """Servers not serving now (None: the fleet's control socket did not answer; it then reports every
        server down, with no shard pids, which says nothing about any one server)."""
        status = self.sandbox.status()
        if status is None or not status.shard_pids:
            return None
        return set(status.down) | {sid for sid, faults in status.faults.items() if _DOWN_FAULTS & set(faults)}

    def _rcon_save(self, server_id: str) -> None:
        row = self.store.server(server_id)
        if row is None:
            raise ApiError(404, "server not found")
        try:
            reply = rcon_command(row["host"], row["rcon_port"], self.rcon_password, "save-all", timeout=3.0)
        except RconError as err:
            raise ApiError(409, f"save-all failed: {err}") from None
        if "Saved" not in reply:
            raise ApiError(409, f"save-all not acknowledged: {reply[:80]!r}")

    # --- servers -------------------------------------------------------------------------------------

    def owned(self, tenant: str, server_id: str) -> dict[str, Any]:
        """The server row when ``tenant`` owns it; 404 otherwise (another tenant's server does not exist)."""
        row = self.store.server(server_id)
        if row is None or (row["tenant"] != tenant and not self.config.weak_tenant_isolation):
            raise ApiError(404, f"no server {server_id!r} for this tenant")
        return row

    def view(self, row: dict[str, Any]) -> dict[str, Any]:
        return {k: row[k] for k in ("id", "name", "host", "port", "power", "created_at")}

    def list_servers(self, tenant: str) -> list[dict[str, Any]]:
        return [self.view(r) for r in self.store.servers(tenant)]

    def create_server(self, tenant: str, name: str) -> dict[str, Any]:
        with self._assign_lock:  # pick + assign is one step: concurrent creates must not take the same server
            taken = {r["id"] for r in self.store.servers()} | (self.fleet.ids if self.fleet is not None else set())
            free = [s for s in self.sandbox.servers() if s.id not in taken]
            if not free:
                raise ApiError(409, "no free sandbox server; delete one or start the sandbox with more servers")
            server = free[0]
            self.store.assign(server.id, tenant, name or server.id, server.host, server.port, server.rcon_port)
        self._scheduled.pop(server.id, None)
        self.sandbox.clear([server.id])
        self.world.forget(server.id, delete=True)
        self.world.manage(server.id)
        return self.view(self.owned(tenant, server.id))

    def delete_server(self, tenant: str, server_id: str) -> None:
        self.owned(tenant, server_id)
        self.world.forget(server_id, delete=True)
        self.store.unassign(server_id)
        self.sandbox.clear([server_id])

    def power(self, tenant: str, server_id: str, signal: str) -> dict[str, Any]:
        row = self.owned(tenant, server_id)
        if signal not in POWER_SIGNALS:
            raise ApiError(400, f"signal must be one of {', '.join(POWER_SIGNALS)}, got {signal!r}")
        saved = None
        if signal in ("stop", "restart"):
            saved = self.world.save_all(server_id).last_seq
        if signal == "start":
            self.sandbox.clear([server_id])
            self.world.resume(server_id)
        elif signal in ("stop", "kill"):
            self.world.crash(server_id)  # the process ends: what was not saved is gone, now
            self.sandbox.inject([server_id], signal, restart=False)  # stop: players kicked; kill: dropped
        else:
            try:
                rcon_command(row["host"], row["rcon_port"], self.rcon_password, "stop", timeout=3.0)
            except RconError as err:
                raise ApiError(409, f"restart failed: {err}") from None
        self.store.set_power(server_id, "stopped" if signal in ("stop", "kill") else "running")
        return {"id": server_id, "signal": signal, "saved_seq": saved, "at": time.time()}

    # --- world (sandbox extension) -------------------------------------------------------------------

    def world_info(self, tenant: str, server_id: str, tail: int = 500) -> dict[str, Any]:
        self.owned(tenant, server_id)
        info = self.world.info(server_id)
        info["written_tail"] = [m.as_dict() for m in read_marks(self.world.journal_path(server_id))[-tail:]]
        info["saved_tail"] = [
            m.as_dict() for m in read_marks(self.world.world_dir(server_id) / "region" / "markers.log")[-tail:]
        ]
        return info

    def command(self, tenant: str, server_id: str, command: str) -> dict[str, Any]:
        """A console command: the server must be serving and answer over RCON; the reply comes back."""
        row = self.owned(tenant, server_id)
        line = command.strip().lstrip("/")
        if not line or len(line) > 256 or any(ord(c) < 32 for c in line):
            raise ApiError(400, "command must be one line of 1-256 printable characters")
        if row["power"] != "running" or server_id not in self._serving_ids():
            raise ApiError(409, f"server {server_id} is not running; start it first")
        try:
            reply = rcon_command(row["host"], row["rcon_port"], self.rcon_password, line, timeout=3.0)
        except RconError as err:
            raise ApiError(409, f"server did not take the command: {err}") from None
        append, get = _STORAGE_APPEND.match(line), _STORAGE_GET.match(line)
        try:
            if append is not None:
                self.world.append_storage(server_id, int(append.group(1)))
                reply = "Modified storage mcproof:dr"
            elif get is not None:
                reply = storage_reply(self.world.storage_marks(server_id))
        except (RuntimeError, KeyError):
            raise ApiError(409, f"server {server_id} is not running; start it first") from None
        return {"id": server_id, "command": line, "reply": reply, "at": time.time()}

    # --- files (the panel's file manager: Pterodactyl ``/files/list``, ``/files/delete``, ``/files/write``) ---

    def _inside(self, server_id: str, relative: str) -> Path:
        root = self.world.world_dir(server_id).resolve()
        path = (root / relative.lstrip("/")).resolve()
        if path != root and root not in path.parents:
            raise ApiError(400, f"path {relative!r} leaves the server's files")
        return path

    def list_files(self, tenant: str, server_id: str, directory: str = "/") -> list[dict[str, Any]]:
        """Entries of ``directory`` under the server's files root: name, is_file, size (bytes), modified_at."""
        self.owned(tenant, server_id)
        base = self._inside(server_id, directory)
        if not base.is_dir():
            return []
        out = []
        for entry in sorted(base.iterdir(), key=lambda p: p.name)[:1000]:
            st = entry.stat()
            out.append(
                {
                    "name": entry.name,
                    "is_file": entry.is_file(),
                    "size": st.st_size if entry.is_file() else 0,
                    "modified_at": st.st_mtime,
                }
            )
        return out

    def delete_files(self, tenant: str, server_id: str, root: str, files: Any) -> dict[str, Any]:
        """Delete ``files`` (names relative to ``root``) for real, as a panel's file manager does."""
        self.owned(tenant, server_id)
        if not isinstance(files, list) or not files or not all(isinstance(f, str) and f for f in files):
            raise ApiError(400, "files must be a non-empty list of names")
        base = self._inside(server_id, root)
        deleted = []
        for name in files:
            path = self._inside(server_id, str(Path(root) / name))
            if path == base or not path.exists():
                continue
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
            deleted.append(name)
        return {"id": server_id, "deleted": deleted, "at": time.time()}

    def write_file(self, tenant: str, server_id: str, file: str, content: str) -> dict[str, Any]:
        """Overwrite ``file`` with ``content`` (the panel's editor); the caller owns what it writes."""
        self.owned(tenant, server_id)
        if not file or len(content) > 32 * 1024:
            raise ApiError(400, "file must be named and content at most 32 KiB")
        path = self._inside(server_id, file)
        if path.is_dir():
            raise ApiError(400, f"{file!r} is a directory")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        return {"id": server_id, "file": file, "bytes": len(content.encode()), "at": time.time()}

    # --- backups -------------------------------------------------------------------------------------

    def list_backups(self, tenant: str, server_id: str) -> list[dict[str, Any]]:
        self.owned(tenant, server_id)
        return self.store.backups(server_id)

    def create_backup(self, tenant: str, server_id: str) -> dict[str, Any]:
        return self._backup(self.owned(tenant, server_id), trigger="api")

    def _backup(self, row: dict[str, Any], trigger: str) -> dict[str, Any]:
        server_id = row["id"]
        consistent = True
        try:
            check = self.world.save_all(server_id, hold=True)  # save-off + save-all until the snapshot is done
        except ApiError:
            consistent = False  # server down: back up what is on disk (crash-consistent)
            check = verify_world(self.world.world_dir(server_id))
        try:
            with self._repo_lock:
                snap = self.restic.backup(
                    self.world.world_dir(server_id), {"server": server_id, "tenant": row["tenant"]}
                )
        except BackupError as err:
            raise ApiError(500, str(err)) from None
        finally:
            if consistent:
                self.world.release(server_id)  # save-on
        backup = {
            "id": "bk_" + uuid.uuid4().hex[:12],
            "server_id": server_id,
            "tenant": row["tenant"],
            "snapshot": snap,
            "created_at": time.time(),
            "last_seq": check.last_seq,
            "last_ts": check.last_ts,
            "bytes": check.bytes,
            "trigger": trigger,
        }
        self.store.add_backup(backup)
        return {**backup, "consistent": consistent, "state": "available"}

    def _retention(self, server_id: str) -> None:
        c = self.config
        with self._repo_lock:
            try:
                row = self.store.server(server_id)
                tags = {"server": server_id, "tenant": row["tenant"] if row else ""}
                self.restic.forget(tags, keep_last=c.keep_last, keep_hourly=c.keep_hourly, keep_daily=c.keep_daily)
                snaps = self.restic.snapshots(tags)
            except BackupError as err:
                raise ApiError(500, str(err)) from None
        self.store.mark_forgotten(server_id, {s.id for s in snaps} | {s.short_id for s in snaps})

    def restore_backup(self, tenant: str, server_id: str, backup_id: str) -> dict[str, Any]:
        self.owned(tenant, server_id)
        backup = next((b for b in self.store.backups(server_id) if b["id"] == backup_id), None)
        if backup is None:
            raise ApiError(404, f"no backup {backup_id!r} for server {server_id!r}")
        self.world.crash(server_id)
        self.sandbox.inject([server_id], "kill", restart=False)
        self.store.set_power(server_id, "stopped")
        world = self.world.world_dir(server_id)
        with self._repo_lock:
            try:
                result = self.restic.restore(backup["snapshot"], world)
            except BackupError as err:
                raise ApiError(422, f"restore failed, integrity not verified: {err}") from None
        check = verify_world(world)
        if not check.ok:
            raise ApiError(422, "restored world failed verification: " + "; ".join(check.problems[:5]))
        self.sandbox.clear([server_id])
        self.store.set_power(server_id, "running")
        self.world.resume(server_id)
        return {"backup": backup_id, "restore": result.as_dict(), "verification": check.as_dict(), "at": time.time()}

    def backup_policy(self) -> dict[str, Any]:
        """The retention policy ``forget`` applies after each scheduled backup (restic vocabulary)."""
        c = self.config
        return {
            "tool": "restic",
            "keep_last": c.keep_last,
            "keep_hourly": c.keep_hourly,
            "keep_daily": c.keep_daily,
            "keep_weekly": 0,
            "keep_monthly": 0,
            "keep_yearly": 0,
            "keep_within": "",
            "backup_interval_s": c.backup_interval_s,
            "schedule": "per server" if c.backup_interval_s > 0 else "none",
        }

    def audit_policy(self) -> dict[str, Any]:
        """How the audit log is kept: append-only, and rotated by age only when audit_max_age_days > 0."""
        age = self.config.audit_max_age_days
        return {"append_only": True, "rotation": "age" if age > 0 else "none", "max_age_days": age if age > 0 else None}

    def check_repository(self) -> dict[str, Any]:
        with self._repo_lock:
            ok, detail = self.restic.check(read_data=True)
        return {"ok": ok, "detail": detail, "at": time.time()}

    # --- health and metrics --------------------------------------------------------------------------

    def readiness(self) -> dict[str, Any]:
        status = self.sandbox.status()
        checks = {
            "sandbox": status is not None,
            "restic_repo": (self.restic.repo / "config").exists(),
            "world_writer": self.world.is_alive(),
        }
        return {"ready": all(checks.values()), "checks": checks}

    def count(self, route: str, method: str, status: int) -> None:
        with self._counter_lock:
            key = (route, method, status)
            self.counters[key] = self.counters.get(key, 0) + 1

    def metrics(self) -> str:
        """Prometheus text exposition (format 0.0.4, prometheus-client)."""
        with self._counter_lock:
            counts = sorted(self.counters.items())
        rows = self.store.servers()
        up = self._serving_ids()
        return render(
            [
                counter(
                    "mcproof_platform_requests",
                    "API requests by route, method and status.",
                    ["route", "method", "code"],
                    (([route, method, str(status)], n) for (route, method, status), n in counts),
                ),
                gauge("mcproof_platform_servers", "Servers assigned to tenants.", [], [([], len(rows))]),
                gauge(
                    "mcproof_platform_server_up",
                    "1 when the server is serving.",
                    ["server", "tenant"],
                    (([str(r["id"]), str(r["tenant"])], int(r["id"] in up)) for r in rows),
                ),
                gauge(
                    "mcproof_backup_last_success_timestamp_seconds",
                    "Unix time of the newest available backup.",
                    ["server"],
                    (([sid], at) for sid, at in sorted(self.store.last_backup_times().items())),
                ),
                gauge(
                    "mcproof_platform_start_time_seconds",
                    "Unix time the platform API started.",
                    [],
                    [([], self.started_at)],
                ),
            ]
        )  # fmt: skip  (one family a line reads like the exposition it writes)
