"""Evidence a check appended, as Allure attachments: read back from the run store, capped in size.

The plugin remembers the size of ``evidence.jsonl`` when a check starts and, at its teardown, reads
the lines written since: records the check (or a fixture it set up first) appended. The store has
already redacted every line, so nothing here sees a secret. A record whose JSON is larger than the cap
(a fleet sweep of 10,000 servers is) is attached as a summary plus the raw JSON truncated to the cap.
allure-pytest does the attaching; without it installed or enabled nothing is attached.

Example::

    >>> [name for name, _, _ in attachment_bodies(['{"type": "slo", "slo": "rto_s"}'])]
    ['evidence: slo rto_s']
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MAX_ATTACHMENT_BYTES", "attach_to_allure", "attachment_bodies", "read_new_lines", "summarize_record"]

MAX_ATTACHMENT_BYTES = 1024 * 1024
MAX_RECORDS = 50  # per check: bounded, whatever a check appends
_LIST_HEAD = 20
_SKIP_TYPES = frozenset({"check", "run", "run_end"})  # the plugin's own bookkeeping, shown by Allure already


def read_new_lines(path: Path, offset: int, *, max_lines: int = MAX_RECORDS) -> list[str]:
    """The first ``max_lines`` non-empty lines written to ``path`` after byte ``offset``."""
    lines: list[str] = []
    try:
        with path.open("rb") as handle:
            handle.seek(offset)
            for raw in handle:
                if len(lines) >= max_lines:
                    break
                line = raw.decode("utf-8", errors="replace").strip()
                if line:
                    lines.append(line)
    except OSError:
        return []
    return lines


def summarize_record(record: dict[str, Any]) -> dict[str, Any]:
    """Scalars kept, lists as their length plus their first items, large objects as their keys.

    >>> summarize_record({"type": "fleet", "total": 3, "results": [1, 2, 3]})["results"]
    {'count': 3, 'first': [1, 2, 3]}
    """
    summary: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, list):
            head = value[:_LIST_HEAD]
            if len(json.dumps(head, default=str)) > MAX_ATTACHMENT_BYTES // 8:
                head = head[:1]
            summary[key] = {"count": len(value), "first": head}
        elif isinstance(value, dict) and len(json.dumps(value, default=str)) > MAX_ATTACHMENT_BYTES // 8:
            summary[key] = {"keys": sorted(value)[:100], "count": len(value)}
        else:
            summary[key] = value
    return summary


def _title(record: dict[str, Any]) -> str:
    kind = str(record.get("type", "record"))
    label = record.get("slo") or record.get("name") or record.get("check") or ""
    return f"evidence: {kind} {label}".rstrip()


def attachment_bodies(lines: list[str], cap: int = MAX_ATTACHMENT_BYTES) -> list[tuple[str, str, bool]]:
    """(name, body, is_json) per evidence line; oversized lines become a summary + truncated raw."""
    bodies: list[tuple[str, str, bool]] = []
    for line in lines:
        try:
            record = json.loads(line)
        except ValueError:
            bodies.append(("evidence: unreadable line", line[:cap], False))
            continue
        if not isinstance(record, dict) or record.get("type") in _SKIP_TYPES:
            continue
        title = _title(record)
        size = len(line.encode("utf-8"))
        if size <= cap:
            bodies.append((title, json.dumps(record, indent=2, sort_keys=True), True))
            continue
        summary = {"truncated": True, "bytes": size, "cap": cap, "summary": summarize_record(record)}
        bodies.append((f"{title} (summary)", json.dumps(summary, indent=2, sort_keys=True, default=str)[:cap], True))
        raw = line.encode("utf-8")[:cap].decode("utf-8", errors="ignore")
        bodies.append((f"{title} (raw, first {cap} of {size} bytes)", raw, False))
    return bodies


def attach_to_allure(lines: list[str]) -> int:
    """Attach ``lines`` to the running Allure test; the number attached (0 without allure-pytest)."""
    try:
        import allure
    except ImportError:
        return 0
    bodies = attachment_bodies(lines)
    for name, body, is_json in bodies:
        kind = allure.attachment_type.JSON if is_json else allure.attachment_type.TEXT
        allure.attach(body, name=name, attachment_type=kind)
    return len(bodies)
