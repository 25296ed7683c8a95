"""Running the Alembic migrations from code: no ``alembic.ini`` needed at run time.

The scripts live inside the package (``odoosync/store/migrations``), so an installed
odoosync can upgrade a database. On PostgreSQL the version table is
``ops.odoosync_alembic_version`` (out of the app's ``public`` schema, which Supabase
exposes); on SQLite it is ``odoosync_alembic_version`` in the same file. Both names
leave an application's own ``alembic_version`` alone.
"""

from __future__ import annotations

import threading

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from odoosync.exceptions import ConfigError
from odoosync.store.schema import OPS_SCHEMA, metadata_for

__all__ = ["VERSION_TABLE", "alembic_config", "upgrade", "current_revision", "head_revision", "version_table_schema"]

VERSION_TABLE = "odoosync_alembic_version"
_ONE_AT_A_TIME = threading.Lock()
SCRIPT_LOCATION = "odoosync.store:migrations"


# Any fixed number: serialises migrations of one PostgreSQL database (also taken in migrations/env.py).
MIGRATION_LOCK = 0x0D005C


def version_table_schema(dialect_name: str) -> str | None:
    """Where the version table lives on this dialect (SQLite has no schemas)."""
    return None if dialect_name == "sqlite" else OPS_SCHEMA


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic ``Config`` built in code; ``connection`` is handed to ``env.py``."""
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; a no-op when it is already there.

    Alembic keeps its running context in module globals, so upgrades in one process take
    turns; between processes the database serialises them (see ``migrations/env.py``).
    On PostgreSQL the lock is taken before the revision is read: otherwise a run that read
    "never migrated" just before another one committed would then find that one's tables
    and refuse them as the app's.
    """
    with _ONE_AT_A_TIME, engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        if current_revision(connection) is None:
            refuse_foreign_tables(connection)
        command.upgrade(alembic_config(connection), revision)


def refuse_foreign_tables(connection: sa.Connection) -> None:
    """Before the first migration: refuse when the app already has tables with our names.

    An app database often has its own ``leads`` (or ``customers``) table; creating ours
    over it would fail half-way with a bare SQL error, or worse, sync into a table of
    another shape. Nothing is changed; the message names the tables.
    """
    dialect = connection.dialect.name
    inspector = sa.inspect(connection)
    ours = metadata_for(dialect).tables.values()
    found = sorted(table.fullname for table in ours if inspector.has_table(table.name, schema=table.schema))
    if found:
        raise ConfigError(
            f"the database already has table(s) {', '.join(found)} that odoosync did not create "
            "(no odoosync migration was ever run here): odoosync would create its own tables with "
            "these names. Rename or move the app's tables, or use a separate database for odoosync",
            [f"table {name} exists" for name in found],
        )


def current_revision(connection: sa.Connection) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    context = MigrationContext.configure(
        connection,
        opts={
            "version_table": VERSION_TABLE,
            "version_table_schema": version_table_schema(connection.dialect.name),
        },
    )
    return context.get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of odoosync."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "odoosync ships at least one migration"
    return head
