"""Provisioning load: a Locust user that runs the server lifecycle through the platform API —
create -> wait until the new server answers a status ping -> ping -> delete — and time-to-ready percentiles.

Follows the load suite's patterns (:mod:`mcproof.load.locust_process`, :mod:`mcproof.load.launcher`): Locust is
imported only inside a child process (``python -m mcproof.load.provisioning CONFIG RESULT``, which imports
locust first so gevent patches sockets before anything else); the user fires Locust request events itself
(request_type ``API`` for create/delete, ``SLP`` for the pings) with sync mcstatus and the platform client
(``requests``) on gevent-patched sockets. Bounded: each user runs ``cycles_per_user`` lifecycles then stops,
every wait has a timeout, and the run is quit at ``deadline_s`` (the parent kills the child 30 s later).

Time to ready = from just before the create call until the first answered status ping (so it includes the
API call, the platform's assignment and the server's boot); the token is read from its reference inside
the child, never passed on a command line or written to the result.

>>> provisioning_summary([1.0, 2.0, 3.0], planned=3, failures=[])["time_to_ready_s"]["p50"]
2.0
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mcproof.errors import McproofError, NoPlatformApi, ProvisioningError, ProvisioningUnsupported
from mcproof.stats import summarize

if TYPE_CHECKING:
    from mcproof.config import Environment

__all__ = [
    "ProvisioningConfig",
    "ProvisioningError",
    "ProvisioningUnsupported",
    "build_provisioning_user",
    "main",
    "provisioning_config_for",
    "provisioning_summary",
    "run_provisioning",
]

log = logging.getLogger("mcproof.load.provisioning")


@dataclass(frozen=True)
class ProvisioningConfig:
    """One provisioning run, JSON-safe (crosses into the Locust child). ``token``: a SecretRef dict."""

    environment: str
    base_url: str
    token: dict[str, str]
    ca_file: str | None = None
    users: int = 2
    cycles_per_user: int = 3
    spawn_rate: float = 10.0
    ready_timeout_s: float = 30.0
    status_timeout_s: float = 1.0
    poll_s: float = 0.1
    request_timeout_s: float = 15.0
    deadline_s: float = 120.0
    name_prefix: str = "mcproof-prov"

    @property
    def planned(self) -> int:
        return self.users * self.cycles_per_user

    def write(self, path: Path) -> Path:
        path.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        return path

    @classmethod
    def read(cls, path: Path) -> ProvisioningConfig:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError) as err:
            raise ProvisioningError(f"provisioning config {path} unreadable ({err}); rewrite it") from None


def provisioning_config_for(env: Environment, **overrides: Any) -> ProvisioningConfig:
    """The environment's platform API (``platform_api``, else the sandbox's own) as a provisioning config;
    ProvisioningUnsupported for a ``platform`` whose client API cannot create servers (Pterodactyl)."""
    from mcproof.connect.platform import platform_endpoint

    tenant = env.dr.tenant if env.dr is not None else "alpha"
    if env.platform is not None:
        raise ProvisioningUnsupported(
            f"environment '{env.name}' drives a {env.platform.kind} panel through its client API, which has no "
            "create-server route: the provisioning lifecycle (create -> ready -> delete) cannot run there"
        )
    endpoint = platform_endpoint(env, tenant)
    if endpoint.token is None:
        raise NoPlatformApi(f"environment '{env.name}' platform_api has no token; add token: {{env: NAME}}")
    ref = {"env": endpoint.token.env} if endpoint.token.env else {"file": str(endpoint.token.file)}
    ca = str(endpoint.ca_file) if endpoint.ca_file else None
    return ProvisioningConfig(environment=env.name, base_url=endpoint.base_url, token=ref, ca_file=ca, **overrides)


def provisioning_summary(ready_s: list[float], *, planned: int, failures: list[dict[str, Any]]) -> dict[str, Any]:
    """Pure: time-to-ready percentiles (seconds) and the verdict (every planned lifecycle, no failure)."""
    return {
        "planned": planned,
        "completed": len(ready_s),
        "failures": len(failures),
        "time_to_ready_s": {k: round(v, 4) for k, v in summarize(ready_s).items()},
        "passed": len(ready_s) == planned and not failures,
    }


def build_provisioning_user(config: ProvisioningConfig, record: dict[str, list[Any]]) -> type:
    """A Locust User class running the lifecycle; appends to ``record['ready_s']`` and ``record['failures']``."""
    import gevent
    from locust import User, constant, task
    from locust.exception import StopUser

    from mcproof.minecraft.status import status_ping
    from mcproof.platform.client import PlatformClient
    from mcproof.secrets import SecretRef

    token = SecretRef.model_validate(config.token).resolve()
    ca = Path(config.ca_file) if config.ca_file else None

    class ServerLifecycleUser(User):
        """create -> ready (status ping answers) -> ping -> delete, ``cycles_per_user`` times."""

        wait_time = constant(0)

        def on_start(self) -> None:
            self.client = PlatformClient(config.base_url, token, ca_file=ca, timeout=config.request_timeout_s)
            self.cycles = 0

        def _fire(self, kind: str, name: str, started: float, exc: BaseException | None = None) -> None:
            self.environment.events.request.fire(
                request_type=kind,
                name=name,
                response_time=(time.perf_counter() - started) * 1000,
                response_length=0,
                exception=exc,
                context={},
            )

        def _fail(self, step: str, err: BaseException, server: str = "") -> None:
            record["failures"].append({"step": step, "server": server, "error": str(err)[:200], "at": time.time()})

        @task
        def lifecycle(self) -> None:
            if self.cycles >= config.cycles_per_user:
                raise StopUser
            self.cycles += 1
            t0 = time.perf_counter()
            try:
                server = self.client.create_server(f"{config.name_prefix}-{id(self) % 10_000}-{self.cycles}")
            except McproofError as err:
                self._fire("API", "create", t0, err)
                self._fail("create", err)
                return
            self._fire("API", "create", t0)
            try:
                self._until_ready(server.id, server.host, server.port, t0)
                ping_t = time.perf_counter()
                result = status_ping(server.host, server.port, timeout=config.status_timeout_s, target=server.id)
                self._fire("SLP", "status", ping_t, None if result.ok else ConnectionError(result.error or "no reply"))
            finally:
                del_t = time.perf_counter()
                try:
                    self.client.delete_server(server.id)
                    self._fire("API", "delete", del_t)
                except McproofError as err:
                    self._fire("API", "delete", del_t, err)
                    self._fail("delete", err, server.id)

        def _until_ready(self, server_id: str, host: str, port: int, t0: float) -> None:
            deadline = t0 + config.ready_timeout_s
            while time.perf_counter() < deadline:
                if status_ping(host, port, timeout=config.status_timeout_s, target=server_id).ok:
                    ready = time.perf_counter() - t0
                    record["ready_s"].append(ready)
                    self._fire("SLP", "time_to_ready", t0)
                    return
                gevent.sleep(config.poll_s)
            err = TimeoutError(f"{server_id} not answering a status ping {config.ready_timeout_s:g}s after create")
            self._fire("SLP", "time_to_ready", t0, err)
            self._fail("ready", err, server_id)

    return ServerLifecycleUser


def _run_in_this_process(config: ProvisioningConfig) -> dict[str, Any]:
    """Locust programmatic API, local runner; only in a child process (gevent)."""
    import gevent
    from locust.env import Environment

    record: dict[str, list[Any]] = {"ready_s": [], "failures": []}
    env = Environment(user_classes=[build_provisioning_user(config, record)])
    runner = env.create_local_runner()
    started = time.time()
    runner.start(config.users, spawn_rate=config.spawn_rate)
    deadline = time.monotonic() + config.deadline_s
    while time.monotonic() < deadline:
        gevent.sleep(0.2)
        finished = len(record["ready_s"]) + len(record["failures"]) >= config.planned
        if finished or (time.monotonic() > deadline - config.deadline_s + 2 and runner.user_count == 0):
            break
    runner.quit()
    requests = {
        f"{e.method} {e.name}": {
            "count": e.num_requests,
            "failures": e.num_failures,
            "p50_ms": e.get_response_time_percentile(0.5),
            "p95_ms": e.get_response_time_percentile(0.95),
        }
        for e in env.stats.entries.values()
    }
    return {
        **provisioning_summary(record["ready_s"], planned=config.planned, failures=record["failures"]),
        "environment": config.environment,
        "base_url": config.base_url,
        "users": config.users,
        "cycles_per_user": config.cycles_per_user,
        "started_at": started,
        "ended_at": time.time(),
        "ready_samples_s": [round(x, 4) for x in record["ready_s"]],
        "failure_details": record["failures"][:50],
        "requests": requests,
        "method": "Locust local runner; time to ready = create call start -> first answered mcstatus status ping",
    }


def run_provisioning(config: ProvisioningConfig, run_dir: Path) -> dict[str, Any]:
    """Run ``config`` in a Locust child process; the result dict (also ``provisioning-result.json``)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    config_path = config.write(run_dir / "provisioning-config.json")
    result_path = run_dir / "provisioning-result.json"
    result_path.unlink(missing_ok=True)
    log_path = run_dir / "provisioning.log"
    code = "import locust, sys; from mcproof.load.provisioning import main; sys.exit(main(sys.argv[1:]))"
    with log_path.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", code, str(config_path), str(result_path)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
        )
        try:
            proc.wait(timeout=config.deadline_s + 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
            raise ProvisioningError(
                f"provisioning run overran {config.deadline_s + 30:g}s and was killed; see {log_path}"
            ) from None
    try:
        data: dict[str, Any] = json.loads(result_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ProvisioningError(f"provisioning run wrote no result (exit {proc.returncode}); see {log_path}") from None
    return data


def main(argv: list[str] | None = None) -> int:
    """``python -m mcproof.load.provisioning CONFIG_JSON RESULT_JSON``: exit 0 pass, 1 fail, 2 error."""
    import locust  # noqa: F401  (first: gevent monkey-patching must precede other imports' sockets)

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: python -m mcproof.load.provisioning CONFIG_JSON RESULT_JSON", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        result = _run_in_this_process(ProvisioningConfig.read(Path(args[0])))
    except McproofError as err:
        print(f"mcproof: error: {err}", file=sys.stderr)
        return 2
    Path(args[1]).write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
