"""Row-level security on every table odoosync creates (PostgreSQL), outbox triggers that
run as their owner, and runs that know their process (``holder``) and can end
``interrupted``.

Supabase exposes the ``public`` schema to its anon key; with RLS off, leads, contacts'
e-mails and phones and chatter were readable by anyone with that key. RLS is enabled
without policies: the tables' owner (the sync) bypasses it, an app adds the policies it
wants. The outbox trigger functions become ``SECURITY DEFINER`` so a write an app's role
is allowed to make is queued even though that role may not touch ``ops.odoo_outbox``.

The table list is frozen here (not read from ``odoosync.store.schema``). SQLite: no RLS;
the runs table is rebuilt (batch mode) for its new CHECK constraint.

Revision ID: 0004_reliability
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from odoosync.store import triggers

revision = "0004_reliability"
down_revision = "0003"
branch_labels = None
depends_on = None

TABLES = (
    "customers",
    "contacts",
    "leads",
    "lead_activities",
    "scheduled_activities",
    "lead_events",
    "lead_sync_states",
    "odoo_partners",
    "odoo_stages",
    "odoo_users",
    "odoo_teams",
    "odoo_tags",
    "odoo_lost_reasons",
    "odoo_activity_types",
    "odoo_records",
    "ops.odoo_sync_runs",
    "ops.odoo_outbox",
    "ops.odoo_sync_config",
    "ops.odoo_sync_checkpoints",
    "ops.odoo_sync_locks",
    "ops.odoo_sync_echo_guard",
    "ops.odoo_sync_conflicts",
)


RUN_STATUSES = "'running', 'ok', 'partial', 'failed', 'skipped'"


def _runs(statuses: str, *, add_holder: bool | None) -> None:
    bind = op.get_bind()
    schema = None if bind.dialect.name == "sqlite" else "ops"
    with op.batch_alter_table("odoo_sync_runs", schema=schema) as batch:
        if add_holder:
            json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
            batch.add_column(sa.Column("holder", json, nullable=True))
        elif add_holder is False:
            batch.drop_column("holder")
        batch.drop_constraint(op.f("ck_odoo_sync_runs_status"), type_="check")
        batch.create_check_constraint(op.f("ck_odoo_sync_runs_status"), sa.text(f"status IN ({statuses})"))


def upgrade() -> None:
    _runs(RUN_STATUSES + ", 'interrupted'", add_holder=True)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        bind.exec_driver_sql(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    for statement in triggers.create_statements("postgresql", with_backend=False):
        bind.exec_driver_sql(statement)


def downgrade() -> None:
    op.execute(
        sa.text(
            f"UPDATE {'ops.' if op.get_bind().dialect.name != 'sqlite' else ''}odoo_sync_runs "
            "SET status = 'partial' WHERE status = 'interrupted'"
        )
    )
    _runs(RUN_STATUSES, add_holder=False)
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    for table in TABLES:
        bind.exec_driver_sql(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
