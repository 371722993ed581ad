"""Errors mcproof raises on purpose; each message says what failed and what to do next.

Tree::

    McproofError                  base; the CLI prints str(err) as one line and exits 2
    ├── ConfigError               environment file missing, malformed or incomplete
    ├── SecretError               a referenced secret (env var or file) is missing or unreadable
    ├── TargetError               a target is unusable (not loopback in the sandbox, bad address)
    ├── SandboxError              the embedded sandbox cannot start, is not running, or refused a command
    ├── EvidenceError             the run store or a report input is missing or inconsistent
    ├── GuardError                a safety guard refused an action (production, blast radius)
    └── InconclusiveError         the harness could not measure what it claims (fault not applied,
                                  generator saturated, too few samples); carries the reason and the fix.
                                  A check that raises it ends `inconclusive`; the CLI exits 3

Exit codes (`mcproof.verdict`): 0 pass, 1 fail, 2 refused (bad input, guard, usage, interrupted),
3 inconclusive.

Messages never contain secret values.
"""

from __future__ import annotations


class McproofError(Exception):
    """Base class: an expected failure with a one-line, actionable message."""


class ConfigError(McproofError):
    """The environment file is missing, malformed or fails validation."""


class SecretError(McproofError):
    """A secret reference cannot be resolved."""


class TargetError(McproofError):
    """A target cannot be used (wrong address family, outside loopback in the sandbox...)."""


class SandboxError(McproofError):
    """The embedded sandbox failed to start, is not running, or refused a command."""


class EvidenceError(McproofError):
    """The run store or a report input is missing or inconsistent."""


class GuardError(McproofError):
    """A safety guard refused an action."""


class InconclusiveError(McproofError):
    """The harness could not measure what it claims; `reason` says why, `fix` what to do.

    >>> str(InconclusiveError("fault action failed: refused", "check the chaos guards"))
    'INCONCLUSIVE: fault action failed: refused; fix: check the chaos guards'
    """

    def __init__(self, reason: str, fix: str) -> None:
        self.reason = reason
        self.fix = fix
        super().__init__(f"INCONCLUSIVE: {reason}; fix: {fix}")
