"""Checkpoints: where each stream resumes (``ops.odoo_sync_checkpoints``).

``put`` writes in the caller's transaction, so a page's rows and its checkpoint commit
together or not at all: a run killed between two pages resumes after the last committed
page, with nothing lost and nothing applied twice. ``reset`` and ``list_checkpoints``
are for operators (CLI, API) and run in their own short transactions.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from odoosync.models import Checkpoint
from odoosync.store.database import Store
from odoosync.store.schema import odoo_sync_checkpoints
from odoosync.store.upsert import upsert_rows

__all__ = ["get", "put", "reset", "list_checkpoints"]

_table = odoo_sync_checkpoints


def get(conn: sa.Connection, key: str) -> dict[str, Any] | None:
    """The stored cursor for ``key``, or None when the stream starts from scratch."""
    return conn.execute(sa.select(_table.c.cursor).where(_table.c.key == key)).scalar_one_or_none()


def put(conn: sa.Connection, key: str, cursor: dict[str, Any]) -> None:
    """Store ``cursor`` for ``key`` in the caller's transaction ``conn``."""
    if not isinstance(cursor, dict):
        raise TypeError(f"checkpoint {key!r}: the cursor must be a dict, not {type(cursor).__name__}")
    now = dt.datetime.now(dt.UTC)
    upsert_rows(conn, _table, [{"key": key, "cursor": cursor, "updated_at": now}], key=["key"], only_if_changed=False)


def reset(store: Store, key: str) -> bool:
    """Forget the cursor for ``key`` (the next run starts from scratch). True if there was one."""
    with store.transaction() as conn:
        return conn.execute(sa.delete(_table).where(_table.c.key == key)).rowcount > 0


def list_checkpoints(store: Store, prefix: str = "") -> list[Checkpoint]:
    """Every stored checkpoint whose key starts with ``prefix``, by key."""
    query = sa.select(_table).order_by(_table.c.key)
    if prefix:
        query = query.where(_table.c.key.startswith(prefix, autoescape=True))
    with store.connect() as conn:
        rows = conn.execute(query).mappings().all()
    return [Checkpoint(key=r["key"], cursor=r["cursor"], updated_at=r["updated_at"]) for r in rows]
