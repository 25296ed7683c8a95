"""Issue 17 item 8: a sync costs what changed, not what the sheet holds (SQLite and PostgreSQL).

Counted, not timed: the statements that reach ``leads`` and ``lead_sync_rows``. A one-cell
change reads and writes one lead; a moved column is no change at all; a replaced
configuration diffs in full once (writing no lead whose values did not change) and is
cheap again afterwards. Wall-clock figures are in ``bench/sheets.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from odoosync.sheets.engine import SheetSync, SyncSettings
from odoosync.sheets.fetch import SheetFetcher
from odoosync.store import Store
from odoosync.store.schema import lead_sync_rows, leads

HEADER = ["Ref", "Company", "Email", "Amount", "Notes"]
ROWS = 400


def sheet(header: list[str] = HEADER, changed: dict[int, str] | None = None) -> list[list[str]]:
    rows = []
    for i in range(1, ROWS + 1):
        values = {
            "Ref": f"R{i}",
            "Company": f"Company {i}",
            "Email": f"p{i}@example.com",
            "Amount": (changed or {}).get(i, str(i)),
            "Notes": f"note {i}",
        }
        rows.append([values[name] for name in header])
    return rows


class Statements:
    """Every statement on ``leads`` / ``lead_sync_rows``: (verb, table, parameter sets), and its text."""

    def __init__(self, store: Store):
        self.seen: list[tuple[str, str, int]] = []
        self.texts: list[str] = []
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany) -> None:
        words = " ".join(statement.split()).upper()
        for table in ("LEAD_SYNC_ROWS", "LEADS"):
            if f" {table} " in f" {words} " or f" {table}(" in words or f'"{table}"' in words:
                self.seen.append((words.split()[0], table, len(parameters) if executemany else 1))
                self.texts.append(words)
                break

    def on(self, table: str, verb: str | None = None) -> list[tuple[str, str, int]]:
        return [s for s in self.seen if s[1] == table.upper() and (verb is None or s[0] == verb)]


@pytest.fixture
def engine(store: Store) -> Iterator[SheetSync]:
    with SheetFetcher(allow_private=True) as fetcher:
        yield SheetSync(store, fetcher, settings=SyncSettings(chunk_rows=100, batch_rows=50, progress_interval=0))


def test_one_changed_cell_touches_one_lead_and_a_moved_column_nothing(store, engine, sheet_server):
    url = sheet_server.serve_rows("/big.csv", HEADER, sheet(), etag=False, last_modified=None)
    state, _ = engine.add("acme", url, key_column="Ref")
    assert engine.sync(state.customer_id).inserted == ROWS
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lead_sync_rows)).scalar_one() == ROWS

    sheet_server.serve_rows("/big.csv", HEADER, sheet(changed={137: "9999"}), etag=False, last_modified=None)
    seen = Statements(store)
    one = engine.sync(state.customer_id)
    assert (one.status, one.inserted, one.updated, one.deleted) == ("ok", 0, 1, 0)
    assert not any(" LIKE " in text for text in seen.texts)  # the customer's leads were not scanned
    assert [n for _, _, n in seen.on("leads", "SELECT")] == [1] and [n for _, _, n in seen.on("leads", "UPDATE")] == [1]
    assert len(seen.on("lead_sync_rows", "INSERT")) == 1  # one upsert: the changed row's digests
    with store.connect() as conn:
        value = conn.execute(
            sa.select(leads.c.value).where(leads.c.source_email_id == f"sheet_{state.customer_id}_R137")
        )
        assert str(value.scalar_one()) == "9999.00"

    moved = ["Notes", "Amount", "Ref", "Email", "Company"]
    sheet_server.serve_rows("/big.csv", moved, sheet(moved, changed={137: "9999"}), etag=False, last_modified=None)
    seen = Statements(store)
    again = engine.sync(state.customer_id)
    assert (again.status, again.message) == ("unchanged", "same checksum")
    assert seen.on("leads") == [] and seen.on("lead_sync_rows", "INSERT") == []


def test_a_replaced_configuration_diffs_in_full_once_without_rewriting_equal_leads(store, engine, sheet_server):
    url = sheet_server.serve_rows("/big.csv", HEADER, sheet(), etag=False, last_modified=None)
    state, _ = engine.add("acme", url, key_column="Ref")
    engine.sync(state.customer_id)
    engine.add("acme", url, key_column="Ref")  # re-added: the last-sync rows are forgotten
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(lead_sync_rows)).scalar_one() == 0
    seen = Statements(store)
    full = engine.sync(state.customer_id)
    assert (full.status, full.inserted, full.updated, full.deleted) == ("ok", 0, 0, 0)
    assert seen.on("leads", "UPDATE") == [] and seen.on("leads", "INSERT") == []
    with store.connect() as conn:  # remembered again
        assert conn.execute(sa.select(sa.func.count()).select_from(lead_sync_rows)).scalar_one() == ROWS


def test_a_row_deleted_then_back_is_restored_from_the_last_sync_rows(store, engine, sheet_server):
    url = sheet_server.serve_rows("/big.csv", HEADER, sheet(), etag=False, last_modified=None)
    state, _ = engine.add("acme", url, key_column="Ref")
    engine.sync(state.customer_id)
    without = [r for r in sheet() if r[0] != "R7"]
    sheet_server.serve_rows("/big.csv", HEADER, without, etag=False, last_modified=None)
    assert engine.sync(state.customer_id).deleted == 1
    sheet_server.serve_rows("/big.csv", HEADER, sheet(), etag=False, last_modified=None)
    back = engine.sync(state.customer_id)
    assert (back.inserted, back.updated, back.restored) == (0, 1, 1)
    with store.connect() as conn:
        live = conn.execute(sa.select(sa.func.count()).select_from(leads).where(leads.c.deleted_at.is_(None)))
        assert live.scalar_one() == ROWS
