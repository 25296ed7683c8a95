"""Alembic environment for odoosync's own schema.

Used programmatically (``odoosync.store.migrate``): the caller passes an open connection
in ``config.attributes["connection"]``. The ``ops`` schema is created first on
PostgreSQL because the version table lives in it, and a transaction-level advisory lock
makes two concurrent ``odoosync db upgrade`` runs take turns instead of colliding.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from typing import Any

import sqlalchemy as sa
from alembic import context

from odoosync.store.migrate import MIGRATION_LOCK, VERSION_TABLE, version_table_schema
from odoosync.store.schema import OPS_SCHEMA, metadata_for


def _only_our_schemas(name: str | None, type_: str, parent_names: MutableMapping[Any, Any]) -> bool:
    """Autogenerate looks at the default schema and ``ops`` only (not Supabase's own)."""
    return type_ != "schema" or name in (None, OPS_SCHEMA)


def run_migrations(connection: sa.Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK})
        connection.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {OPS_SCHEMA}"))
    context.configure(
        connection=connection,
        target_metadata=metadata_for(dialect),
        version_table=VERSION_TABLE,
        version_table_schema=version_table_schema(dialect),
        include_schemas=dialect == "postgresql",
        include_name=_only_our_schemas,
        render_as_batch=dialect == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("odoosync migrations need a connection (see odoosync.store.migrate)")
    with sa.create_engine(url).begin() as connection:
        run_migrations(connection)
else:
    run_migrations(connection)
