"""The drill's disaster, through capabilities a real panel has: a crash, then the world lost or corrupted.

``power kill`` (the process dies without saving: what was not saved is gone), a bounded wait until the
platform reports the server stopped (Wings applies a kill asynchronously), then, through the panel's file
manager (Pterodactyl's ``files/list`` / ``files/delete`` / ``files/write``; the mcproof API has the same
routes), in the adapter's ``world_root``: ``delete`` removes the world (every file of it), ``corrupt``
overwrites each of its files (at most 500) with garbage. No platform-specific shortcut: a panel without these
routes makes the drill INCONCLUSIVE (the adapter raises Unsupported or the API refuses), never a drill that
pretends.
"""

from __future__ import annotations

import time
from typing import Any

from mcproof.errors import ApiCallError
from mcproof.platform.adapter import PlatformAdapter

__all__ = ["GARBAGE", "apply_disaster", "world_files"]

GARBAGE = "mcproof DR drill: this file was corrupted on purpose\n"
STOPPED = frozenset({"offline", "stopped"})
_MAX_FILES = 500
_MAX_DEPTH = 6


def world_files(api: PlatformAdapter, server_id: str, directory: str) -> list[str]:
    """Every file under ``directory`` (bounded: depth 6, 500 files), by the file manager."""
    out: list[str] = []
    queue = [(directory, 0)]
    while queue and len(out) < _MAX_FILES:
        current, depth = queue.pop(0)
        for entry in api.list_files(server_id, current):
            path = f"{current.rstrip('/')}/{entry['name']}"
            if entry.get("is_file"):
                out.append(path)
            elif depth < _MAX_DEPTH:
                queue.append((path, depth + 1))
    return out[:_MAX_FILES]


def _wait_stopped(api: PlatformAdapter, server_id: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        power = api.get_server(server_id).power
        if power in STOPPED:
            return
        if time.monotonic() > deadline:
            raise ApiCallError(f"{server_id} still reports power {power!r} {timeout_s:g}s after a kill")
        time.sleep(0.2)


def apply_disaster(api: PlatformAdapter, server_id: str, kind: str, *, stop_timeout_s: float = 60.0) -> dict[str, Any]:
    """Crash ``server_id`` (power kill) and destroy its world (``delete`` | ``corrupt``); what was done."""
    api.power(server_id, "kill")
    at = time.time()
    _wait_stopped(api, server_id, stop_timeout_s)
    root = api.world_root
    steps = ["power kill", "stopped"]
    if kind == "delete":
        if root.strip("/") == "":
            names = [str(e["name"]) for e in api.list_files(server_id, "/")]
            parent = "/"
        else:
            parent, _, leaf = root.rstrip("/").rpartition("/")
            parent, names = parent or "/", [leaf]
        if names:
            api.delete_files(server_id, names, parent)
        steps.append(f"files/delete {parent} {names[:5]}")
    else:
        for path in world_files(api, server_id, root):
            api.write_file(server_id, path, GARBAGE)
            steps.append(f"files/write {path}")
    return {"id": server_id, "kind": kind, "at": at, "steps": steps}
