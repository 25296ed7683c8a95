"""Push engine: outbox triggers on the synced app tables, and ``ops.odoo_sync_conflicts``.

The trigger DDL is generated from one definition, ``odoosync.store.triggers``, for the
dialect being migrated; the statements are frozen here at run time from that module,
whose ``WATCHED`` list changes only together with a new revision.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from odoosync.store import triggers

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _ops_schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "odoo_sync_conflicts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("backend", sa.Text(), server_default=sa.text("'default'"), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.Column("odoo_id", sa.BigInteger(), nullable=True),
        sa.Column("local_table", sa.Text(), nullable=True),
        sa.Column("local_id", sa.BigInteger(), nullable=True),
        sa.Column("field", sa.Text(), nullable=False),
        sa.Column("base_value", json, nullable=True),
        sa.Column("app_value", json, nullable=True),
        sa.Column("odoo_value", json, nullable=True),
        sa.Column("policy", sa.Text(), nullable=False),
        sa.Column("winner", sa.Text(), nullable=False),
        sa.Column("outbox_ids", json, server_default=sa.text("'[]'"), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint("winner IN ('app', 'odoo')", name=op.f("ck_odoo_sync_conflicts_winner")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_odoo_sync_conflicts")),
        schema=_ops_schema(),
    )
    op.create_index(
        op.f("ix_odoo_sync_conflicts_model_created_at"),
        "odoo_sync_conflicts",
        ["model", "created_at"],
        unique=False,
        schema=_ops_schema(),
    )
    bind = op.get_bind()
    for statement in triggers.create_statements(bind.dialect.name, with_backend=False):
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    for statement in triggers.drop_statements(bind.dialect.name):
        bind.exec_driver_sql(statement)
    op.drop_index(
        op.f("ix_odoo_sync_conflicts_model_created_at"), table_name="odoo_sync_conflicts", schema=_ops_schema()
    )
    op.drop_table("odoo_sync_conflicts", schema=_ops_schema())
