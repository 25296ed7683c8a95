"""The retry decision: transient errors back off with full jitter, permanent ones never retry."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoosync.exceptions import (
    AccessDenied,
    AuthenticationError,
    InvalidRequest,
    MissingRecord,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
    RateLimited,
)
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.errors import error_from_httpx
from odoosync.odoo.retry import decide

CONFIG = OdooConfig(url="http://odoo", db="db", username="u", max_attempts=5, backoff_base=0.5, backoff_cap=4.0)


def _transport_error(exc: httpx.HTTPError) -> OdooTransportError:
    return error_from_httpx(exc, url="http://odoo/jsonrpc")


@pytest.mark.parametrize(
    "error",
    [
        AuthenticationError("no"),
        AccessDenied("no"),
        MissingRecord("gone"),
        OdooValidationError("bad"),
        InvalidRequest("bad"),
        ValueError("not ours"),
    ],
)
def test_permanent_errors_are_never_retried(error):
    assert decide(error, 1, CONFIG, rng=lambda: 0.5) is None


@pytest.mark.parametrize(
    "error", [OdooServerError("500"), RateLimited("429"), _transport_error(httpx.ReadTimeout("t"))]
)
def test_transient_errors_back_off_exponentially_with_full_jitter_capped(error):
    ceilings = [decide(error, attempt, CONFIG, rng=lambda: 1.0) for attempt in range(1, 5)]
    assert ceilings == [0.5, 1.0, 2.0, 4.0]
    big = OdooConfig(url="http://odoo", db="db", username="u", max_attempts=20, backoff_base=0.5, backoff_cap=4.0)
    assert decide(error, 10, big, rng=lambda: 1.0) == 4.0
    assert decide(error, 3, CONFIG, rng=lambda: 0.0) == 0.0
    assert decide(error, 3, CONFIG, rng=lambda: 0.25) == 0.5


def test_gives_up_after_max_attempts():
    assert decide(OdooServerError("500"), 4, CONFIG, rng=lambda: 1.0) is not None
    assert decide(OdooServerError("500"), 5, CONFIG, rng=lambda: 1.0) is None


def test_retry_after_is_honoured_exactly_and_beyond_the_cap_gives_up():
    assert decide(RateLimited("429", retry_after=3.0), 1, CONFIG, rng=lambda: 0.0) == 3.0
    assert decide(RateLimited("429", retry_after=0.0), 1, CONFIG, rng=lambda: 1.0) == 0.0
    assert decide(RateLimited("429", retry_after=60.0), 1, CONFIG) is None


def test_non_idempotent_calls_retry_only_when_odoo_surely_did_not_run_them():
    refused = _transport_error(httpx.ConnectError("refused"))
    dropped = _transport_error(httpx.RemoteProtocolError("dropped"))
    timed_out = _transport_error(httpx.ReadTimeout("slow"))
    odoo_500 = OdooServerError("psycopg2 error", odoo_name="psycopg2.errors.SerializationFailure")
    proxy_502 = OdooServerError("HTTP 502")
    assert decide(refused, 1, CONFIG, idempotent=False, rng=lambda: 1.0) == 0.5
    assert decide(RateLimited("429"), 1, CONFIG, idempotent=False, rng=lambda: 1.0) == 0.5
    assert decide(odoo_500, 1, CONFIG, idempotent=False, rng=lambda: 1.0) == 0.5
    assert decide(dropped, 1, CONFIG, idempotent=False) is None
    assert decide(timed_out, 1, CONFIG, idempotent=False) is None
    assert decide(proxy_502, 1, CONFIG, idempotent=False) is None
    assert decide(dropped, 1, CONFIG, idempotent=True, rng=lambda: 1.0) == 0.5


@given(
    attempt=st.integers(min_value=1, max_value=50),
    base=st.floats(min_value=0.0, max_value=10.0),
    cap=st.floats(min_value=0.0, max_value=60.0),
    max_attempts=st.integers(min_value=1, max_value=20),
    roll=st.floats(min_value=0.0, max_value=1.0),
    error=st.sampled_from([OdooServerError("500"), RateLimited("429"), _transport_error(httpx.ReadError("reset"))]),
)
def test_a_transient_delay_is_always_within_zero_and_the_cap(attempt, base, cap, max_attempts, roll, error):
    config = OdooConfig(
        url="http://odoo", db="db", username="u", max_attempts=max_attempts, backoff_base=base, backoff_cap=cap
    )
    delay = decide(error, attempt, config, rng=lambda: roll)
    if attempt >= max_attempts:
        assert delay is None
    else:
        assert delay is not None and 0.0 <= delay <= cap
