"""Index ``ops.odoo_outbox (model, odoo_id)``: the pull's deleted-lead check looks up a
page's Odoo ids there (``streams/leads.py``), and done items are kept as tombstones, so
the table only grows.

Frozen like every revision: names are spelled out, nothing is imported from
``odoosync.store.schema``.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "ix_odoo_outbox_model_odoo_id"


def _ops_schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def upgrade() -> None:
    op.create_index(INDEX, "odoo_outbox", ["model", "odoo_id"], unique=False, schema=_ops_schema())


def downgrade() -> None:
    op.drop_index(INDEX, table_name="odoo_outbox", schema=_ops_schema())
