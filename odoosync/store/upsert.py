"""Multi-row upsert: insert new rows, update changed ones, leave unchanged ones alone.

One ``INSERT ... ON CONFLICT (key) DO UPDATE SET ... WHERE <changed>`` statement per
chunk (chunks only because of the drivers' bound-parameter limits), never one statement
per row. "Changed" compares the updated columns with ``IS DISTINCT FROM`` (``IS NOT`` on
SQLite), so an unchanged row is not written at all: no new row version on PostgreSQL, no
``updated_at`` bump, nothing for triggers to see.

Telling inserted from updated rows:

* PostgreSQL: ``RETURNING (xmax = 0)``, true for a freshly inserted row version.
* SQLite has no such column, so the keys of the chunk that already exist are read first
  (one indexed ``SELECT``); the upsert's ``RETURNING`` then yields every row it wrote,
  and ``updated = written - inserted``.

``touch`` columns (default: whichever of ``updated_at`` / ``synced_at`` the table has
and the rows do not set) are stamped with the current time on insert and on a real
update, and never take part in the comparison.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["UpsertCounts", "upsert_rows"]

DEFAULT_TOUCH = ("updated_at", "synced_at")
# SQLite's SQLITE_MAX_VARIABLE_NUMBER: 32766 since 3.32, 999 before; PostgreSQL's
# protocol allows 65535 parameters per statement.
MAX_PARAMETERS = {"sqlite": 32766 if sqlite3.sqlite_version_info >= (3, 32) else 999, "postgresql": 65535}


@dataclass(frozen=True)
class UpsertCounts:
    """What one ``upsert_rows`` call did."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def written(self) -> int:
        return self.inserted + self.updated

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted, self.updated + other.updated, self.unchanged + other.unchanged
        )


def upsert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    update: Sequence[str] | None = None,
    only_if_changed: bool = True,
    touch: Sequence[str] | None = None,
) -> UpsertCounts:
    """Upsert ``rows`` (dicts with the same columns) into ``table`` on the unique ``key``.

    ``update``: the columns overwritten on conflict (default: every given column but the
    key; ``[]`` inserts new rows only). ``only_if_changed``: skip rows whose update
    columns already hold these values. Runs in the caller's transaction ``conn``.
    """
    if not rows:
        return UpsertCounts()
    columns = _validate(table, rows, key)
    update_columns = [c for c in columns if c not in key] if update is None else list(update)
    unknown = [c for c in update_columns if c not in columns]
    if unknown:
        raise ValueError(f"upsert into {table.name}: update columns {unknown} are not in the rows")
    touch_columns = [
        c for c in (DEFAULT_TOUCH if touch is None else touch) if c in table.c and c not in columns
    ]
    dialect = conn.dialect.name
    per_row = len(columns) + (len(key) if dialect == "sqlite" else 0)
    chunk_size = max(1, (MAX_PARAMETERS.get(dialect, 999) - len(touch_columns) - 1) // per_row)
    total = UpsertCounts()
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        total += _upsert_chunk(conn, table, chunk, key, update_columns, only_if_changed, touch_columns)
    return total


def _validate(table: sa.Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> list[str]:
    columns = list(rows[0])
    unknown = [c for c in columns if c not in table.c]
    if unknown:
        raise ValueError(f"upsert into {table.name}: unknown columns {unknown}")
    missing_key = [k for k in key if k not in columns]
    if missing_key:
        raise ValueError(f"upsert into {table.name}: rows lack key columns {missing_key}")
    wanted = set(columns)
    seen: set[tuple[Any, ...]] = set()
    for number, row in enumerate(rows, 1):
        if set(row) != wanted:
            raise ValueError(
                f"upsert into {table.name}: row {number} has columns {sorted(row)}, expected {sorted(wanted)}"
            )
        row_key = tuple(row[k] for k in key)
        if row_key in seen:
            raise ValueError(f"upsert into {table.name}: key {dict(zip(key, row_key))} appears twice")
        seen.add(row_key)
    return columns


def _upsert_chunk(
    conn: sa.Connection,
    table: sa.Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str],
    update_columns: list[str],
    only_if_changed: bool,
    touch_columns: list[str],
) -> UpsertCounts:
    dialect = conn.dialect.name
    now = dt.datetime.now(dt.UTC)
    values = [{**row, **{c: now for c in touch_columns}} for row in rows] if touch_columns else list(rows)
    # One statement run with the rows as parameters: SQLAlchemy batches them into
    # multi-row VALUES itself ("insertmanyvalues") and compiles the statement once per
    # shape, where .values(rows) compiled a new statement for every page (3x slower).
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if update_columns:
        changes = {c: insert.excluded[c] for c in update_columns}
        changes.update({c: insert.excluded[c] for c in touch_columns})
        where = None
        if only_if_changed:
            where = sa.tuple_(*(table.c[c] for c in update_columns)).is_distinct_from(
                sa.tuple_(*(insert.excluded[c] for c in update_columns))
            )
        statement = insert.on_conflict_do_update(index_elements=list(key), set_=changes, where=where)
    else:
        statement = insert.on_conflict_do_nothing(index_elements=list(key))

    if dialect == "postgresql":
        returning = statement.returning(sa.literal_column("(xmax = 0)").label("inserted"))
        flags = conn.execute(returning, values).scalars().all()
        inserted = sum(1 for flag in flags if flag)
        updated = len(flags) - inserted
    else:
        existing = _count_existing(conn, table, rows, key)
        written = len(conn.execute(statement.returning(*(table.c[k] for k in key)), values).all())
        inserted = len(rows) - existing
        updated = written - inserted
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=len(rows) - inserted - updated)


def _count_existing(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> int:
    if len(key) == 1:
        condition = table.c[key[0]].in_([row[key[0]] for row in rows])
    else:
        condition = sa.tuple_(*(table.c[k] for k in key)).in_([tuple(row[k] for k in key) for row in rows])
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one()
