"""Errors mcproof raises on purpose; each message says what failed and what to do next.

Tree (every error mcproof raises on purpose is defined here, nowhere else)::

    McproofError                  base; the CLI prints str(err) as one line and exits 2
    ├── ConfigError               environment file missing, malformed or incomplete
    ├── SecretError               a referenced secret (env var or file) is missing or unreadable
    ├── TargetError               a target is unusable (not loopback in the sandbox, bad address)
    ├── SandboxError              the embedded sandbox cannot start, is not running, or refused a command
    ├── EvidenceError             the run store or a report input is missing or inconsistent
    ├── GuardError                a safety guard refused an action (production, blast radius)
    ├── CapabilityMissing         the environment cannot apply a fault an experiment or drill needs
    ├── ExperimentSkipped         an experiment cannot run in this environment (the reason says why)
    ├── KubeError                 the Kubernetes API is unreachable or refused a request
    ├── PromError                 Prometheus did not answer or answered wrongly
    ├── RconError                 an RCON exchange failed (never holds the password)
    ├── ApiCallError              the platform API answered an error (status, correlation id)
    │   ├── CredentialsError      401/403: key or token refused
    │   ├── NotFoundError         404: no such server or backup for these credentials
    │   ├── ConflictError         409: the server's state conflicts (restoring, backing up)
    │   └── RateLimitedError      429 past the call's deadline
    ├── Unsupported               the platform adapter has no equivalent of an operation
    ├── NoPlatformApi             the environment offers no platform API (checks skip with this)
    ├── NoPrometheus              the environment offers no Prometheus (checks skip with this)
    ├── LoadRunError              a load run could not start or finish
    ├── ProvisioningError         a provisioning load run could not start or finish
    │   └── ProvisioningUnsupported  the platform's API cannot create servers (a panel's client API)
    ├── BackupError               a restic command of the sandbox failed
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


class KubeError(McproofError):
    """The Kubernetes API could not be reached or refused a request."""


class PromError(McproofError):
    """Prometheus did not answer, or answered with an error or an unexpected shape."""


class RconError(McproofError):
    """An RCON exchange failed (refused, timed out, bad password, malformed reply); never holds the password."""


class ApiCallError(McproofError):
    """The platform API answered with an error (status, message, correlation id) or not at all."""

    def __init__(self, message: str, status: int = 0, correlation_id: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.correlation_id = correlation_id


class CredentialsError(ApiCallError):
    """401/403: the API refused the key or token (or its user lacks the permission)."""


class NotFoundError(ApiCallError):
    """404: no such server (identifier) or backup for these credentials."""


class ConflictError(ApiCallError):
    """409: the server's state conflicts (restoring a backup, a backup already in progress, installing)."""


class RateLimitedError(ApiCallError):
    """429 with a Retry-After longer than the call's deadline allows."""


class Unsupported(McproofError):
    """The panel behind this adapter has no equivalent of the requested operation."""


class NoPlatformApi(McproofError):
    """The environment has no platform API to talk to (checks that need one are skipped with this reason)."""


class NoPrometheus(McproofError):
    """The environment has no Prometheus to ask (checks that need one are skipped with this reason)."""


class ExperimentSkipped(McproofError):
    """The experiment cannot run in this environment (e.g. it needs Kubernetes); the message says why."""


class LoadRunError(McproofError):
    """A load run could not start or finish (its child processes failed or overran the deadline)."""


class ProvisioningError(McproofError):
    """A provisioning load run could not start or finish."""


class ProvisioningUnsupported(ProvisioningError):
    """The environment's platform API has no create/delete-server routes (Pterodactyl's client API)."""

    fix = (
        "server creation on a panel is its application API (an admin's); measure provisioning with a "
        "platform_api that creates servers, or waive the check"
    )  # fmt: skip  (one sentence)


class BackupError(McproofError):
    """A restic command failed (repository, snapshot, integrity)."""


class CapabilityMissing(McproofError):
    """The environment's fault injector cannot do what an experiment or drill needs (refused at plan time)."""
