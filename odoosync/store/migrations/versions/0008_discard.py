"""Discarded outbox items: ``odoo_outbox.status`` may be ``discarded`` (an operator gave up
on a change that can only fail again), and ``leads.odoo_push_discarded_at`` tells the app
which of its leads were not sent to Odoo.

Frozen like every revision: names are spelled out. On SQLite the outbox's CHECK changes
by copying the table, so the outbox triggers (which insert into it) are dropped first and
created again after, as 0004 does on PostgreSQL.

Revision ID: 0008_discard
Revises: 0007_backends
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

from odoosync.store import triggers

revision = "0008_discard"
down_revision = "0007_backends"
branch_labels = None
depends_on = None

_BEFORE = "'queued', 'processing', 'done', 'failed'"


@contextmanager
def _sqlite_triggers_set_aside() -> Iterator[None]:
    """SQLite copies a table to change it: the triggers that name it are dropped, then made again."""
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for statement in triggers.drop_statements("sqlite") if sqlite else ():
        bind.exec_driver_sql(statement)
    yield
    for statement in triggers.create_statements("sqlite") if sqlite else ():
        bind.exec_driver_sql(statement)


def _ops() -> str | None:
    return None if op.get_bind().dialect.name == "sqlite" else "ops"


def _outbox_statuses(statuses: str) -> None:
    with op.batch_alter_table("odoo_outbox", schema=_ops()) as batch:
        batch.drop_constraint(op.f("ck_odoo_outbox_status"), type_="check")
        batch.create_check_constraint(op.f("ck_odoo_outbox_status"), sa.text(f"status IN ({statuses})"))


def upgrade() -> None:
    op.add_column("leads", sa.Column("odoo_push_discarded_at", sa.DateTime(timezone=True), nullable=True))
    with _sqlite_triggers_set_aside():
        _outbox_statuses(_BEFORE + ", 'discarded'")


def downgrade() -> None:
    outbox = sa.table("odoo_outbox", sa.column("status"), schema=_ops())
    op.execute(outbox.update().where(outbox.c.status == "discarded").values(status="failed"))
    with _sqlite_triggers_set_aside():
        _outbox_statuses(_BEFORE)
        with op.batch_alter_table("leads") as batch:
            batch.drop_column("odoo_push_discarded_at")
