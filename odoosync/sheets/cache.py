"""A 5-minute cache for the lead counts and recent leads the dashboard polls.

Dashboards ask for "how many leads does this customer have" and "the newest leads" far
more often than the answers change. Before each read the cache asks the database whether
anything wrote the leads since (``store/data_version.py``: one cheap statement, whatever
the writer: another process's sheet sync, the pull engine, the app) and forgets
everything if so; a sheet sync in this process also invalidates the customer's entries
at once (``invalidate``). Entries expire after the TTL in any case. Keys are per customer
(``None``: all customers); the clock is injectable so tests can move time. Thread-safe:
the service answers from several threads.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from cachetools import TTLCache

from odoosync.store import Store
from odoosync.store.data_version import DataVersion
from odoosync.store.schema import leads

__all__ = ["LeadsCache", "DEFAULT_TTL_SECONDS", "LEAD_SUMMARY_COLUMNS"]

DEFAULT_TTL_SECONDS = 300.0
LEAD_SUMMARY_COLUMNS = (
    "id",
    "customer_id",
    "title",
    "contact_name",
    "email",
    "phone",
    "stage",
    "status",
    "value",
    "source",
    "source_email_id",
    "odoo_id",
    "created_at",
    "updated_at",
)


class LeadsCache:
    """Cached ``count(customer_id)`` and ``recent(customer_id, limit)`` over live leads."""

    def __init__(
        self,
        store: Store,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        maxsize: int = 1024,
        clock: Callable[[], float] = time.monotonic,
        watch_writes: bool = True,
    ):
        self._store = store
        self._writes = DataVersion(store) if watch_writes else None
        self._cache: TTLCache[tuple[Any, ...], Any] = TTLCache(maxsize=maxsize, ttl=ttl, timer=clock)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def count(self, customer_id: int | None = None) -> int:
        """Live (not deleted) leads of the customer, or of everyone."""
        return self._cached(("count", customer_id), lambda: self._count(customer_id))

    def recent(self, customer_id: int | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest live leads (by creation, then id), as plain dicts."""
        return self._cached(("recent", customer_id, limit), lambda: self._recent(customer_id, limit))

    def invalidate(self, customer_id: int | None = None) -> None:
        """Forget the customer's entries and the all-customers ones (their totals include it)."""
        with self._lock:
            for key in [k for k in self._cache if k[1] in (customer_id, None)]:
                self._cache.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()

    def close(self) -> None:
        """Release the connection that watches for writes."""
        if self._writes is not None:
            self._writes.close()

    def _cached(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        if self._writes is not None and self._writes.changed():
            self.clear()
        with self._lock:
            if key in self._cache:
                self.hits += 1
                return self._cache[key]
        value = load()
        with self._lock:
            self.misses += 1
            self._cache[key] = value
        return value

    def _where(self, customer_id: int | None) -> list[sa.ColumnElement[bool]]:
        conditions: list[sa.ColumnElement[bool]] = [leads.c.deleted_at.is_(None)]
        if customer_id is not None:
            conditions.append(leads.c.customer_id == customer_id)
        return conditions

    def _count(self, customer_id: int | None) -> int:
        with self._store.connect() as conn:
            return conn.execute(
                sa.select(sa.func.count()).select_from(leads).where(*self._where(customer_id))
            ).scalar_one()

    def _recent(self, customer_id: int | None, limit: int) -> list[dict[str, Any]]:
        query = (
            sa.select(*(leads.c[name] for name in LEAD_SUMMARY_COLUMNS))
            .where(*self._where(customer_id))
            .order_by(leads.c.created_at.desc(), leads.c.id.desc())
            .limit(max(1, min(limit, 500)))
        )
        with self._store.connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]
