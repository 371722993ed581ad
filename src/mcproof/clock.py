"""Wall-clock timestamps every evidence record uses (UTC, ISO-8601, milliseconds)."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["utc_now"]


def utc_now() -> str:
    """ISO-8601 UTC timestamp with milliseconds.

    >>> utc_now().endswith("Z") and "T" in utc_now()
    True
    """
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
