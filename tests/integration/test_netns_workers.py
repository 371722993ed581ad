"""`tools/netns/python`, the interpreter of each `make integration` worker, really isolates the network:
inside it only loopback exists, a port the caller listens on is neither reachable nor taken there. A worker
that could reach another's servers would let parallel tests interfere; one that could reach beyond loopback
would break the network rule. The same probe run by a plain interpreter shows what it catches."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

WRAPPER = Path(__file__).resolve().parents[2] / "tools" / "netns" / "python"

PROBE = """
import json, socket, sys
port = int(sys.argv[1])
probe = socket.socket()
probe.settimeout(2)
reached = probe.connect_ex(("127.0.0.1", port)) == 0
try:
    socket.socket().bind(("127.0.0.1", port))
    taken = False
except OSError:
    taken = True
print(json.dumps({"links": sorted(name for _, name in socket.if_nameindex()), "reached": reached, "taken": taken}))
"""


def _probe(interpreter: list[str]) -> dict[str, Any]:
    """What `interpreter` sees of a port this process listens on (deadline 30 s over the whole exchange)."""
    with socket.socket() as host:
        host.bind(("127.0.0.1", 0))
        host.listen()
        env = {**os.environ, "NETNS_PYTHON": sys.executable}
        child = subprocess.Popen(
            [*interpreter, "-c", PROBE, str(host.getsockname()[1])],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        try:
            out, err = child.communicate(timeout=30)
        finally:
            if child.poll() is None:
                child.kill()
                child.wait(timeout=10)
    assert child.returncode == 0, err
    return dict(json.loads(out))


def test_a_worker_sees_only_its_own_loopback() -> None:
    done = subprocess.run([str(WRAPPER), "-c", "pass"], capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        pytest.skip(f"network namespaces refused here ({done.stderr.strip()}): make integration runs serially")
    assert _probe([str(WRAPPER)]) == {"links": ["lo"], "reached": False, "taken": False}


def test_the_probe_catches_a_worker_that_shares_the_network() -> None:
    seen = _probe([sys.executable])
    assert seen["reached"] is True
    assert seen["taken"] is True
    assert "lo" in seen["links"]
