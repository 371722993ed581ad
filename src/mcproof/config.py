"""Environment model: what to test, what "good" means (SLOs), and what is allowed (guards).

An environment file is YAML (see environments/*.yaml). `load_environment("staging")` looks for
`environments/staging.yaml`; a path works too. Any problem becomes one ConfigError line naming the
file, the field, what was expected and what was found. Secrets are only references (env var or
file), resolved when used.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mcproof.chaos.settings import ChaosSettings
from mcproof.compliance.settings import ComplianceSettings
from mcproof.dr.settings import DrSettings
from mcproof.errors import ConfigError
from mcproof.kube.settings import AutoscalingSettings
from mcproof.load.settings import LoadSettings
from mcproof.monitoring.settings import MonitoringSettings
from mcproof.paths import project_root
from mcproof.players.settings import PLAYER_SLO_NAMES, PlayerSettings
from mcproof.rollout.settings import RolloutSettings
from mcproof.secrets import SecretRef
from mcproof.security.settings import SecuritySettings


class Tier(StrEnum):
    DEV = "dev"
    STAGING = "staging"
    PRODUCTION = "production"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExpectedVersion(_Model):
    """What a server must report in its status reply."""

    name: str | None = None
    protocol: int | None = Field(None, ge=0)

    def over(self, base: ExpectedVersion) -> ExpectedVersion:
        """This expectation, its unset fields taken from `base`.

        >>> ExpectedVersion(name="26.2").over(ExpectedVersion(name="1.21.4", protocol=769))
        ExpectedVersion(name='26.2', protocol=769)
        """
        return ExpectedVersion(
            name=self.name if self.name is not None else base.name,
            protocol=self.protocol if self.protocol is not None else base.protocol,
        )

    @property
    def is_set(self) -> bool:
        return self.name is not None or self.protocol is not None


class StaticServer(_Model):
    """One Minecraft server named in the environment file."""

    host: str
    port: int = Field(0, ge=0, le=65535)  # 0: the edition's default (25565 Java, 19132 Bedrock)
    edition: Literal["java", "bedrock"] = "java"
    name: str | None = None
    query_port: int | None = Field(None, ge=1, le=65535)
    rcon_port: int | None = Field(None, ge=1, le=65535)
    # a mixed fleet: this server's version/protocol where it differs from minecraft.expect (unset fields inherit)
    expect: ExpectedVersion | None = None

    @property
    def effective_port(self) -> int:
        """The port given, else the edition's default."""
        return self.port or (19132 if self.edition == "bedrock" else 25565)

    @property
    def target_id(self) -> str:
        """The id its Target gets: the name, else host:port."""
        return self.name or f"{self.host}:{self.effective_port}"


class StaticDiscovery(_Model):
    kind: Literal["static"]
    servers: list[StaticServer] = Field(min_length=1)


class SandboxDiscovery(_Model):
    """Targets are the servers of the embedded sandbox whose state lives in `state_dir`."""

    kind: Literal["sandbox"]
    state_dir: Path = Path(".mcproof/sandbox")


class KubernetesDiscovery(_Model):
    """Targets are the ready endpoints (pod IP + target port) of the Minecraft Services in the
    environment's `kubernetes` section (namespaces, label_selector); never ClusterIPs."""

    kind: Literal["kubernetes"]
    port_name: str = "minecraft"  # the Service port whose endpoints are the game endpoints


Discovery = Annotated[StaticDiscovery | SandboxDiscovery | KubernetesDiscovery, Field(discriminator="kind")]


class RconSettings(_Model):
    enabled: bool = False
    port: int = Field(25575, ge=1, le=65535)
    password: SecretRef | None = None


class MinecraftSettings(_Model):
    discovery: Discovery
    expect: ExpectedVersion = ExpectedVersion()
    query_enabled: bool = False
    rcon: RconSettings = RconSettings()
    status_timeout_s: float = Field(3.0, gt=0, le=60)
    sweep_concurrency: int = Field(256, ge=1, le=4096)
    latency_servers: int = Field(50, ge=1, le=10_000)
    latency_rounds: int = Field(5, ge=1, le=100)
    failure_list_cap: int = Field(20, ge=1, le=1000)

    def expect_for(self, target_id: str) -> ExpectedVersion:
        """What the target with this id must report: its static entry's `expect` over `minecraft.expect`."""
        if isinstance(self.discovery, StaticDiscovery):
            for server in self.discovery.servers:
                if server.expect is not None and server.target_id == target_id:
                    return server.expect.over(self.expect)
        return self.expect

    @property
    def expects_version(self) -> bool:
        """True when any server has an expected version or protocol."""
        servers = self.discovery.servers if isinstance(self.discovery, StaticDiscovery) else []
        return self.expect.is_set or any(s.expect is not None and s.expect.is_set for s in servers)


class Slo(_Model):
    """Service level objectives the environment is held to."""

    availability: float = Field(0.999, gt=0, le=1)
    mttr_s: float = Field(900, gt=0)
    rto_s: float = Field(900, gt=0)
    rpo_s: float = Field(300, gt=0)
    status_latency_p95_ms: float = Field(250, gt=0)
    concurrent_servers: int = Field(10_000, ge=1)
    serving_ratio: float = Field(0.999, gt=0, le=1)


class Waiver(_Model):
    """An SLO or compliance control the environment accepts as not measured: who decided, and why.

    Listed as `waived` in every report format; without one, an unmeasured declared SLO makes the
    sign-off inconclusive.
    """

    slo: str | None = None
    control: str | None = None
    reason: str = Field(min_length=3)
    owner: str = Field(min_length=1)

    @model_validator(mode="after")
    def _names_one(self) -> Waiver:
        if (self.slo is None) == (self.control is None):
            raise ValueError("a waiver names exactly one of 'slo' or 'control'")
        return self


class Guards(_Model):
    """Safety limits for destructive suites."""

    production_guard: bool = True
    allowed_namespaces: list[str] = []
    max_blast_radius: float = Field(0.2, gt=0, le=1)
    loopback_only: bool = False


class SandboxFleetBuffer(_Model):
    """The sandbox platform's game-server fleet autoscaler (Agones-style buffer of ready servers)."""

    size: int = Field(ge=1, le=1000)  # ready servers kept for allocations
    pool: int = Field(ge=1, le=5000)  # servers the fleet may use in all, taken from the top of the sandbox's ids
    boot_s: float = Field(2.0, gt=0, le=600)  # a cold server answers this long after the autoscaler started it


class SandboxSettings(_Model):
    """How `mcproof sandbox up` builds the embedded platform for this environment."""

    servers: int = Field(200, ge=1, le=20_000)
    version_name: str = "1.21.4"
    protocol: int = 769
    motd: str = "mcproof sandbox"
    max_players: int = Field(20, ge=1)
    tick_rate: float = Field(20.0, gt=0, le=1000)  # the servers' ticks per second (the `lag` fault lowers it)
    boot_delay_s: float = Field(2.0, ge=0)
    base_address: str = "127.1.0.1"
    # the sandbox platform's backup schedule, per tenant server (0: none); a server for the DR tenant is
    # provisioned at start with its first scheduled backup, so backup freshness is measured, not skipped
    backup_interval_s: float = Field(10.0, ge=0, le=86400)
    provision_server: bool = True
    # a fleet autoscaler over pool servers kept apart from the fleet (absent: none); its cold servers do not
    # answer, so an environment whose sweeps cover every sandbox server leaves it off (docs/autoscaling.md)
    fleet_buffer: SandboxFleetBuffer | None = None


class EmbeddedKubernetes(_Model):
    """The sandbox's own cluster (real control plane, kwok nodes) and the Minecraft tenants it holds."""

    nodes: int = Field(3, ge=1, le=1000)
    tenants: list[str] = ["minecraft", "tenant-b"]
    releases_per_tenant: int = Field(2, ge=1, le=5000)
    replicas: int = Field(1, ge=1, le=1000)
    persistence: bool = True  # volumeClaimTemplates bound to static PVs (kwok has no provisioner)
    proxy_replicas: int = Field(2, ge=0, le=100)  # per tenant: a proxy/lobby Deployment (0: none)
    autoscaling: bool = True  # per tenant: PDBs for every release and the proxy, an HPA for the proxy
    bridge_shards: int = Field(1, ge=1, le=16)
    pod_cidr: str = "127.64.0.0/16"


class KubernetesSettings(_Model):
    """Kubernetes discovery and smoke checks: which cluster, which namespaces, which objects."""

    kubeconfig: Path | None = None  # None: the embedded cluster's, else $KUBECONFIG / ~/.kube/config
    context: str | None = None
    namespaces: list[str] = []  # empty: every namespace
    label_selector: str = "app.kubernetes.io/name=minecraft"
    max_restarts: int = Field(3, ge=0)  # smoke: a pod restarted more often than this fails
    request_timeout_s: float = Field(10.0, gt=0, le=120)
    embedded: EmbeddedKubernetes | None = None  # set: `mcproof sandbox up` starts this cluster
    autoscaling: AutoscalingSettings | None = (
        None  # set: smoke checks every workload's HPA and PDB (docs/autoscaling.md)
    )


class PlatformApiSettings(_Model):
    """Reserved for the hosting platform's API (base URL and token reference)."""

    base_url: str
    token: SecretRef | None = None
    ca_file: Path | None = None  # PEM bundle that signs the API's certificate; None: system trust store
    cert_warning_days: int = Field(14, ge=0, le=3650)  # smoke: fail when the certificate expires sooner
    second_tenant_token: SecretRef | None = None  # security: another tenant's token for the cross-tenant check


class FaultSettings(_Model):
    """How mcproof may fault this environment's server processes (``faults:``); absent: the sandbox's own
    injector when the environment is the sandbox, else none (process experiments are refused).

    ``kind: command``: shell commands an operator would run to kill and start one server, with ``{id}``,
    ``{host}``, ``{port}`` filled in (``systemctl kill -s KILL mc@{id}``, ``ssh {host} ...``)."""

    kind: Literal["command"] = "command"
    kill: str = Field(min_length=1)
    start: str | None = None
    timeout_s: float = Field(30.0, gt=0, le=600)


class PterodactylPlatform(_Model):
    """A Pterodactyl/Pelican panel's client API as the platform (``platform: {kind: pterodactyl}``).

    ``url`` None: the sandbox's own panel face (its URL, CA and ``ptlc_`` key come from its state). The
    client API cannot create servers, so ``server`` names the panel server mcproof may disrupt (DR drill,
    panel chaos actions): a dedicated one, its world is destroyed and restored.
    """

    kind: Literal["pterodactyl"]
    url: str | None = Field(None, pattern=r"^https?://[^/\s]+(/[^\s]*)?$")
    api_key: SecretRef | None = None  # a client API key (ptlc_...): {env: NAME} or {file: path}
    ca_file: Path | None = None  # PEM bundle for the panel's and the node's certificates; None: system trust
    server: str | None = Field(None, pattern=r"^[A-Za-z0-9-]{8,36}$")  # panel identifier (8 chars) or uuid
    tenant: str = "alpha"  # sandbox face only: whose key to use
    world_dir: str = Field("world", pattern=r"^[A-Za-z0-9._-]{1,64}$")  # the server's level-name folder
    request_timeout_s: float = Field(30.0, gt=0, le=600)
    backup_timeout_s: float = Field(600.0, gt=0, le=86400)
    restore_timeout_s: float = Field(600.0, gt=0, le=86400)
    console_timeout_s: float = Field(5.0, gt=0, le=120)
    poll_s: float = Field(0.5, gt=0, le=60)

    @model_validator(mode="after")
    def _key_with_url(self) -> PterodactylPlatform:
        if self.url is not None and self.api_key is None:
            raise ValueError("a panel url needs api_key: {env: NAME} (a client API key, ptlc_...)")
        return self


class Environment(_Model):
    """A validated environment file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")
    tier: Tier
    description: str = ""
    minecraft: MinecraftSettings
    slo: Slo = Slo()
    waivers: list[Waiver] = []
    guards: Guards = Guards()
    sandbox: SandboxSettings | None = None
    kubernetes: KubernetesSettings | None = None
    platform_api: PlatformApiSettings | None = None
    platform: PterodactylPlatform | None = None  # another panel's API as the platform (docs/platform-adapters.md)
    chaos: ChaosSettings | None = None
    load: LoadSettings | None = None
    dr: DrSettings | None = None
    security: SecuritySettings | None = None
    compliance: ComplianceSettings | None = None
    monitoring: MonitoringSettings | None = None
    players: PlayerSettings | None = None
    faults: FaultSettings | None = None
    rollout: RolloutSettings | None = None  # `mcproof rollout gate` deadlines and SLOs (docs/rollout.md)
    source: Path | None = Field(None, exclude=True)

    @model_validator(mode="after")
    def _sandbox_consistent(self) -> Environment:
        if isinstance(self.minecraft.discovery, SandboxDiscovery) and self.sandbox is None:
            raise ValueError("discovery kind 'sandbox' needs a 'sandbox' section")
        if self.minecraft.discovery.kind == "kubernetes" and self.kubernetes is None:
            raise ValueError("discovery kind 'kubernetes' needs a 'kubernetes' section")
        return self

    @model_validator(mode="after")
    def _one_platform(self) -> Environment:
        if self.platform is not None and self.platform.url is None and self.sandbox_state_dir is None:
            raise ValueError("platform kind 'pterodactyl' without url needs the sandbox (discovery kind 'sandbox')")
        return self

    @model_validator(mode="after")
    def _waivers_name_slos(self) -> Environment:
        known = set(Slo.model_fields) | set(PLAYER_SLO_NAMES)
        for waiver in self.waivers:
            if waiver.slo is not None and waiver.slo not in known:
                raise ValueError(f"waiver names unknown SLO {waiver.slo!r}; SLOs: {', '.join(sorted(known))}")
        return self

    def waiver_for(self, *, slo: str | None = None, control: str | None = None) -> Waiver | None:
        """The waiver for an SLO or a control, if the environment file has one."""
        for waiver in self.waivers:
            if (slo is not None and waiver.slo == slo) or (control is not None and waiver.control == control):
                return waiver
        return None

    @property
    def base_dir(self) -> Path:
        """Directory relative paths in the file are resolved against (the project root)."""
        if self.source is None:
            return Path.cwd()
        parent = self.source.parent
        return parent.parent if parent.name == "environments" else parent

    def resolve_path(self, path: Path) -> Path:
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def uses_sandbox(self) -> bool:
        return isinstance(self.minecraft.discovery, SandboxDiscovery)

    @property
    def sandbox_state_dir(self) -> Path | None:
        discovery = self.minecraft.discovery
        if not isinstance(discovery, SandboxDiscovery):
            return None
        override = os.environ.get("MCPROOF_STATE_DIR")
        return Path(override).resolve() if override else self.resolve_path(discovery.state_dir)

    @property
    def kube_state_dir(self) -> Path | None:
        """The embedded cluster's state dir, ``<sandbox state dir>/kube`` (None without kubernetes.embedded)."""
        if self.kubernetes is None or self.kubernetes.embedded is None:
            return None
        sandbox_dir = self.sandbox_state_dir
        if sandbox_dir is None:
            override = os.environ.get("MCPROOF_STATE_DIR")
            sandbox_dir = Path(override).resolve() if override else self.resolve_path(Path(".mcproof/sandbox"))
        return sandbox_dir / "kube"

    @property
    def kubeconfig_path(self) -> Path | None:
        """kubernetes.kubeconfig, else the embedded cluster's, else None ($KUBECONFIG / ~/.kube/config)."""
        if self.kubernetes is None:
            return None
        if self.kubernetes.kubeconfig is not None:
            return self.resolve_path(self.kubernetes.kubeconfig)
        state = self.kube_state_dir
        return state / "kubeconfig" if state is not None else None

    def snapshot(self) -> dict[str, Any]:
        """JSON-safe copy for evidence: secret references only, never values."""
        data: dict[str, Any] = self.model_dump(mode="json")
        data["source"] = str(self.source) if self.source else None
        # The SLOs the file itself names: the ones a run is held to (the rest are defaults checks use).
        # Declared player SLOs (players.slo.<field> set) are named players.<field>: held to them the same way.
        player_slo = self.players.slo if self.players is not None else None
        declared = (
            [f"players.{f}" for f in sorted(player_slo.model_fields_set) if getattr(player_slo, f) is not None]
            if player_slo
            else []
        )
        data["slo_declared"] = sorted(self.slo.model_fields_set) + declared
        return data


# Keys `Environment.snapshot()` adds that are not environment-file fields (drop them to re-parse a snapshot).
SNAPSHOT_ONLY_KEYS = ("slo_declared",)

ENVIRONMENTS_DIR_ENV = "MCPROOF_ENVIRONMENTS_DIR"


def environments_dir() -> Path:
    override = os.environ.get(ENVIRONMENTS_DIR_ENV)
    return Path(override) if override else project_root() / "environments"


def find_environment_file(name_or_path: str) -> Path:
    """Map `--env` to a file: an existing path, or `environments/<name>.yaml`."""
    candidate = Path(name_or_path)
    if candidate.suffix in {".yaml", ".yml"} or os.sep in name_or_path:
        if candidate.is_file():
            return candidate
        raise ConfigError(f"environment file {candidate} does not exist; check the path given to --env")
    directory = environments_dir()
    for suffix in (".yaml", ".yml"):
        path = directory / f"{name_or_path}{suffix}"
        if path.is_file():
            return path
    known = sorted(p.stem for p in directory.glob("*.yaml")) if directory.is_dir() else []
    hint = f"known: {', '.join(known)}" if known else f"no environment files in {directory}/"
    raise ConfigError(f"unknown environment '{name_or_path}' ({hint}); pass --env NAME or a path to a YAML file")


def _describe_input(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _format_validation_error(path: Path, err: ValidationError) -> str:
    first = err.errors(include_url=False)[0]
    loc = ".".join(str(part) for part in first["loc"] if not str(part).startswith(("function-", "tagged-")))
    field = loc or "(top level)"
    found = "nothing (field missing)" if first["type"] == "missing" else _describe_input(first.get("input"))
    more = f" (+{err.error_count() - 1} more)" if err.error_count() > 1 else ""
    return f"{path}: field {field}: {first['msg'].lower()}; found {found}{more}"


def parse_environment(text: str, source: Path) -> Environment:
    """Validate YAML text as an Environment; ConfigError with one line on any problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" line {mark.line + 1} column {mark.column + 1}" if mark is not None else ""
        problem = getattr(err, "problem", None) or "invalid YAML"
        raise ConfigError(f"{source}:{where}: malformed YAML ({problem}); fix the syntax") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with name, tier and minecraft; found {type(data).__name__}")
    try:
        env = Environment.model_validate({**data, "source": source})
    except ValidationError as err:
        raise ConfigError(_format_validation_error(source, err)) from None
    return env


def load_environment(name_or_path: str) -> Environment:
    """Load `--env` (a name in environments/ or a path)."""
    path = find_environment_file(name_or_path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: cannot be read ({err}); check permissions and encoding") from None
    return parse_environment(text, path.resolve())
