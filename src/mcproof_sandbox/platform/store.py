"""SQLite state of the sandbox platform API: tenants (token hashes), server assignments, backups.

One connection per call (``sqlite3`` objects are not shared across the HTTP server's threads); WAL mode.
Tokens are stored as sha256 hashes only.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["PlatformStore", "token_hash"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tenants (name TEXT PRIMARY KEY, token_sha256 TEXT UNIQUE NOT NULL);
CREATE TABLE IF NOT EXISTS servers (
  id TEXT PRIMARY KEY, tenant TEXT NOT NULL REFERENCES tenants(name), name TEXT NOT NULL,
  host TEXT NOT NULL, port INTEGER NOT NULL, rcon_port INTEGER NOT NULL, created_at REAL NOT NULL,
  power TEXT NOT NULL DEFAULT 'running');
CREATE TABLE IF NOT EXISTS backups (
  id TEXT PRIMARY KEY, server_id TEXT NOT NULL, tenant TEXT NOT NULL, snapshot TEXT NOT NULL,
  created_at REAL NOT NULL, last_seq INTEGER NOT NULL, last_ts REAL NOT NULL, bytes INTEGER NOT NULL,
  trigger TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'available');
"""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PlatformStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        with self._db() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10.0)
        db.row_factory = sqlite3.Row
        try:
            with db:
                yield db
        finally:
            db.close()

    def add_tenant(self, name: str, token: str) -> None:
        with self._db() as db:
            db.execute("INSERT OR REPLACE INTO tenants VALUES (?, ?)", (name, token_hash(token)))

    def tenant_for(self, token: str) -> str | None:
        with self._db() as db:
            row = db.execute("SELECT name FROM tenants WHERE token_sha256 = ?", (token_hash(token),)).fetchone()
        return None if row is None else str(row["name"])

    def servers(self, tenant: str | None = None) -> list[dict[str, Any]]:
        with self._db() as db:
            if tenant is None:
                rows = db.execute("SELECT * FROM servers ORDER BY id").fetchall()
            else:
                rows = db.execute("SELECT * FROM servers WHERE tenant = ? ORDER BY id", (tenant,)).fetchall()
        return [dict(r) for r in rows]

    def server(self, server_id: str) -> dict[str, Any] | None:
        with self._db() as db:
            row = db.execute("SELECT * FROM servers WHERE id = ?", (server_id,)).fetchone()
        return None if row is None else dict(row)

    def assign(self, server_id: str, tenant: str, name: str, host: str, port: int, rcon_port: int) -> None:
        with self._db() as db:
            db.execute(
                "INSERT INTO servers (id, tenant, name, host, port, rcon_port, created_at) VALUES (?,?,?,?,?,?,?)",
                (server_id, tenant, name, host, port, rcon_port, time.time()),
            )

    def set_power(self, server_id: str, power: str) -> None:
        with self._db() as db:
            db.execute("UPDATE servers SET power = ? WHERE id = ?", (power, server_id))

    def unassign(self, server_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM servers WHERE id = ?", (server_id,))
            db.execute("UPDATE backups SET state = 'orphaned' WHERE server_id = ?", (server_id,))

    def add_backup(self, row: dict[str, Any]) -> None:
        cols = ("id", "server_id", "tenant", "snapshot", "created_at", "last_seq", "last_ts", "bytes", "trigger")
        with self._db() as db:
            db.execute(
                f"INSERT INTO backups ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",  # noqa: S608
                tuple(row[c] for c in cols),
            )

    def backups(self, server_id: str) -> list[dict[str, Any]]:
        with self._db() as db:
            rows = db.execute(
                "SELECT * FROM backups WHERE server_id = ? AND state = 'available' ORDER BY created_at", (server_id,)
            ).fetchall()
        return [dict(r) for r in rows]

    def mark_forgotten(self, server_id: str, keep_snapshots: set[str]) -> None:
        with self._db() as db:
            for row in db.execute("SELECT id, snapshot FROM backups WHERE server_id = ?", (server_id,)).fetchall():
                if row["snapshot"] not in keep_snapshots:
                    db.execute("UPDATE backups SET state = 'forgotten' WHERE id = ?", (row["id"],))

    def last_backup_times(self) -> dict[str, float]:
        with self._db() as db:
            rows = db.execute(
                "SELECT server_id, MAX(created_at) AS t FROM backups WHERE state = 'available' GROUP BY server_id"
            ).fetchall()
        return {str(r["server_id"]): float(r["t"]) for r in rows}
