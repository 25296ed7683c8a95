"""Initial schema: every table of ``odoosync.store.schema`` as of version 0.1.

Runs on PostgreSQL (ops tables in the ``ops`` schema, created here) and on SQLite (ops
tables in the same file: no schema there). Frozen: later changes get their own
revision, never an edit here.

Revision ID: 0001
Revises:
Create Date: 2026-11-23 12:17:36.180051
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _ops_schema() -> str | None:
    """SQLite has no schemas: there the ops tables live in the same file."""
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def upgrade() -> None:
    ops = _ops_schema()
    if ops is not None:
        op.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {ops}"))
    op.create_table(
        "customers",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("odoo_partner_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
    )
    op.create_index(op.f("ix_customers_company_id_name"), "customers", ["company_id", "name"], unique=False)
    op.create_index(op.f("ix_customers_odoo_partner_id"), "customers", ["odoo_partner_id"], unique=False)
    op.create_table(
        "odoo_activity_types",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("category", sa.Text(), nullable=True),
        sa.Column("keep_done", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("xml_id", sa.Text(), nullable=True),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_activity_types")),
    )
    op.create_table(
        "odoo_lost_reasons",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_lost_reasons")),
    )
    op.create_table(
        "odoo_partners",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("is_company", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_partners")),
    )
    op.create_table(
        "odoo_records",
        sa.Column("backend", sa.Text(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("backend", "model", "odoo_id", name=op.f("pk_odoo_records")),
    )
    op.create_table(
        "odoo_stages",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("is_won", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("fold", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_stages")),
    )
    op.create_table(
        "odoo_tags",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("color", sa.Integer(), nullable=True),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_tags")),
    )
    op.create_table(
        "odoo_teams",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_teams")),
    )
    op.create_table(
        "odoo_users",
        sa.Column("odoo_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("login", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "raw",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("odoo_id", name=op.f("pk_odoo_users")),
    )
    op.create_table(
        "odoo_outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("backend", sa.Text(), server_default=sa.text("'default'"), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("operation", sa.Text(), nullable=False),
        sa.Column("local_table", sa.Text(), nullable=True),
        sa.Column("local_id", sa.BigInteger(), nullable=True),
        sa.Column("odoo_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default=sa.text("'queued'"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "next_run_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("locked_by", sa.Text(), nullable=True),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint("operation IN ('create', 'write', 'unlink', 'call')", name=op.f("ck_odoo_outbox_operation")),
        sa.CheckConstraint("status IN ('queued', 'processing', 'done', 'failed')", name=op.f("ck_odoo_outbox_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_outbox")),
        schema=ops,
    )
    op.create_index(
        op.f("ix_odoo_outbox_local_table_local_id"),
        "odoo_outbox",
        ["local_table", "local_id"],
        unique=False,
        schema=ops,
    )
    op.create_index(
        op.f("ix_odoo_outbox_status_next_run_at"), "odoo_outbox", ["status", "next_run_at"], unique=False, schema=ops
    )
    op.create_table(
        "odoo_sync_checkpoints",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "cursor", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_odoo_sync_checkpoints")),
        schema=ops,
    )
    op.create_table(
        "odoo_sync_config",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "value", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_odoo_sync_config")),
        schema=ops,
    )
    op.create_table(
        "odoo_sync_echo_guard",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.Text(), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_odoo_sync_echo_guard_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_sync_echo_guard")),
        schema=ops,
    )
    op.create_table(
        "odoo_sync_locks",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column(
            "holder", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "acquired_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_odoo_sync_locks")),
        schema=ops,
    )
    op.create_table(
        "odoo_sync_runs",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("job", sa.Text(), nullable=False),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("mode", sa.Text(), nullable=False),
        sa.Column("trigger", sa.Text(), nullable=False),
        sa.Column("backend", sa.Text(), server_default=sa.text("'default'"), nullable=False),
        sa.Column("status", sa.Text(), server_default=sa.text("'running'"), nullable=False),
        sa.Column(
            "started_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fetched", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("inserted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("deleted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("skipped", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("failed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rpc_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("remaining", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "status IN ('running', 'ok', 'partial', 'failed', 'skipped')", name=op.f("ck_odoo_sync_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_sync_runs")),
        schema=ops,
    )
    op.create_index(op.f("ix_odoo_sync_runs_status"), "odoo_sync_runs", ["status"], unique=False, schema=ops)
    op.create_index(
        op.f("ix_odoo_sync_runs_stream_started_at"),
        "odoo_sync_runs",
        ["stream", "started_at"],
        unique=False,
        schema=ops,
    )
    op.create_table(
        "contacts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("odoo_partner_id", sa.BigInteger(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_contacts_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
    )
    op.create_index(op.f("ix_contacts_customer_id"), "contacts", ["customer_id"], unique=False)
    op.create_index(op.f("ix_contacts_odoo_partner_id"), "contacts", ["odoo_partner_id"], unique=False)
    op.create_table(
        "lead_sync_states",
        sa.Column(
            "customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("sheet_url", sa.Text(), nullable=False),
        sa.Column(
            "column_map",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column("key_column", sa.Text(), nullable=True),
        sa.Column("schedule", sa.Text(), nullable=True),
        sa.Column("push_to_odoo", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("checksum", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("is_paused", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("is_running", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("last_sync_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sync_duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("rows_processed", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_updated", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("rows_deleted", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("error_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retry_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("progress_percent", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("progress_message", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_lead_sync_states_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_lead_sync_states")),
    )
    op.create_table(
        "leads",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("company_id", sa.BigInteger(), nullable=True),
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("email", sa.Text(), nullable=True),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("stage", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'open'"), nullable=False),
        sa.Column("value", sa.Numeric(16, 2), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("priority", sa.Text(), nullable=True),
        sa.Column("owner_name", sa.Text(), nullable=True),
        sa.Column("team_name", sa.Text(), nullable=True),
        sa.Column(
            "tags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'[]'"),
            nullable=False,
        ),
        sa.Column("lost_reason", sa.Text(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        sa.Column("source", sa.Text(), server_default=sa.text("'app'"), nullable=False),
        sa.Column("source_email_id", sa.Text(), nullable=True),
        sa.Column("odoo_id", sa.BigInteger(), nullable=True),
        sa.Column("odoo_write_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "metadata",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sla_escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("source IN ('odoo', 'sheet', 'app')", name=op.f("ck_leads_source")),
        sa.CheckConstraint("status IN ('open', 'won', 'lost')", name=op.f("ck_leads_status")),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_leads_customer_id_customers"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
        sa.UniqueConstraint("odoo_id", name=op.f("uq_leads_odoo_id")),
        sa.UniqueConstraint("source_email_id", name=op.f("uq_leads_source_email_id")),
    )
    op.create_index(op.f("ix_leads_company_id_status"), "leads", ["company_id", "status"], unique=False)
    op.create_index(op.f("ix_leads_customer_id"), "leads", ["customer_id"], unique=False)
    op.create_index(op.f("ix_leads_deadline"), "leads", ["deadline"], unique=False)
    op.create_table(
        "lead_activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity_type", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column("odoo_message_id", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_activities_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_activities")),
        sa.UniqueConstraint("odoo_message_id", name=op.f("uq_lead_activities_odoo_message_id")),
    )
    op.create_index(
        op.f("ix_lead_activities_lead_id_created_at"), "lead_activities", ["lead_id", "created_at"], unique=False
    )
    op.create_table(
        "lead_events",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            server_default=sa.text("'{}'"),
            nullable=False,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_lead_events_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_events")),
    )
    op.create_index(op.f("ix_lead_events_lead_id_event_type"), "lead_events", ["lead_id", "event_type"], unique=False)
    op.create_table(
        "scheduled_activities",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("activity_type", sa.Text(), server_default=sa.text("'todo'"), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("assigned_name", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default=sa.text("'planned'"), nullable=False),
        sa.Column("odoo_activity_id", sa.BigInteger(), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint("status IN ('planned', 'done', 'cancelled')", name=op.f("ck_scheduled_activities_status")),
        sa.ForeignKeyConstraint(
            ["lead_id"], ["leads.id"], name=op.f("fk_scheduled_activities_lead_id_leads"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_activities")),
        sa.UniqueConstraint("odoo_activity_id", name=op.f("uq_scheduled_activities_odoo_activity_id")),
    )
    op.create_index(op.f("ix_scheduled_activities_lead_id"), "scheduled_activities", ["lead_id"], unique=False)


def downgrade() -> None:
    ops = _ops_schema()
    op.drop_index(op.f("ix_scheduled_activities_lead_id"), table_name="scheduled_activities")
    op.drop_table("scheduled_activities")
    op.drop_index(op.f("ix_lead_events_lead_id_event_type"), table_name="lead_events")
    op.drop_table("lead_events")
    op.drop_index(op.f("ix_lead_activities_lead_id_created_at"), table_name="lead_activities")
    op.drop_table("lead_activities")
    op.drop_index(op.f("ix_leads_deadline"), table_name="leads")
    op.drop_index(op.f("ix_leads_customer_id"), table_name="leads")
    op.drop_index(op.f("ix_leads_company_id_status"), table_name="leads")
    op.drop_table("leads")
    op.drop_table("lead_sync_states")
    op.drop_index(op.f("ix_contacts_odoo_partner_id"), table_name="contacts")
    op.drop_index(op.f("ix_contacts_customer_id"), table_name="contacts")
    op.drop_table("contacts")
    op.drop_index(op.f("ix_odoo_sync_runs_stream_started_at"), table_name="odoo_sync_runs", schema=ops)
    op.drop_index(op.f("ix_odoo_sync_runs_status"), table_name="odoo_sync_runs", schema=ops)
    op.drop_table("odoo_sync_runs", schema=ops)
    op.drop_table("odoo_sync_locks", schema=ops)
    op.drop_table("odoo_sync_echo_guard", schema=ops)
    op.drop_table("odoo_sync_config", schema=ops)
    op.drop_table("odoo_sync_checkpoints", schema=ops)
    op.drop_index(op.f("ix_odoo_outbox_status_next_run_at"), table_name="odoo_outbox", schema=ops)
    op.drop_index(op.f("ix_odoo_outbox_local_table_local_id"), table_name="odoo_outbox", schema=ops)
    op.drop_table("odoo_outbox", schema=ops)
    op.drop_table("odoo_users")
    op.drop_table("odoo_teams")
    op.drop_table("odoo_tags")
    op.drop_table("odoo_stages")
    op.drop_table("odoo_records")
    op.drop_table("odoo_partners")
    op.drop_table("odoo_lost_reasons")
    op.drop_table("odoo_activity_types")
    op.drop_index(op.f("ix_customers_odoo_partner_id"), table_name="customers")
    op.drop_index(op.f("ix_customers_company_id_name"), table_name="customers")
    op.drop_table("customers")
