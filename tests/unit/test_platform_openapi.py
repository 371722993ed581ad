"""The OpenAPI document in docs/ and the routes the server serves describe the same contract."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from mcproof_sandbox.platform.api import ROUTES

DOC = Path(__file__).resolve().parents[2] / "docs" / "platform-api.openapi.yaml"


def test_every_route_is_documented_and_every_documented_operation_exists() -> None:
    doc = yaml.safe_load(DOC.read_text())
    documented = {
        (method.upper(), re.sub(r"\{[a-z_]+\}", "X", path))
        for path, ops in doc["paths"].items()
        for method in ops
        if method in ("get", "post", "delete")
    }
    served = {(m, re.sub(r"\(\?P<[a-z]+>[^)]*\)", "X", rx.pattern.strip("^$"))) for m, rx, _, _ in ROUTES}
    served |= {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics")}
    assert documented == served
