"""Evidence -> Allure attachment bodies: small records whole, big ones summarised and truncated."""

from __future__ import annotations

import json
from pathlib import Path

from mcproof.evidence.attachments import attachment_bodies, read_new_lines, summarize_record


def test_small_records_attach_whole_and_bookkeeping_is_skipped() -> None:
    lines = [
        json.dumps({"type": "check", "check": "x"}),
        json.dumps({"type": "slo", "slo": "serving_ratio", "measured": 0.95}),
    ]
    [(name, body, is_json)] = attachment_bodies(lines)
    assert name == "evidence: slo serving_ratio"
    assert is_json
    assert json.loads(body)["measured"] == 0.95


def test_oversized_record_becomes_summary_plus_truncated_raw() -> None:
    record = {
        "type": "fleet_status",
        "total": 5000,
        "results": [{"target": f"mc-{i:05d}", "ok": True} for i in range(5000)],
    }
    line = json.dumps(record)
    cap = 4096
    bodies = attachment_bodies([line], cap=cap)
    assert [n for n, _, _ in bodies] == [
        "evidence: fleet_status (summary)",
        f"evidence: fleet_status (raw, first {cap} of {len(line)} bytes)",
    ]
    summary = json.loads(bodies[0][1])
    assert summary["truncated"]
    assert summary["bytes"] == len(line)
    assert summary["summary"]["total"] == 5000
    assert summary["summary"]["results"]["count"] == 5000
    assert len(bodies[1][1].encode()) <= cap
    assert line.startswith(bodies[1][1])


def test_summary_keeps_scalars_and_heads_lists() -> None:
    summary = summarize_record({"type": "t", "n": 1, "items": list(range(100))})
    assert summary["n"] == 1
    assert summary["items"] == {"count": 100, "first": list(range(20))}


def test_read_new_lines_from_offset_bounded(tmp_path: Path) -> None:
    path = tmp_path / "evidence.jsonl"
    path.write_text('{"a": 1}\n')
    offset = path.stat().st_size
    with path.open("a") as handle:
        handle.write("".join(f'{{"b": {i}}}\n' for i in range(10)))
    assert read_new_lines(path, offset, max_lines=3) == ['{"b": 0}', '{"b": 1}', '{"b": 2}']
    assert read_new_lines(tmp_path / "missing", 0) == []
