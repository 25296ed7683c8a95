"""Issue 17: a broken or half-exported sheet never deletes leads (SQLite and PostgreSQL).

Every case starts from a synced sheet, then serves what a customer's operator actually
met: a header-only export, an unbalanced quote, ragged rows, an HTML page labelled as
CSV, latin-1 bytes, one bad cell in an existing row. Each asserts that the leads are
exactly as before and that the outcome names the problem and the row.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from odoosync.sheets.engine import SheetSync, SyncSettings, stream_name
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.state import get_state
from odoosync.store import Store, runs
from odoosync.store.schema import leads
from tests.fixtures.sheets import SheetServer, csv_bytes

HEADER = ["Ref", "Company", "Email", "Amount"]


def rows(n: int, start: int = 1) -> list[list[str]]:
    return [[f"R{i}", f"Company {i}", f"p{i}@example.com", str(i * 10)] for i in range(start, start + n)]


@pytest.fixture
def engine(store: Store) -> Iterator[SheetSync]:
    with SheetFetcher(allow_private=True, sleep=lambda seconds: None) as fetcher:
        yield SheetSync(store, fetcher, settings=SyncSettings(chunk_rows=50, batch_rows=40, progress_interval=0))


def snapshot(store: Store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(leads).order_by(leads.c.id)).mappings()]


def live_refs(store: Store, customer: int) -> set[str]:
    prefix = f"sheet_{customer}_"
    with store.connect() as conn:
        found = conn.execute(
            sa.select(leads.c.source_email_id).where(leads.c.customer_id == customer, leads.c.deleted_at.is_(None))
        ).scalars()
        return {sid[len(prefix) :] for sid in found}


def synced(engine: SheetSync, server: SheetServer, n: int, *, key_column: str | None = "Ref") -> int:
    url = server.serve_rows("/leads.csv", HEADER, rows(n))
    state, _ = engine.add("acme", url, key_column=key_column)
    assert engine.sync(state.customer_id).inserted == n
    return state.customer_id


# ---------------------------------------------------------------- 1. the mass-delete guard


def test_a_header_only_sheet_is_refused_and_changes_nothing(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 200)
    before = snapshot(store)
    sheet_server.serve_rows("/leads.csv", HEADER, [])
    result = engine.sync(customer)
    assert result.status == "refused" and (result.deleted, result.inserted) == (0, 0)
    assert "200 of the customer's 200" in result.message and "no data rows" in result.message
    assert "--allow-mass-delete" in result.message and "allowMassDelete=true" in result.message
    assert snapshot(store) == before
    state = get_state(store, customer)
    assert state.refused_deletes == 200 and "refused" in state.last_error and not state.is_running
    run = runs.list_runs(store, stream=stream_name(customer))[0]
    assert run.status == "refused" and run.details["would_delete"] == 200 and run.details["live_leads"] == 200
    assert run.error.startswith("refused: this sync would delete 200")


def test_deleting_more_than_the_share_is_refused_until_accepted(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 10)
    sheet_server.serve_rows("/leads.csv", HEADER, rows(7))  # 3 of 10 = 30 % > 20 %
    refused = engine.sync(customer)
    assert refused.status == "refused" and "30% is over the 20% limit" in refused.message
    assert live_refs(store, customer) == {f"R{i}" for i in range(1, 11)}
    assert engine.sync(customer).status == "refused"  # and again: a refusal is not remembered as done

    accepted = engine.sync(customer, allow_mass_delete=True)
    assert (accepted.status, accepted.deleted) == ("ok", 3)
    assert live_refs(store, customer) == {f"R{i}" for i in range(1, 8)}
    assert get_state(store, customer).refused_deletes is None


def test_deletes_within_the_share_go_through(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 10)
    sheet_server.serve_rows("/leads.csv", HEADER, rows(8))  # 2 of 10 = 20 %: not more than the limit
    assert (engine.sync(customer).status, get_state(store, customer).rows_deleted) == ("ok", 2)


def test_the_share_is_configurable(store, sheet_server):
    with SheetFetcher(allow_private=True) as fetcher:
        lenient = SheetSync(store, fetcher, settings=SyncSettings(max_delete_share=0.5))
        customer = synced(lenient, sheet_server, 10)
        sheet_server.serve_rows("/leads.csv", HEADER, rows(6))
        assert lenient.sync(customer).deleted == 4
        sheet_server.serve_rows("/leads.csv", HEADER, [])
        assert lenient.sync(customer).status == "refused"  # no data rows: always


# ---------------------------------------------------------------- 2. a CSV that does not parse cleanly


def test_an_unbalanced_quote_fails_with_its_row_and_deletes_nothing(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 20)
    before = snapshot(store)
    body = csv_bytes(HEADER, rows(4)).decode() + 'R5,"Company 5,p5@example.com,50\r\n'
    body += csv_bytes(HEADER, rows(15, start=6)).decode().split("\r\n", 1)[1]
    sheet_server.serve("/leads.csv", body.encode())
    result = engine.sync(customer)
    assert result.status == "failed" and result.message.startswith("row 6:")
    assert "never closed" in result.message and "nothing was changed" in result.message
    assert snapshot(store) == before
    assert get_state(store, customer).last_error.startswith("row 6:")


def test_too_many_ragged_rows_fail_the_sync(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 40)
    before = snapshot(store)
    ragged = [r[:2] if i % 2 else r for i, r in enumerate(rows(40))]  # every other row cut short
    sheet_server.serve_rows("/leads.csv", HEADER, ragged)
    result = engine.sync(customer)
    assert result.status == "failed" and "20 of 40 rows" in result.message and "row 3" in result.message
    assert snapshot(store) == before


def test_an_html_body_labelled_as_csv_fails_without_echoing_it(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 3)
    before = snapshot(store)
    page = b"<!DOCTYPE html><html><head><title>Error 500</title></head><body>" + b"x" * 5000 + b"</body></html>"
    sheet_server.serve("/leads.csv", page, content_type="text/csv")
    result = engine.sync(customer)
    assert result.status == "failed" and "web page (HTML), not CSV" in result.message
    assert "xxxx" not in result.message and len(result.message) < 400
    assert snapshot(store) == before


def test_latin1_bytes_name_their_row(store, engine, sheet_server):
    customer = synced(engine, sheet_server, 3)
    before = snapshot(store)
    body = "Ref,Company,Email,Amount\r\nR1,Company 1,p1@example.com,10\r\nR2,Caf\xe9 2,p2@example.com,20\r\n"
    sheet_server.serve("/leads.csv", body.encode("latin-1"))
    result = engine.sync(customer)
    assert result.status == "failed" and result.message.startswith("row 3: the file is not UTF-8")
    assert "0xe9" in result.message and "CSV UTF-8" in result.message
    assert snapshot(store) == before


# ---------------------------------------------------------------- 3. present but invalid is not absent


@pytest.mark.parametrize("key_column", ["Ref", None], ids=["key-column", "hash-key"])
def test_an_invalid_row_keeps_its_lead_exactly(store, engine, sheet_server, key_column):
    customer = synced(engine, sheet_server, 5, key_column=key_column)
    before = snapshot(store)
    edited = rows(5)
    edited[1][3] = "lots"  # row 3: a bad amount in an existing row
    if key_column:
        edited[2][2] = "not-an-email"  # row 4: a bad e-mail (the key column still names the lead)
    sheet_server.serve_rows("/leads.csv", HEADER, edited)
    result = engine.sync(customer)
    assert result.status == "ok" and (result.deleted, result.updated, result.inserted) == (0, 0, 0)
    expected = [(3, "bad_amount"), (4, "bad_email")] if key_column else [(3, "bad_amount")]
    assert [(e.row, e.kind) for e in result.errors] == expected
    assert snapshot(store) == before

    del edited[1]  # the invalid row now leaves the sheet: its lead may go
    sheet_server.serve_rows("/leads.csv", HEADER, edited)
    gone = engine.sync(customer, allow_mass_delete=True)
    assert gone.deleted == 1 and len(live_refs(store, customer)) == 4
