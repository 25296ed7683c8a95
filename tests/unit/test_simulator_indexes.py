"""The simulator's indexes only narrow the rows a search looks at: every search finds what
a scan of every row finds (property), as writes move ``write_date`` and calls roll back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.simulator.clock import Clock
from odoosync.simulator.errors import OdooException
from odoosync.simulator.generator import generate
from odoosync.simulator.records import Database
from odoosync.simulator.tables import Table

DATABASE = Database(Clock(datetime(2026, 1, 5, 12, 0, tzinfo=UTC)))
generate(DATABASE, 0.01, seed=7)
CONTEXT = {"active_test": False, "allowed_company_ids": [1, 2]}
MODELS = ("crm.lead", "mail.message", "mail.activity", "res.partner")


def _every_row(table: Table, domain: Any) -> list[int]:
    return sorted(table.rows)


def _search(model: str, domain: list[Any], *, scan: bool) -> list[int]:
    with DATABASE.transaction(context=CONTEXT) as env:
        if not scan:
            return env[model].search(domain, order="id")
        with mock.patch.object(Table, "candidates", _every_row):
            return env[model].search(domain, order="id")


def _seconds(model: str) -> list[str]:
    return sorted({row["write_date"][:19] for row in DATABASE.tables[model].rows.values()})


def _shifted(second: str, by: int) -> str:
    return (datetime.fromisoformat(second) + timedelta(seconds=by)).strftime("%Y-%m-%d %H:%M:%S")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    model=st.sampled_from(MODELS),
    moved=st.lists(st.tuples(st.integers(0, 200), st.integers(1, 4)), max_size=4),
    failing=st.booleans(),
    pick=st.integers(0, 10_000),
    shift=st.integers(-1, 1),
    ids=st.tuples(st.integers(0, 3_000), st.integers(0, 3_000), st.integers(0, 3_000)),
)
def test_an_indexed_search_finds_what_a_scan_of_every_row_finds(
    model: str, moved: list[tuple[int, int]], failing: bool, pick: int, shift: int, ids: tuple[int, int, int]
) -> None:
    DATABASE.clock.advance(1)
    leads = sorted(DATABASE.tables["crm.lead"].rows)
    try:
        with DATABASE.transaction(context=CONTEXT) as env:  # new write_dates, or none (rolled back)
            for position, stage in moved:
                env["crm.lead"].write([leads[position % len(leads)]], {"stage_id": stage})
            if failing:
                env["crm.lead"].create({"type": "lead"})  # no name: the call fails
    except OdooException:
        assert failing
    seconds = _seconds(model)
    second = _shifted(seconds[pick % len(seconds)], shift)
    low, high, tail = sorted(ids)
    domains = [
        [("write_date", ">=", second)],
        [("write_date", ">", second)],
        [("write_date", ">=", second[:10])],  # a date: its day's first second
        [("write_date", ">=", second), "|", ("write_date", ">=", _shifted(second, 1)), ("id", ">", low)],
        ["|", "&", ("id", ">", low), ("id", "<=", high), ("id", ">", tail)],  # a range and the tail
        ["|", ("write_date", ">=", second), ("id", "<", low)],
    ]
    for domain in domains:
        assert _search(model, domain, scan=False) == _search(model, domain, scan=True), domain


def test_the_ordered_index_follows_every_write_and_rollback() -> None:
    table = DATABASE.tables["crm.lead"]
    table.ordered("write_date")
    DATABASE.clock.advance(5)
    lead = sorted(table.rows)[0]
    with DATABASE.transaction(context=CONTEXT) as env:
        env["crm.lead"].write([lead], {"name": "moved"})
        created = env["crm.lead"].create({"name": "new"})
    with pytest.raises(OdooException), DATABASE.transaction(context=CONTEXT) as env:
        env["crm.lead"].unlink([created])
        env["crm.lead"].write([lead], {"name": "moved again"})
        env["crm.lead"].create({"type": "lead"})  # fails: the unlink and the write are undone
    fresh = sorted((row["write_date"], i) for i, row in table.rows.items())
    assert table.ordered("write_date") == fresh
    newest = fresh[-1][0][:19]
    assert _search("crm.lead", [("write_date", ">=", newest)], scan=False) == sorted([lead, created])
