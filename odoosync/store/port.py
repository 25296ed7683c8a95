"""What the pull side needs from the database: the :class:`PullStore` port.

The pull engine, its streams' targets, checkpoints and the runs log use a store only
through these four doors; :class:`~odoosync.store.database.Store` is the one that serves
them (SQLite or PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Any, Protocol

import sqlalchemy as sa

from odoosync.store.upsert import UpsertCounts

__all__ = ["PullStore"]


class PullStore(Protocol):
    """Read connections, write transactions, named locks and the multi-row upsert."""

    def connect(self) -> AbstractContextManager[sa.Connection]:
        """A read-only connection (no transaction held open for writes)."""
        ...

    def transaction(self, origin: str | None = None) -> AbstractContextManager[sa.Connection]:
        """One transaction (nested: a savepoint); ``origin="pull"`` keeps its writes out
        of the outbox."""
        ...

    def lock(self, key: str, holder_info: Mapping[str, Any] | None = None) -> AbstractContextManager[Any]:
        """Hold ``key`` for a ``with`` block or raise ``LockHeld`` at once."""
        ...

    def upsert_rows(
        self,
        conn: sa.Connection,
        table: sa.Table,
        rows: list[dict[str, Any]],
        *,
        key: list[str],
        update: list[str] | None = None,
    ) -> UpsertCounts:
        """Insert or update ``rows`` in one statement, counting what changed."""
        ...
