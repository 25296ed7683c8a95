"""The diff of one customer's sheet against its sheet leads, applied in multi-row batches.

Runs inside the caller's transaction (one transaction for the whole sync, so a failed or
paused sync changes no lead):

1. the leads it needs are staged (``load_existing``): those of changed rows and vanished
   keys when the last sync's rows are known (``previous.py``), else every sheet lead of
   the customer (``source_email_id`` ``sheet_<customer>_...``, deleted ones included),
   streamed: key, lead id, the digest stored in ``metadata.sheet.digest``, deleted or not;
2. rows with no lead are inserted, rows whose digest differs (or whose lead was
   soft-deleted: a restore) are updated by lead id; each batch is one ``executemany``
   of one statement compiled once (SQLAlchemy's "insertmanyvalues" / the driver turn
   it into multi-row batches), never a statement built per row;
3. live leads whose row left the sheet get ``deleted_at`` (one ``UPDATE ... WHERE id IN``
   per batch): soft-deleted, never dropped.

Only the columns a sheet maps are written; ``status``, ``odoo_id`` and the rest belong
to the app and to Odoo. ``between_batches`` is called after every batch (progress,
pause) and may raise to abort; the caller's transaction then rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.sheets.mapping import LEAD_FIELDS, source_email_id
from odoosync.sheets.stage import Stage
from odoosync.store.schema import leads

__all__ = ["DiffCounts", "load_existing", "apply_diff", "sheet_leads_filter", "DEFAULT_BATCH_ROWS"]

DEFAULT_BATCH_ROWS = 500
_READ_CHUNK = 2000
_SHEET_COLUMNS = tuple(LEAD_FIELDS)


@dataclass(frozen=True)
class DiffCounts:
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    restored: int = 0  # included in ``updated``

    @property
    def changed(self) -> bool:
        return bool(self.inserted or self.updated or self.deleted)


def sheet_leads_filter(customer_id: int) -> sa.ColumnElement[bool]:
    """SQL: the leads of ``customer_id``'s sheet (by ``source_email_id``, deleted included)."""
    prefix = source_email_id(customer_id, "").replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return leads.c.source_email_id.like(prefix + "%", escape="\\")


def load_existing(conn: sa.Connection, stage: Stage, customer_id: int, *, batch_rows: int = DEFAULT_BATCH_ROWS) -> None:
    """Stage the leads the diff needs: (key, lead id, digest, deleted).

    With a previous sync to go by (``previous.py``), only the leads of changed rows and of
    keys that left the sheet, looked up by ``source_email_id`` (unique, indexed); a
    one-cell change in a 100k-row sheet reads one lead. Without one (first sync, replaced
    configuration), every sheet lead of the customer, streamed.
    """
    prefix = source_email_id(customer_id, "")
    if stage.previous:
        for keys in itertools.chain(stage.changed_keys(batch_rows), stage.gone_keys(batch_rows)):
            found = conn.execute(
                sa.select(leads.c.source_email_id, leads.c.id, leads.c.metadata, leads.c.deleted_at).where(
                    leads.c.source_email_id.in_([source_email_id(customer_id, key) for key in keys])
                )
            )
            stage.add_existing(_existing(prefix, found.all()))
        return
    existing = conn.execute(
        sa.select(leads.c.source_email_id, leads.c.id, leads.c.metadata, leads.c.deleted_at)
        .where(sheet_leads_filter(customer_id))
        .execution_options(yield_per=_READ_CHUNK)  # streamed: memory bounded by the chunk
    )
    for chunk in existing.partitions():
        stage.add_existing(_existing(prefix, chunk))


def _existing(prefix: str, rows: Iterable[Any]) -> list[tuple[str, int, str | None, bool]]:
    return [
        (sid[len(prefix) :], lead_id, ((meta or {}).get("sheet") or {}).get("digest"), deleted is not None)
        for sid, lead_id, meta, deleted in rows
    ]


def apply_diff(
    conn: sa.Connection,
    stage: Stage,
    customer_id: int,
    *,
    now: dt.datetime,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    between_batches: Callable[[str, int], None] = lambda phase, done: None,
) -> DiffCounts:
    """Make the customer's sheet leads equal the staged sheet (after ``load_existing``)."""
    inserted = updated = deleted = 0
    for batch in stage.new_rows(batch_rows):
        # executemany of one cached statement: the driver sends it as multi-row batches
        conn.execute(_INSERT, [_lead_row(customer_id, key, values) for key, values in batch])
        inserted += len(batch)
        between_batches("insert", inserted)
    restored = stage.restorable()
    for changes in stage.changed_rows(batch_rows):
        conn.execute(
            _UPDATE,
            [
                {**_sheet_values(customer_id, key, values), "lead_id": lead_id, "now": now}
                for lead_id, key, values in changes
            ],
        )
        updated += len(changes)
        between_batches("update", updated)
    for ids in stage.vanished_leads(batch_rows):
        result = conn.execute(
            sa.update(leads)
            .where(leads.c.id.in_(ids), leads.c.deleted_at.is_(None))
            .values(deleted_at=now, updated_at=now)
        )
        deleted += result.rowcount
        between_batches("delete", deleted)
    return DiffCounts(inserted, updated, deleted, restored)


def _sheet_values(customer_id: int, key: str, values: dict[str, Any]) -> dict[str, Any]:
    row = {name: values.get(name) for name in _SHEET_COLUMNS}
    row["tags"] = row["tags"] or []
    row["metadata"] = {
        "sheet": {"customer_id": customer_id, "key": key, "digest": values["digest"], "extra": values["extra"]}
    }
    return row


def _lead_row(customer_id: int, key: str, values: dict[str, Any]) -> dict[str, Any]:
    return {
        **_sheet_values(customer_id, key, values),
        "source": "sheet",
        "source_email_id": source_email_id(customer_id, key),
        "customer_id": customer_id,
    }


_INSERT = sa.insert(leads)
_UPDATE = (
    sa.update(leads)
    .where(leads.c.id == sa.bindparam("lead_id"))
    .values(
        {name: sa.bindparam(name, type_=leads.c[name].type) for name in (*_SHEET_COLUMNS, "metadata")}
        | {"deleted_at": None, "updated_at": sa.bindparam("now", type_=leads.c.updated_at.type)}
    )
)
