"""The environment's `security:` section: what may be reachable, what must not be, TLS endpoints,
RCON default passwords, the protocol fuzz set and the manifest scan.

Defined here (not in mcproof.config, which imports it) so the security package stays self-contained.

A demanding operator's default: only the game ports are public; RCON, admin and metrics ports are
NOT reachable from the harness's vantage point. A port that must be reachable from the harness (the
sandbox is one host, so the harness is its management plane) is declared under `management` with a
reason; the reason is written to the evidence and the report, and such a port must still refuse
default passwords.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_RCON_PASSWORDS",
    "ApiFuzzSettings",
    "ExposureSettings",
    "FuzzSettings",
    "ManagementPort",
    "ManifestScanSettings",
    "PortSpec",
    "SecuritySettings",
    "TlsEndpoint",
]

# Short, bounded list: the passwords that ship in images, tutorials and panels. Public knowledge.
DEFAULT_RCON_PASSWORDS: tuple[str, ...] = (
    "minecraft",
    "password",
    "admin",
    "rcon",
    "changeme",
    "123456",
    "12345678",
    "root",
    "server",
    "test",
    "letmein",
    "secret",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortSpec(_Model):
    """A port on every Minecraft host. ``port: null`` means the target's own port of that role."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    port: int | None = Field(None, ge=1, le=65535)
    protocol: Literal["tcp", "udp"] = "tcp"
    role: Literal["slp", "query", "rcon", "bedrock", "other"] = "other"


class ManagementPort(PortSpec):
    """A non-public port the harness may reach, with the reason that is written to the evidence."""

    reason: str = Field(min_length=10)


class ExposureSettings(_Model):
    public: list[PortSpec] = [PortSpec(name="slp", protocol="tcp", role="slp")]
    forbidden: list[PortSpec] = [PortSpec(name="rcon", protocol="tcp", role="rcon")]
    management: list[ManagementPort] = []
    max_hosts: int = Field(1000, ge=1, le=20_000)
    connect_timeout_s: float = Field(1.0, gt=0, le=30)
    concurrency: int = Field(128, ge=1, le=1024)


class FuzzSettings(_Model):
    seed: int = 20261125
    cases: int = Field(24, ge=1, le=200)
    servers: int = Field(2, ge=1, le=20)
    read_timeout_s: float = Field(0.3, gt=0, le=5)


class TlsEndpoint(_Model):
    """A TLS endpoint the environment declares (platform API, panel, metrics over TLS...)."""

    name: str
    host: str
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = None  # the hostname the certificate must be valid for (default: host)
    ca_file: Path | None = None  # trust anchors; None: the system store
    expiry_window_days: int = Field(14, ge=0, le=3650)


class ManifestScanSettings(_Model):
    # the manifests the environment deploys; None: what its embedded cluster applied (<kube state dir>/applied)
    directory: Path | None = None
    frameworks: list[Literal["kubernetes", "helm"]] = ["kubernetes", "helm"]
    checkov: Path | None = None  # the checkov executable; default: $MCPROOF_CACHE/checkov-venv/bin/checkov
    accepted: dict[str, str] = {}  # Checkov check id -> why it is accepted (written to the evidence)
    timeout_s: float = Field(180, gt=0, le=1800)


class ApiFuzzSettings(_Model):
    """The bounded schemathesis run against the platform API's OpenAPI document."""

    openapi: Path | None = Path("docs/platform-api.openapi.yaml")  # relative to the project root; None: skip
    seed: int = 20261125
    max_examples: int = Field(10, ge=1, le=200)  # generated requests per operation
    deadline_s: float = Field(90.0, gt=0, le=1800)  # wall time of the whole run
    request_timeout_s: float = Field(10.0, gt=0, le=120)
    exclude: list[str] = ["/files/delete", "/files/write"]  # path fragments of operations never called (destroy data)


class SecuritySettings(_Model):
    exposure: ExposureSettings = ExposureSettings()
    rcon_default_passwords: list[str] = Field(list(DEFAULT_RCON_PASSWORDS), max_length=50)
    rcon_servers: int = Field(20, ge=1, le=1000)
    rcon_min_password_length: int = Field(12, ge=1, le=256)
    fuzz: FuzzSettings = FuzzSettings()
    tls: list[TlsEndpoint] = []
    tls_min_version: Literal["TLSv1.2", "TLSv1.3"] = "TLSv1.2"
    manifests: ManifestScanSettings | None = None
    timeout_s: float = Field(3.0, gt=0, le=60)
    api_fuzz: ApiFuzzSettings = ApiFuzzSettings()
