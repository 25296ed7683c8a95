"""The common target: a table holding one row per Odoo record, keyed by its Odoo id.

Reference data (``odoo_stages`` ...), ``odoo_partners``, generic ``odoo_records`` and
``leads`` all share the same steps, implemented once here:

1. ``select_changed``: every record of the page is mapped; whether it changed is decided
   on the values, by the upsert (``WHERE`` the row differs), never on ``write_date``:
   Odoo serves whole seconds, so a second write within one second carries the same
   stamp. Targets may leave records alone here (leads the app deleted);
2. ``resolve``: the lookups the pure mapper needs (the only I/O besides writing);
3. the stream's pure mapper turns records into rows, and ``merge_stored`` folds in what
   the stored rows keep (default: nothing; leads keep app-owned values);
4. one multi-row upsert (``Store.upsert_rows``), then ``after_write`` for dependent
   tables (partners → customers and contacts).

Deletion never drops a row: ``mark_deleted`` sets ``deleted_at``.

Odoo ids are unique per backend only: a table's backend column (``backend`` on the
mirrors, ``odoo_backend`` on app tables) is part of every target's scope and key, so two
Odoo databases with the same ids land in distinct rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from odoosync.models import RunCounters
from odoosync.store.filters import id_in
from odoosync.store.schema import backend_column
from odoosync.streams.base import PageContext, StoredRow, Target

__all__ = ["Mapper", "MirrorTarget"]

Mapper = Callable[[Sequence[Mapping[str, Any]], Any], list[dict[str, Any]]]
"""A pure function: normalised Odoo records + lookups → new rows for the target table
(the target adds its scope's columns to them)."""

_IN_CHUNK = 5000  # ids per IN (...) list, well under every driver's parameter limit


class MirrorTarget(Target):
    """Rows keyed by ``odoo_id`` (plus fixed ``scope`` columns, e.g. backend and model)."""

    write_date_column = "write_date"

    def __init__(
        self,
        table: sa.Table,
        mapper: Mapper,
        *,
        key: Sequence[str] = ("odoo_id",),
        insert_only: Sequence[str] = (),
        scope: Callable[[PageContext], Mapping[str, Any]] | None = None,
    ):
        self._table = table
        self.mapper = mapper
        # A plain str: SQLAlchemy's column names are ``quoted_name``, a str subclass, and
        # one such key turns a row dict into the general layout (832 → 2,264 bytes a lead).
        self._backend = str(backend_column(table).name)
        self.key = [self._backend, *(k for k in key if k != self._backend)]
        self.insert_only = tuple(insert_only)
        self._scope = scope

    @property
    def table(self) -> sa.Table:
        return self._table

    # ------------------------------------------------------------------ steps

    def scope(self, ctx: PageContext) -> dict[str, Any]:
        """Fixed column values that every row of this target carries: its backend (and
        e.g. ``model``)."""
        return {self._backend: ctx.backend, **(self._scope(ctx) if self._scope else {})}

    def resolve(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> Any:
        """Lookups for the mapper. Default: none."""
        return None

    def merge_stored(self, ctx: PageContext, conn: sa.Connection, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows to upsert, given the stored ones (values the pull does not own). Default: as mapped."""
        return rows

    def after_write(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]], rows: list[dict[str, Any]]
    ) -> None:
        """Write dependent tables. Default: nothing."""

    # ------------------------------------------------------------------ Target

    def select_changed(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """Every record: the upsert writes only rows whose values differ (module docstring)."""
        return list(records)

    def write_page(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> RunCounters:
        if not records:
            return RunCounters()
        lookups = self.resolve(ctx, conn, records)
        scope = self.scope(ctx)
        rows = self.mapper(records, lookups)
        for row in rows:  # the mapper's own new dicts: no second dict per row
            for column, value in scope.items():
                row.setdefault(column, value)
        if not rows:
            return RunCounters()
        rows = self.merge_stored(ctx, conn, rows)
        update = [c for c in rows[0] if c not in self.key and c not in self.insert_only and c not in scope]
        counts = ctx.store.upsert_rows(conn, self._table, rows, key=self.key, update=update)
        self.after_write(ctx, conn, records, rows)
        return RunCounters(inserted=counts.inserted, updated=counts.updated, skipped=counts.unchanged)

    def present_ids(self, conn: sa.Connection, ctx: PageContext, after: int, upto: int | None) -> set[int]:
        id_col = self._table.c[self.id_column]
        query = sa.select(id_col).where(id_col > after, self._table.c.deleted_at.is_(None), *self._scope_clauses(ctx))
        if upto is not None:
            query = query.where(id_col <= upto)
        return {int(v) for v in conn.execute(query).scalars()}

    def mark_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Iterable[int]) -> int:
        ids = sorted(set(odoo_ids))
        done = 0
        id_col = self._table.c[self.id_column]
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            result = conn.execute(
                sa.update(self._table)
                .where(id_col.in_(chunk), self._table.c.deleted_at.is_(None), *self._scope_clauses(ctx))
                .values(deleted_at=ctx.now)
            )
            done += result.rowcount or 0
        return done

    def snapshot(self, conn: sa.Connection, ctx: PageContext) -> dict[int, StoredRow]:
        """Every row with an Odoo id: its stored stamp (where the table keeps one) and
        whether it is live (not marked deleted)."""
        columns = self._table.c
        id_col = columns[self.id_column]
        stamp = columns[self.write_date_column] if self.write_date_column in columns else sa.null()
        deleted = columns.deleted_at if "deleted_at" in columns else sa.null()
        query = sa.select(id_col, stamp, deleted).where(id_col.is_not(None), *self._scope_clauses(ctx))
        return {int(i): StoredRow(stamped, gone is None) for i, stamped, gone in conn.execute(query)}

    @property
    def keeps_stamps(self) -> bool:
        """Whether the table stores Odoo's ``write_date`` (verify can tell stale rows)."""
        return self.write_date_column in self._table.c

    # ------------------------------------------------------------------ helpers

    def _scope_clauses(self, ctx: PageContext) -> list[Any]:
        return [self._table.c[name] == value for name, value in self.scope(ctx).items()]

    def _stored_stamps(self, ctx: PageContext, conn: sa.Connection, ids: list[int]) -> dict[int, tuple[Any, Any]]:
        """``odoo id → (stored write_date, deleted_at)`` for the ids present."""
        id_col = self._table.c[self.id_column]
        stamp_col = self._table.c[self.write_date_column]
        query = sa.select(id_col, stamp_col, self._table.c.deleted_at).where(
            id_in(conn, id_col, ids), *self._scope_clauses(ctx)
        )
        return {int(i): (stamp, deleted) for i, stamp, deleted in conn.execute(query)}
