"""Multi-row upsert: insert new rows, update changed ones, leave unchanged ones alone.

Never one statement per row: one ``INSERT ... ON CONFLICT (key) DO UPDATE SET ...
WHERE <changed>`` per batch of rows. "Changed" compares the updated columns with ``IS
DISTINCT FROM`` (``IS NOT`` on SQLite), so an unchanged row is not written at all: no new
row version on PostgreSQL, no ``updated_at`` bump, nothing for triggers to see.

How the rows travel:

* PostgreSQL: one array parameter per column, ``INSERT INTO t (a, b) SELECT u.a, u.b
  FROM unnest(%(a)s::type[], %(b)s::type[]) AS u(a, b) ON CONFLICT ...``. The text
  depends only on the table and the columns, not on the number of rows, so it is built
  and compiled once, psycopg's parse cache keeps it (up to 4 KB and 50 parameters) and
  PostgreSQL parses a short statement. Batches of ``PG_BATCH_ROWS`` only bound memory.
  Every element still goes through its column type's bind processing (``UtcDateTime``,
  JSONB: ``None`` is JSON null, ``sa.null()`` SQL NULL, as in a single-row insert).
  The store's connections send lists in binary (``store/database.py``): no quoting.
  ``unnest`` would flatten an array column, so a table with one takes the SQLite way.
* SQLite: the rows as multi-row ``VALUES`` (SQLAlchemy's "insertmanyvalues"), in
  chunks under the driver's bound-parameter limit.

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
import functools
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["UpsertCounts", "upsert_rows"]

DEFAULT_TOUCH = ("updated_at", "synced_at")
# Rows per PostgreSQL statement: arrays are single parameters, this only bounds memory.
PG_BATCH_ROWS = 5000
# Bound parameters per multi-row VALUES statement. SQLite's SQLITE_MAX_VARIABLE_NUMBER:
# 32766 since 3.32, 999 before; PostgreSQL's protocol allows 65535.
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
    touch_columns = [c for c in (DEFAULT_TOUCH if touch is None else touch) if c in table.c and c not in columns]
    shape = (table, tuple(columns), tuple(key), tuple(update_columns), only_if_changed, tuple(touch_columns))
    if conn.dialect.name == "postgresql" and not _has_array_column(table, columns, conn.dialect):
        return _upsert_unnest(conn, rows, *shape)
    return _upsert_values(conn, rows, *shape)


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
            raise ValueError(f"upsert into {table.name}: key {dict(zip(key, row_key, strict=True))} appears twice")
        seen.add(row_key)
    return columns


def _on_conflict(
    insert: postgresql.Insert | sqlite.Insert,
    table: sa.Table,
    key: Sequence[str],
    update_columns: Sequence[str],
    only_if_changed: bool,
    touch_columns: Sequence[str],
) -> postgresql.Insert | sqlite.Insert:
    if not update_columns:
        return insert.on_conflict_do_nothing(index_elements=list(key))
    changes = {c: insert.excluded[c] for c in [*update_columns, *touch_columns]}
    where = None
    if only_if_changed:
        where = sa.tuple_(*(table.c[c] for c in update_columns)).is_distinct_from(
            sa.tuple_(*(insert.excluded[c] for c in update_columns))
        )
    return insert.on_conflict_do_update(index_elements=list(key), set_=changes, where=where)


def _counts_from_flags(rows: int, inserted_flags: Sequence[bool]) -> UpsertCounts:
    """PostgreSQL: one ``xmax = 0`` flag per written row (true: inserted)."""
    inserted = sum(1 for flag in inserted_flags if flag)
    updated = len(inserted_flags) - inserted
    return UpsertCounts(inserted=inserted, updated=updated, unchanged=rows - inserted - updated)


_INSERTED_FLAG = sa.literal_column("(xmax = 0)", sa.Boolean).label("inserted")


# ---------------------------------------------------------------- PostgreSQL: unnest


def _upsert_unnest(
    conn: sa.Connection,
    rows: Sequence[dict[str, Any]],
    table: sa.Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    touch_columns: tuple[str, ...],
) -> UpsertCounts:
    statement = _unnest_statement(table, columns, key, update_columns, only_if_changed, touch_columns)
    now = dt.datetime.now(dt.UTC)
    stamps = {_stamp_parameter(c): now for c in touch_columns}
    column_types = {c: table.c[c].type.dialect_impl(conn.dialect) for c in columns}
    total = UpsertCounts()
    for start in range(0, len(rows), PG_BATCH_ROWS):
        batch = rows[start : start + PG_BATCH_ROWS]
        arrays = {c: _one_type(column_types[c], [row[c] for row in batch]) for c in columns}
        total += _counts_from_flags(len(batch), conn.execute(statement, {**arrays, **stamps}).scalars().all())
    return total


@functools.lru_cache(maxsize=128)
def _unnest_statement(
    table: sa.Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    touch_columns: tuple[str, ...],
) -> sa.Executable:
    """The statement for one shape of call, built once (module docstring)."""
    arrays = [sa.bindparam(c, type_=postgresql.ARRAY(table.c[c].type, dimensions=1)) for c in columns]
    unnested = sa.func.unnest(*arrays).table_valued(*columns).render_derived(name="u")
    stamps = [sa.bindparam(_stamp_parameter(c), type_=table.c[c].type).label(c) for c in touch_columns]
    insert = postgresql.insert(table).from_select([*columns, *touch_columns], sa.select(*unnested.c, *stamps))
    return _on_conflict(insert, table, key, update_columns, only_if_changed, touch_columns).returning(_INSERTED_FLAG)


def _stamp_parameter(column: str) -> str:
    return f"now_{column}"


def _has_array_column(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> bool:
    """True when a column is stored as an array (directly, as a variant or decorated)."""
    for column in columns:
        stored = table.c[column].type.dialect_impl(dialect)
        if isinstance(stored, sa.TypeDecorator):
            stored = stored.type_engine(dialect)
        if isinstance(stored, sa.ARRAY):
            return True
    return False


def _one_type(column_type: sa.types.TypeEngine[Any], values: list[Any]) -> list[Any]:
    """psycopg sends a list only if its elements share one type, but one Odoo float field
    comes as 10 and 25.5: a number column's mix of int, float and Decimal is sent as
    Decimals, exactly (``str`` of a float is its shortest round-trip form)."""
    if isinstance(column_type, (sa.Integer, sa.Numeric)):
        types = {type(v) for v in values if v is not None}
        if len(types) > 1 and types <= {int, float, Decimal}:
            return [None if v is None else Decimal(str(v)) for v in values]
    return values


# ---------------------------------------------------------------- multi-row VALUES


def _upsert_values(
    conn: sa.Connection,
    rows: Sequence[dict[str, Any]],
    table: sa.Table,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    update_columns: tuple[str, ...],
    only_if_changed: bool,
    touch_columns: tuple[str, ...],
) -> UpsertCounts:
    """SQLite, and PostgreSQL tables with an array column: chunks of multi-row VALUES."""
    dialect = conn.dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    statement = _on_conflict(insert, table, key, update_columns, only_if_changed, touch_columns)
    per_row = len(columns) + (len(key) if dialect == "sqlite" else 0)
    chunk_size = max(1, (MAX_PARAMETERS.get(dialect, 999) - len(touch_columns) - 1) // per_row)
    now = dt.datetime.now(dt.UTC)
    total = UpsertCounts()
    for start in range(0, len(rows), chunk_size):
        chunk = rows[start : start + chunk_size]
        # The rows as execute parameters: SQLAlchemy batches them into multi-row VALUES
        # itself ("insertmanyvalues") and compiles the statement once per shape.
        values = [{**row, **dict.fromkeys(touch_columns, now)} for row in chunk]
        if dialect == "postgresql":
            flags = conn.execute(statement.returning(_INSERTED_FLAG), values).scalars().all()
            total += _counts_from_flags(len(chunk), flags)
        else:
            existing = _count_existing(conn, table, chunk, key)
            written = len(conn.execute(statement.returning(*(table.c[k] for k in key)), values).all())
            inserted = len(chunk) - existing
            updated = written - inserted
            total += UpsertCounts(inserted=inserted, updated=updated, unchanged=len(chunk) - inserted - updated)
    return total


def _count_existing(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]], key: Sequence[str]) -> int:
    if len(key) == 1:
        condition = table.c[key[0]].in_([row[key[0]] for row in rows])
    else:
        condition = sa.tuple_(*(table.c[k] for k in key)).in_([tuple(row[k] for k in key) for row in rows])
    return conn.execute(sa.select(sa.func.count()).select_from(table).where(condition)).scalar_one()
