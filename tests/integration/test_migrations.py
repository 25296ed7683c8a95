"""The schema after ``upgrade`` is exactly ``odoosync.store.schema``, on both dialects."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from odoosync.exceptions import NotMigrated
from odoosync.store import Store
from odoosync.store import runs as run_store
from odoosync.store.migrate import VERSION_TABLE, alembic_config, head_revision, version_table_schema
from odoosync.store.schema import OPS_SCHEMA, metadata_for, odoo_outbox, odoo_sync_runs
from odoosync.streams.base import PageContext
from odoosync.streams.leads import LeadsTarget

OUTBOX_MODEL_ODOO_ID = "ix_odoo_outbox_model_odoo_id"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")


def _diffs(store: Store) -> list:
    with store.connect() as conn:
        dialect = conn.dialect.name
        context = MigrationContext.configure(
            conn,
            opts={
                "version_table": VERSION_TABLE,
                "version_table_schema": version_table_schema(dialect),
                "include_schemas": dialect == "postgresql",
                "include_name": lambda name, type_, parents: type_ != "schema" or name in (None, OPS_SCHEMA),
                "compare_type": True,
            },
        )
        return compare_metadata(context, metadata_for(dialect))


def test_upgrade_creates_exactly_the_schema(empty_url: str) -> None:
    with Store(empty_url) as store:
        assert _diffs(store) != []  # the comparison sees a missing schema
        store.upgrade()
        assert _diffs(store) == []
        assert store.current_revision() == head_revision()


def _outbox_indexes(store: Store) -> set[str]:
    schema = OPS_SCHEMA if store.dialect == "postgresql" else None
    return {index["name"] for index in sa.inspect(store.engine).get_indexes("odoo_outbox", schema=schema)}


def test_0003_downgrades_and_upgrades_again(empty_url: str) -> None:
    with Store(empty_url) as store:
        store.upgrade()
        assert OUTBOX_MODEL_ODOO_ID in _outbox_indexes(store)
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0002")
        assert store.current_revision() == "0002"
        assert OUTBOX_MODEL_ODOO_ID not in _outbox_indexes(store)
        assert "ix_odoo_outbox_status_next_run_at" in _outbox_indexes(store)  # 0001's are left alone
        store.upgrade()
        assert store.current_revision() == head_revision()
        assert _diffs(store) == []


def test_0004_downgrades_and_upgrades_again(empty_url: str) -> None:
    with Store(empty_url) as store:
        store.upgrade()
        run_id = run_store.start_run(store, job="pull", stream="leads", mode="full", trigger="manual")
        with store.transaction() as conn:
            conn.execute(sa.update(odoo_sync_runs).where(odoo_sync_runs.c.id == run_id).values(status="interrupted"))
        with store.engine.begin() as conn:
            command.downgrade(alembic_config(conn), "0003")
        assert store.current_revision() == "0003"
        with store.connect() as conn:  # an interrupted run reads as partial in the older schema
            assert conn.execute(sa.text(f"SELECT status FROM {_runs_table(store)}")).scalar_one() == "partial"
        store.upgrade()
        assert store.current_revision() == head_revision()
        assert _diffs(store) == []


def _runs_table(store: Store) -> str:
    return "odoo_sync_runs" if store.dialect == "sqlite" else "ops.odoo_sync_runs"


def test_the_pulls_deleted_lead_check_uses_the_outbox_index(store: Store) -> None:
    """The query ``streams/leads.py`` really sends is planned on ``(model, odoo_id)``."""
    with store.transaction() as conn:
        conn.execute(
            sa.insert(odoo_outbox),
            [
                {
                    "model": "crm.lead" if n % 3 else "mail.message",
                    "operation": "write",
                    "local_table": "leads",
                    "local_id": n,
                    "odoo_id": n,
                    "status": "done",
                }
                for n in range(1, 3001)
            ],
        )
        conn.exec_driver_sql("ANALYZE")
    sent: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany) -> None:
        if "odoo_outbox" in statement:
            sent.append((statement, parameters))

    sa.event.listen(store.engine, "before_cursor_execute", capture)
    try:
        with store.connect() as conn:
            LeadsTarget._outbox_deletions(PageContext(client=None, store=store), conn, list(range(100, 150)))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", capture)
    [(statement, parameters)] = sent
    explain = "EXPLAIN QUERY PLAN " if store.dialect == "sqlite" else "EXPLAIN "
    with store.transaction() as conn:  # SET LOCAL needs a transaction (reads run in autocommit)
        if store.dialect == "postgresql":  # a few thousand rows read faster whole: ask which index it would use
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plan = " ".join(str(row[-1]) for row in conn.exec_driver_sql(explain + statement, parameters))
    assert OUTBOX_MODEL_ODOO_ID in plan, plan


def test_upgrade_is_idempotent(empty_url: str) -> None:
    with Store(empty_url) as store:
        store.upgrade()
        store.upgrade()
        store.check_migrated()
        assert _diffs(store) == []


def test_empty_database_is_not_migrated(empty_url: str) -> None:
    with Store(empty_url) as store:
        with pytest.raises(NotMigrated, match=r"is not migrated: run `odoosync db upgrade`"):
            store.check_migrated()


def test_ops_tables_live_in_the_ops_schema_on_postgresql(store: Store) -> None:
    inspector = sa.inspect(store.engine)
    if store.dialect == "postgresql":
        assert "odoo_outbox" in inspector.get_table_names(schema=OPS_SCHEMA)
        assert "odoo_outbox" not in inspector.get_table_names()
    else:
        assert "odoo_outbox" in inspector.get_table_names()


def test_using_tables_of_an_empty_database_says_to_migrate(empty_url: str) -> None:
    from odoosync.store.schema import leads

    with Store(empty_url) as store:
        with pytest.raises(NotMigrated, match=r"is not migrated: run `odoosync db upgrade`") as caught:
            with store.transaction() as conn:
                conn.execute(sa.select(leads.c.id))
        assert "leads" in str(caught.value)


@pytest.mark.slow
def test_concurrent_upgrades_take_turns(empty_url: str) -> None:
    """A process and two threads upgrading one empty database at once all succeed."""
    import os
    import subprocess
    import sys
    import threading

    script = "import sys; from odoosync.store import Store; Store(sys.argv[1]).open().upgrade()"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    processes = [
        subprocess.Popen([sys.executable, "-c", script, empty_url], env=env, stderr=subprocess.PIPE, text=True)
        for _ in range(1)
    ]
    errors: list[BaseException] = []

    def upgrade() -> None:
        try:
            with Store(empty_url) as store:
                store.upgrade()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [(p.wait(timeout=120), p.communicate()[1]) for p in processes]
    assert errors == []
    assert [code for code, _ in outcomes] == [0], [err for _, err in outcomes]
    with Store(empty_url) as store:
        store.check_migrated()
        assert _diffs(store) == []
