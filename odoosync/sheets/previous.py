"""``lead_sync_rows``: the rows of each customer's last sync, so the next one costs what changed.

One row per sheet row that made a lead: its key, the digest of its cells by header name
(``ColumnPlan.row_digest``) and the digest of the lead values it made. The next sync
stages them first; a sheet row whose cells digest is among them is the same row as last
time: it is not mapped again and its lead is not read or written. Only changed rows and
vanished keys reach the ``leads`` table. Written in the diff's transaction (so it always
describes the leads as committed); forgotten when the sheet's configuration is replaced
or removed, which makes the next sync a full diff.
"""

from __future__ import annotations

import sqlalchemy as sa

from odoosync.sheets.stage import Stage
from odoosync.store.schema import lead_sync_rows
from odoosync.store.upsert import upsert_rows

__all__ = ["load_previous", "remember", "forget"]

_READ_CHUNK = 5000
_rows = lead_sync_rows


def load_previous(conn: sa.Connection, stage: Stage, customer_id: int) -> None:
    """Copy the customer's last-sync rows into the stage, a page at a time by key (memory
    bounded; works on a read connection in autocommit: no server-side cursor needed)."""
    last = ""
    while True:
        page = conn.execute(
            sa.select(_rows.c.row_key, _rows.c.row_digest, _rows.c.lead_digest)
            .where(_rows.c.customer_id == customer_id, _rows.c.row_key > last)
            .order_by(_rows.c.row_key)
            .limit(_READ_CHUNK)
        ).all()
        if not page:
            break
        stage.add_previous([tuple(row) for row in page])
        last = page[-1][0]
    stage.index_previous()


def remember(conn: sa.Connection, stage: Stage, customer_id: int, *, batch_rows: int) -> None:
    """Make ``lead_sync_rows`` this sync's rows: changed ones written, vanished ones forgotten."""
    for chunk in stage.rows_to_remember(batch_rows):
        upsert_rows(
            conn,
            _rows,
            [
                {"customer_id": customer_id, "row_key": key, "row_digest": row_digest, "lead_digest": digest}
                for key, row_digest, digest in chunk
            ],
            key=["customer_id", "row_key"],
            update=["row_digest", "lead_digest"],
            only_if_changed=False,
        )
    for keys in stage.gone_keys(batch_rows):
        conn.execute(sa.delete(_rows).where(_rows.c.customer_id == customer_id, _rows.c.row_key.in_(keys)))


def forget(conn: sa.Connection, customer_id: int) -> None:
    """Forget the customer's last-sync rows: the next sync diffs against every lead."""
    conn.execute(sa.delete(_rows).where(_rows.c.customer_id == customer_id))
