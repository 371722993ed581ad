"""The platform services daemon: API server (TLS), world writer and backup scheduler in one process.

Run by :class:`mcproof_sandbox.platform.control.PlatformServices`; ``python -m mcproof_sandbox.platform.service --state-dir S
--config JSON``. Writes ``<S>/platform/platform.json`` (url, CA file, token files, pid, the Pterodactyl face's
API key files) once it listens.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

from mcproof_sandbox.fleet.state import write_json_atomic
from mcproof_sandbox.platform.api import make_server
from mcproof_sandbox.platform.audit import AuditLog
from mcproof_sandbox.platform.engine import EngineConfig, PlatformEngine
from mcproof_sandbox.platform.pterodactyl_face import PterodactylFace
from mcproof_sandbox.platform.tls import generate_tls

INFO_FILE = "platform.json"


def _watch_sandbox(state_dir: Path, stop: threading.Event, shutdown: Any, grace_polls: int = 5) -> None:
    """Stop the daemon once the sandbox it serves is gone (no orphan platform when the fleet is down)."""
    missing = 0
    while not stop.wait(1.0):
        missing = missing + 1 if not (state_dir / "state.json").exists() else 0
        if missing >= grace_polls:
            logging.getLogger("mcproof.platform").warning("sandbox in %s is gone; stopping", state_dir)
            stop.set()
            shutdown()
            return


def serve(state_dir: Path, config: EngineConfig, host: str = "127.0.0.1", port: int = 0) -> None:
    platform_dir = state_dir / "platform"
    platform_dir.mkdir(parents=True, exist_ok=True)
    os.chmod(platform_dir, 0o700)
    tls = generate_tls(platform_dir / "tls", [host, "localhost"])
    engine = PlatformEngine(state_dir, platform_dir, config)
    tokens = engine.start(platform_dir / "tokens")
    audit = AuditLog(platform_dir / "audit.jsonl", max_age_days=config.audit_max_age_days)
    server = make_server(host, port, engine, audit, str(tls.cert), str(tls.key))
    bound = server.server_address[1]
    face = PterodactylFace(engine, f"https://{host}:{bound}")  # the panel face: same server, TLS and engine
    api_keys = face.start(platform_dir)
    server.pterodactyl = face
    stop = threading.Event()

    def _term(signum: int, frame: Any) -> None:
        stop.set()
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _term)
    signal.signal(signal.SIGINT, _term)
    info = {
        "format": 1,
        "phase": "ready",
        "pid": os.getpid(),
        "url": f"https://{host}:{bound}",
        "ca_file": str(tls.ca_cert),
        "tokens": {t: str(p) for t, p in tokens.items()},
        "audit_log": str(audit.path),
        "environment": config.environment,
        "started_at": time.time(),
        "platform_dir": str(platform_dir),
        "config": config.__dict__,
        "pterodactyl": {"url": f"https://{host}:{bound}", "api_keys": {t: str(p) for t, p in api_keys.items()}},
    }
    write_json_atomic(platform_dir / INFO_FILE, info)
    threading.Thread(target=_watch_sandbox, args=(state_dir, stop, server.shutdown), daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        engine.stop()
        server.server_close()
        (platform_dir / INFO_FILE).unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="mcproof sandbox platform services")
    parser.add_argument("--state-dir", type=Path, required=True)
    parser.add_argument("--config", default="{}")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    raw = json.loads(args.config)
    if "tenants" in raw:
        raw["tenants"] = tuple(raw["tenants"])
    serve(args.state_dir.resolve(), EngineConfig(**raw), port=args.port)


if __name__ == "__main__":
    main()
