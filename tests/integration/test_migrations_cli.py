"""``odoosync db upgrade`` / ``odoosync db current``: in-process through Typer's runner,
and once as a real subprocess through the installed entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from odoosync.cli import app
from odoosync.store import Store, migrate
from odoosync.store.migrate import head_revision
from odoosync.store.schema import OPS_SCHEMA, odoo_outbox


class _Result:
    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


def _odoosync(*args: str, env: dict[str, str] | None = None) -> _Result:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "200", **(env or {})})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return _Result(result.exit_code, result.stdout, result.stderr)


def _odoosync_process(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID"))
    }
    environment.update({"PYTHONPATH": os.getcwd(), "COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "odoosync", *args], capture_output=True, text=True, env=environment, timeout=120
    )


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def empty_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "empty_pg_url")


def test_db_upgrade_is_idempotent(empty_url: str) -> None:
    before = _odoosync("db", "current", "--database-url", empty_url)
    assert before.returncode == 1 and "not migrated: run `odoosync db upgrade`" in before.stdout

    first = _odoosync("db", "upgrade", "--database-url", empty_url, "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) | {"database": None} == {
        "database": None,
        "from": None,
        "to": head_revision(),
        "changed": True,
    }
    second = _odoosync("db", "upgrade", "--database-url", empty_url)
    assert second.returncode == 0 and f"already at revision {head_revision()}" in second.stdout

    after = _odoosync("db", "current", "--database-url", empty_url, "--json")
    assert after.returncode == 0 and json.loads(after.stdout)["up_to_date"] is True


def test_db_upgrade_brings_a_0002_database_to_head(empty_url: str) -> None:
    """An existing deployment at 0002 (with queued work) gets 0003's outbox index."""
    with Store(empty_url) as store:
        migrate.upgrade(store.engine, "0002")
        with store.transaction() as conn:
            conn.execute(
                sa.insert(odoo_outbox).values(
                    model="crm.lead", operation="unlink", local_table="leads", local_id=5, odoo_id=41, status="done"
                )
            )
    assert _odoosync("db", "current", "--database-url", empty_url).returncode == 1

    result = _odoosync("db", "upgrade", "--database-url", empty_url, "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) | {"database": None} == {
        "database": None,
        "from": "0002",
        "to": head_revision(),
        "changed": True,
    }
    assert _odoosync("db", "current", "--database-url", empty_url).returncode == 0
    with Store(empty_url) as store:
        schema = OPS_SCHEMA if store.dialect == "postgresql" else None
        indexes = {
            i["name"]: i["column_names"] for i in sa.inspect(store.engine).get_indexes("odoo_outbox", schema=schema)
        }
        assert indexes["ix_odoo_outbox_model_odoo_id"] == ["model", "odoo_id"]
        with store.connect() as conn:
            assert conn.execute(sa.select(odoo_outbox.c.odoo_id, odoo_outbox.c.status)).all() == [(41, "done")]


def test_db_upgrade_reads_database_url_from_the_environment(sqlite_url: str) -> None:
    result = _odoosync_process("db", "upgrade", env={"DATABASE_URL": sqlite_url})
    assert result.returncode == 0, result.stderr
    assert "upgraded from an empty database" in result.stdout
    assert _odoosync("db", "current", env={"DATABASE_URL": sqlite_url}).returncode == 0


def test_db_errors_are_clean_and_hide_the_password() -> None:
    result = _odoosync("db", "upgrade", "--database-url", "postgresql://sync:hunter2@127.0.0.1:1/app")
    assert result.returncode == 1
    assert "cannot open the database" in result.stderr and "Connection refused" in result.stderr
    assert "Traceback" not in result.stderr and "StoreUnavailable" not in result.stderr
    assert "hunter2" not in result.stdout + result.stderr
    unknown = _odoosync("db", "current", "--database-url", "mysql://sync:hunter2@db/app")
    assert unknown.returncode == 1 and "unsupported database 'mysql'" in unknown.stderr
    assert "hunter2" not in unknown.stderr


@pytest.mark.postgres
def test_supabase_style_url_is_accepted(empty_pg_url: str) -> None:
    url = sa.make_url(empty_pg_url).set(drivername="postgres").render_as_string(hide_password=False)
    result = _odoosync("db", "upgrade", "--database-url", url)
    assert result.returncode == 0, result.stderr
