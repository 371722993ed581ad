"""Fix hints for failed checks: what to look at first, from the failure's words (never a diagnosis).

>>> fix_hint("test_x", "3 of 20 servers failed: mc-00003 (timeout after 1s)")
'Servers did not answer in time: check they are up and not overloaded (CPU, GC pauses), and network policies/firewalls on the status port.'
"""

from __future__ import annotations

HINTS: tuple[tuple[tuple[str, ...], str], ...] = (
    (
        ("serving ratio", "serving_ratio"),
        "Part of the fleet is not serving: the status bar in the linked evidence shows the failures by kind; "
        "fix the named servers first (the other failures name them).",
    ),
    (
        ("timeout", "timed out", "hang"),
        "Servers did not answer in time: check they are up and not overloaded (CPU, GC pauses), and network "
        "policies/firewalls on the status port.",
    ),
    (
        ("refused", "connection reset", "unreachable"),
        "Nothing listens on the port: check the pod/process is running, the Service/endpoint port, and restarts.",
    ),
    (
        ("wrong version", "version", "protocol"),
        "The server reports another version/protocol than `minecraft.expect`: roll out the expected image or "
        "update the environment file.",
    ),
    (
        ("malformed", "invalid", "decode"),
        "The reply is not valid Minecraft protocol: a proxy or another service may sit on the port.",
    ),
    (
        ("latency", "slow", "p95"),
        "Latency above the objective: look at the latency plot for outliers, host load and noisy neighbours.",
    ),
    (
        ("mttr", "recover", "unrecovered"),
        "Recovery too slow: check restart policy, readiness probes, image pull time and the supervisor's backoff.",
    ),
    (("rpo", "backup"), "Data loss window too large: check the backup schedule and that the last backup succeeded."),
    (("rto", "restore"), "Restore too slow: check restore throughput and the size of the snapshot."),
    (
        ("secret", "token", "unauthor", "forbidden", "401", "403"),
        "Authentication failed: check the secret reference in the environment file and its value.",
    ),
    (
        ("threshold", "load"),
        "A load threshold failed: compare with the last good run (`mcproof compare`) and check capacity.",
    ),
)
DEFAULT_HINT = "Open the linked evidence and the check's message; re-run the suite to see if it is persistent."


def fix_hint(check: str, message: str) -> str:
    """The first hint whose keywords appear in the check name or message (case-insensitive)."""
    text = f"{check} {message}".lower()
    for words, hint in HINTS:
        if any(word in text for word in words):
            return hint
    return DEFAULT_HINT
