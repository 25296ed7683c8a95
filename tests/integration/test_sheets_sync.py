"""The sheet sync end to end: a real HTTP server, a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from odoosync.sheets.cache import LeadsCache
from odoosync.sheets.engine import SheetSync, SyncSettings, lock_key, stream_name
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.state import get_state, set_paused
from odoosync.store import Store, runs
from odoosync.store.schema import leads, odoo_outbox
from tests.fixtures.sheets import Reply, SheetServer

HEADER = ["Ref", "Company", "Contact", "Email", "Amount", "Deadline", "Notes"]


def row(ref: int, *, amount: int | None = None, title: str | None = None) -> list[str]:
    return [
        f"R{ref}",
        title or f"Company {ref}",
        f"Person {ref}",
        f"person{ref}@example.com",
        str(amount if amount is not None else ref * 100),
        "2026-03-01",
        f"note {ref}",
    ]


class LeadWrites:
    """Counts INSERT/UPDATE/DELETE statements on ``leads`` (the "zero lead writes" checks)."""

    def __init__(self, store: Store):
        self.count = 0
        event.listen(store.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, *args) -> None:
        head = " ".join(statement.split()[:3]).upper()
        if head.startswith(("INSERT INTO LEADS", "UPDATE LEADS", "DELETE FROM LEADS")):
            self.count += 1


@pytest.fixture
def engine(store: Store) -> Iterator[SheetSync]:
    with SheetFetcher(allow_private=True, sleep=lambda seconds: None) as fetcher:
        yield SheetSync(store, fetcher, settings=SyncSettings(chunk_rows=50, batch_rows=40, progress_interval=0))


def add_sheet(engine: SheetSync, server: SheetServer, rows, *, push: bool = False, etag: bool = True, **kw) -> int:
    url = server.serve_rows(
        "/leads.csv", HEADER, rows, etag=etag, last_modified=None if not etag else "Mon, 02 Feb 2026 12:00:00 GMT"
    )
    state, _ = engine.add("acme", url, key_column=kw.pop("key_column", "Ref"), push_to_odoo=push, **kw)
    return state.customer_id


def live_leads(store: Store, customer_id: int) -> dict[str, dict]:
    with store.connect() as conn:
        found = conn.execute(
            sa.select(leads).where(leads.c.customer_id == customer_id, leads.c.deleted_at.is_(None))
        ).mappings()
        return {r["source_email_id"]: dict(r) for r in found}


def all_leads(store: Store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(leads).order_by(leads.c.id)).mappings()]


def outbox_rows(store: Store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r) for r in conn.execute(sa.select(odoo_outbox).order_by(odoo_outbox.c.id)).mappings()]


def test_first_sync_edit_delete_then_nothing(store, engine, sheet_server):
    """The issue's "done when": insert all, then one update + one soft-delete, then zero writes."""
    customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 6)], etag=False)
    first = engine.sync(customer)
    assert first.status == "ok", first.message
    assert (first.status, first.inserted, first.updated, first.deleted) == ("ok", 5, 0, 0)
    stored = live_leads(store, customer)
    assert set(stored) == {f"sheet_{customer}_R{i}" for i in range(1, 6)}
    assert {lead["source"] for lead in stored.values()} == {"sheet"}
    assert stored[f"sheet_{customer}_R2"]["metadata"]["sheet"]["extra"] == {"Notes": "note 2"}

    sheet_server.serve_rows(
        "/leads.csv", HEADER, [row(1), row(2, amount=999), row(3), row(5)], etag=False, last_modified=None
    )
    second = engine.sync(customer)
    assert (second.status, second.inserted, second.updated, second.deleted) == ("ok", 0, 1, 1)
    assert str(live_leads(store, customer)[f"sheet_{customer}_R2"]["value"]) == "999.00"
    assert f"sheet_{customer}_R4" not in live_leads(store, customer)
    assert len(all_leads(store)) == 5  # soft-deleted, not dropped

    before = all_leads(store)
    writes = LeadWrites(store)
    third = engine.sync(customer)
    assert third.status == "unchanged" and writes.count == 0
    assert all_leads(store) == before


def test_every_row_error_kind_is_reported_with_its_row_and_the_rest_proceeds(store, engine, sheet_server):
    rows = [
        row(1),
        ["R2", "Company 2"],  # column_count
        ["R3", "", "P", "p3@example.com", "1", "", ""],  # missing_title
        ["", "Company 4", "P", "p4@example.com", "1", "", ""],  # missing_key
        ["R5", "Company 5", "P", "not-an-email", "1", "", ""],  # bad_email
        ["R6", "Company 6", "P", "p6@example.com", "lots", "", ""],  # bad_amount
        ["R7", "Company 7", "P", "p7@example.com", "1", "31/02/2026", ""],  # bad_date
        row(1, title="Same key again"),  # duplicate_key
        row(9),
    ]
    customer = add_sheet(engine, sheet_server, rows)
    result = engine.sync(customer)
    assert result.status == "ok" and result.inserted == 2 and result.error_count == 7
    assert [(e.row, e.kind) for e in result.errors] == [
        (3, "column_count"),
        (4, "missing_title"),
        (5, "missing_key"),
        (6, "bad_email"),
        (7, "bad_amount"),
        (8, "bad_date"),
        (9, "duplicate_key"),
    ]
    state = get_state(store, customer)
    assert state.error_count == 7 and "row 3:" in state.last_error
    run = runs.get_run(store, result.run_id)
    assert run.counters.failed == 7 and run.details["row_errors"][0]["kind"] == "column_count"


def test_vanished_rows_come_back_as_the_same_lead(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(1), row(2)])
    engine.sync(customer)
    ids = {k: v["id"] for k, v in live_leads(store, customer).items()}
    sheet_server.serve_rows("/leads.csv", HEADER, [row(1)])
    assert engine.sync(customer, allow_mass_delete=True).deleted == 1  # half the leads: accepted
    sheet_server.serve_rows("/leads.csv", HEADER, [row(1), row(2)])
    back = engine.sync(customer)
    assert (back.inserted, back.updated, back.restored) == (0, 1, 1)
    assert {k: v["id"] for k, v in live_leads(store, customer).items()} == ids


def test_a_304_and_a_reordered_sheet_write_no_lead(store, engine, sheet_server):
    rows = [row(i) for i in range(1, 30)]
    customer = add_sheet(engine, sheet_server, rows)
    engine.sync(customer)
    writes = LeadWrites(store)
    assert engine.sync(customer).message == "not modified (HTTP 304)"
    sheet_server.serve_rows("/leads.csv", HEADER, list(reversed(rows)))
    assert engine.sync(customer).message == "same checksum"
    assert writes.count == 0


def test_bom_and_header_synonyms(store, engine, sheet_server):
    url = sheet_server.serve_rows("/bom.csv", ["Lead Name", "E-mail"], [["Roof", "A@B.COM"]], bom=True)
    state, preview = engine.add("bom-customer", url)
    assert preview.mapping == {"title": "Lead Name", "email": "E-mail"}
    assert engine.sync(state.customer_id).inserted == 1
    (lead,) = live_leads(store, state.customer_id).values()
    assert (lead["title"], lead["email"]) == ("Roof", "a@b.com")


def test_add_refuses_a_sheet_without_a_title_column_and_saves_nothing(store, engine, sheet_server):
    url = sheet_server.serve_rows("/bad.csv", ["Name", "Email"], [["Ann", "a@b.com"]])
    with pytest.raises(Exception, match=r"required field 'title'.*2 named column\(s\)") as caught:
        engine.add("nobody", url)
    assert "'Name'" not in str(caught.value)  # errors never quote what was fetched
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM customers")).scalar_one() == 0


def test_failure_mid_sync_changes_no_lead(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 11)])
    engine.sync(customer)
    before = all_leads(store)
    state_before = get_state(store, customer)
    sheet_server.serve_rows("/leads.csv", HEADER, [row(i, amount=i) for i in range(3, 200)])

    def explode(percent: int, message: str) -> None:
        if message.startswith(("insert", "update")):
            raise RuntimeError("injected failure")

    with pytest.raises(RuntimeError, match="injected failure"):
        engine.sync(customer, on_progress=explode)
    assert all_leads(store) == before
    after = get_state(store, customer)
    assert after.checksum == state_before.checksum and after.etag == state_before.etag
    assert "injected failure" in after.last_error and not after.is_running
    assert runs.list_runs(store, stream=stream_name(customer))[0].status == "failed"


def test_fetch_failure_changes_nothing_but_the_error_fields(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(1)])
    engine.sync(customer)
    sheet_server.queue("/leads.csv", *[Reply(503)] * 4)
    result = engine.sync(customer)
    assert result.status == "failed" and result.retries == 3 and "after 4 attempts" in result.message
    state = get_state(store, customer)
    assert state.retry_count == 3 and "HTTP 503" in state.last_error
    assert len(live_leads(store, customer)) == 1


def test_pause_during_a_sync_rolls_back_and_blocks_later_syncs(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 300)])

    def pause_from_another_connection(percent: int, message: str) -> None:
        if message.startswith("read"):
            other = threading.Thread(target=set_paused, args=(store, customer, True))
            other.start()
            other.join()

    result = engine.sync(customer, on_progress=pause_from_another_connection)
    assert result.status == "paused" and result.inserted == 0
    assert all_leads(store) == []
    assert get_state(store, customer).is_paused
    assert engine.sync(customer).status == "paused"
    assert engine.sync_all() == []
    set_paused(store, customer, False)
    assert engine.sync(customer).inserted == 299


def test_two_triggers_at_once_one_runs_one_is_skipped(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 120)])
    seen = []

    def second_trigger(percent: int, message: str) -> None:
        if message.startswith("read") and not seen:
            other = threading.Thread(target=lambda: seen.append(engine.sync(customer, trigger="api")))
            other.start()
            other.join()

    first = engine.sync(customer, on_progress=second_trigger)
    assert first.status == "ok" and first.inserted == 119
    (second,) = seen
    assert second.status == "skipped" and "another sync" in second.message and second.holder
    statuses = sorted(run.status for run in runs.list_runs(store, stream=stream_name(customer)))
    assert statuses == ["ok", "skipped"]
    with store.lock(lock_key(customer)):
        assert engine.sync(customer).status == "skipped"


def test_progress_is_visible_to_other_connections(store, engine, sheet_server):
    customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 200)])
    observed = []

    def look(percent: int, message: str) -> None:
        in_diff = message.startswith(("insert", "update", "delete"))
        with store.connect() as conn:
            shown = conn.execute(
                sa.text("SELECT progress_percent, progress_message FROM lead_sync_states WHERE customer_id = :c"),
                {"c": customer},
            ).one()
            visible_leads = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()
        observed.append((percent, message, tuple(shown), in_diff, visible_leads))

    engine.sync(customer, on_progress=look)
    reads = [o for o in observed if o[1].startswith("read")]
    assert reads and all(o[2] == (o[0], o[1]) for o in reads)
    inside = [o for o in observed if o[3]]
    assert inside and all(o[4] == 0 for o in inside)  # the diff's transaction is still open
    if store.dialect == "postgresql":
        assert all(o[2] == (o[0], o[1]) for o in inside)  # progress written while it is open
    else:  # one writer at a time: readers see the last progress before the diff
        assert all(o[2] == (60, "applying 199 rows") for o in inside)
    state = get_state(store, customer)
    assert state.progress_percent == 100 and state.progress_message.startswith("done")


def test_push_to_odoo_decides_whether_sheet_leads_reach_the_outbox(store, engine, sheet_server):
    quiet = add_sheet(engine, sheet_server, [row(1), row(2)])
    engine.sync(quiet)
    sheet_server.serve_rows("/leads.csv", HEADER, [row(1, amount=5)])
    engine.sync(quiet)
    assert outbox_rows(store) == []

    url = sheet_server.serve_rows("/pushed.csv", HEADER, [row(7), row(8), row(9)])
    state, _ = engine.add("pushy", url, key_column="Ref", push_to_odoo=True)
    assert engine.sync(state.customer_id).inserted == 3
    queued = outbox_rows(store)
    assert [(q["model"], q["operation"], q["local_table"]) for q in queued] == [("crm.lead", "create", "leads")] * 3
    assert sorted(q["local_id"] for q in queued) == sorted(
        v["id"] for v in live_leads(store, state.customer_id).values()
    )
    engine.sync(state.customer_id)  # unchanged: nothing more queued
    assert len(outbox_rows(store)) == 3


def test_ssrf_and_not_shared_sheets_fail_clearly(store, sheet_server):
    url = sheet_server.serve_rows("/leads.csv", HEADER, [row(1)])
    with SheetFetcher(allow_private=True) as fetcher:
        state, _ = SheetSync(store, fetcher).add("acme", url)
    with SheetFetcher(sleep=lambda s: None) as strict:
        result = SheetSync(store, strict).sync(state.customer_id)
    assert result.status == "failed" and "loopback" in result.message
    assert live_leads(store, state.customer_id) == {}

    sheet_server.sign_in_redirect("/leads.csv")
    with SheetFetcher(allow_private=True, sleep=lambda s: None) as fetcher:
        result = SheetSync(store, fetcher).sync(state.customer_id)
    assert result.status == "failed" and "not shared publicly" in result.message
    assert "not shared publicly" in get_state(store, state.customer_id).last_error


def test_cache_serves_counts_until_anything_writes_the_leads(store, sheet_server):
    """Issue 17 item 6: a write by another connection (another process, the pull, the app)
    invalidates the cache at once, not after five minutes; without writes it serves hits."""
    now = [0.0]
    with SheetFetcher(allow_private=True) as fetcher:
        cache = LeadsCache(store, clock=lambda: now[0])
        engine = SheetSync(store, fetcher, cache=cache)
        customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 21)])
        assert cache.count(customer) == 0
        SheetSync(store, fetcher).sync(customer)  # a sync that does not know this cache: another process
        assert cache.count(customer) == 20 and cache.count() == 20
        hits = cache.hits
        assert cache.count(customer) == 20 and cache.hits == hits + 1  # nothing written: served from the cache
        with store.transaction() as conn:  # another writer soft-deletes five
            conn.execute(sa.update(leads).values(deleted_at=sa.func.current_timestamp()).where(leads.c.id <= 5))
        assert cache.count(customer) == 15 and cache.count() == 15
        assert [lead["title"] for lead in cache.recent(customer, 1)] == ["Company 20"]
        assert engine.sync(customer).status == "unchanged"
        now[0] += 301
        assert cache.count(customer) == 15  # expiry still applies
        cache.close()


def test_each_sheet_has_a_scheduled_job(store, engine, sheet_server):
    from odoosync.sheets.schedule import DEFAULT_SHEET_SCHEDULE, sheet_jobs

    url = sheet_server.serve_rows("/leads.csv", HEADER, [row(1)])
    first, _ = engine.add("acme", url, key_column="Ref", schedule="*/5 * * * *")
    second, _ = engine.add("globex", url, key_column="Ref")
    jobs = {job.customer_id: (job.name, job.cron) for job in sheet_jobs(store)}
    assert jobs == {
        first.customer_id: (f"sheet:{first.customer_id}", "*/5 * * * *"),
        second.customer_id: (f"sheet:{second.customer_id}", DEFAULT_SHEET_SCHEDULE),
    }


@pytest.mark.postgres
def test_pause_during_the_diff_rolls_it_back_on_postgresql(pg_url, sheet_server):
    """PostgreSQL only: on SQLite (one writer) a pause waits for the diff's commit (docs/sheets.md)."""
    with Store(pg_url) as store, SheetFetcher(allow_private=True) as fetcher:
        engine = SheetSync(store, fetcher, settings=SyncSettings(chunk_rows=50, batch_rows=40, progress_interval=0))
        customer = add_sheet(engine, sheet_server, [row(i) for i in range(1, 300)])

        def pause_mid_diff(percent: int, message: str) -> None:
            if message.startswith("insert"):
                other = threading.Thread(target=set_paused, args=(store, customer, True))
                other.start()
                other.join()

        result = engine.sync(customer, on_progress=pause_mid_diff)
        assert result.status == "paused" and all_leads(store) == []
        assert runs.get_run(store, result.run_id).status == "skipped"


def test_progress_writes_are_throttled_by_the_clock(store, engine, sheet_server):
    from odoosync.sheets.state import ProgressReporter

    customer = add_sheet(engine, sheet_server, [row(1)])
    now = [100.0]
    heard = []
    reporter = ProgressReporter(
        store, customer, clock=lambda: now[0], min_interval=0.5, listener=lambda p, m: heard.append(p)
    )

    def shown() -> int:
        return get_state(store, customer).progress_percent

    reporter.report(10, "a")
    assert shown() == 10
    now[0] += 0.2
    reporter.report(20, "b")
    assert shown() == 10  # throttled
    reporter.report(30, "c", force=True)
    assert shown() == 30  # phases force a write
    now[0] += 0.6
    reporter.report(40, "d")
    assert shown() == 40
    assert heard == [10, 20, 30, 40]  # the in-process listener hears everything
