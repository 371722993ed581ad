"""Prometheus HTTP API client (``requests``): instant queries, alerts, rules, targets; every call bounded.

Parsing is apart from I/O: :func:`parse_vector`, :func:`parse_alerts` take the decoded JSON of a reply.

Why not ``prometheus-api-client`` (0.7.2): it covers queries and metric listings but not the alerts,
rules and targets endpoints the detection and availability checks read, and its results are raw dicts
(or pandas frames) all the same; the four calls here are a bounded GET each with the reply's shape
checked, so a wrong or truncated answer is a PromError naming the endpoint, never a KeyError.

>>> parse_vector({"status": "success", "data": {"resultType": "vector",
...     "result": [{"metric": {"server": "a"}, "value": [1.0, "0.5"]}]}})
[({'server': 'a'}, 0.5)]
>>> parse_alerts({"status": "success", "data": {"alerts": [{"labels": {"alertname": "X"}, "state": "firing",
...     "activeAt": "2026-01-01T00:00:00Z"}]}})[0].firing
True
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import requests

from mcproof.errors import PromError

__all__ = ["ActiveAlert", "PromClient", "PromError", "parse_alerts", "parse_vector"]


@dataclass(frozen=True)
class ActiveAlert:
    name: str
    state: str  # pending | firing
    labels: dict[str, str]
    active_at: str

    @property
    def firing(self) -> bool:
        return self.state == "firing"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _data(body: Any, what: str) -> Any:
    if not isinstance(body, dict) or body.get("status") != "success":
        error = body.get("error", "") if isinstance(body, dict) else ""
        raise PromError(f"Prometheus {what} failed: {str(error)[:200] or 'unexpected reply'}")
    return body.get("data")


def parse_vector(body: Any) -> list[tuple[dict[str, str], float]]:
    """An instant-query reply (vector or scalar) -> [(labels, value)]; NaN/Inf kept as floats."""
    data = _data(body, "query")
    if not isinstance(data, dict):
        raise PromError("Prometheus query reply has no data object")
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar" and isinstance(result, list) and len(result) == 2:
        return [({}, float(result[1]))]
    if kind != "vector" or not isinstance(result, list):
        raise PromError(f"expected an instant vector, got resultType {kind!r}")
    return [(dict(item.get("metric", {})), float(item["value"][1])) for item in result]


def parse_alerts(body: Any) -> list[ActiveAlert]:
    """A ``/api/v1/alerts`` reply -> pending and firing alerts."""
    data = _data(body, "alerts")
    alerts = data.get("alerts", []) if isinstance(data, dict) else []
    return [
        ActiveAlert(
            str(a["labels"].get("alertname", "")),
            str(a.get("state", "")),
            dict(a["labels"]),
            str(a.get("activeAt", "")),
        )
        for a in alerts
    ]


class PromClient:
    """``PromClient("http://127.0.0.1:9090")``; no proxies from the environment, a timeout on every call."""

    def __init__(self, base_url: str, *, timeout: float = 5.0, verify: str | bool = True) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.verify = verify
        self.session = requests.Session()
        self.session.trust_env = False

    def __repr__(self) -> str:
        return f"PromClient({self.base_url!r})"

    def _get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        try:
            resp = self.session.get(self.base_url + path, params=params, timeout=self.timeout, verify=self.verify)
        except requests.RequestException as exc:
            raise PromError(
                f"no answer from Prometheus at {self.base_url} ({type(exc).__name__}); is it running?"
            ) from None
        try:
            return resp.json()
        except ValueError:
            raise PromError(f"Prometheus {path} -> HTTP {resp.status_code}, not JSON") from None

    def ready(self) -> bool:
        try:
            return self.session.get(self.base_url + "/-/ready", timeout=self.timeout).status_code == 200
        except requests.RequestException:
            return False

    def query(self, expr: str, at: float | None = None) -> list[tuple[dict[str, str], float]]:
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        return parse_vector(self._get("/api/v1/query", params))

    def scalar(self, expr: str, at: float | None = None) -> float | None:
        """The single value of ``expr`` (None when the result is empty or NaN)."""
        result = self.query(expr, at)
        if not result:
            return None
        if len(result) > 1:
            raise PromError(f"expected one series from {expr!r}, got {len(result)}; aggregate it (sum/avg)")
        value = result[0][1]
        return None if math.isnan(value) else value

    def alerts(self) -> list[ActiveAlert]:
        return parse_alerts(self._get("/api/v1/alerts"))

    def rules(self) -> list[dict[str, Any]]:
        """Every loaded rule (recording and alerting) with its group, health and last error."""
        data = _data(self._get("/api/v1/rules"), "rules")
        return [
            {**rule, "group": group.get("name", "")}
            for group in (data or {}).get("groups", [])
            for rule in group.get("rules", [])
        ]

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets: job, scrape URL, health ('up'/'down'/'unknown'), last error."""
        data = _data(self._get("/api/v1/targets", {"state": "active"}), "targets")
        return [
            {
                "job": t.get("labels", {}).get("job", ""),
                "url": t.get("scrapeUrl", ""),
                "health": t.get("health", ""),
                "last_error": t.get("lastError", ""),
                "last_scrape": t.get("lastScrape", ""),
            }
            for t in (data or {}).get("activeTargets", [])
        ]
