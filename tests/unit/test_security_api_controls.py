"""Pure parts of the platform API's security controls and of the API checks: the auth-failure lockout,
the HSTS parser, the schemathesis failure flattening."""

from __future__ import annotations

from mcproof.security.api_fuzz import FuzzFailure, _failures
from mcproof.security.platform_api import hsts_max_age
from mcproof_sandbox.platform.ratelimit import AuthFailureLimiter


def test_lockout_after_threshold_within_window_and_lifts_by_itself() -> None:
    lim = AuthFailureLimiter(max_failures=3, window_s=10, lockout_s=5)
    lim.failed("a", now=0.0)
    lim.failed("a", now=1.0)
    assert lim.retry_after("a", now=1.5) == 0.0
    lim.failed("a", now=2.0)
    assert lim.retry_after("a", now=3.0) == 4.0
    assert lim.retry_after("b", now=3.0) == 0.0  # per client address
    assert lim.retry_after("a", now=7.0) == 0.0
    lim.failed("a", now=8.0)  # the window started again after the lockout
    assert lim.retry_after("a", now=8.5) == 0.0


def test_failures_outside_the_window_do_not_count() -> None:
    lim = AuthFailureLimiter(max_failures=3, window_s=10, lockout_s=5)
    for t in (0.0, 11.0, 22.0, 33.0):
        lim.failed("a", now=t)
    assert lim.retry_after("a", now=33.5) == 0.0


def test_hsts_max_age() -> None:
    assert hsts_max_age("max-age=31536000; includeSubDomains") == 31536000
    assert hsts_max_age('includeSubDomains; MAX-AGE="600"') == 600
    assert hsts_max_age("") == 0
    assert hsts_max_age("includeSubDomains") == 0


class _Fail(Exception):
    def __init__(self, title: str, message: str) -> None:
        super().__init__(message)
        self.title = title
        self.message = message


def test_failure_groups_are_flattened_with_titles() -> None:
    group = BaseExceptionGroup("2 failures", [_Fail("Server error", "500\n  body"), _Fail("Undocumented", "x")])
    assert _failures(group) == [("Server error", "500 body"), ("Undocumented", "x")]
    assert _failures(ValueError("plain")) == [("ValueError", "plain")]
    f = FuzzFailure("GET /v1/x", "Server error", 500, "GET /v1/x", "boom")
    assert str(f) == "GET /v1/x: Server error (GET /v1/x -> 500): boom"
