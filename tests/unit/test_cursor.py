"""The typed stream state: ordering, overlap, where an increment starts, Odoo domains,
JSON round trips (old checkpoints included)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from odoosync.cursor import (
    DEFAULT_OVERLAP,
    Cursor,
    FullWalk,
    Increment,
    Partition,
    StreamState,
    incremental_start,
)
from odoosync.odoo.values import odoo_datetime, parse_datetime

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)

stamps = st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
    lambda d: d.replace(microsecond=0, tzinfo=dt.UTC)
)
cursors = st.builds(Cursor, stamps, st.integers(min_value=0, max_value=2**40))


def test_cursors_order_by_write_date_then_id() -> None:
    assert Cursor(T0, 5) < Cursor(T0, 6) < Cursor(T0 + dt.timedelta(seconds=1), 1)


def test_rewound_cursor_starts_the_overlap_window_behind_at_id_zero() -> None:
    assert Cursor(T0, 42).rewound(DEFAULT_OVERLAP) == Cursor(T0 - dt.timedelta(minutes=5), 0)


def test_after_domain_reads_same_second_rows_with_a_higher_id_using_only_ge_on_seconds() -> None:
    assert Cursor(T0, 7).after_domain() == [
        ("write_date", ">=", "2026-03-01 12:00:00"),
        "|",
        ("write_date", ">=", "2026-03-01 12:00:01"),
        ("id", ">", 7),
    ]
    assert Cursor(T0, 0).after_domain() == [("write_date", ">=", "2026-03-01 12:00:00")]


def test_cursors_keep_whole_seconds() -> None:
    assert Cursor(T0.replace(microsecond=999_999), 3) == Cursor(T0, 3)


@given(
    cursor_offset=st.integers(min_value=-3, max_value=3),
    cursor_id=st.integers(min_value=0, max_value=12),
    rows=st.lists(
        st.tuples(st.integers(min_value=-3, max_value=3), st.integers(min_value=0, max_value=999_999)),
        min_size=1,
        max_size=12,
    ),
    version=st.sampled_from([16, 17, 18, 19]),
)
def test_after_domain_selects_exactly_the_rows_after_the_cursor_on_every_version(
    cursor_offset: int, cursor_id: int, rows: list[tuple[int, int]], version: int
) -> None:
    """Odoo stores microseconds and serves seconds; 16-18 compare the stored value, 19
    whole seconds. Whatever the version, the domain picks the rows whose (served second,
    id) is after the cursor: none of a bulk write's second is skipped or read forever."""
    from odoosync.simulator.domain import compile_domain

    cursor = Cursor(T0 + dt.timedelta(seconds=cursor_offset), cursor_id)
    predicate = compile_domain(
        cursor.after_domain(), "crm.lead", {"id": "integer", "write_date": "datetime"}, version=version
    )
    for record_id, (offset, micro) in enumerate(rows, start=1):
        stored = T0 + dt.timedelta(seconds=offset, microseconds=micro)
        row = {"id": record_id, "write_date": stored.strftime("%Y-%m-%d %H:%M:%S.%f")}
        served = Cursor(stored, record_id)
        assert predicate(row) == (served > cursor), (row, cursor)


def test_odoo_datetimes_are_utc_without_offset() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    assert odoo_datetime(dt.datetime(2026, 3, 1, 13, 0, tzinfo=paris)) == "2026-03-01 12:00:00"
    assert parse_datetime("2026-03-01 12:00:00") == T0


def test_naive_write_dates_are_taken_as_utc() -> None:
    assert Cursor(dt.datetime(2026, 3, 1, 12, 0), 1) == Cursor(T0, 1)


def test_newest_picks_the_furthest_record_and_ignores_records_without_stamp() -> None:
    records = [
        {"id": 9, "write_date": T0},
        {"id": 3, "write_date": T0 + dt.timedelta(seconds=1)},
        {"id": 4, "write_date": None},
    ]
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
            st.one_of(st.none(), st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))),
        ),
    ),
    st.one_of(st.none(), st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1))),
)
def test_stream_state_json_round_trip(
    cursor: Cursor | None, walk: FullWalk | None, read_at: dt.datetime | None
) -> None:
    state = StreamState(cursor, walk, read_at=read_at)
    assert StreamState.from_json(state.to_json()) == state


def test_a_checkpoint_written_before_read_at_existed_loads_and_falls_back_to_the_overlap() -> None:
    old = {
        "cursor": {"write_date": "2026-03-01 12:00:00", "id": 42},
        "walk": {
            "partitions": [[0, 100, False], [100, None, True]],
            "start": {"write_date": "2026-03-01 11:00:00", "id": 7},
        },
    }
    state = StreamState.from_json(old)
    assert state.read_at is None and state.walk is not None and state.walk.read_at is None
    assert state.cursor == Cursor(T0, 42)
    assert state.incremental_start(DEFAULT_OVERLAP) == Cursor(T0 - DEFAULT_OVERLAP, 0)
    assert state.to_json() == old, "a state without read_at is written back unchanged"


def test_read_at_is_stored_in_whole_seconds_rounded_down() -> None:
    state = StreamState(Cursor(T0, 1), read_at=T0 + dt.timedelta(seconds=3, microseconds=999_999))
    assert state.read_at == T0 + dt.timedelta(seconds=3)
    assert state.to_json()["read_at"] == "2026-03-01 12:00:03"
    assert StreamState(read_at=dt.datetime(2026, 3, 1, 12, 0)).read_at == T0, "naive means UTC"


MINUTE = dt.timedelta(minutes=1)


def test_without_read_at_an_increment_starts_the_overlap_behind_the_cursor() -> None:
    assert incremental_start(Cursor(T0, 42), None, DEFAULT_OVERLAP) == Cursor(T0 - DEFAULT_OVERLAP, 0)


def test_while_odoo_is_busy_the_window_starts_the_overlap_before_the_last_read() -> None:
    # The last read began one minute after the newest change: rows it missed may be
    # stamped up to five minutes before it, i.e. before the cursor.
    assert incremental_start(Cursor(T0, 42), T0 + MINUTE, DEFAULT_OVERLAP) == Cursor(T0 + MINUTE - DEFAULT_OVERLAP, 0)
    # Read in the same second as the cursor: the same window as cursor - overlap.
    assert incremental_start(Cursor(T0, 42), T0, DEFAULT_OVERLAP) == Cursor(T0 - DEFAULT_OVERLAP, 0)


def test_once_odoo_has_been_idle_longer_than_the_overlap_an_increment_starts_at_the_cursor() -> None:
    assert incremental_start(Cursor(T0, 42), T0 + DEFAULT_OVERLAP + MINUTE, DEFAULT_OVERLAP) == Cursor(T0, 42)
    assert incremental_start(Cursor(T0, 42), T0 + DEFAULT_OVERLAP, DEFAULT_OVERLAP) == Cursor(T0, 0)


@given(cursors, stamps, st.integers(0, 3600), stamps, st.integers(1, 2**40))
def test_every_row_a_previous_read_could_have_missed_is_inside_the_window(
    cursor: Cursor, read_at: dt.datetime, overlap_s: int, stamp: dt.datetime, row_id: int
) -> None:
    """Missed rows either lie past the cursor or committed after the read, hence are
    stamped at least ``read_at - overlap``: both are strictly after the start."""
    overlap = dt.timedelta(seconds=overlap_s)
    start = incremental_start(cursor, read_at, overlap)
    row = Cursor(stamp, row_id)
    if row > cursor or stamp >= read_at - overlap:
        assert row > start
    assert start <= cursor


def test_an_idle_run_keeps_the_stored_read_at_so_the_checkpoint_does_not_change() -> None:
    idle = StreamState(Cursor(T0, 42), read_at=T0 + DEFAULT_OVERLAP + MINUTE)
    later = T0 + DEFAULT_OVERLAP + 10 * MINUTE
    assert idle.with_read_at(later, DEFAULT_OVERLAP) is idle


def test_a_newer_read_at_is_stored_when_it_moves_the_window() -> None:
    busy = StreamState(Cursor(T0, 42), read_at=T0)
    assert busy.with_read_at(T0 + MINUTE, DEFAULT_OVERLAP).read_at == T0 + MINUTE
    assert busy.with_read_at(T0 + 10 * MINUTE, DEFAULT_OVERLAP).read_at == T0 + 10 * MINUTE
    fresh = StreamState(Cursor(T0, 42))
    assert fresh.with_read_at(T0 + 10 * MINUTE, DEFAULT_OVERLAP).read_at == T0 + 10 * MINUTE


def test_an_older_read_at_replaces_the_stored_one_and_none_falls_back() -> None:
    idle = StreamState(Cursor(T0, 42), read_at=T0 + 10 * MINUTE)
    assert idle.with_read_at(T0 + 6 * MINUTE, DEFAULT_OVERLAP).read_at == T0 + 6 * MINUTE, "Odoo's clock went back"
    assert idle.with_read_at(None, DEFAULT_OVERLAP).read_at is None, "no Date header: back to cursor - overlap"


def test_empty_checkpoint_is_a_fresh_state() -> None:
    assert StreamState.from_json(None) == StreamState()
    assert StreamState.from_json({}) == StreamState()


def test_partition_finishes_on_an_empty_page_or_at_its_bound_never_on_a_short_page() -> None:
    part = Partition(0, 100)
    assert part.domain() == [("id", ">", 0), ("id", "<=", 100)]
    moved = part.advanced(40)  # however short the page was
    assert moved == Partition(40, 100, False)
    assert moved.advanced(None) == Partition(40, 100, True), "an empty page ends it"
    assert moved.advanced(100) == Partition(100, 100, True), "its upper bound ends it"
    assert Partition(7, None).advanced(9) == Partition(9, None, False), "open-ended: only an empty page"
    assert Partition(7, None).domain() == [("id", ">", 7)]


def test_increment_walks_by_id_after_its_start_and_round_trips_through_json() -> None:
    inc = Increment(Cursor(T0, 7), read_at=T0 + dt.timedelta(seconds=3, microseconds=5))
    assert inc.domain() == [*Cursor(T0, 7).after_domain(), ("id", ">", 0)]
    moved = inc.advanced(500)
    assert moved.after == 500 and moved.since == inc.since and moved.read_at == T0 + dt.timedelta(seconds=3)
    state = StreamState(cursor=Cursor(T0, 9), increment=moved)
    assert StreamState.from_json(state.to_json()) == state
    assert "increment" not in StreamState(cursor=Cursor(T0, 9)).to_json()


def test_walk_is_finished_when_every_partition_is_done() -> None:
    walk = FullWalk((Partition(0, 10), Partition(10, None)))
    assert not walk.finished
    walk = walk.with_partition(0, Partition(10, 10, True)).with_partition(1, Partition(20, None, True))
    assert walk.finished


_RECORD_STAMPS = st.one_of(
    st.none(),
    st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1)),  # naive: UTC
    st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=5, minutes=30))]),
    ),
    stamps.map(odoo_datetime),  # a raw string
)


@given(
    st.lists(st.tuples(_RECORD_STAMPS, st.integers(min_value=1, max_value=50)), max_size=8),
    st.none() | cursors,
)
def test_newest_is_the_furthest_cursor_of_any_record_and_the_start(
    stamped: list[tuple[object, int]], start: Cursor | None
) -> None:
    records = [{"id": record_id, "write_date": stamp} for stamp, record_id in stamped]
    candidates = [c for c in (start, *(Cursor.of(r) for r in records)) if c is not None]
    assert Cursor.newest(records, start) == (max(candidates) if candidates else None)
