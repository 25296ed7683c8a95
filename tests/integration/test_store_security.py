"""The database odoosync creates is safe on Supabase: row-level security on every table,
the app's own roles see nothing until the app adds policies, writes they are allowed to
make still reach the outbox, and an app table with one of our names is refused clearly.

Real PostgreSQL (a throwaway role per test, dropped after) and a real SQLite file.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa

from odoosync.exceptions import ConfigError
from odoosync.store import Store
from odoosync.store.schema import metadata

pytestmark = pytest.mark.postgres


def _libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def app_role(pg_url: str) -> Iterator[str]:
    """A role like Supabase's ``anon``: usage on ``public`` and every right on its tables."""
    role = f"app_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} NOLOGIN")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")
    try:
        yield role
    finally:
        with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_every_table_has_row_level_security(pg_url: str) -> None:
    with psycopg.connect(_libpq(pg_url)) as conn:
        rows = dict(
            conn.execute(
                "SELECT n.nspname || '.' || c.relname, c.relrowsecurity FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND n.nspname IN ('public', 'ops')"
            ).fetchall()
        )
    ours = {table.fullname if table.schema else f"public.{table.name}" for table in metadata.sorted_tables}
    assert ours <= set(rows)
    assert sorted(name for name in ours if not rows[name]) == []


def test_an_api_role_reads_and_writes_nothing_until_the_app_adds_a_policy(pg_url: str, app_role: str) -> None:
    with psycopg.connect(_libpq(pg_url), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO leads (title, email, phone, source, odoo_id) VALUES ('Secret deal', 'a@b.c', '+1 555', 'odoo', 77)"
        )
        conn.execute(f"SET ROLE {app_role}")
        assert conn.execute("SELECT count(*) FROM leads").fetchone()[0] == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO leads (title) VALUES ('queued to Odoo?')")
        conn.execute("RESET ROLE")
        assert conn.execute("SELECT count(*) FROM ops.odoo_outbox").fetchone()[0] == 0

        # the policy an app adds (docs/operations.md): its role may create leads
        conn.execute(f"CREATE POLICY app_insert ON leads FOR INSERT TO {app_role} WITH CHECK (true)")
        conn.execute(f"SET ROLE {app_role}")
        conn.execute("INSERT INTO leads (title) VALUES ('From the app')")  # no right on ops: the trigger runs as owner
        conn.execute("RESET ROLE")
        queued = conn.execute("SELECT model, operation, payload->'values'->>'title' FROM ops.odoo_outbox").fetchall()
    assert queued == [("crm.lead", "create", "From the app")]


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_an_existing_app_table_with_our_name_is_refused_clearly(kind: str, request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("sqlite_url" if kind == "sqlite" else "empty_pg_url")
    engine = sa.create_engine(url if kind == "sqlite" else sa.make_url(url).set(drivername="postgresql+psycopg"))
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE leads (id integer PRIMARY KEY, name text)"))
    engine.dispose()
    with Store(url) as store:
        with pytest.raises(ConfigError, match=r"already has table\(s\) leads .*did not create") as caught:
            store.upgrade()
        assert caught.value.problems == ["table leads exists"]
        assert store.current_revision() is None
        tables = set(sa.inspect(store.engine).get_table_names())
    assert tables == {"leads"}


def test_the_app_tables_can_live_in_a_schema_of_their_own(empty_pg_url: str, simulator) -> None:
    """``[store] schema``: an app that has its own ``public.leads`` keeps it; odoosync's
    tables, triggers and pulls live in the chosen schema, with row-level security."""
    import datetime as dt

    from odoosync.models import SyncMode
    from odoosync.pull import PullOptions
    from odoosync.service.operations import run_sync
    from tests.fixtures.pull import open_client

    with psycopg.connect(_libpq(empty_pg_url), autocommit=True) as conn:
        conn.execute("CREATE TABLE public.leads (id integer PRIMARY KEY, name text)")
        conn.execute("INSERT INTO public.leads VALUES (1, 'the app''s own')")
    with Store(empty_pg_url, app_schema="crm_sync") as store:
        store.upgrade()
        store.check_migrated()
        with store.transaction() as conn:
            conn.execute(sa.text("INSERT INTO leads (title) VALUES ('made in the app')"))
        with open_client(simulator) as client:
            run_sync(client, store, "leads", PullOptions(mode=SyncMode.FULL, overlap=dt.timedelta(minutes=5)))
    with psycopg.connect(_libpq(empty_pg_url)) as conn:
        assert conn.execute("SELECT id, name FROM public.leads").fetchall() == [(1, "the app's own")]
        ours = conn.execute("SELECT count(*), count(odoo_id) FROM crm_sync.leads").fetchone()
        assert ours[0] > 1 and ours[1] == ours[0] - 1  # the pulled leads and the app's new one
        assert conn.execute("SELECT payload->'values'->>'title' FROM ops.odoo_outbox").fetchall() == [
            ("made in the app",)
        ]
        secured = conn.execute(
            "SELECT bool_and(c.relrowsecurity), count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'crm_sync' AND c.relkind = 'r'"
        ).fetchone()
    assert secured == (True, len([t for t in metadata.sorted_tables if t.schema is None]))


def test_a_bad_store_schema_is_refused_clearly(sqlite_url: str, pg_server: str) -> None:
    from odoosync.exceptions import StoreError

    for name in ("Crm", "ops", "pg_temp", "a-b", ""):
        with pytest.raises(StoreError, match=r"\[store\] schema .* is not usable"):
            Store(pg_server, app_schema=name)
    with pytest.raises(StoreError, match="PostgreSQL only"):
        Store(sqlite_url, app_schema="crm_sync")
