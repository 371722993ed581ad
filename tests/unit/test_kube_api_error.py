"""Every failure of a Kubernetes call becomes one KubeError line naming the call, the server and the fix."""

from __future__ import annotations

import json

import pytest
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import MaxRetryError, NewConnectionError, ProtocolError, ReadTimeoutError

from mcproof.kubeapi import api_error

HOST = "https://127.0.0.1:6443"


def _status(code: int, message: str) -> ApiException:
    err = ApiException(status=code, reason="x")
    err.body = json.dumps({"kind": "Status", "code": code, "message": message})
    return err


@pytest.mark.parametrize(
    ("err", "expected"),
    [
        (_status(403, 'pods is forbidden: User "x" cannot list'), ["HTTP 403", "pods is forbidden", "RBAC"]),
        (_status(401, "Unauthorized"), ["HTTP 401", "credentials"]),
        (_status(404, 'namespaces "t9" not found'), ["HTTP 404", "kubernetes.namespaces"]),
        (_status(410, "too old resource version"), ["HTTP 410", "run again"]),
        (_status(500, "etcdserver: request timed out"), ["HTTP 500", "/readyz"]),
        (ProtocolError("Connection broken: IncompleteRead(13 bytes read)"), ["ProtocolError", "mid-response"]),
        (
            ReadTimeoutError(None, "/api/v1/pods", "Read timed out. (read timeout=10)"),
            ["ReadTimeoutError", "request_timeout_s"],
        ),  # type: ignore[arg-type]
        (
            MaxRetryError(None, "/api/v1/pods", NewConnectionError(None, "[Errno 111] Connection refused")),  # type: ignore[arg-type]
            ["NewConnectionError", "Connection refused", "/readyz"],
        ),
    ],
)
def test_one_line_with_the_call_and_a_fix(err: BaseException, expected: list[str]) -> None:
    message = str(api_error("list_namespaced_pod(t1)", err, HOST))
    assert "\n" not in message
    assert message.startswith(f"list_namespaced_pod(t1) on {HOST}")
    for part in expected:
        assert part in message
