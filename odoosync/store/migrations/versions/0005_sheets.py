"""Sheets safety and cost: ``lead_sync_states.refused_deletes`` and ``lead_sync_rows``.

* ``refused_deletes``: how many leads the last sync would have deleted when the
  mass-delete guard refused it (NULL otherwise), for the status API and the dashboard.
* ``lead_sync_rows``: one row per sheet row of the last sync (its key, the digest of its
  cells by header name, the digest of the lead it made), so a sync maps and writes only
  the rows that changed.
* ``ops.odoo_sync_runs.status`` may be ``refused`` (a sheet sync the mass-delete guard
  refused: nothing was changed, the operator must accept it).
* PostgreSQL: a statement-level trigger on ``leads`` that sends ``NOTIFY
  odoosync_leads_changed`` at commit, so the leads cache of any process hears of any
  writer (``odoosync/store/data_version.py``). SQLite needs none (``PRAGMA data_version``).

Frozen like every revision: names are spelled out, nothing is imported from
``odoosync.store.schema``.

Revision ID: 0005_sheets
Revises: 0004_reliability
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_sheets"
down_revision = "0004_reliability"
branch_labels = None
depends_on = None


_NOTIFY_FUNCTION = """
CREATE OR REPLACE FUNCTION ops.odoosync_leads_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('odoosync_leads_changed', '');
  RETURN NULL;
END $$
"""
_NOTIFY_TRIGGER = """
CREATE TRIGGER odoosync_leads_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON leads
FOR EACH STATEMENT EXECUTE FUNCTION ops.odoosync_leads_changed()
"""


_RUN_STATUSES = "status IN ('running', 'ok', 'partial', 'failed', 'skipped', 'interrupted'{})"  # 0004_reliability's


def _ops_schema() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def _run_statuses(refused: bool) -> None:
    with op.batch_alter_table("odoo_sync_runs", schema=_ops_schema()) as batch:
        batch.drop_constraint(op.f("ck_odoo_sync_runs_status"), type_="check")
        batch.create_check_constraint(
            op.f("ck_odoo_sync_runs_status"), _RUN_STATUSES.format(", 'refused'" if refused else "")
        )


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_NOTIFY_FUNCTION)
        op.execute(_NOTIFY_TRIGGER)
    _run_statuses(refused=True)
    with op.batch_alter_table("lead_sync_states") as batch:
        batch.add_column(sa.Column("refused_deletes", sa.Integer(), nullable=True))
    op.create_table(
        "lead_sync_rows",
        sa.Column("customer_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("row_digest", sa.Text(), nullable=False),
        sa.Column("lead_digest", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_lead_sync_rows_customer_id_customers"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("customer_id", "row_key", name=op.f("pk_lead_sync_rows")),
    )
    if op.get_bind().dialect.name == "postgresql":  # as every table odoosync creates (0004_reliability)
        op.execute("ALTER TABLE lead_sync_rows ENABLE ROW LEVEL SECURITY")


def downgrade() -> None:
    op.execute(
        sa.text(
            f"UPDATE {'ops.' if _ops_schema() else ''}odoo_sync_runs SET status = 'failed' WHERE status = 'refused'"
        )
    )
    _run_statuses(refused=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS odoosync_leads_changed ON leads")
        op.execute("DROP FUNCTION IF EXISTS ops.odoosync_leads_changed()")
    op.drop_table("lead_sync_rows")
    with op.batch_alter_table("lead_sync_states") as batch:
        batch.drop_column("refused_deletes")
