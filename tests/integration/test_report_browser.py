"""The sign-off report of a REAL run rendered in headless Chromium (Debian's `chromium`, driven over
the DevTools protocol with websocket-client): screenshot taken, no console errors, every plot drawn,
every verdict row linked to evidence whose anchor resolves.

Chromium runs with the field-notes flags (no background networking, fresh profile) and only ever
opens a file:// URL. Set MCPROOF_SCREENSHOT_DIR to keep a copy of the screenshot.
"""

from __future__ import annotations

import base64
import json
import os
import re
import selectors
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import websocket
from suite_runs import run_suite, write_environment

from mcproof_sandbox.fleet import Sandbox

pytestmark = pytest.mark.integration

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]
DEADLINE_S = 30.0

DOM_PROBE = """(() => {
  const ids = new Set([...document.querySelectorAll('[id]')].map(e => e.id));
  const hrefs = [...document.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1));
  const rows = [...document.querySelectorAll('#slos tbody tr, #suites tbody tr')].map(tr => ({
    id: tr.id, verdict: (tr.querySelector('.badge') || {}).textContent || '',
    links: [...tr.querySelectorAll('a[href^="#"]')].map(a => a.getAttribute('href').slice(1))}));
  const figures = [...document.querySelectorAll('figure')].map(f => {
    const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : {width: 0, height: 0};
    return {kind: f.dataset.kind, id: f.id, width: box.width, height: box.height,
            marks: svg ? svg.querySelectorAll('polyline,rect,circle,line').length : 0};
  });
  const evidencePlots = [...document.querySelectorAll('.ev svg')].map(s => s.getBoundingClientRect().width);
  const external = [...document.querySelectorAll('[src],link[href],a[href]')]
    .map(e => e.getAttribute('src') || e.getAttribute('href')).filter(u => !u.startsWith('#'));
  return {broken: hrefs.filter(h => !ids.has(h)), hrefs: hrefs.length, rows, figures, evidencePlots, external,
          title: document.title, height: document.documentElement.scrollHeight};
})()"""


class Cdp:
    """A minimal DevTools-protocol client on one page session (bounded waits everywhere)."""

    def __init__(self, ws_url: str) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=10, suppress_origin=True)
        self.next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def send(self, method: str, params: dict[str, Any] | None = None, *, session: bool = True) -> dict[str, Any]:
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise AssertionError(f"{method}: {reply['error']}")
                return dict(reply.get("result", {}))
            self.events.append(reply)
        raise TimeoutError(method)

    def wait_event(self, method: str) -> dict[str, Any]:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            for event in self.events:
                if event.get("method") == method:
                    return event
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(method)

    def console_errors(self) -> list[str]:
        errors = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.exceptionThrown":
                errors.append(json.dumps(params.get("exceptionDetails", {}))[:300])
            elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                errors.append(json.dumps(params.get("args", []))[:300])
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                errors.append(str(params["entry"].get("text", ""))[:300])
        return errors


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[str]:
    """A headless Chromium on a loopback DevTools port; yields its browser websocket URL."""
    if CHROMIUM is None:
        pytest.skip("chromium not installed (Debian: apt-get install chromium chromium-driver)")
    profile = tmp_path / "chromium-profile"
    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        selector = selectors.DefaultSelector()
        selector.register(proc.stderr, selectors.EVENT_READ)
        deadline, url, seen = time.monotonic() + DEADLINE_S, None, []
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            if selector.select(timeout=1.0):
                line = proc.stderr.readline()
                seen.append(line)
                match = re.search(r"DevTools listening on (ws://127\.0\.0\.1:\d+/\S+)", line)
                url = match.group(1) if match else None
        assert url, f"chromium did not start its DevTools endpoint: {''.join(seen)[-2000:]}"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _open(browser_url: str, page: Path, screenshot: Path) -> tuple[dict[str, Any], list[str]]:
    cdp = Cdp(browser_url)
    try:
        target = cdp.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
        cdp.session = cdp.send("Target.attachToTarget", {"targetId": target, "flatten": True}, session=False)[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log"):
            cdp.send(f"{domain}.enable")
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        cdp.send("Page.navigate", {"url": page.as_uri()})
        cdp.wait_event("Page.loadEventFired")
        probe = cdp.send("Runtime.evaluate", {"expression": DOM_PROBE, "returnByValue": True})
        dom = dict(probe["result"]["value"])
        height = min(int(dom["height"]), 12000)
        cdp.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1200, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        shot = cdp.send("Page.captureScreenshot", {"format": "png"})
        screenshot.write_bytes(base64.b64decode(shot["data"]))
        time.sleep(0.2)
        cdp.send("Runtime.evaluate", {"expression": "1"})  # flush late console events
        return dom, cdp.console_errors()
    finally:
        cdp.ws.close()


def test_signoff_report_renders_in_headless_chromium(
    chromium: str, sandbox_factory: Callable[..., Sandbox], tmp_path: Path
) -> None:
    sandbox = sandbox_factory(servers=20)
    env_file = write_environment(tmp_path / "env.yaml", sandbox.state_dir)
    sandbox.inject(["mc-00003"], "refuse")  # one failure, so the failure table and its hint are drawn too
    run = run_suite(env_file, tmp_path / "reports", timeout=120)
    assert run.run_dir is not None, run.output
    report = run.report()
    screenshot = run.run_dir.parent / "report-screenshot.png"  # beside the run: the run itself stays as written
    dom, errors = _open(chromium, run.run_dir / "index.html", screenshot)

    keep = os.environ.get("MCPROOF_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep) / "report-smoke.png")
    assert screenshot.stat().st_size > 10_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert errors == [], errors
    assert dom["external"] == [], "the report must load nothing from outside the file"
    assert dom["title"].startswith(report["verdict"].upper())

    assert dom["hrefs"] > 0
    assert dom["broken"] == [], f"anchors that resolve to nothing: {dom['broken']}"
    rows = {row["id"]: row for row in dom["rows"]}
    for slo in report["slos"]:
        row = rows[f"slo-{slo['slo']}"]
        assert row["verdict"] == slo["verdict"]
        assert row["links"], f"SLO row {slo['slo']} links to nothing"
        if slo["measurements"]:
            assert set(row["links"]) == set(slo["evidence"]), slo
            assert all(link.startswith("ev-") for link in row["links"])
    for suite in report["suites"]:
        assert rows[f"suite-{suite['suite']}"]["links"], suite

    kinds = [f["kind"] for f in dom["figures"]]
    panel_plots = (report.get("players") or {}).get("plots", [])  # the player panel draws its own
    assert sorted(kinds) == sorted(p["kind"] for p in [*report["plots"], *panel_plots])
    assert all(f["width"] > 200 and f["height"] > 100 and f["marks"] > 3 for f in dom["figures"]), dom["figures"]
    expected_evidence_plots = sum(1 for e in report["evidence"] if e["latency"] or e["bar"])
    assert len(dom["evidencePlots"]) == expected_evidence_plots > 0
    assert all(width > 200 for width in dom["evidencePlots"])
    assert report["failures"], "the planted refusal must show as a failure"
    assert all(f["hint"] for f in report["failures"])


def test_monitoring_plots_render_in_headless_chromium(chromium: str, tmp_path: Path) -> None:
    """Detection and availability plots from recorded evidence (tests/unit/recorded/) drawn by Chromium."""
    from mcproof.evidence import RunEnd, RunInfo
    from mcproof.report import write_report

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    recorded = (Path(__file__).parents[1] / "unit" / "recorded" / "monitoring_evidence.jsonl").read_text()
    info = RunInfo("r1", "itest", "dev", "2026-11-25T19:20:00Z", "0.1", [], {"slo": {"availability": 0.999}}, "h")
    end = RunEnd("r1", "2026-11-25T19:21:10Z", 0, 0)
    lines = [json.dumps(info.as_dict()), *recorded.strip().splitlines(), json.dumps(end.as_dict())]
    (run_dir / "evidence.jsonl").write_text("\n".join(lines) + "\n")
    write_report(run_dir)
    screenshot = tmp_path / "monitoring-plots.png"
    dom, errors = _open(chromium, run_dir / "index.html", screenshot)
    keep = os.environ.get("MCPROOF_SCREENSHOT_DIR")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, Path(keep) / "report-monitoring.png")
    assert errors == [], errors
    assert dom["broken"] == [], dom["broken"]
    figures = {f["id"]: f for f in dom["figures"]}
    kinds = {f["kind"] for f in figures.values()}
    assert {"detection_time", "detection_timeline", "availability_agreement", "error_budget"} <= kinds
    # frame + at least one bar or series + a reference line (a 0 % bar still counts as a mark)
    assert all(f["width"] > 200 and f["height"] > 100 and f["marks"] >= 3 for f in figures.values()), figures
    assert figures["plot-ev-2"]["marks"] > 10  # the fired alert's state timeline: polyline + a point per poll
