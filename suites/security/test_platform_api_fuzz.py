"""A bounded, seeded schemathesis run of the platform API against its OpenAPI document (the environment's
`security.api_fuzz` section): no 5xx, no undocumented status code, no response that breaks its schema.
Authorised as one tenant; servers the run creates are deleted afterwards. Failures become evidence."""

from __future__ import annotations

import pytest

from mcproof.config import Environment
from mcproof.evidence import RunStore
from mcproof.evidence.records import PolicyScanEvidence
from mcproof.platform.adapter import ApiCallError
from mcproof.platform.client import PlatformClient
from mcproof.security.api_fuzz import run_schemathesis
from mcproof.security.platform_api import ApiTarget
from mcproof.security.settings import SecuritySettings
from mcproof.verdict import inconclusive

pytestmark = pytest.mark.security


def _allocations(tenant: PlatformClient) -> set[str]:
    """This tenant's fleet allocations (none when the platform runs no fleet autoscaler)."""
    try:
        return {str(s["id"]) for s in tenant.fleet().get("servers", []) if s.get("mine")}
    except ApiCallError:
        return set()


def _release_new_allocations(tenant: PlatformClient, before: set[str]) -> list[str]:
    """Give back the fleet servers the fuzzer allocated; the ones that could not be given back."""
    leftovers = []
    for server_id in sorted(_allocations(tenant) - before):
        try:
            tenant.release(server_id)
        except ApiCallError as err:
            leftovers.append(f"allocation {server_id} ({err.status})")
    return leftovers


def test_api_conforms_to_openapi(
    platform_api: ApiTarget, environment: Environment, security: SecuritySettings, evidence: RunStore
) -> None:
    cfg = security.api_fuzz
    if cfg.openapi is None:
        pytest.skip("security.api_fuzz.openapi is null: no OpenAPI document to fuzz against")
    tenant = platform_api.tenant_a
    if tenant is None or not platform_api.secrets:
        pytest.skip("platform_api.token not set: the run must be authorised as a tenant")
    document = environment.resolve_path(cfg.openapi)
    if not document.is_file():
        pytest.fail(f"OpenAPI document {document} not found; set security.api_fuzz.openapi", pytrace=False)
    before = {s.id for s in tenant.list_servers()}
    allocated_before = _allocations(tenant)
    try:
        run = run_schemathesis(
            document,
            platform_api.base_url,
            platform_api.secrets[0].reveal(),
            verify=str(platform_api.ca_file) if platform_api.ca_file else True,
            seed=cfg.seed,
            max_examples=cfg.max_examples,
            deadline_s=cfg.deadline_s,
            request_timeout_s=cfg.request_timeout_s,
            exclude=tuple(cfg.exclude),
        )
    finally:
        leftovers = []
        for server in tenant.list_servers():
            if server.id not in before:
                try:
                    tenant.delete_server(server.id)
                except ApiCallError as err:
                    leftovers.append(f"{server.id} ({err.status})")
        leftovers += _release_new_allocations(tenant, allocated_before)
    evidence.append(
        PolicyScanEvidence(
            environment=environment.name,
            method=(
                f"schemathesis {run.version}, seed {run.seed}, <= {run.max_examples} examples per operation, "
                f"deadline {cfg.deadline_s:g}s, {run.cases} requests in {run.duration_s:.1f}s"
                + (" (deadline hit)" if run.deadline_hit else "")
            ),
            check="test_api_conforms_to_openapi",
            tool="schemathesis",
            source=f"{document} @ {platform_api.base_url}",
            passed_checks=run.cases - len(run.failures),
            findings=[f.as_dict() for f in run.failures],
            accepted=[{"operation": op, "reason": "excluded by security.api_fuzz.exclude"} for op in run.skipped],
            passed=run.passed and not leftovers and run.cases > 0,
        )
    )
    if run.cases == 0:
        inconclusive(
            f"schemathesis sent no request to {platform_api.base_url} ({len(run.operations)} operation(s), "
            f"{len(run.skipped)} excluded): nothing was fuzzed",
            "raise security.api_fuzz.deadline_s / max_examples, or narrow security.api_fuzz.exclude",
        )
    assert not run.failures, (
        f"{len(run.failures)} schemathesis failure(s) over {run.cases} requests: "
        + "; ".join(str(f) for f in run.failures[:10])
        + ". Fix: handle every input the OpenAPI document allows without a 5xx, and document every status code"
    )
    assert not leftovers, f"could not delete servers the run created: {', '.join(leftovers)}"
