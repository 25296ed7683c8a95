"""Store: transactions, upserts, types and errors on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql

from odoosync.exceptions import StoreError, StoreIntegrityError, StoreUnavailable
from odoosync.store import Store, UpsertCounts
from odoosync.store import upsert as upsert_module
from odoosync.store.database import normalise_url
from odoosync.store.schema import (
    leads,
    odoo_partners,
    odoo_records,
    odoo_sync_config,
    odoo_sync_conflicts,
    odoo_sync_echo_guard,
)


def _partner(odoo_id: int, name: str, **extra: object) -> dict:
    return {"backend": "default", "odoo_id": odoo_id, "name": name, "raw": {"id": odoo_id, "name": name}, **extra}


def _partners(conn: sa.Connection) -> dict[int, sa.RowMapping]:
    return {r["odoo_id"]: r for r in conn.execute(sa.select(odoo_partners)).mappings()}


# ---------------------------------------------------------------- upsert


def test_upsert_counts_inserted_updated_unchanged(store: Store) -> None:
    with store.transaction() as conn:
        first = store.upsert_rows(
            conn, odoo_partners, [_partner(i, f"p{i}") for i in range(1, 6)], key=["backend", "odoo_id"]
        )
    assert first == UpsertCounts(inserted=5, updated=0, unchanged=0)

    batch = [_partner(i, f"p{i}") for i in range(1, 6)] + [_partner(6, "new")]
    batch[1] = _partner(2, "renamed")
    with store.transaction() as conn:
        second = store.upsert_rows(conn, odoo_partners, batch, key=["backend", "odoo_id"])
        rows = _partners(conn)
    assert second == UpsertCounts(inserted=1, updated=1, unchanged=4)
    assert rows[2]["name"] == "renamed" and rows[2]["raw"] == {"id": 2, "name": "renamed"}
    assert len(rows) == 6


def test_unchanged_rows_are_not_written(store: Store) -> None:
    rows = [_partner(i, f"p{i}") for i in range(1, 4)]
    with store.transaction() as conn:
        store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"])
        before = _partners(conn)
        xmin_before = _xmins(conn)
    with store.transaction() as conn:
        counts = store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"])
        after = _partners(conn)
        xmin_after = _xmins(conn)
    assert counts == UpsertCounts(unchanged=3)
    # synced_at is stamped only when a row is really written
    assert {k: r["synced_at"] for k, r in after.items()} == {k: r["synced_at"] for k, r in before.items()}
    assert xmin_after == xmin_before


def _xmins(conn: sa.Connection) -> dict[int, str] | None:
    if conn.dialect.name != "postgresql":
        return None
    return dict(conn.execute(sa.text("SELECT odoo_id, xmin::text FROM odoo_partners")).all())


def test_changed_row_gets_a_new_touch_stamp(store: Store) -> None:
    with store.transaction() as conn:
        store.upsert_rows(conn, odoo_partners, [_partner(1, "a")], key=["backend", "odoo_id"])
        stamp = _partners(conn)[1]["synced_at"]
    with store.transaction() as conn:
        store.upsert_rows(conn, odoo_partners, [_partner(1, "b")], key=["backend", "odoo_id"])
        assert _partners(conn)[1]["synced_at"] > stamp


def test_upsert_is_one_statement_per_call(store: Store) -> None:
    rows = [_partner(i, f"p{i}") for i in range(1, 201)]
    with store.transaction() as conn:
        store.stats.reset()
        store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"])
        statements = store.stats.statements
    # PostgreSQL: the upsert itself; SQLite: plus one SELECT of the existing keys.
    assert statements == (1 if store.dialect == "postgresql" else 2)
    assert store.stats.writes == 1


def test_upsert_in_several_statements_counts_and_writes_exactly(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """More rows than one statement takes (PostgreSQL: PG_BATCH_ROWS; SQLite: the
    parameter limit): exact counts over the batches, and unchanged rows stay unwritten."""
    monkeypatch.setattr(upsert_module, "PG_BATCH_ROWS", 7)
    monkeypatch.setitem(upsert_module.MAX_PARAMETERS, "sqlite", 40)  # → a few rows per statement
    with store.transaction() as conn:
        store.upsert_rows(conn, odoo_partners, [_partner(i, f"p{i}") for i in range(1, 21)], key=["backend", "odoo_id"])
        xmin_before = _xmins(conn)
    rows = [_partner(i, f"p{i}" if i % 3 else f"renamed {i}") for i in range(1, 31)]
    with store.transaction() as conn:
        store.stats.reset()
        counts = store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"])
        assert store.stats.writes > 1
        stored = _partners(conn)
        xmin_after = _xmins(conn)
    renamed = [i for i in range(1, 21) if i % 3 == 0]
    assert counts == UpsertCounts(inserted=10, updated=len(renamed), unchanged=20 - len(renamed))
    assert {k: r["name"] for k, r in stored.items()} == {r["odoo_id"]: r["name"] for r in rows}
    if xmin_before is not None:
        changed = {k for k in xmin_before if xmin_after[k] != xmin_before[k]}
        assert changed == set(renamed)


def test_upsert_composite_key_and_update_only_some_columns(store: Store) -> None:
    base = {"backend": "default", "model": "x.y", "write_date": None}
    with store.transaction() as conn:
        store.upsert_rows(
            conn, odoo_records, [{**base, "odoo_id": 1, "raw": {"a": 1}}], key=["backend", "model", "odoo_id"]
        )
        counts = store.upsert_rows(
            conn,
            odoo_records,
            [{**base, "odoo_id": 1, "raw": {"a": 2}}, {**base, "odoo_id": 2, "raw": {"a": 3}}],
            key=["backend", "model", "odoo_id"],
            update=["write_date"],  # raw is not overwritten
        )
        raws = dict(conn.execute(sa.select(odoo_records.c.odoo_id, odoo_records.c.raw)).all())
    assert counts == UpsertCounts(inserted=1, unchanged=1)
    assert raws == {1: {"a": 1}, 2: {"a": 3}}


def test_upsert_insert_only(store: Store) -> None:
    with store.transaction() as conn:
        store.upsert_rows(conn, odoo_partners, [_partner(1, "a")], key=["backend", "odoo_id"])
        counts = store.upsert_rows(
            conn, odoo_partners, [_partner(1, "b"), _partner(2, "c")], key=["backend", "odoo_id"], update=[]
        )
        assert _partners(conn)[1]["name"] == "a"
    assert counts == UpsertCounts(inserted=1, unchanged=1)


def test_upsert_json_key_order_is_not_a_change(store: Store) -> None:
    with store.transaction() as conn:
        store.upsert_rows(
            conn,
            odoo_partners,
            [{"backend": "default", "odoo_id": 1, "name": "a", "raw": {"a": 1, "b": 2}}],
            key=["backend", "odoo_id"],
        )
        counts = store.upsert_rows(
            conn,
            odoo_partners,
            [{"backend": "default", "odoo_id": 1, "name": "a", "raw": {"b": 2, "a": 1}}],
            key=["backend", "odoo_id"],
        )
    assert counts == UpsertCounts(unchanged=1)


def _conflict(row_id: int, **values: object) -> dict:
    return {"id": row_id, "model": "crm.lead", "field": "name", "policy": "odoo_wins", "winner": "odoo", **values}


def test_upsert_json_null_sql_null_and_nested_values(store: Store) -> None:
    """None in a JSON column is JSON null, sa.null() is SQL NULL; nested values round-trip
    and an identical second upsert changes nothing."""
    nested = {"a": [1, None, {"b": [True, 2.5, "é"]}], "c": None}
    rows = [
        _conflict(1, base_value=None, app_value=sa.null(), odoo_value=nested, outbox_ids=[]),
        _conflict(2, base_value=[None, [1, 2]], app_value="text", odoo_value=0, outbox_ids=[1, 2]),
        _conflict(3, base_value=False, app_value={}, odoo_value=sa.null(), outbox_ids=[3]),
    ]
    table = odoo_sync_conflicts
    with store.transaction() as conn:
        assert store.upsert_rows(conn, table, rows, key=["id"]) == UpsertCounts(inserted=3)
        stored = {r["id"]: r for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()}
        sql_nulls = {
            (r.id, column)
            for column in ("base_value", "app_value", "odoo_value")
            for r in conn.execute(sa.select(table.c.id).where(table.c[column].is_(None)))
        }
    assert sql_nulls == {(1, "app_value"), (3, "odoo_value")}
    assert stored[1]["base_value"] is None and stored[1]["odoo_value"] == nested
    assert stored[2]["base_value"] == [None, [1, 2]] and stored[2]["app_value"] == "text"
    assert stored[2]["odoo_value"] == 0 and stored[2]["outbox_ids"] == [1, 2]
    assert stored[3]["base_value"] is False and stored[3]["app_value"] == {}
    with store.transaction() as conn:
        assert store.upsert_rows(conn, table, rows, key=["id"]) == UpsertCounts(unchanged=3)


def test_upsert_timestamps_numbers_dates_booleans_and_nulls(store: Store) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    aware = dt.datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    naive_utc = dt.datetime(2025, 3, 1, 9, 0)

    def lead(odoo_id: int, **values: object) -> dict:
        base = {
            "odoo_backend": "default",
            "odoo_id": odoo_id,
            "title": f"t{odoo_id}",
            "value": None,
            "probability": None,
            "deadline": None,
            "odoo_write_date": None,
            "deleted_at": None,
            "tags": [],
            "metadata": {},
        }
        return {**base, **values}

    # One float field comes as int and float in the same page (Odoo's JSON does that).
    rows = [
        lead(1, value=Decimal("1234.50"), probability=10, deadline=dt.date(2025, 2, 3), odoo_write_date=aware),
        lead(2, value=12, probability=25.5, odoo_write_date=naive_utc, tags=["a", "b"]),
        lead(3, value=0.1, probability=Decimal("0.1"), metadata={"k": None, "nested": {"l": [None]}}),
        lead(4, title="quotes ' \" \\ {braces}, NULL"),
    ]
    partners = [_partner(1, "company", is_company=True), _partner(2, "person", is_company=False)]
    with store.transaction() as conn:
        assert store.upsert_rows(conn, leads, rows, key=["odoo_backend", "odoo_id"]) == UpsertCounts(inserted=4)
        assert store.upsert_rows(conn, odoo_partners, partners, key=["backend", "odoo_id"]) == UpsertCounts(inserted=2)
        stored = {r["odoo_id"]: r for r in conn.execute(sa.select(leads)).mappings()}
        companies = {r["odoo_id"]: r["is_company"] for r in _partners(conn).values()}
    assert stored[1]["odoo_write_date"] == aware and stored[1]["odoo_write_date"].utcoffset() == dt.timedelta(0)
    assert stored[2]["odoo_write_date"] == naive_utc.replace(tzinfo=dt.UTC)
    assert stored[3]["odoo_write_date"] is None and stored[3]["deleted_at"] is None
    assert [stored[i]["value"] for i in (1, 2, 3, 4)] == [Decimal("1234.50"), Decimal("12.00"), Decimal("0.10"), None]
    assert [stored[i]["probability"] for i in (1, 2, 3, 4)] == [10.0, 25.5, 0.1, None]
    assert stored[1]["deadline"] == dt.date(2025, 2, 3) and stored[2]["deadline"] is None
    assert stored[2]["tags"] == ["a", "b"] and stored[3]["metadata"] == {"k": None, "nested": {"l": [None]}}
    assert stored[4]["title"] == "quotes ' \" \\ {braces}, NULL"
    assert companies == {1: True, 2: False}
    with store.transaction() as conn:
        assert store.upsert_rows(conn, leads, rows, key=["odoo_backend", "odoo_id"]) == UpsertCounts(unchanged=4)
        assert store.upsert_rows(conn, odoo_partners, partners, key=["backend", "odoo_id"]) == UpsertCounts(unchanged=2)
        flipped = [_partner(1, "company", is_company=False), _partner(2, "person", is_company=False)]
        assert store.upsert_rows(conn, odoo_partners, flipped, key=["backend", "odoo_id"]) == UpsertCounts(
            updated=1, unchanged=1
        )


@pytest.mark.postgres
def test_postgresql_statement_text_does_not_grow_with_the_rows(pg_url: str) -> None:
    """PostgreSQL gets one array per column: the same short statement for 3 rows or 300,
    so SQLAlchemy compiles it once and psycopg parses it once."""
    sent: list[str] = []
    with Store(pg_url) as store:
        sa.event.listen(store.engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        for count in (3, 300):
            with store.transaction() as conn:
                rows = [_partner(i, f"p{i}") for i in range(1, count + 1)]
                store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"])
    upserts = [text for text in sent if text.lstrip().upper().startswith("INSERT")]
    assert len(upserts) == 2 and upserts[0] == upserts[1]
    assert "unnest(" in upserts[0] and upserts[0].count("%(") == 5  # four arrays and the synced_at stamp


@pytest.mark.postgres
def test_postgresql_array_columns_are_not_flattened(pg_url: str) -> None:
    """``unnest`` would flatten an array column: such a table takes multi-row VALUES."""
    table = sa.Table(
        "upsert_arrays",
        sa.MetaData(),
        sa.Column("id", sa.BigInteger(), primary_key=True),
        sa.Column("labels", postgresql.ARRAY(sa.Text())),
        sa.Column("grid", postgresql.ARRAY(sa.Integer(), dimensions=2)),
    )
    rows = [
        {"id": 1, "labels": ["a", None, "c"], "grid": [[1, 2], [3, 4]]},
        {"id": 2, "labels": [], "grid": None},
        {"id": 3, "labels": None, "grid": [[5]]},
    ]
    with Store(pg_url) as store:
        with store.transaction() as conn:
            table.create(conn)
            assert store.upsert_rows(conn, table, rows, key=["id"]) == UpsertCounts(inserted=3)
            stored = {r["id"]: dict(r) for r in conn.execute(sa.select(table)).mappings()}
            assert stored == {r["id"]: r for r in rows}
            changed = [rows[0], {**rows[1], "labels": ["b"]}, rows[2]]
            assert store.upsert_rows(conn, table, changed, key=["id"]) == UpsertCounts(updated=1, unchanged=2)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"odoo_id": 1, "nope": 1}], r"unknown columns \['nope'\]"),
        ([{"name": "x"}], r"lack key columns \['odoo_id'\]"),
        ([{"odoo_id": 1, "name": "a"}, {"odoo_id": 1, "name": "b"}], r"key \{'odoo_id': 1\} appears twice"),
        ([{"odoo_id": 1, "name": "a"}, {"odoo_id": 2}], r"row 2 has columns"),
    ],
)
def test_upsert_rejects_bad_rows_and_writes_nothing(store: Store, rows: list[dict], message: str) -> None:
    with store.transaction() as conn:
        with pytest.raises(ValueError, match=message):
            store.upsert_rows(conn, odoo_partners, rows, key=["odoo_id"])
        assert _partners(conn) == {}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    batches=st.lists(
        st.dictionaries(st.integers(1, 12), st.sampled_from(["a", "b", "c", None]), max_size=8),
        min_size=1,
        max_size=4,
    )
)
def test_upsert_matches_a_dict_model(store: Store, batches: list[dict[int, str | None]]) -> None:
    """Property: any sequence of upserts leaves what a plain dict would, with exact counts."""
    with store.transaction() as conn:
        conn.execute(sa.delete(odoo_partners))
    model: dict[int, str | None] = {}
    for batch in batches:
        expected = UpsertCounts(
            inserted=sum(1 for k in batch if k not in model),
            updated=sum(1 for k, v in batch.items() if k in model and model[k] != v),
            unchanged=sum(1 for k, v in batch.items() if k in model and model[k] == v),
        )
        rows = [{"backend": "default", "odoo_id": k, "name": v} for k, v in batch.items()]
        with store.transaction() as conn:
            assert store.upsert_rows(conn, odoo_partners, rows, key=["backend", "odoo_id"]) == expected
        model.update(batch)
    with store.transaction() as conn:
        assert {k: r["name"] for k, r in _partners(conn).items()} == model


# ---------------------------------------------------------------- transactions


def test_the_pool_hands_out_the_connection_returned_last(store: Store) -> None:
    # LIFO: a sync's writes keep to few connections, so few grow libpq's buffers to a
    # round's statement (docs/performance.md, "Memory (session 8)").
    first, second = store.engine.connect(), store.engine.connect()
    first_id, second_id = id(first.connection.dbapi_connection), id(second.connection.dbapi_connection)
    first.close()
    second.close()
    with store.engine.connect() as again:
        assert id(again.connection.dbapi_connection) == second_id != first_id


def test_transaction_commits_and_rolls_back(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="kept"))
    with pytest.raises(RuntimeError), store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="dropped"))
        raise RuntimeError("boom")
    with store.connect() as conn:
        assert conn.execute(sa.select(leads.c.title)).scalars().all() == ["kept"]


def test_nested_transaction_is_a_savepoint(store: Store) -> None:
    with store.transaction() as outer:
        outer.execute(sa.insert(leads).values(title="outer"))
        with pytest.raises(RuntimeError), store.transaction() as inner:
            assert inner is outer
            inner.execute(sa.insert(leads).values(title="inner"))
            raise RuntimeError("only the inner block")
        with store.transaction() as inner:
            inner.execute(sa.insert(leads).values(title="inner ok"))
    with store.connect() as conn:
        assert sorted(conn.execute(sa.select(leads.c.title)).scalars()) == ["inner ok", "outer"]


def test_nested_transaction_cannot_change_origin(store: Store) -> None:
    with store.transaction() as conn:
        with pytest.raises(StoreError, match="cannot change the origin"), store.transaction(origin="pull"):
            pass
        conn.execute(sa.insert(leads).values(title="still usable"))


def test_origin_pull_marks_only_its_own_transaction(store: Store) -> None:
    with store.transaction(origin="pull") as conn:
        assert _origin(conn) == "pull"
        with store.transaction(origin="pull") as nested:
            assert _origin(nested) == "pull"
        if store.dialect == "sqlite":
            # Other connections never see the guard row (it is never committed).
            path = store.engine.url.database
            with sqlite3.connect(path) as other:
                assert other.execute("SELECT count(*) FROM odoo_sync_echo_guard").fetchone() == (0,)
    with store.transaction() as conn:
        assert _origin(conn) is None
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_echo_guard)).scalar_one() == 0


def _origin(conn: sa.Connection) -> str | None:
    if conn.dialect.name == "postgresql":
        return conn.execute(sa.text("SELECT current_setting('odoosync.origin', true)")).scalar_one() or None
    return conn.execute(sa.select(odoo_sync_echo_guard.c.origin)).scalar_one_or_none()


def test_concurrent_writers_serialise(store: Store) -> None:
    """Read-modify-write from several threads: no lost update, no 'database is locked'."""
    with store.transaction() as conn:
        conn.execute(sa.insert(odoo_sync_config).values(key="counter", value={"n": 0}))
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(10):
                with store.transaction() as conn:
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT 1 FROM ops.odoo_sync_config WHERE key = 'counter' FOR UPDATE"))
                    n = conn.execute(
                        sa.select(odoo_sync_config.c.value).where(odoo_sync_config.c.key == "counter")
                    ).scalar_one()["n"]
                    conn.execute(
                        sa.update(odoo_sync_config)
                        .where(odoo_sync_config.c.key == "counter")
                        .values(value={"n": n + 1})
                    )
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.connect() as conn:
        assert conn.execute(sa.select(odoo_sync_config.c.value)).scalar_one() == {"n": 40}


# ---------------------------------------------------------------- types and defaults


def test_app_can_insert_a_lead_with_only_a_title(store: Store) -> None:
    with store.transaction() as conn:
        lead = conn.execute(sa.insert(leads).values(title="Call back").returning(leads)).mappings().one()
    assert lead["source"] == "app" and lead["status"] == "open"
    assert lead["metadata"] == {} and lead["tags"] == []
    assert lead["created_at"].tzinfo is not None and lead["updated_at"] is not None


def test_timestamps_are_utc_and_money_is_decimal(store: Store) -> None:
    plus_two = dt.timezone(dt.timedelta(hours=2))
    stamp = dt.datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="t", odoo_write_date=stamp, value=Decimal("1234.50")))
        row = conn.execute(sa.select(leads.c.odoo_write_date, leads.c.value)).one()
    assert row.odoo_write_date == stamp
    assert row.odoo_write_date.utcoffset() == dt.timedelta(0)
    assert row.value == Decimal("1234.50") and isinstance(row.value, Decimal)


def test_constraint_violation_is_a_store_integrity_error(store: Store) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="a", source_email_id="odoo_crm_1"))
    with pytest.raises(StoreIntegrityError), store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="b", source_email_id="odoo_crm_1"))


# ---------------------------------------------------------------- lifecycle, URLs, secrets


def test_using_a_closed_store_is_a_clear_error(migrated_sqlite_url: str) -> None:
    store = Store(migrated_sqlite_url)
    with pytest.raises(StoreError, match="not open: call open"):
        with store.transaction():
            pass
    with store:
        store.check_migrated()
    assert "closed" in repr(store)


@pytest.mark.parametrize(
    ("url", "driver"),
    [
        ("postgres://u:p@db.example.supabase.co:5432/postgres", "postgresql+psycopg"),
        ("postgresql://u@localhost/app", "postgresql+psycopg"),
        ("postgresql+psycopg2://u@localhost/app", "postgresql+psycopg"),
        ("sqlite:///relative.db", "sqlite+pysqlite"),
    ],
)
def test_database_url_forms(url: str, driver: str) -> None:
    assert normalise_url(url).drivername == driver


def test_no_password_in_errors_or_repr() -> None:
    store = Store("postgresql://sync:hunter2@127.0.0.1:1/app")
    assert "hunter2" not in repr(store) and "hunter2" not in store.url
    with pytest.raises(StoreUnavailable) as caught:
        store.open()
    assert "hunter2" not in str(caught.value) and "***" in str(caught.value)
    with pytest.raises(StoreError) as caught:
        Store("mysql://sync:hunter2@db/app")
    assert "hunter2" not in str(caught.value)
    with pytest.raises(StoreError) as caught:
        Store("not a url with secret:hunter2@x")
    assert "hunter2" not in str(caught.value)


@pytest.mark.postgres
def test_wrong_database_name_is_a_clear_error(pg_server: str) -> None:
    url = sa.make_url(pg_server).set(database="odoosync_no_such_db", password="hunter2")
    with pytest.raises(StoreError) as caught:
        Store(url).open()
    assert "odoosync_no_such_db" in str(caught.value) and "hunter2" not in str(caught.value)


def test_sqlite_readers_do_not_wait_for_a_writer(migrated_sqlite_url: str) -> None:
    """WAL + deferred BEGIN for ``connect()``: reads see the last commit while a writer works."""
    with Store(migrated_sqlite_url, busy_timeout=2) as store:
        with store.transaction() as conn:
            conn.execute(sa.insert(leads).values(title="committed"))
        writing, done = threading.Event(), threading.Event()

        def writer() -> None:
            with store.transaction() as conn:
                conn.execute(sa.insert(leads).values(title="uncommitted"))
                writing.set()
                done.wait(30)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            assert writing.wait(30)
            with store.connect() as conn:
                assert conn.execute(sa.select(leads.c.title)).scalars().all() == ["committed"]
            with pytest.raises(StoreUnavailable, match="locked"), store.transaction():
                pass  # a second writer waits (busy timeout), then gives up cleanly
        finally:
            done.set()
            thread.join()
        with store.connect() as conn:
            assert sorted(conn.execute(sa.select(leads.c.title)).scalars()) == ["committed", "uncommitted"]


def test_in_memory_sqlite_is_refused() -> None:
    for url in ("sqlite://", "sqlite:///:memory:"):
        with pytest.raises(StoreError, match="in-memory SQLite"):
            Store(url)
