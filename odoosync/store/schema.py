"""Every table odoosync reads or writes, defined once with SQLAlchemy Core.

Two groups:

* **App tables** (default schema): what the application shows: ``customers``,
  ``contacts``, ``leads``, ``lead_activities`` (chatter), ``scheduled_activities``,
  ``lead_events``, ``lead_sync_states`` (one Google Sheet per customer), the Odoo mirrors
  ``odoo_partners`` and the reference data the lead mapping resolves names from
  (``odoo_stages``, ``odoo_users``, ``odoo_teams``, ``odoo_tags``, ``odoo_lost_reasons``,
  ``odoo_activity_types``), and ``odoo_records`` for models added by configuration.
* **Operations tables** (schema ``ops`` on PostgreSQL; on SQLite the same file, through
  ``schema_translate_map={"ops": None}``): runs, outbox, config, checkpoints, locks and
  the echo guard.

Types are portable: ``JSON`` (JSONB on PostgreSQL), ``UtcDateTime`` (timestamptz on
PostgreSQL; on SQLite a naive UTC string, returned as an aware UTC datetime), ``Id``
(BIGINT, but ``INTEGER`` on SQLite so ``INTEGER PRIMARY KEY`` autoincrements) and
``Money`` (NUMERIC(16, 2), returned as ``Decimal`` on both dialects).

The Alembic migrations under ``store/migrations/versions`` create exactly this schema;
``tests/integration/test_migrations.py`` proves it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

__all__ = [
    "OPS_SCHEMA",
    "metadata",
    "metadata_for",
    "Id",
    "Json",
    "Money",
    "UtcDateTime",
    "customers",
    "contacts",
    "leads",
    "lead_activities",
    "scheduled_activities",
    "lead_events",
    "lead_sync_states",
    "lead_sync_rows",
    "odoo_partners",
    "odoo_stages",
    "odoo_users",
    "odoo_teams",
    "odoo_tags",
    "odoo_lost_reasons",
    "odoo_activity_types",
    "odoo_records",
    "odoo_sync_runs",
    "odoo_outbox",
    "odoo_sync_config",
    "odoo_sync_checkpoints",
    "odoo_sync_rejects",
    "odoo_sync_locks",
    "odoo_sync_echo_guard",
    "odoo_sync_conflicts",
    "odoo_backends",
    "REFERENCE_TABLES",
    "backend_column",
    "row_level_security_statements",
]

OPS_SCHEMA = "ops"

# Named constraints so migrations can refer to them on every dialect.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Json = sa.JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(sa.types.TypeDecorator[dt.datetime]):
    """A timestamp stored in UTC and always returned timezone-aware (UTC).

    SQLite has no time zones: SQLAlchemy would drop an offset silently, so values are
    converted to UTC before binding. A naive datetime is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Money(sa.types.TypeDecorator[Decimal]):
    """NUMERIC with two places, returned as ``Decimal`` on both dialects. Unbounded on
    PostgreSQL, as Odoo's own monetary columns (``expected_revenue = 1e17`` is legal there;
    NUMERIC(16, 2) refused it and stopped the stream).

    SQLite has no decimal type (SQLAlchemy warns when asked for one), so there the value
    travels as a float and is turned back into a two-place ``Decimal``.
    """

    impl = sa.Numeric()
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(sa.Numeric(asdecimal=False))
        return dialect.type_descriptor(sa.Numeric())

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        value = Decimal(str(value)).quantize(Decimal("0.01"))
        return float(value) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Decimal | None:
        if value is None:
            return None
        return Decimal(str(value)).quantize(Decimal("0.01"))


NOW = sa.text("CURRENT_TIMESTAMP")
EMPTY_OBJECT = sa.text("'{}'")
EMPTY_LIST = sa.text("'[]'")


def _odoo_backend() -> sa.Column[Any]:
    """The Odoo backend a row's Odoo id belongs to: ids are unique per backend only."""
    return sa.Column("odoo_backend", sa.Text(), nullable=False, server_default=sa.text("'default'"))


def _created_updated() -> list[sa.Column[Any]]:
    return [
        sa.Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
        sa.Column("updated_at", UtcDateTime(), nullable=False, server_default=NOW),
    ]


# ---------------------------------------------------------------------------- app tables

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("company_id", sa.BigInteger()),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("email", sa.Text()),
    sa.Column("phone", sa.Text()),
    sa.Column("odoo_partner_id", sa.BigInteger()),
    _odoo_backend(),
    *_created_updated(),
    sa.Index(None, "company_id", "name"),
    sa.Index(None, "odoo_partner_id"),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id", ondelete="CASCADE")),
    sa.Column("name", sa.Text()),
    sa.Column("email", sa.Text()),
    sa.Column("phone", sa.Text()),
    sa.Column("odoo_partner_id", sa.BigInteger()),
    _odoo_backend(),
    *_created_updated(),
    sa.Index(None, "customer_id"),
    sa.Index(None, "odoo_partner_id"),
)

leads = sa.Table(
    "leads",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("company_id", sa.BigInteger()),
    sa.Column("customer_id", Id, sa.ForeignKey("customers.id", ondelete="SET NULL")),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("contact_name", sa.Text()),
    sa.Column("email", sa.Text()),
    sa.Column("phone", sa.Text()),
    sa.Column("stage", sa.Text()),
    sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'open'")),
    sa.Column("value", Money()),
    sa.Column("probability", sa.Float()),
    sa.Column("priority", sa.Text()),
    sa.Column("owner_name", sa.Text()),
    sa.Column("team_name", sa.Text()),
    sa.Column("tags", Json, nullable=False, server_default=EMPTY_LIST),  # list of tag names
    sa.Column("lost_reason", sa.Text()),
    sa.Column("deadline", sa.Date()),
    sa.Column("source", sa.Text(), nullable=False, server_default=sa.text("'app'")),
    sa.Column("source_email_id", sa.Text(), unique=True),
    sa.Column("odoo_id", sa.BigInteger()),
    _odoo_backend(),
    sa.Column("odoo_write_date", UtcDateTime()),
    sa.Column("metadata", Json, nullable=False, server_default=EMPTY_OBJECT),
    *_created_updated(),
    sa.Column("deleted_at", UtcDateTime()),
    sa.Column("sla_escalated_at", UtcDateTime()),
    # set when an operator discards this lead's change bound for Odoo (odoosync outbox discard)
    sa.Column("odoo_push_discarded_at", UtcDateTime()),
    sa.CheckConstraint("status IN ('open', 'won', 'lost')", name="status"),
    sa.CheckConstraint("source IN ('odoo', 'sheet', 'app')", name="source"),
    sa.UniqueConstraint("odoo_backend", "odoo_id"),
    sa.Index(None, "customer_id"),
    sa.Index(None, "company_id", "status"),
    sa.Index(None, "deadline"),
)

lead_activities = sa.Table(
    "lead_activities",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("activity_type", sa.Text(), nullable=False),  # note | comment | email | system
    sa.Column("title", sa.Text()),
    sa.Column("description", sa.Text()),
    sa.Column("created_by", sa.Text()),
    sa.Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("odoo_message_id", sa.BigInteger()),
    _odoo_backend(),
    sa.UniqueConstraint("odoo_backend", "odoo_message_id"),
    sa.Index(None, "lead_id", "created_at"),
)

scheduled_activities = sa.Table(
    "scheduled_activities",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("activity_type", sa.Text(), nullable=False, server_default=sa.text("'todo'")),
    sa.Column("summary", sa.Text()),
    sa.Column("note", sa.Text()),
    sa.Column("due_date", sa.Date()),
    sa.Column("assigned_name", sa.Text()),
    sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'planned'")),
    sa.Column("odoo_activity_id", sa.BigInteger()),
    _odoo_backend(),
    sa.Column("completed_at", UtcDateTime()),
    *_created_updated(),
    sa.CheckConstraint("status IN ('planned', 'done', 'cancelled')", name="status"),
    sa.UniqueConstraint("odoo_backend", "odoo_activity_id"),
    sa.Index(None, "lead_id"),
)

lead_events = sa.Table(
    "lead_events",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("lead_id", Id, sa.ForeignKey("leads.id", ondelete="CASCADE"), nullable=False),
    sa.Column("event_type", sa.Text(), nullable=False),
    sa.Column("payload", Json, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Index(None, "lead_id", "event_type"),
)

lead_sync_states = sa.Table(
    "lead_sync_states",
    metadata,
    sa.Column(
        "customer_id", Id, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("sheet_url", sa.Text(), nullable=False),
    sa.Column("column_map", Json, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("key_column", sa.Text()),
    sa.Column("schedule", sa.Text()),
    sa.Column("push_to_odoo", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("checksum", sa.Text()),
    sa.Column("etag", sa.Text()),
    sa.Column("is_paused", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("is_running", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("last_sync_at", UtcDateTime()),
    sa.Column("sync_duration_ms", sa.BigInteger()),
    sa.Column("rows_processed", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("rows_inserted", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("rows_updated", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("rows_deleted", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("error_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("retry_count", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("progress_percent", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("progress_message", sa.Text()),
    sa.Column("last_error", sa.Text()),
    sa.Column("refused_deletes", sa.Integer()),  # the mass-delete guard's last refusal (docs/sheets.md)
)

lead_sync_rows = sa.Table(
    "lead_sync_rows",
    metadata,
    # One row per sheet row of the customer's last sync, so the next one touches only what changed.
    sa.Column(
        "customer_id", Id, sa.ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    ),
    sa.Column("row_key", sa.Text(), primary_key=True),
    sa.Column("row_digest", sa.Text(), nullable=False),  # the row's cells by header name
    sa.Column("lead_digest", sa.Text(), nullable=False),  # the lead values it made
)


def _odoo_mirror(name: str, *typed: sa.Column[Any] | sa.Index) -> sa.Table:
    """A table mirroring one Odoo model: ``(backend, odoo_id)`` key, typed columns, the raw record."""
    return sa.Table(
        name,
        metadata,
        sa.Column("backend", sa.Text(), primary_key=True, server_default=sa.text("'default'")),
        sa.Column("odoo_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("name", sa.Text()),
        *typed,
        sa.Column("write_date", UtcDateTime()),
        sa.Column("raw", Json, nullable=False, server_default=EMPTY_OBJECT),
        sa.Column("synced_at", UtcDateTime(), nullable=False, server_default=NOW),
        sa.Column("deleted_at", UtcDateTime()),
    )


odoo_partners = _odoo_mirror(
    "odoo_partners",
    sa.Column("email", sa.Text()),
    sa.Column("phone", sa.Text()),
    sa.Column("is_company", sa.Boolean(), nullable=False, server_default=sa.false()),
)
odoo_stages = _odoo_mirror(
    "odoo_stages",
    sa.Column("sequence", sa.Integer()),
    sa.Column("is_won", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("fold", sa.Boolean(), nullable=False, server_default=sa.false()),
)
odoo_users = _odoo_mirror(
    "odoo_users",
    sa.Column("login", sa.Text()),
    sa.Column("email", sa.Text()),
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
)
odoo_teams = _odoo_mirror(
    "odoo_teams",
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
)
odoo_tags = _odoo_mirror(
    "odoo_tags",
    sa.Column("color", sa.Integer()),
)
odoo_lost_reasons = _odoo_mirror(
    "odoo_lost_reasons",
    sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
)
odoo_activity_types = _odoo_mirror(
    "odoo_activity_types",
    sa.Column("category", sa.Text()),
    sa.Column("keep_done", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("xml_id", sa.Text()),
)

REFERENCE_TABLES: dict[str, sa.Table] = {
    "res.partner": odoo_partners,
    "crm.stage": odoo_stages,
    "res.users": odoo_users,
    "crm.team": odoo_teams,
    "crm.tag": odoo_tags,
    "crm.lost.reason": odoo_lost_reasons,
    "mail.activity.type": odoo_activity_types,
}
"""Odoo model → the mirror table its pull stream writes."""

odoo_records = sa.Table(
    "odoo_records",
    metadata,
    sa.Column("backend", sa.Text(), primary_key=True),
    sa.Column("model", sa.Text(), primary_key=True),
    sa.Column("odoo_id", sa.BigInteger(), primary_key=True, autoincrement=False),
    sa.Column("write_date", UtcDateTime()),
    sa.Column("raw", Json, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("synced_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("deleted_at", UtcDateTime()),
)

# ---------------------------------------------------------------------------- ops tables

odoo_sync_runs = sa.Table(
    "odoo_sync_runs",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("job", sa.Text(), nullable=False),
    sa.Column("stream", sa.Text(), nullable=False),
    sa.Column("mode", sa.Text(), nullable=False),
    sa.Column("trigger", sa.Text(), nullable=False),
    sa.Column("backend", sa.Text(), nullable=False, server_default=sa.text("'default'")),
    sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'running'")),
    sa.Column("started_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("finished_at", UtcDateTime()),
    sa.Column("heartbeat_at", UtcDateTime()),
    sa.Column("fetched", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("inserted", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("updated", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("deleted", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("skipped", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("failed", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("rpc_calls", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("retries", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("rejected", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("duration_ms", sa.BigInteger()),
    sa.Column("error", sa.Text()),
    sa.Column("remaining", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("details", Json, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("holder", Json),  # the process running it (host, pid, PID namespace, boot token)
    sa.CheckConstraint(
        "status IN ('running', 'ok', 'partial', 'failed', 'skipped', 'interrupted', 'refused')", name="status"
    ),
    sa.Index(None, "stream", "started_at"),
    sa.Index(None, "status"),
    schema=OPS_SCHEMA,
)

odoo_outbox = sa.Table(
    "odoo_outbox",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("backend", sa.Text(), nullable=False, server_default=sa.text("'default'")),
    sa.Column("model", sa.Text(), nullable=False),
    sa.Column("operation", sa.Text(), nullable=False),
    sa.Column("local_table", sa.Text()),
    sa.Column("local_id", sa.BigInteger()),
    sa.Column("odoo_id", sa.BigInteger()),
    sa.Column("payload", Json, nullable=False, server_default=EMPTY_OBJECT),
    sa.Column("status", sa.Text(), nullable=False, server_default=sa.text("'queued'")),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
    sa.Column("next_run_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("last_error", sa.Text()),
    sa.Column("locked_by", sa.Text()),
    sa.Column("locked_until", UtcDateTime()),
    *_created_updated(),
    sa.CheckConstraint("operation IN ('create', 'write', 'unlink', 'call')", name="operation"),
    sa.CheckConstraint("status IN ('queued', 'processing', 'done', 'failed', 'discarded')", name="status"),
    sa.Index(None, "status", "next_run_at"),
    sa.Index(None, "local_table", "local_id"),
    sa.Index(None, "model", "odoo_id"),  # the pull's deleted-lead check (migration 0003)
    schema=OPS_SCHEMA,
)

odoo_sync_config = sa.Table(
    "odoo_sync_config",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("value", Json, nullable=False),
    schema=OPS_SCHEMA,
)

odoo_sync_rejects = sa.Table(
    "odoo_sync_rejects",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("backend", sa.Text(), nullable=False, server_default=sa.text("'default'")),
    sa.Column("stream", sa.Text(), nullable=False),
    sa.Column("odoo_id", sa.BigInteger(), nullable=False),
    sa.Column("error", sa.Text(), nullable=False),
    sa.Column("first_seen", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("last_seen", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("1")),
    sa.UniqueConstraint("backend", "stream", "odoo_id"),
    schema=OPS_SCHEMA,
)
"""Records Odoo holds that the database refused (a value out of a column's range...):
quarantined so the rest of the stream goes on, retried every run, removed once written."""

odoo_sync_checkpoints = sa.Table(
    "odoo_sync_checkpoints",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("cursor", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False, server_default=NOW),
    schema=OPS_SCHEMA,
)

odoo_sync_locks = sa.Table(
    "odoo_sync_locks",
    metadata,
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("holder", Json, nullable=False),  # {"host", "pid", "run_id", ...}
    sa.Column("acquired_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.Column("expires_at", UtcDateTime(), nullable=False),
    schema=OPS_SCHEMA,
)

# SQLite echo suppression: a row exists only inside a transaction opened with
# ``origin="pull"`` (inserted at its start, deleted before commit). SQLite serialises
# writers and other connections never see uncommitted rows, so an outbox trigger that
# tests ``EXISTS (SELECT 1 FROM odoo_sync_echo_guard)`` is true exactly for the pull's
# own writes. PostgreSQL uses the transaction-local setting ``odoosync.origin`` instead.
odoo_sync_echo_guard = sa.Table(
    "odoo_sync_echo_guard",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("origin", sa.Text(), nullable=False),
    sa.CheckConstraint("id = 1", name="one_row"),
    schema=OPS_SCHEMA,
)


# Conflicts met by the push engine (both sides changed a field since the last sync),
# one row per field, with the policy's decision. Written by odoosync/push/engine.py.
odoo_sync_conflicts = sa.Table(
    "odoo_sync_conflicts",
    metadata,
    sa.Column("id", Id, primary_key=True, autoincrement=True),
    sa.Column("backend", sa.Text(), nullable=False, server_default=sa.text("'default'")),
    sa.Column("model", sa.Text(), nullable=False),
    sa.Column("odoo_id", sa.BigInteger()),
    sa.Column("local_table", sa.Text()),
    sa.Column("local_id", sa.BigInteger()),
    sa.Column("field", sa.Text(), nullable=False),
    sa.Column("base_value", Json),
    sa.Column("app_value", Json),
    sa.Column("odoo_value", Json),
    sa.Column("policy", sa.Text(), nullable=False),
    sa.Column("winner", sa.Text(), nullable=False),
    sa.Column("outbox_ids", Json, nullable=False, server_default=EMPTY_LIST),
    sa.Column("created_at", UtcDateTime(), nullable=False, server_default=NOW),
    sa.CheckConstraint("winner IN ('app', 'odoo')", name="winner"),
    sa.Index(None, "model", "created_at"),
    schema=OPS_SCHEMA,
)


odoo_backends = sa.Table(
    "odoo_backends",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("url", sa.Text(), nullable=False),
    sa.Column("db", sa.Text(), nullable=False),
    sa.Column("login", sa.Text(), nullable=False),
    sa.Column("protocol", sa.Text(), nullable=False, server_default=sa.text("'auto'")),
    sa.Column("company_ids", Json, nullable=False, server_default=EMPTY_LIST),  # Odoo companies read; [] = all allowed
    sa.Column("app_company_id", sa.BigInteger()),  # the app's customers/leads company_id its rows get
    sa.Column("secret_env", sa.Text()),  # the secret by reference only: an environment variable's name
    sa.Column("secret_file", sa.Text()),  # ... or a file's path; never the secret itself
    *_created_updated(),
    sa.CheckConstraint("(secret_env IS NULL) <> (secret_file IS NULL)", name="one_secret_reference"),
    schema=OPS_SCHEMA,
)
"""Odoo databases synced besides the ``default`` one of the settings (``odoosync backends``)."""


def backend_column(table: sa.Table) -> sa.Column[Any]:
    """The column naming the Odoo backend a row of ``table`` belongs to (its Odoo ids are
    unique per backend only): ``backend`` on mirrors and ops tables, ``odoo_backend`` on
    app tables."""
    return table.c.backend if "backend" in table.c else table.c.odoo_backend


def metadata_for(dialect_name: str) -> sa.MetaData:
    """The schema as it is laid out on ``dialect_name``.

    PostgreSQL: ``metadata`` itself. SQLite has no schemas, so the ``ops`` tables are
    copied into the default schema (what ``schema_translate_map={"ops": None}`` does
    for statements at run time); Alembic compares against this copy.
    """
    if dialect_name != "sqlite":
        return metadata
    flat = sa.MetaData(naming_convention=NAMING_CONVENTION)
    for table in metadata.sorted_tables:
        table.to_metadata(flat, schema=None)  # type: ignore[arg-type]  # None is documented: "no schema"
    return flat


def row_level_security_statements() -> list[str]:
    """PostgreSQL DDL enabling row-level security on every table odoosync creates.

    Supabase exposes ``public`` to its anon key: without RLS, anyone holding that public
    key could read leads, e-mails and phones, and write rows the triggers queue to Odoo.
    With RLS on and no policy, only the tables' owner (the role that ran ``odoosync db
    upgrade``, which the sync uses) and superusers see rows; an app grants its own roles
    what they need with policies (``docs/operations.md``, "Security on Supabase"). Not
    ``FORCE``: the owner keeps bypassing it.
    """
    return [f"ALTER TABLE {table.fullname} ENABLE ROW LEVEL SECURITY" for table in metadata.sorted_tables]
