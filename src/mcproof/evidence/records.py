"""Evidence records: frozen, JSON-safe, timestamped (UTC), naming environment and method.

Every record serializes with `as_dict()` to a flat dict whose `type` is the class name; the run
store writes one per line to `evidence.jsonl` and `load_record()` reads it back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, ClassVar

from mcproof.clock import utc_now


@dataclass(frozen=True)
class _Record:
    record_type: ClassVar[str] = "record"

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.record_type, **asdict(self)}


@dataclass(frozen=True)
class RunInfo(_Record):
    """Who ran what, where: the first record of every run."""

    record_type: ClassVar[str] = "run"
    run_id: str
    environment: str
    tier: str
    started_at: str
    mcproof_version: str
    argv: list[str]
    environment_snapshot: dict[str, Any]
    host: str


@dataclass(frozen=True)
class RunEnd(_Record):
    """The last record of a run that finished; a run without it is reported as incomplete."""

    record_type: ClassVar[str] = "run_end"
    run_id: str
    ended_at: str
    exit_status: int
    checks: int


@dataclass(frozen=True)
class RunScope(_Record):
    """What a run set out to check, written once collection is done: the report requires every
    declared SLO that these suites evidence (a run without this record is held to every SLO)."""

    record_type: ClassVar[str] = "run_scope"
    run_id: str
    suites: list[str]
    checks: int


@dataclass(frozen=True)
class CheckOutcome(_Record):
    """The outcome of one check (a pytest test) in one suite.

    `inconclusive`: the check could not measure what it claims (InconclusiveError); message = reason + fix.
    """

    record_type: ClassVar[str] = "check"
    environment: str
    suite: str
    check: str
    nodeid: str
    outcome: str  # passed | failed | inconclusive | skipped | error
    duration_s: float
    message: str = ""
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class SloMeasurement(_Record):
    """A measured figure held against one SLO."""

    record_type: ClassVar[str] = "slo"
    environment: str
    slo: str
    objective: str
    target: float
    measured: float
    unit: str
    comparator: str  # "<=" or ">="
    passed: bool
    method: str
    check: str
    samples: int
    recorded_at: str = field(default_factory=utc_now)

    @property
    def margin(self) -> float:
        """Room left before the objective is missed (negative when missed)."""
        return self.target - self.measured if self.comparator == "<=" else self.measured - self.target


@dataclass(frozen=True)
class FleetStatusEvidence(_Record):
    """A fleet sweep: every server's status result and what was wrong with the failing ones."""

    record_type: ClassVar[str] = "fleet_status"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    duration_s: float
    total: int
    serving: int
    serving_ratio: float
    threshold: float
    concurrency: int
    timeout_s: float
    pings_per_s: float
    failures: list[dict[str, str]]
    results: list[dict[str, Any]]


@dataclass(frozen=True)
class LatencyEvidence(_Record):
    """Repeated sequential status pings: every ping is a sample, and the summary is over all of them.

    ``samples_ms``/``sample_times`` hold every ping in order; a failed or timed-out ping is counted at
    its timeout (``timeout_s``) and listed in ``failed_samples`` (index, target, at, error_kind, error,
    counted_ms), so dead servers can never improve a percentile. ``verdict`` is pass/fail/inconclusive
    with its ``reason`` (rule: mcproof.minecraft.latency).
    """

    record_type: ClassVar[str] = "latency"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    servers: int
    rounds: int
    samples_ms: list[float]
    sample_times: list[str]
    failures: int
    summary: dict[str, float]
    timeout_s: float = 0.0
    failed_samples: list[dict[str, Any]] = field(default_factory=list)
    failure_share: float = 0.0
    allowed_failure_share: float = 0.05
    verdict: str = ""
    reason: str = ""


@dataclass(frozen=True)
class QueryEvidence(_Record):
    """Query (UDP) full-stat results for the sampled servers."""

    record_type: ClassVar[str] = "query"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    total: int
    answered: int
    failures: list[dict[str, str]]
    results: list[dict[str, Any]]


@dataclass(frozen=True)
class LoadEvidence(_Record):
    """One load run: percentiles, throughput, failures by kind and by target, thresholds and verdict."""

    record_type: ClassVar[str] = "load"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    duration_s: float
    shape: str
    plan: dict[str, Any]
    users: int
    distinct_targets: int
    workers: int
    ping_interval_s: float
    timeout_s: float
    passed: bool
    thresholds: list[dict[str, Any]]
    metrics: dict[str, Any]
    status_ms: dict[str, Any]
    query_ms: dict[str, Any]
    failures_by_kind: dict[str, int]
    failed_targets: int
    failures_by_target: list[dict[str, Any]]
    slow_targets: int
    slow_by_target: list[dict[str, Any]]
    errors: list[dict[str, Any]]
    status_per_second: list[list[int]]
    outputs: list[str]
    recorded_at: str = field(default_factory=utc_now)
    # Verdict: pass | fail | inconclusive (generator saturated: reason + fix). "" in records written
    # before verdicts existed (then `passed` is the threshold result). `passed` is True only on pass.
    verdict: str = ""
    reason: str = ""
    fix: str = ""
    stated: str = ""  # what was asked, e.g. "1,000 servers, each pinged every 2 s (500 pings/s asked)"
    servers_served: int | None = None  # distinct servers served throughout the full-load window (None: unmeasured)
    capacity_rule: str = ""  # the rule `servers_served` counts by
    generator: dict[str, Any] = field(default_factory=dict)  # CPU share, schedule lag, late/dropped, rates, limits
    schedule_lag_ms: dict[str, Any] = field(default_factory=dict)  # actual - scheduled send (generator lag)
    corrected_ms: dict[str, Any] = field(default_factory=dict)  # scheduled send -> reply; status_ms = send -> reply
    # status send -> reply of the pings sent in the full-load window (ramp excluded): what latency thresholds
    # hold; status_ms is Locust's whole-run table
    status_window_ms: dict[str, Any] = field(default_factory=dict)
    sizing: dict[str, Any] = field(default_factory=dict)  # the plan: asked, one worker's calibrated rate, needed
    sandbox: dict[str, Any] = field(default_factory=dict)  # when mcproof ran the target: shard CPU share, CPU per ping
    # player users in the same run (mcproof.load.player_judge): verdict, metrics (join ratio, join p95, drops,
    # TPS) with sample counts, thresholds, figures and the capped raw samples; {} when the run had no players
    players: dict[str, Any] = field(default_factory=dict)

    @property
    def failed_thresholds(self) -> list[str]:
        return [str(t["expression"]) for t in self.thresholds if not t["passed"]]

    @property
    def load_verdict(self) -> str:
        """pass | fail | inconclusive (records without a verdict: from `passed`)."""
        return self.verdict or ("pass" if self.passed else "fail")


@dataclass(frozen=True)
class RecoveryEvidence(_Record):
    """A chaos experiment's recovery as measured by the independent observer (MTTR, unrecovered, timeline).

    ``verdict`` is pass | fail | inconclusive (the fault was not seen to take effect, or recovery could not
    be measured: ``reasons`` say why, ``fix`` what to do); ``passed`` is kept for older readers and always
    means ``verdict == "pass"``. Records written before ``verdict`` existed get it from ``passed``.
    ``fault_targets``: what the fault actions named; ``error_budget``: the observed downtime as a share of
    the period's error budget (:class:`mcproof.chaos.recovery.BudgetBurn`), never a projected availability.
    """

    record_type: ClassVar[str] = "recovery"
    environment: str
    method: str
    check: str
    experiment: str
    journal: str
    journal_status: str
    deviated: bool
    passed: bool
    reasons: list[str]
    seed: int
    injected_at: str | None
    observed_from: str
    observed_to: str
    interval_s: float
    targets_observed: int
    affected: list[str]
    unrecovered: list[str]
    per_server: list[dict[str, Any]]
    mttr_p50_s: float | None
    mttr_p95_s: float | None
    mttr_max_s: float | None
    fleet_mttr_s: float | None
    mttr_slo_s: float
    good_sample_ratio: float
    downtime_server_s: float
    serving_after_rollback: bool
    timeline: list[dict[str, Any]]
    verdict: str = ""
    fix: str = ""
    fault_targets: list[str] = field(default_factory=list)
    error_budget: dict[str, Any] = field(default_factory=dict)
    players: dict[str, Any] = field(default_factory=dict)  # mcproof.chaos.players: drops, rejoins, TPS (if declared)

    def __post_init__(self) -> None:
        if not self.verdict:
            object.__setattr__(self, "verdict", "pass" if self.passed else "fail")
        if self.verdict not in ("pass", "fail", "inconclusive"):
            raise ValueError(f"RecoveryEvidence verdict must be pass, fail or inconclusive, got {self.verdict!r}")
        if self.passed != (self.verdict == "pass"):
            raise ValueError(f"RecoveryEvidence passed={self.passed} contradicts verdict {self.verdict!r}")


@dataclass(frozen=True)
class DrEvidence(_Record):
    """A disaster-recovery drill: raw markers and timestamps (unix seconds), RPO/RTO and integrity."""

    record_type: ClassVar[str] = "dr"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    server: str
    disaster: str
    disaster_at: float
    backup_id: str
    snapshot: str
    backup_created_at: float
    last_written: dict[str, Any] | None
    last_recovered: dict[str, Any] | None
    rpo_s: float
    rto_s: float
    rpo_target_s: float
    rto_target_s: float
    recovered: bool
    integrity_ok: bool
    integrity_problems: list[str]
    restore_bytes: int
    restore_duration_s: float
    restore_throughput_mib_s: float
    written_marks: list[dict[str, Any]]
    recovered_marks: list[dict[str, Any]]
    backups: list[dict[str, Any]]
    timeline: list[dict[str, Any]]
    mode: str = "on_demand"  # scheduled: the platform's own backups; on_demand: the drill took them
    verdict: str = ""  # pass | fail | inconclusive
    reason: str = ""  # why not pass (fail) or what could not be measured (inconclusive)
    fix: str = ""
    markers_written: int = 0  # acknowledged before the disaster
    markers_recovered: int = 0  # of those, present in the restored world
    markers_lost: int = 0
    rto_parts: list[dict[str, Any]] = field(default_factory=list)  # detection, restore, boot, verification
    schedule: dict[str, Any] = field(default_factory=dict)  # scheduled backups seen, newest backup age
    first_player_join_s: float | None = None  # restore end (the restore call returned) -> first player in play
    first_player_join_after_disaster_s: float | None = None  # the same moment, from the disaster
    player_join: dict[str, Any] = field(default_factory=dict)  # mcproof.dr.player.FirstJoin, or why not checked


@dataclass(frozen=True)
class DetectionEvidence(_Record):
    """Incident detection: an injected outage and when the matching alert fired (None: never)."""

    record_type: ClassVar[str] = "detection"
    environment: str
    method: str
    check: str
    alert: str
    injected_at: float
    fired_at: float | None
    time_to_fire_s: float | None
    window_s: float
    passed: bool
    samples: list[dict[str, Any]]
    # the fired alert's runbook_url annotation (from the rules API; None: the rule has none or it was unreadable)
    runbook_url: str | None = None


@dataclass(frozen=True)
class RunbookCoverageEvidence(_Record):
    """Runbook coverage (mcproof.monitoring.runbooks): one row per alert -- its runbook, the link's verdict,
    the runbook's sections verdict and its commands' dry-run verdicts -- plus every finding."""

    record_type: ClassVar[str] = "runbook_coverage"
    environment: str
    method: str
    check: str
    verdict: str
    rows: list[dict[str, Any]]
    findings: list[dict[str, Any]]


@dataclass(frozen=True)
class AvailabilityEvidence(_Record):
    """Availability over a window from the observer's samples and from Prometheus, and their agreement,
    with the window's sample counts and resolution (see mcproof.monitoring.availability for the rules)."""

    record_type: ClassVar[str] = "availability"
    environment: str
    method: str
    check: str
    window_start: float
    window_end: float
    observer_availability: float
    prometheus_availability: float | None
    tolerance: float
    agree: bool
    objective: float
    error_budget_consumed: float
    observer_samples: int
    promql: str
    # the window's sampling, resolution and verdicts (defaults: records written before these existed)
    servers: int = 0
    window_s: float = 0.0
    observer_interval_s: float = 0.0
    samples_per_server: int = 0
    resolution: float = 0.0  # interval / window: the smallest fleet-wide outage share the window can see
    prometheus_samples: int | None = None
    scrape_interval_s: float | None = None  # measured: servers * window / prometheus_samples
    bad_samples: int = 0
    down_episodes: int = 0
    agreement_bound: float | None = None  # |observer - prometheus| that sampling alone explains
    slo_verdict: str = ""  # pass | fail | inconclusive
    slo_reason: str = ""
    slo_fix: str = ""
    agreement_verdict: str = ""
    agreement_reason: str = ""
    agreement_fix: str = ""
    failed_samples: list[dict[str, Any]] = field(default_factory=list)  # raw bad samples (capped)


@dataclass(frozen=True)
class ProvisioningEvidence(_Record):
    """Provisioning load: server lifecycles (create -> ready -> ping -> delete) through the platform API,
    time-to-ready percentiles (seconds), failures by step, and the threshold they were held to."""

    record_type: ClassVar[str] = "provisioning"
    environment: str
    method: str
    check: str
    base_url: str
    users: int
    cycles_per_user: int
    planned: int
    completed: int
    time_to_ready_s: dict[str, float]
    ready_samples_s: list[float]
    failures_by_step: dict[str, int]
    failure_details: list[dict[str, Any]]
    requests: dict[str, dict[str, Any]]
    threshold_p95_s: float
    started_at: float
    ended_at: float
    passed: bool


@dataclass(frozen=True)
class ExposureEvidence(_Record):
    """A port exposure scan: every probe, the policy it was judged by, breaches and accepted exceptions."""

    record_type: ClassVar[str] = "exposure"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    hosts_total: int
    hosts_scanned: int
    timeout_s: float
    policy: dict[str, Any]
    counts: dict[str, int]
    violations: list[dict[str, str]]
    accepted: list[dict[str, str]]
    probes: list[dict[str, Any]]


@dataclass(frozen=True)
class RconAuthEvidence(_Record):
    """Default-password logins tried on reachable RCON ports (passwords by list index, never echoed)."""

    record_type: ClassVar[str] = "rcon_auth"
    environment: str
    method: str
    check: str
    servers_checked: int
    passwords_tried: int
    accepted: list[dict[str, Any]]
    unanswered: list[dict[str, Any]]
    passed: bool
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class FuzzEvidence(_Record):
    """Protocol robustness: the seeded case list and, per server, its reactions and whether it survived."""

    record_type: ClassVar[str] = "fuzz"
    environment: str
    method: str
    check: str
    seed: int
    cases: list[dict[str, Any]]
    servers: list[dict[str, Any]]
    passed: bool
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class TlsEvidence(_Record):
    """TLS endpoints inspected (protocol, chain, hostname, expiry) and every problem found."""

    record_type: ClassVar[str] = "tls"
    environment: str
    method: str
    check: str
    min_version: str
    endpoints: list[dict[str, Any]]
    problems: list[str]
    passed: bool
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class PolicyScanEvidence(_Record):
    """A policy scan (Checkov over manifests, mcproof's Kubernetes rules over files or a live cluster)."""

    record_type: ClassVar[str] = "policy_scan"
    environment: str
    method: str
    check: str
    tool: str
    source: str
    passed_checks: int
    findings: list[dict[str, Any]]
    accepted: list[dict[str, Any]]
    passed: bool
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class ComplianceScoreEvidence(_Record):
    """Controls catalog judged against every record in its window: per framework the counts (satisfied,
    failing, unevidenced, waived) and the share satisfied; every control's status with the evidence."""

    record_type: ClassVar[str] = "compliance_score"
    environment: str
    method: str
    check: str
    catalog: str
    catalog_version: str
    scores: dict[str, dict[str, Any]]
    controls: list[dict[str, Any]]
    runs: list[str]
    window_days: int = 0
    failing: list[str] = field(default_factory=list)  # control ids
    unevidenced: list[str] = field(default_factory=list)  # control ids, not waived
    waived: list[dict[str, str]] = field(default_factory=list)  # {control, reason, owner}
    recorded_at: str = field(default_factory=utc_now)


@dataclass(frozen=True)
class DeployEvidence(_Record):
    """A rollout watched tick by tick: every ready endpoint pinged each tick; gaps = ticks none answered."""

    record_type: ClassVar[str] = "deploy"
    environment: str
    method: str
    check: str
    workload: str
    service: str
    strategy: str
    replicas: int
    started_at: str
    ended_at: str
    completed: bool
    rollout_s: float | None
    interval_s: float
    zero_downtime: bool
    gaps: list[dict[str, Any]]
    timeline: list[dict[str, Any]]


@dataclass(frozen=True)
class RolloutGateEvidence(_Record):
    """One gate run: what was observed (per endpoint, per new pod), the verdict and the rollback timeline.

    Method: a ping of every Ready endpoint per tick (``interval_s``), each with ``ping_timeout_s``;
    per-endpoint downtime = its failed samples x ``interval_s``."""

    record_type: ClassVar[str] = "rollout_gate"
    environment: str
    method: str
    check: str
    workload: str
    service: str
    update: str
    strategy: str
    replicas: int
    max_unavailable_allowed: int
    max_unavailable_observed: int
    expected_version: str | None
    expected_protocol: int | None
    old_versions: list[str]
    started_at: str
    ended_at: str
    interval_s: float
    ping_timeout_s: float
    template_changed: bool
    rollout_completed: bool
    rollout_s: float | None
    samples: int
    failed_requests: int
    routed_failures: int
    startup_failures: int
    endpoints: list[dict[str, Any]]
    new_pods: list[dict[str, Any]]
    verdict: str
    reason: str
    decision_s: float | None
    rollback: dict[str, Any]
    ticks: list[dict[str, Any]] = field(repr=False)  # one per observation: endpoints, answered, phase
    # a StatefulSet's servers: downtime through their replacement (last old answer -> first new answer)
    server_downtime: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class PlayerJoinEvidence(_Record):
    """Players logging in: every attempt (a failed or timed-out one too) and how each session ended.

    ``attempts`` are `JoinAttempt.as_dict()` rows (mcproof.minecraft.player.samples), ``sessions`` the
    `SessionEnd.as_dict()` rows of the ones that joined; ``skipped`` lists the sampled servers no join was
    tried on, with the reason (``{"server", "reason"}``). ``verdict`` is pass/fail/inconclusive/skipped.
    """

    record_type: ClassVar[str] = "player_join"
    environment: str
    method: str
    check: str
    started_at: str
    ended_at: str
    servers: int
    attempts: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    phase_timeout_s: float = 0.0
    stay_s: float = 0.0
    verdict: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PlayerEvidence(_Record):
    """Players over one window in one context: the player SLI figures, the SLO verdicts and raw sample counts.

    ``context``: ``smoke`` | ``load`` | ``chaos:<experiment>`` | ``dr``. Built by
    :func:`mcproof.players.evidence.player_evidence` (rules: :mod:`mcproof.players.slis`, :mod:`~.judge`).
    ``window_start``/``window_end`` are the samples' monotonic seconds; ``started_at``/``ended_at`` UTC.
    ``figures``: join_ratio, join_time, drops, rejoin, tps (per-server series left out: ``tps_series``).
    ``tps_series``: server -> [[seconds since window start, TPS]], at most ``players.tps_series_points``
    points per server (each the lowest span of its bucket, so a dip survives) for the
    ``players.tps_series_servers`` lowest servers; ``tps_series_note`` says what was cut.
    """

    record_type: ClassVar[str] = "players"
    environment: str
    method: str
    check: str
    context: str
    started_at: str
    ended_at: str
    window_start: float
    window_end: float
    verdict: str  # pass | fail | inconclusive (judged SLOs only)
    reason: str
    fix: str
    samples: dict[str, int]  # join_attempts, joins_ok, session_ends, time_updates, servers
    figures: dict[str, Any]
    slos: list[dict[str, Any]]  # PlayerSloVerdict.as_dict() per SLO, "not judged" ones included
    join_time_quantiles_s: list[float] = field(default_factory=list)  # 0..100 % (a CDF)
    rejoins: list[dict[str, Any]] = field(default_factory=list)  # every drop, capped
    failed_joins: list[str] = field(default_factory=list)  # "mc-00042: configuration phase timed out after 5 s"
    tps_series: dict[str, list[list[float]]] = field(default_factory=dict)
    tps_series_note: str = ""
    recorded_at: str = field(default_factory=utc_now)

    def __post_init__(self) -> None:
        if not self.verdict:  # a record without a verdict is never a pass
            object.__setattr__(self, "verdict", "inconclusive")
        if self.verdict not in ("pass", "fail", "inconclusive"):
            raise ValueError(f"PlayerEvidence verdict must be pass, fail or inconclusive, got {self.verdict!r}")


RECORD_TYPES: dict[str, type[_Record]] = {
    cls.record_type: cls
    for cls in (
        RunInfo,
        RunEnd,
        RunScope,
        CheckOutcome,
        SloMeasurement,
        FleetStatusEvidence,
        LatencyEvidence,
        QueryEvidence,
        LoadEvidence,
        RecoveryEvidence,
        DrEvidence,
        DetectionEvidence,
        RunbookCoverageEvidence,
        AvailabilityEvidence,
        ProvisioningEvidence,
        ExposureEvidence,
        RconAuthEvidence,
        FuzzEvidence,
        TlsEvidence,
        PolicyScanEvidence,
        ComplianceScoreEvidence,
        DeployEvidence,
        RolloutGateEvidence,
        PlayerJoinEvidence,
        PlayerEvidence,
    )
}


def load_record(data: dict[str, Any]) -> _Record:
    """Rebuild a record from its dict (unknown keys ignored, so older readers survive additions)."""
    kind = data.get("type")
    cls = RECORD_TYPES.get(str(kind))
    if cls is None:
        raise ValueError(f"unknown evidence record type {kind!r}")
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


Record = _Record
