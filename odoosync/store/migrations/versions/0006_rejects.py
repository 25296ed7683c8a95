"""Quarantine of records the database refuses: ``ops.odoo_sync_rejects``, the runs' new
``rejected`` counter, and ``leads.value`` unbounded on PostgreSQL (Odoo's monetary columns
are; ``expected_revenue = 1e17`` overflowed NUMERIC(16, 2) and stopped the leads stream).

Frozen like every revision: names are spelled out, nothing is imported from
``odoosync.store.schema``.

Revision ID: 0006_rejects
Revises: 0005_sheets
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_rejects"
down_revision = "0005_sheets"
branch_labels = None
depends_on = None


def _ops_schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def _now() -> sa.TextClause:
    return sa.text("CURRENT_TIMESTAMP")


def upgrade() -> None:
    schema = _ops_schema()
    op.create_table(
        "odoo_sync_rejects",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("backend", sa.Text(), nullable=False, server_default=sa.text("'default'")),
        sa.Column("stream", sa.Text(), nullable=False),
        sa.Column("odoo_id", sa.BigInteger(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False, server_default=_now()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.PrimaryKeyConstraint("id", name="pk_odoo_sync_rejects"),
        sa.UniqueConstraint("backend", "stream", "odoo_id", name="uq_odoo_sync_rejects_backend_stream_odoo_id"),
        schema=schema,
    )
    with op.batch_alter_table("odoo_sync_runs", schema=schema) as batch:
        batch.add_column(sa.Column("rejected", sa.Integer(), nullable=False, server_default=sa.text("0")))
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("leads", "value", type_=sa.Numeric(), existing_type=sa.Numeric(16, 2))
        # as every table odoosync creates (0004_reliability): Supabase exposes tables to its anon key
        op.get_bind().exec_driver_sql("ALTER TABLE ops.odoo_sync_rejects ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    schema = _ops_schema()
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("leads", "value", type_=sa.Numeric(16, 2), existing_type=sa.Numeric())
    with op.batch_alter_table("odoo_sync_runs", schema=schema) as batch:
        batch.drop_column("rejected")
    op.drop_table("odoo_sync_rejects", schema=schema)
