"""Bedrock Edition targets: the smoke suite pings them with RakNet (mcstatus BedrockServer), holds
their version to the environment, and skips Query (a Java protocol) with the reason."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import random_base_address
from suite_runs import check_outcomes, run_suite

from mcproof.minecraft.status import status_ping

pytestmark = pytest.mark.integration


@pytest.fixture
def bedrock_hosts() -> Iterator[list[str]]:
    """Two real Bedrock status endpoints on loopback; the second reports a wrong version."""
    base = random_base_address().rsplit(".", 1)[0]
    hosts = [f"{base}.1", f"{base}.2"]
    versions = [("1.21.50", "766"), ("1.20.0", "589")]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mcproof_sandbox.fleet.bedrock",
                "--host",
                host,
                "--port",
                "19132",
                "--version-name",
                name,
                "--protocol",
                proto,
            ],
        )
        for host, (name, proto) in zip(hosts, versions, strict=True)
    ]
    try:
        deadline = time.monotonic() + 15
        for host in hosts:
            while not status_ping(host, 19132, timeout=0.3, edition="bedrock").ok:
                assert time.monotonic() < deadline, f"bedrock endpoint {host} did not come up"
                time.sleep(0.1)
        yield hosts
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def test_bedrock_targets_are_pinged_and_checked(bedrock_hosts: list[str], tmp_path: Path) -> None:
    env = {
        "name": "bedrock-itest",
        "tier": "staging",
        "minecraft": {
            "discovery": {
                "kind": "static",
                "servers": [{"name": f"be-{i}", "host": h, "edition": "bedrock"} for i, h in enumerate(bedrock_hosts)],
            },
            "expect": {"name": "1.21.50", "protocol": 766},
            "query_enabled": True,
            "status_timeout_s": 1.0,
            "latency_servers": 2,
            "latency_rounds": 10,  # 20 pings: the fewest a p95 needs
        },
        "guards": {"loopback_only": True},
    }
    env_file = tmp_path / "env.yaml"
    env_file.write_text(yaml.safe_dump(env))
    run = run_suite(env_file, tmp_path / "reports", "-k", "test_minecraft")
    assert run.code == 1, run.output
    outcomes = check_outcomes(run)
    assert outcomes["test_every_server_answers_status"]["outcome"] == "passed"
    assert outcomes["test_status_latency_p95_within_slo"]["outcome"] == "passed"
    version = outcomes["test_version_and_protocol_match"]
    assert version["outcome"] == "failed"
    assert "1 of 2 servers" in version["message"]
    assert "be-1 (version '1.20.0' != expected '1.21.50'; protocol 589 != expected 766)" in version["message"]
    query = outcomes["test_query_answers"]
    assert query["outcome"] == "skipped"
    assert "Java Edition protocol" in query["message"]
    fleet = next(r for r in run.evidence() if r["type"] == "fleet_status")
    assert {r["address"] for r in fleet["results"]} == {f"{h}:19132" for h in bedrock_hosts}
