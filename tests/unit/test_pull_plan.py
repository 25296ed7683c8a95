"""Partition planning and the time budget (pure parts of the pull engine)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoosync.pull.budget import Budget
from odoosync.pull.plan import plan_partitions


@given(
    low=st.integers(1, 10**6),
    span=st.integers(0, 10**6),
    count=st.integers(1, 16),
    page_size=st.integers(1, 1000),
)
def test_partitions_cover_every_id_from_the_lowest_exactly_once(
    low: int, span: int, count: int, page_size: int
) -> None:
    high = low + span
    parts = plan_partitions(low, high, count, page_size)
    assert 1 <= len(parts) <= count
    assert parts[0].after == low - 1
    assert parts[-1].upto is None  # records created during the walk still land somewhere
    for left, right in itertools.pairwise(parts):
        assert left.upto == right.after  # contiguous, no gap, no overlap
        assert left.upto is not None and left.upto > left.after


def test_small_ranges_are_not_split_below_a_page() -> None:
    assert len(plan_partitions(1, 150, 4, 200)) == 1
    assert len(plan_partitions(1, 2764, 4, 200)) == 4


def test_nothing_to_read_gives_one_open_partition() -> None:
    (only,) = plan_partitions(None, None, 4, 200)
    assert (only.after, only.upto) == (0, None)
    (rest,) = plan_partitions(201, 200, 4, 200)  # the first page held everything so far
    assert (rest.after, rest.upto) == (200, None)


def test_bad_plan_arguments_are_refused() -> None:
    with pytest.raises(ValueError):
        plan_partitions(1, 10, 0, 200)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_budget_stops_before_a_step_as_slow_as_the_slowest_would_overrun() -> None:
    clock = FakeClock()
    budget = Budget(50, clock=clock)
    assert budget.allows_another_step()
    clock.now += 10
    budget.record(10)
    assert budget.allows_another_step()  # 10 + 15 < 50
    clock.now += 26
    assert not budget.allows_another_step()  # 36 + 15 >= 50
    assert budget.remaining_seconds == pytest.approx(14)


def test_no_budget_never_stops() -> None:
    budget = Budget(None)
    budget.record(10**6)
    assert budget.allows_another_step()
    assert budget.remaining_seconds is None
