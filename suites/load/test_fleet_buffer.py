"""Load (destructive): a join rush against the platform's game-server fleet autoscaler (an Agones-style
buffer of ready servers), held to the ``load.fleet_buffer`` SLOs: the ready-buffer minimum, allocation
latency p95, scale-out (buffer full again), and a scale-in that stops no server with players on it.

Environment-agnostic: the platform API is the environment's ``platform_api`` (or the sandbox's own). Skipped
with the reason when the platform runs no fleet autoscaler; inconclusive when the buffer was never full
before the rush, or when no scale-in was observed (the occupied-server check then judged nothing).
Allocates and releases servers, and holds real players on some, hence ``destructive``.
"""

from __future__ import annotations

from typing import Any

import pytest

from mcproof.config import Environment
from mcproof.connect.platform import NoPlatformApi, platform_client
from mcproof.errors import McproofError
from mcproof.evidence import RunStore
from mcproof.load.fleet_buffer import (
    SLO_ROWS,
    BufferNeverFull,
    FleetUnsupported,
    fleet_buffer_slos,
    judge_fleet_buffer,
    run_fleet_buffer,
)
from mcproof.load.settings import LoadSettings
from mcproof.players.population import Population
from mcproof.players.settings import PlayerSettings
from mcproof.target import Target
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.load, pytest.mark.destructive]
CHECK = "test_fleet_buffer_absorbs_a_join_rush"


def test_fleet_buffer_absorbs_a_join_rush(environment: Environment, evidence: RunStore) -> None:
    settings = (environment.load or LoadSettings()).fleet_buffer
    tenant = environment.dr.tenant if environment.dr is not None else "alpha"
    try:
        client = platform_client(environment, tenant)
    except NoPlatformApi as err:
        pytest.skip(f"the fleet rush needs a platform API: {err}")
    keepalive = (environment.players or PlayerSettings()).keepalive_timeout_s

    def join(targets: list[Target]) -> Any:
        return Population(targets, keepalive_timeout_s=keepalive, rejoin_deadline_s=5.0, max_duration_s=600).start()

    try:
        run = run_fleet_buffer(client, settings, join_players=join)
    except FleetUnsupported as err:
        pytest.skip(str(err))
    except BufferNeverFull as err:
        inconclusive(str(err), "raise load.fleet_buffer.refill_deadline_s, or fix the platform's autoscaler")
    except McproofError as err:
        pytest.fail(f"fleet rush failed: {err}", pytrace=False)
    figures = judge_fleet_buffer(run)
    rows = fleet_buffer_slos(run, figures, settings, environment=environment.name, check=CHECK)
    for row in rows:
        evidence.append(row)
    evidence.write_json("fleet_buffer.json", {"figures": figures.as_dict(), **run.as_dict()})
    missed = [f"{r.slo} {r.measured:g} {r.unit} (objective {r.objective})" for r in rows if not r.passed]
    assert not missed, (
        "fleet buffer missed its SLOs: "
        + "; ".join(missed)
        + (f"; occupied servers stopped: {', '.join(figures.occupied_stopped)}" if figures.occupied_stopped else "")
        + (f"; allocation failures: {'; '.join(run.allocation_failures[:3])}" if run.allocation_failures else "")
    )
    if run.sampler_error:
        inconclusive(f"the buffer sampler stopped early ({run.sampler_error})", "rerun; check the platform API")
    unmeasured = [name for name in SLO_ROWS if name not in {r.slo for r in rows}]
    if unmeasured:
        why = "; ".join(run.notes) or "no sample of the rush listed the fleet"
        inconclusive(
            f"not measured: {', '.join(unmeasured)} ({why})",
            "raise load.fleet_buffer.scale_in_deadline_s / settle_s, or check the autoscaler's scale-in and "
            "the fleet listing",
        )
    if not run.players_joined:
        inconclusive("no player got into a held server: the scale-in was judged on pings only", "check player joins")
