"""The typed stream state: ordering, overlap, Odoo domains, JSON round trips."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from odoosync.cursor import (
    DEFAULT_OVERLAP,
    Cursor,
    FullWalk,
    Partition,
    StreamState,
    odoo_datetime,
    parse_odoo_datetime,
)

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

stamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)
)
cursors = st.builds(Cursor, stamps, st.integers(min_value=0, max_value=2**40))


def test_cursors_order_by_write_date_then_id() -> None:
    assert Cursor(T0, 5) < Cursor(T0, 6) < Cursor(T0 + dt.timedelta(seconds=1), 1)


def test_rewound_cursor_starts_the_overlap_window_behind_at_id_zero() -> None:
    assert Cursor(T0, 42).rewound(DEFAULT_OVERLAP) == Cursor(T0 - dt.timedelta(minutes=5), 0)


def test_after_domain_reads_same_second_rows_with_a_higher_id() -> None:
    assert Cursor(T0, 7).after_domain() == [
        "|",
        ("write_date", ">", "2026-03-01 12:00:00"),
        "&",
        ("write_date", "=", "2026-03-01 12:00:00"),
        ("id", ">", 7),
    ]


def test_odoo_datetimes_are_utc_without_offset() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert odoo_datetime(dt.datetime(2026, 3, 1, 13, 0, tzinfo=paris)) == "2026-03-01 12:00:00"
    assert parse_odoo_datetime("2026-03-01 12:00:00") == T0


def test_naive_write_dates_are_taken_as_utc() -> None:
    assert Cursor(dt.datetime(2026, 3, 1, 12, 0), 1) == Cursor(T0, 1)


def test_newest_picks_the_furthest_record_and_ignores_records_without_stamp() -> None:
    records = [{"id": 9, "write_date": T0}, {"id": 3, "write_date": T0 + dt.timedelta(seconds=1)}, {"id": 4, "write_date": None}]
    assert Cursor.newest(records) == Cursor(T0 + dt.timedelta(seconds=1), 3)
    assert Cursor.newest([], Cursor(T0, 1)) == Cursor(T0, 1)


@given(cursors)
def test_cursor_json_round_trip(cursor: Cursor) -> None:
    assert Cursor.from_json(cursor.to_json()) == cursor


@given(
    st.one_of(st.none(), cursors),
    st.one_of(
        st.none(),
        st.builds(
            FullWalk,
            st.lists(
                st.builds(Partition, st.integers(0, 10**9), st.one_of(st.none(), st.integers(0, 10**9)), st.booleans()),
                min_size=1,
                max_size=8,
            ).map(tuple),
            st.one_of(st.none(), cursors),
        ),
    ),
)
def test_stream_state_json_round_trip(cursor: Cursor | None, walk: FullWalk | None) -> None:
    state = StreamState(cursor, walk)
    assert StreamState.from_json(state.to_json()) == state


def test_empty_checkpoint_is_a_fresh_state() -> None:
    assert StreamState.from_json(None) == StreamState()
    assert StreamState.from_json({}) == StreamState()


def test_partition_advances_and_finishes_on_a_short_page() -> None:
    part = Partition(0, 100)
    assert part.domain() == [("id", ">", 0), ("id", "<=", 100)]
    moved = part.advanced(40, page_was_full=True)
    assert moved == Partition(40, 100, False)
    assert moved.advanced(None, page_was_full=False) == Partition(40, 100, True)
    assert Partition(7, None).domain() == [("id", ">", 7)]


def test_walk_is_finished_when_every_partition_is_done() -> None:
    walk = FullWalk((Partition(0, 10), Partition(10, None)))
    assert not walk.finished
    walk = walk.with_partition(0, Partition(10, 10, True)).with_partition(1, Partition(20, None, True))
    assert walk.finished
