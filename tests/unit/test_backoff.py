"""The one backoff formula, as properties: it doubles per attempt from ``base`` and never
passes its cap; the push schedule is that formula (10 s, 20 s, 40 s, 80 s by default)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from odoosync.backoff import exponential_delay
from odoosync.push.policy import PushPolicy

_base = st.floats(0, 1000, allow_nan=False)
_attempt = st.integers(1, 40)


@given(_base, _attempt)
def test_each_attempt_doubles_the_wait(base: float, attempt: int) -> None:
    assert exponential_delay(base, attempt + 1) == 2 * exponential_delay(base, attempt)
    assert exponential_delay(base, 1) == exponential_delay(base, 0) == base


@given(_base, _attempt, st.floats(0, 1e6, allow_nan=False))
def test_the_cap_bounds_the_wait_and_keeps_it_growing(base: float, attempt: int, cap: float) -> None:
    capped = exponential_delay(base, attempt, cap=cap)
    assert capped == min(exponential_delay(base, attempt), cap)
    assert capped <= exponential_delay(base, attempt + 1, cap=cap)


def test_the_push_schedule_is_the_formula() -> None:
    waits = [PushPolicy().backoff(n) for n in (1, 2, 3, 4)]
    assert waits == [dt.timedelta(seconds=s) for s in (10, 20, 40, 80)]
