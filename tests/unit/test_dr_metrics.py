"""RPO/RTO maths on recorded markers."""

from __future__ import annotations

import math

from mcproof.dr.metrics import last_before, rpo_seconds, rto_seconds
from mcproof.dr.settings import DrSettings

MARKS = [{"seq": i, "ts": 1000.0 + 0.1 * i} for i in range(1, 51)]


def test_last_before_picks_the_newest_mark_at_or_before() -> None:
    assert last_before(MARKS, 1002.0) == {"seq": 20, "ts": 1002.0}
    assert last_before(MARKS, 999.0) is None


def test_rpo_is_written_minus_recovered() -> None:
    written = last_before(MARKS, 1004.5)
    recovered = last_before(MARKS[:30], 1004.5)
    assert written is not None
    assert recovered is not None
    assert math.isclose(rpo_seconds(written, recovered, 1000.0), 1.5)
    assert math.isclose(rpo_seconds(written, None, 1000.0), 4.5)
    assert rpo_seconds(None, None, 1000.0) == 0.0


def test_rto_and_settings_defaults() -> None:
    assert rto_seconds(10.0, 12.5) == 2.5
    assert rto_seconds(10.0, None) == float("inf")
    assert DrSettings().disaster == "delete"
