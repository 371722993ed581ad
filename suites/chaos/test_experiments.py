"""Chaos: every experiment of the library runs against the environment and the fleet recovers.

Each experiment goes through :func:`mcproof.chaos.experiment.run_chaos_experiment`: guards first (an
experiment not allowed here, or one needing Kubernetes where there is none, is skipped with the
reason), then chaoslib with rollbacks that always run, watched by the independent observer. The
check is inconclusive (reason + fix) when the fault was not seen to take effect (a method action failed,
the fault named no observed target, the observer never saw it degrade), and fails when the journal
deviated or the observer saw a server not recover within the MTTR SLO. `RecoveryEvidence` (verdict,
error budget burned) is written either way; the `mttr_s` SLO measurement only when the fault took effect.

On a production-tier environment the experiments also need ``MCPROOF_ACK_PRODUCTION=1`` (the
suite-level form of ``--ack-production``) besides the environment's own allowance.
"""

from __future__ import annotations

import os

import pytest

from mcproof.chaos.experiment import ExperimentSkipped, run_chaos_experiment
from mcproof.chaos.library import experiment_files
from mcproof.config import Environment
from mcproof.connect.targets import Target
from mcproof.errors import GuardError
from mcproof.evidence import RunStore
from mcproof.verdict import inconclusive

pytestmark = [pytest.mark.chaos, pytest.mark.destructive]

EXPERIMENTS = [p.stem for p in experiment_files()]


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_experiment_recovers(
    experiment: str, environment: Environment, targets: list[Target], evidence: RunStore, request: pytest.FixtureRequest
) -> None:
    try:
        outcome = run_chaos_experiment(
            environment,
            experiment,
            evidence,
            check=request.node.name,
            ack_production=os.environ.get("MCPROOF_ACK_PRODUCTION") == "1",
        )
    except (ExperimentSkipped, GuardError) as err:
        pytest.skip(str(err))
    if outcome.verdict == "inconclusive":
        inconclusive(f"{experiment}: " + "; ".join(outcome.reasons), outcome.fix)
    assert outcome.passed, f"{experiment}: " + "; ".join(outcome.reasons)
