"""Locust parts: the request error kinds, the user class for a run (:mod:`mcproof.load.users` bound to its
config), the shape classes, and the listeners that turn a run into a result (thresholds, failures by kind
and by target).

Locust monkey-patches the whole process with gevent when imported, so nothing here imports it at
module level: call these builders only in a process that is a Locust process (the headless runner
child, the `locust` CLI via suites/load/locustfile.py). Everything else in mcproof.load is pure.

Why a custom user: Locust ships HTTP users only; a Minecraft server list watches servers through
Server List Ping (and Query), so the user drives mcstatus's *sync* API (its async API cannot run
under gevent) and fires Locust request events itself: request_type is the protocol ("SLP",
"QUERY"), name is a fixed label ("status", "full_stat") so the stats table stays small, and the
target plus error kind travel in the event context to LoadCollector, with each status ping's slot
(scheduled send, generator lag, slots skipped, corrected latency) for the generator's own figures
(`mcproof.load.generator`). Every exchange is bounded as a whole, not per socket operation: the
user calls `mcproof.minecraft.status.java_status` / `mcproof.minecraft.query.query_status` (deadline
socket + reply size cap over mcstatus's protocol classes; plain sockets, which gevent patches).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcproof.load.collector import LoadCollector
from mcproof.load.generator import SaturationLimits, accounting_span
from mcproof.load.judge import judge_run
from mcproof.load.metrics import compute_metrics, histogram_summary
from mcproof.load.plan import RESULT_ENV, LoadConfig
from mcproof.load.player_collector import PlayerCollector
from mcproof.load.shapes import ShapePlan
from mcproof.load.thresholds import evaluate, parse_thresholds
from mcproof.minecraft.status import classify_error, utc_now

__all__ = [
    "ERROR_CLASSES",
    "LoadSession",
    "WrongVersion",
    "build_shape_class",
    "build_user_class",
    "build_user_classes",
    "stats_snapshot",
]

log = logging.getLogger("mcproof.load")

STATUS_NAME = "status"
QUERY_NAME = "full_stat"


class LoadRequestError(Exception):
    """Base of the exceptions a load user reports; one class per error kind keeps Locust's table apart."""

    kind = "error"

    def __str__(self) -> str:
        return f"{self.kind}: {super().__str__()}"


class StatusTimeout(LoadRequestError):
    kind = "timeout"


class ConnectionRefused(LoadRequestError):
    kind = "refused"


class ConnectionReset(LoadRequestError):
    kind = "reset"


class MalformedReply(LoadRequestError):
    kind = "malformed"


class Unreachable(LoadRequestError):
    kind = "unreachable"


class WrongVersion(LoadRequestError):
    kind = "wrong_version"


ERROR_CLASSES: dict[str, type[LoadRequestError]] = {
    cls.kind: cls
    for cls in (
        LoadRequestError,
        StatusTimeout,
        ConnectionRefused,
        ConnectionReset,
        MalformedReply,
        Unreachable,
        WrongVersion,
    )
}


def error_for(err: BaseException) -> LoadRequestError:
    kind, message = classify_error(err)
    return ERROR_CLASSES.get(kind, LoadRequestError)(message)


def version_problem(name: str, protocol: int, expect_name: str | None, expect_protocol: int | None) -> str | None:
    """Why a reported version is wrong (None when it is right); bounded text for Locust's error table."""
    if (expect_name is None or name == expect_name) and (expect_protocol is None or protocol == expect_protocol):
        return None
    return f"reported {name[:40]!r}/{protocol}, expected {expect_name!r}/{expect_protocol}"


def build_user_class(config: LoadConfig) -> type:
    """The Locust User class that runs ``config``: :class:`mcproof.load.users.MinecraftServerUser` bound to it
    (every instance watches one target, as a server list does)."""
    from mcproof.load.users import MinecraftServerUser

    return MinecraftServerUser.for_config(config)


def build_user_classes(config: LoadConfig) -> list[type]:
    """Every Locust User class of the run: the server-list user, plus the player user
    (:class:`mcproof.load.player_users.MinecraftPlayerUser`, ``fixed_count`` = the plan's players, spawned
    before the weighted server users) when the config has players: one mixed Locust run."""
    classes = [build_user_class(config)]
    if config.players is not None:
        from mcproof.load.player_users import MinecraftPlayerUser

        classes.append(MinecraftPlayerUser.for_config(config))
    return classes


_FINAL_MESSAGE = "mcproof_final_report"
_SHAPE_CLASS_NAMES = {"ramp": "RampShape", "steady": "SteadyShape", "spike": "SpikeShape", "soak": "SoakShape"}


def build_shape_class(plan: ShapePlan, players: int = 0) -> type:
    """A LoadTestShape subclass (RampShape, SteadyShape, SpikeShape or SoakShape) driven by `plan`.

    `players` player users ride on top of every stage (spawned with the first one; when each joins is
    their own schedule, `PlayerPlan.join_at_s`).
    """
    from locust import LoadTestShape

    def tick(self: Any) -> tuple[int, float] | None:
        step = plan.tick(self.get_run_time())
        if step is None or not players:
            return step
        return step[0] + players, step[1] + players

    name = _SHAPE_CLASS_NAMES[plan.name]
    return type(name, (LoadTestShape,), {"tick": tick, "plan": plan, "__doc__": f"mcproof {plan.name} shape"})


def _entry(entry: Any) -> dict[str, Any]:
    return {
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50": entry.get_response_time_percentile(0.5),
        "p90": entry.get_response_time_percentile(0.9),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
        "min": entry.min_response_time,
        "max": entry.max_response_time,
        "avg": round(entry.avg_response_time, 3),
        "histogram": {str(k): v for k, v in sorted(entry.response_times.items())},
    }


def stats_snapshot(stats: Any) -> dict[str, Any]:
    """Locust's RequestStats as a plain dict (per protocol and total, plus the errors table)."""
    out: dict[str, Any] = {"start_time": stats.start_time, "last_request": stats.total.last_request_timestamp}
    for (name, method), entry in stats.entries.items():
        if name in (STATUS_NAME, QUERY_NAME):
            out[method] = _entry(entry)
        elif method == "PLAYER":  # players: one row per name ("join", "session")
            out[f"PLAYER:{name}"] = _entry(entry)
    out["total"] = _entry(stats.total)
    out["errors"] = [
        {"protocol": e.method, "name": e.name, "error": str(e.error), "occurrences": e.occurrences}
        for e in stats.errors.values()
    ]
    return out


def _top(mapping: dict[str, Any], cap: int, weight: Callable[[Any], int]) -> list[tuple[str, Any]]:
    return sorted(mapping.items(), key=lambda kv: (-weight(kv[1]), kv[0]))[:cap]


def _runq_wait_s() -> float | None:
    """Seconds this process (its one gevent thread) spent runnable but waiting for a CPU; None off Linux.

    /proc/self/schedstat: time on a CPU, time waiting on a run queue (ns), timeslices.
    """
    try:
        with open("/proc/self/schedstat", encoding="ascii") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def _with_players(judged: dict[str, Any], players: dict[str, Any]) -> dict[str, Any]:
    """The run's verdict over both parts: fail if either failed, else inconclusive if either was, else pass.

    The reason and fix name the part they come from ("players: ...").
    """
    from mcproof.verdict import combine

    pings, theirs = str(judged["verdict"]), str(players["verdict"])
    verdict = combine([pings, theirs]).value
    reasons, fixes = [], []
    for part, (v, reason, fix) in (
        ("pings", (pings, judged.get("reason"), judged.get("fix"))),
        ("players", (theirs, players.get("reason"), players.get("fix"))),
    ):
        if v != "pass" and (v == verdict or verdict == "fail"):
            reasons.append(reason if part == "pings" else f"players: {reason}")
            if fix:
                fixes.append(fix if part == "pings" else f"players: {fix}")
    return {**judged, "verdict": verdict, "reason": "; ".join(r for r in reasons if r), "fix": "; ".join(fixes)}


class LoadSession:
    """Listeners for one Locust environment; `result()` turns the finished run into a JSON-safe result."""

    def __init__(self, environment: Any, config: LoadConfig) -> None:
        self.environment = environment
        self.config = config
        self.limits = SaturationLimits.from_dict(config.saturation)
        self.collector = LoadCollector(
            slow_ms=config.slow_ms,
            interval_s=config.ping_interval_s,
            late_after_ms=self.limits.late_after_ms,
            process=f"{socket.gethostname()}:{os.getpid()}",
        )
        tps_cap = config.players.tps_updates_per_server if config.players is not None else 600
        self.players = PlayerCollector(tps_cap=tps_cap, process=self.collector.process)
        self.started_epoch: float | None = None
        self.started_at: str | None = None
        self.peak_users = 0
        self.peak_reached_s: float | None = None
        self._monitor: Any = None
        self.workers_connected: dict[str, float] = {}  # master: client id -> epoch it connected
        self.workers_finished: set[str] = set()  # master: client ids whose final report arrived
        self.workers_missing_at: dict[str, float] = {}  # master: client id -> epoch Locust marked it missing
        self.worker_labels: dict[str, str] = {}  # master: client id -> "worker-N host:pid"
        events = environment.events
        events.request.add_listener(self._on_request)
        events.test_start.add_listener(self._on_test_start)
        events.test_stop.add_listener(self._on_test_stop)
        events.spawning_complete.add_listener(self._on_spawned)
        events.report_to_master.add_listener(self._on_report_to_master)
        events.worker_report.add_listener(self._on_worker_report)
        events.worker_connect.add_listener(self._on_worker_connect)
        self._hook_final_report(environment.runner)

    def _hook_final_report(self, runner: Any) -> None:
        """Workers send what they hold when they stop, before telling the master they stopped.

        Locust's own last report travels with its `quit` message, 0.5 s before the master gives up on
        it; under load it can miss, and with it the last pings of the full-load window (a server would
        then look unserved). Messages from one worker arrive in order, and the master's stop waits for
        every worker's `client_stopped`, so this one is merged before the result is computed.
        """
        if runner is None:
            return
        from locust.runners import MasterRunner, WorkerRunner

        if isinstance(runner, MasterRunner):
            runner.register_message(_FINAL_MESSAGE, self._on_final_report)
        elif isinstance(runner, WorkerRunner):
            self.environment.events.test_stop.add_listener(
                lambda **_: runner.send_message(_FINAL_MESSAGE, self._final_data())
            )

    def _final_data(self) -> dict[str, Any]:
        self._sample(time.time())  # the last CPU sample goes with the final report
        return {
            "process": self.collector.process,
            "collector": self.collector.drain(),
            "players": self.players.drain(),
        }

    def _on_final_report(self, environment: Any, msg: Any, **_: Any) -> None:
        data = msg.data or {}
        self.collector.merge(data.get("collector", {}))
        self.players.merge(data.get("players", {}))
        node = str(getattr(msg, "node_id", "") or "")
        if node:
            self.workers_finished.add(node)
            if data.get("process"):
                self.worker_labels[node] = str(data["process"])

    def _on_worker_connect(self, client_id: str, **_: Any) -> None:
        self.workers_connected.setdefault(str(client_id), time.time())

    def _role(self) -> str:
        from locust.runners import MasterRunner, WorkerRunner

        runner = self.environment.runner
        if isinstance(runner, MasterRunner):
            return "master"
        if isinstance(runner, WorkerRunner):
            return f"worker-{max(0, int(getattr(runner, 'worker_index', 0) or 0)) + 1}"
        return "local"

    def _sample(self, now: float) -> None:
        self.collector.sample_cpu(now, time.process_time())
        wait = _runq_wait_s()
        if wait is not None:
            self.collector.sample_runq(now, wait)

    def _monitor_loop(self) -> None:
        """CPU time and event-loop lag of this process every 0.1 s; on the master, which workers went missing."""
        import gevent

        period = 0.1
        while True:
            before = time.monotonic()
            gevent.sleep(period)
            now = time.time()
            self.collector.sample_loop_lag(now, (time.monotonic() - before - period) * 1000)
            self._sample(now)
            runner = self.environment.runner
            for client in getattr(getattr(runner, "clients", None), "missing", None) or []:
                self.workers_missing_at.setdefault(str(client.id), now)

    def _on_test_stop(self, **_: Any) -> None:
        self._sample(time.time())
        if self._monitor is not None:
            self._monitor.kill(block=False)
            self._monitor = None

    def missing_workers(self) -> list[dict[str, Any]]:
        """Workers that connected but went missing or never sent their final report (master only)."""
        started = self.started_epoch or time.time()
        gone = set(self.workers_missing_at) | (set(self.workers_connected) - self.workers_finished)
        out = []
        for client_id in sorted(gone):
            at = self.workers_missing_at.get(client_id)
            out.append(
                {
                    "worker": self.worker_labels.get(client_id, client_id),
                    "client_id": client_id,
                    "missing_at_s": round(at - started, 1) if at is not None else None,
                }
            )
        return out

    def _on_request(self, request_type: str, context: dict[str, Any] | None = None, **kw: Any) -> None:
        ctx = context or {}
        if request_type == "PLAYER":  # players keep their own books: the ping figures stay the pings'
            if "join" in ctx:
                lag = ctx.get("lag_ms")
                self.players.record_join(ctx["join"], None if lag is None else float(lag))
            elif "session" in ctx:
                self.players.record_session(ctx["session"], ctx.get("time_updates"))
            return
        target, ok, now = str(ctx.get("target", "?")), kw.get("exception") is None, time.time()
        self.collector.record(
            request_type,
            target,
            ok=ok,
            kind=ctx.get("kind"),
            response_time_ms=float(kw.get("response_time") or 0.0),
            at=now,
        )
        if "due" in ctx:
            self.collector.record_slot(
                target,
                ok=ok,
                due=float(ctx["due"]),
                lag_ms=float(ctx["lag_ms"]),
                corrected_ms=float(ctx["corrected_ms"]),
                skipped=int(ctx["skipped"]),
                server_skipped=int(ctx["server_skipped"]),
                service_ms=float(kw.get("response_time") or 0.0),
            )

    def _on_test_start(self, **_: Any) -> None:
        if self.started_epoch is None:
            import gevent

            self.started_epoch, self.started_at = time.time(), utc_now()
            self.collector.span = self._span(self.started_epoch)
            self.collector.process = f"{self._role()} {socket.gethostname()}:{os.getpid()}"
            self.players.process = self.collector.process
            self._sample(self.started_epoch)
            self._monitor = gevent.spawn(self._monitor_loop)
            self._write_process_marker()

    def _write_process_marker(self) -> None:
        """`<run_dir>/load-process-<role>.json`: which process ran as what, from when (evidence of the run)."""
        if not self.config.run_dir:
            return
        role, label = self._role(), self.collector.process
        path = Path(self.config.run_dir) / f"load-process-{role}.json"
        data = {"role": role, "process": label, "pid": os.getpid(), "started_epoch": self.started_epoch}
        try:
            path.write_text(json.dumps(data, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as err:  # evidence only: the run goes on
            log.warning("could not write %s: %s", path, err)

    def _span(self, started: float) -> tuple[float, float]:
        # paced: a ping due in the last timeout may still be in flight when the users stop; unpaced runs
        # count completions per second, so they need no tail
        tail = self.config.timeout_s if self.config.ping_interval_s > 0 else 0.0
        return accounting_span(started, self.config.plan.full_load_window, tail_s=tail)

    def _on_spawned(self, user_count: int, **_: Any) -> None:
        self.peak_users = max(self.peak_users, int(user_count))
        if self.peak_reached_s is None and user_count >= self.config.plan.peak_users and self.started_epoch:
            self.peak_reached_s = round(time.time() - self.started_epoch, 3)
            # Every user and its greenlet now exist for the rest of the run: move them out of the cyclic
            # collector's reach, so a full collection does not walk 10,000 users' objects mid-window (a
            # stall every user waits through). Garbage made per ping is acyclic: reference counting frees it.
            gc.collect()
            gc.freeze()

    def _on_report_to_master(self, client_id: str, data: dict[str, Any]) -> None:
        data["mcproof"] = self.collector.drain()
        data["mcproof_players"] = self.players.drain()
        data["mcproof_process"] = self.collector.process

    def _on_worker_report(self, client_id: str, data: dict[str, Any]) -> None:
        self.collector.merge(data.get("mcproof", {}))
        self.players.merge(data.get("mcproof_players", {}))
        if data.get("mcproof_process"):
            self.worker_labels[str(client_id)] = str(data["mcproof_process"])

    def result(self, mode: str) -> dict[str, Any]:
        """Metrics, thresholds, failures by kind/target and the timeline of this run."""
        config, collector = self.config, self.collector
        stats = stats_snapshot(self.environment.stats)
        started = self.started_epoch or float(stats["start_time"] or time.time())
        window = config.plan.full_load_window
        epoch_window = (started + window[0], started + window[1])
        peak = self.peak_users or int(getattr(self.environment.runner, "user_count", 0) or 0)
        span = collector.span or self._span(started)
        metrics = compute_metrics(
            stats,
            collector,
            full_load_window=epoch_window,
            peak_users=peak,
            ping_interval_s=config.ping_interval_s,
            sent_in_span=(collector.slots.get("sent", 0), span[1] - span[0]) if config.ping_interval_s > 0 else None,
        )
        checks = evaluate(parse_thresholds(config.thresholds), metrics)
        judged = judge_run(
            config,
            collector,
            thresholds_passed=all(c.passed for c in checks),
            span=span,
            peak_users=peak,
            peak_reached_s=self.peak_reached_s,
            pings_per_s=metrics.get("pings_per_s"),
            missing_workers=self.missing_workers(),
        )
        players = self._players_result(judged)
        if players is not None:
            judged = _with_players(judged, players)
        cap = config.failure_targets_cap
        failures_by_target = [
            {"target": t, "failures": sum(k.values()), "kinds": dict(k)}
            for t, k in _top(collector.failures_by_target, cap, lambda k: sum(k.values()))
        ]
        slow = [{"target": t, "slow_replies": n} for t, n in _top(collector.slow_by_target, cap, int)]
        first = int(started)
        timeline = [[s - first, n] for s, n in sorted(collector.status_per_second.items())]
        return {
            "mode": mode,
            "started_at": self.started_at or utc_now(),
            "ended_at": utc_now(),
            "duration_s": round(time.time() - started, 3),
            "passed": judged["verdict"] == "pass",
            "thresholds_passed": all(c.passed for c in checks),
            **judged,
            "metrics": metrics,
            "thresholds": [c.as_dict() for c in checks],
            "stats": stats,
            "failures_by_kind": collector.failures_by_kind(),
            "failed_targets": len(collector.failures_by_target),
            "failures_by_target": failures_by_target,
            "slow_targets": len(collector.slow_by_target),
            "slow_by_target": slow,
            "targets_seen": len(collector.targets_seen),
            "peak_users": peak,
            "full_load_window_s": list(window),
            "status_per_second": timeline,
            "status_window_ms": histogram_summary(collector.service_hist),
            "players": players,
        }

    def _players_result(self, judged: dict[str, Any]) -> dict[str, Any] | None:
        """The players part (`mcproof.load.player_judge`), held to the same saturation rules as the pings."""
        plan = self.config.players
        if plan is None:
            return None
        from mcproof.load.generator import saturation_fix
        from mcproof.load.player_judge import judge_players

        generator = judged["generator"]
        return judge_players(
            plan,
            self.players,
            saturation_reasons=list(generator.get("reasons") or []),
            saturation_fix=saturation_fix(self.config.workers, generator.get("workers_needed")),
            max_lag_p95_ms=self.limits.max_lag_p95_ms,
        )

    def write_result(self, mode: str, path: Path | None = None) -> dict[str, Any]:
        """Compute the result; write it to `path` (or $MCPROOF_LOAD_RESULT) when given; log the verdict."""
        result = self.result(mode)
        target = path or (Path(os.environ[RESULT_ENV]) if os.environ.get(RESULT_ENV) else None)
        if target is not None:
            target.write_text(json.dumps(result, sort_keys=True, default=str) + "\n", encoding="utf-8")
        for check in result["thresholds"]:
            log.info(
                "threshold %s: observed %s -> %s",
                check["expression"],
                check["observed"],
                "PASS" if check["passed"] else "FAIL",
            )
        if result["verdict"] == "inconclusive":
            log.warning("load verdict INCONCLUSIVE: %s; fix: %s", result["reason"], result["fix"])
        return result
