"""The drill's disaster, through capabilities a real panel has: a crash, then the world lost or corrupted.

``power kill`` (the process dies without saving: what was not saved is gone) and then, through the panel's
file manager (Pterodactyl's ``files/list`` / ``files/delete`` / ``files/write``; the mcproof API has the same
routes): ``delete`` removes every file of the server (a lost volume), ``corrupt`` overwrites its largest
file with garbage (silent corruption). No platform-specific shortcut: a panel without these routes makes
the drill INCONCLUSIVE (the adapter raises Unsupported), never a drill that pretends.
"""

from __future__ import annotations

import time
from typing import Any

from mcproof.platform.adapter import PlatformAdapter

__all__ = ["GARBAGE", "apply_disaster"]

GARBAGE = "mcproof DR drill: this file was corrupted on purpose\n"
_MAX_WALK = 200  # directories listed at most while looking for the largest file


def _largest_file(api: PlatformAdapter, server_id: str) -> str | None:
    """The path of the server's largest file, by a bounded breadth-first walk of its file manager."""
    queue, best, best_size, walked = ["/"], None, -1, 0
    while queue and walked < _MAX_WALK:
        directory = queue.pop(0)
        walked += 1
        for entry in api.list_files(server_id, directory):
            path = f"{directory.rstrip('/')}/{entry['name']}"
            if entry.get("is_file"):
                if int(entry.get("size") or 0) > best_size:
                    best, best_size = path, int(entry.get("size") or 0)
            else:
                queue.append(path)
    return best


def apply_disaster(api: PlatformAdapter, server_id: str, kind: str) -> dict[str, Any]:
    """Crash ``server_id`` (power kill) and destroy its world (``delete`` | ``corrupt``); what was done."""
    api.power(server_id, "kill")
    at = time.time()
    if kind == "delete":
        names = [str(e["name"]) for e in api.list_files(server_id, "/")]
        done = api.delete_files(server_id, names, "/") if names else {"deleted": []}
        return {"id": server_id, "kind": kind, "at": at, "deleted": list(done.get("deleted", names))}
    target = _largest_file(api, server_id)
    if target is not None:
        api.write_file(server_id, target, GARBAGE)
    return {"id": server_id, "kind": kind, "at": at, "corrupted": target}
