"""The platform-api-outage experiment against a real sandbox platform daemon: the API is stopped (connection
refused), restarted on its old port, the observer's /readyz samples give its MTTR -- agreeing with the
test's own probe loop -- and the Minecraft fleet is not affected."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from suite_runs import write_environment

from mcproof.chaos.experiment import run_chaos_experiment
from mcproof.chaos.recovery import iso_to_epoch
from mcproof.config import load_environment
from mcproof.evidence.store import RunStore
from mcproof_sandbox.fleet import Sandbox
from mcproof_sandbox.platform.control import PlatformServices, read_platform_info
from mcproof_sandbox.platform.engine import EngineConfig

pytestmark = [pytest.mark.integration, pytest.mark.chaos]

FAST = {"observer_interval_s": 0.25, "observer_timeout_s": 0.5, "recovery_window_s": 20}


class ReadyLoop:
    """The test's own loop: GET /readyz with requests every 50 ms (re-reading platform.json each time)."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.first_failure: float | None = None
        self.recovered: float | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _ready(self) -> bool:
        info = read_platform_info(self.state_dir)
        if info is None:
            return False
        try:
            return requests.get(f"{info.url}/readyz", verify=str(info.ca_file), timeout=0.5).ok
        except requests.RequestException:
            return False

    def _run(self) -> None:
        deadline = time.monotonic() + 40
        while not self._stop.is_set() and time.monotonic() < deadline:
            t = time.time()
            ok = self._ready()
            if not ok and self.first_failure is None:
                self.first_failure = t
            if ok and self.first_failure is not None and self.recovered is None:
                self.recovered = t
            time.sleep(0.05)

    def __enter__(self) -> ReadyLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


@pytest.fixture
def platform_sandbox(sandbox_factory: Callable[..., Sandbox]) -> Iterator[Sandbox]:
    sandbox = sandbox_factory(servers=10)
    services = PlatformServices(sandbox.state_dir)
    services.up(EngineConfig(environment="itest", autosave_s=5.0))
    yield sandbox
    services.down()


def test_platform_api_outage_is_measured_and_restored(platform_sandbox: Sandbox, tmp_path: Path) -> None:
    state = platform_sandbox.state_dir
    env = load_environment(str(write_environment(tmp_path / "env.yaml", state, chaos=FAST)))
    before = read_platform_info(state)
    assert before is not None
    store = RunStore.create(tmp_path / "reports", "r1")
    with ReadyLoop(state) as loop:
        outcome = run_chaos_experiment(env, "platform-api-outage", store, seed=1)
    assert outcome.passed, (outcome.reasons, outcome.lines)
    ev = outcome.evidence
    assert ev is not None
    assert ev.affected == ["platform-api"]  # the Minecraft servers never missed a ping
    assert ev.unrecovered == []
    api = ev.per_server[0]
    assert api["mttr_s"] is not None
    assert 3.0 <= api["mttr_s"] <= 10.0, api  # 3 s outage + the daemon's start-up
    kinds = {s["error_kind"] for s in ev.timeline if s["target"] == "platform-api" and not s["ok"]}
    assert kinds <= {"no-endpoint", "refused"}
    assert kinds
    assert loop.recovered is not None
    independent = loop.recovered - iso_to_epoch(str(ev.injected_at))
    assert abs(api["mttr_s"] - independent) <= 0.5, (api["mttr_s"], independent)
    after = read_platform_info(state)
    assert after is not None
    assert after.url == before.url  # same port: clients find it where it was
    assert after.pid != before.pid
    assert any(line.startswith("  platform API: first failure") for line in outcome.lines)
    journal = outcome.journal or {}
    assert [r["status"] for r in journal["rollbacks"]] == ["succeeded"]
    assert journal["rollbacks"][0]["output"]["started"] is False  # the method's restart already did it


def test_rollback_restarts_an_api_the_method_left_down(platform_sandbox: Sandbox, tmp_path: Path) -> None:
    import json

    from mcproof.chaos.library import find_experiment

    data = json.loads(find_experiment("platform-api-outage").read_text())
    data["method"] = data["method"][:1]  # stop only: nothing in the method brings it back
    path = tmp_path / "outage-no-restart.json"
    path.write_text(json.dumps(data))
    state = platform_sandbox.state_dir
    env = load_environment(str(write_environment(tmp_path / "env.yaml", state, chaos=FAST)))
    outcome = run_chaos_experiment(env, str(path), RunStore.create(tmp_path / "reports", "r1"), seed=1)
    assert not outcome.passed
    assert any("never recovered before the rollbacks: platform-api" in r for r in outcome.reasons), outcome.reasons
    journal = outcome.journal or {}
    assert journal["rollbacks"][0]["output"]["started"] is True
    assert PlatformServices(state).info() is not None
