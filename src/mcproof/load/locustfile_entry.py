"""What suites/load/locustfile.py does, kept here so it is typed and tested.

The locustfile gets its LoadConfig from MCPROOF_LOAD_CONFIG (written by `mcproof load` and the
suite) or, for a plain `locust -f suites/load/locustfile.py`, builds one from the environment named
by MCPROOF_ENV (default: local) through discovery. Optional overrides for plain runs:
MCPROOF_LOAD_SHAPE (ramp|steady|spike|soak|none), MCPROOF_LOAD_USERS, MCPROOF_LOAD_DURATION_S and
MCPROOF_LOAD_WORKERS (the worker count, so users spread over targets without overlap).

On the master (or a single process) the quitting event computes the result, holds the thresholds,
writes MCPROOF_LOAD_RESULT if set and sets Locust's process exit code (0 pass, 1 fail, 3 inconclusive:
the generator was saturated).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from mcproof.load.plan import CONFIG_ENV, LoadConfig

__all__ = ["config_from_environment", "install"]


def config_from_environment() -> LoadConfig:
    """LoadConfig from MCPROOF_LOAD_CONFIG, else from the MCPROOF_ENV environment's discovery."""
    path = os.environ.get(CONFIG_ENV)
    if path:
        return LoadConfig.read(Path(path))
    from mcproof.config import load_environment
    from mcproof.connect.targets import discover_targets
    from mcproof.load.plan import load_config_for

    env = load_environment(os.environ.get("MCPROOF_ENV", "local"))
    shape = os.environ.get("MCPROOF_LOAD_SHAPE")
    users = os.environ.get("MCPROOF_LOAD_USERS")
    duration = os.environ.get("MCPROOF_LOAD_DURATION_S")
    workers = os.environ.get("MCPROOF_LOAD_WORKERS")
    return load_config_for(
        env,
        discover_targets(env),
        shape=shape if shape and shape != "none" else None,
        users=int(users) if users else None,
        duration_s=float(duration) if duration else None,
        workers=int(workers) if workers else None,
    )


def _wants_shape() -> bool:
    return os.environ.get("MCPROOF_LOAD_WEB_SHAPE", "1") != "0" and os.environ.get("MCPROOF_LOAD_SHAPE") != "none"


def install(namespace: dict[str, Any]) -> LoadConfig:
    """Put the user class (and shape class) into the locustfile's namespace and hook the listeners."""
    from locust import events
    from locust.runners import WorkerRunner

    from mcproof.load.locust_process import LoadSession, build_shape_class, build_user_classes
    from mcproof.verdict import exit_code

    config = config_from_environment()
    for user_class in build_user_classes(config):  # the server-list user, and the player user when asked
        namespace[user_class.__name__] = user_class
    if _wants_shape():
        shape = build_shape_class(config.plan, config.players.players if config.players is not None else 0)
        namespace[shape.__name__] = shape

    def _on_init(environment: Any, **_: Any) -> None:
        session = LoadSession(environment, config)
        if isinstance(environment.runner, WorkerRunner):
            return
        mode = "locust CLI " + ("master" if config.workers else "single process")

        def _on_quitting(environment: Any, **_: Any) -> None:
            result = session.write_result(f"{mode}, {config.workers or 1} worker process(es)")
            environment.process_exit_code = exit_code(str(result["verdict"]))

        environment.events.quitting.add_listener(_on_quitting)

    events.init.add_listener(_on_init)  # type: ignore[no-untyped-call]
    return config
