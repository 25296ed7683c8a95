"""Many Odoo backends in one app database: ``ops.odoo_backends``, and Odoo ids unique
per backend instead of globally.

* App tables holding Odoo ids get ``odoo_backend`` (default ``'default'``): ``leads``,
  ``lead_activities`` and ``scheduled_activities`` trade their unique Odoo id for a unique
  ``(odoo_backend, <odoo id>)``; ``customers`` and ``contacts`` carry it beside
  ``odoo_partner_id``.
* The Odoo mirrors (``odoo_partners``, ``odoo_stages`` ...) are keyed by ``(backend,
  odoo_id)`` as ``odoo_records`` already was.
* The outbox triggers queue each item under its row's backend.

Existing rows all belong to ``default``: the single-backend configuration keeps working
unchanged. Frozen like every revision: names are spelled out.

Revision ID: 0007_backends
Revises: 0006_rejects
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from odoosync.store import triggers

revision = "0007_backends"
down_revision = "0006_rejects"
branch_labels = None
depends_on = None

MIRRORS = (
    "odoo_partners",
    "odoo_stages",
    "odoo_users",
    "odoo_teams",
    "odoo_tags",
    "odoo_lost_reasons",
    "odoo_activity_types",
)
KEYED = (  # table, its Odoo id column (unique per backend from now on)
    ("leads", "odoo_id"),
    ("lead_activities", "odoo_message_id"),
    ("scheduled_activities", "odoo_activity_id"),
)


def _default() -> sa.TextClause:
    return sa.text("'default'")


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "odoo_backends",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("db", sa.Text(), nullable=False),
        sa.Column("login", sa.Text(), nullable=False),
        sa.Column("protocol", sa.Text(), server_default=sa.text("'auto'"), nullable=False),
        sa.Column("company_ids", json, server_default=sa.text("'[]'"), nullable=False),
        sa.Column("app_company_id", sa.BigInteger(), nullable=True),
        sa.Column("secret_env", sa.Text(), nullable=True),
        sa.Column("secret_file", sa.Text(), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.text("CURRENT_TIMESTAMP"), nullable=False
        ),
        sa.CheckConstraint(
            "(secret_env IS NULL) <> (secret_file IS NULL)", name="ck_odoo_backends_one_secret_reference"
        ),
        sa.PrimaryKeyConstraint("name", name="pk_odoo_backends"),
        schema=None if sqlite else "ops",
    )
    for statement in triggers.drop_statements(bind.dialect.name):  # SQLite rebuilds tables they name
        bind.exec_driver_sql(statement)
    for table in ("customers", "contacts"):
        op.add_column(table, sa.Column("odoo_backend", sa.Text(), server_default=_default(), nullable=False))
    for table, column in KEYED:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("odoo_backend", sa.Text(), server_default=_default(), nullable=False))
            batch.drop_constraint(f"uq_{table}_{column}", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_odoo_backend_{column}", ["odoo_backend", column])
    for table in MIRRORS:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("backend", sa.Text(), server_default=_default(), nullable=False))
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["backend", "odoo_id"])
    if not sqlite:
        # as every table odoosync creates (0004_reliability): Supabase exposes tables to its anon key
        bind.exec_driver_sql("ALTER TABLE ops.odoo_backends ENABLE ROW LEVEL SECURITY")
    for statement in triggers.create_statements(bind.dialect.name):
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for statement in triggers.drop_statements(bind.dialect.name):
        bind.exec_driver_sql(statement)
    for table in MIRRORS:
        op.execute(sa.text(f"DELETE FROM {table} WHERE backend <> 'default'"))
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"pk_{table}", type_="primary")
            batch.create_primary_key(f"pk_{table}", ["odoo_id"])
            batch.drop_column("backend")
    for table, column in KEYED:
        op.execute(sa.text(f"DELETE FROM {table} WHERE odoo_backend <> 'default'"))
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"uq_{table}_odoo_backend_{column}", type_="unique")
            batch.create_unique_constraint(f"uq_{table}_{column}", [column])
            batch.drop_column("odoo_backend")
    for table in ("customers", "contacts"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("odoo_backend")
    op.drop_table("odoo_backends", schema=None if sqlite else "ops")
    for statement in triggers.create_statements(bind.dialect.name, with_backend=False):
        bind.exec_driver_sql(statement)
