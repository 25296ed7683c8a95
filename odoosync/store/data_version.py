"""Has anything written the leads since I last asked? For caches that must not go stale.

A cache in one process cannot hear about writes made by another (a CLI sync, the pull
engine, the app). So a :class:`DataVersion` asks the database, cheaply, on every cache
read:

* SQLite: ``PRAGMA data_version`` on a connection of its own changes whenever another
  connection (of any process) committed to the file; coarse (any table), exact, free.
* PostgreSQL: a statement-level trigger on ``leads`` (migration ``0005_sheets``) sends
  ``NOTIFY odoosync_leads_changed`` at commit; a connection of its own ``LISTEN``\\ s, and a
  ``SELECT 1`` per check delivers what was committed before it.

Any error counts as "changed" (the connection is reopened next time): a cache that
cannot tell must not serve.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from typing import Any

from odoosync.store.database import Store

__all__ = ["DataVersion", "LEADS_CHANNEL"]

LEADS_CHANNEL = "odoosync_leads_changed"


class DataVersion:
    """``changed()``: True when leads may have changed since the previous call (or the first)."""

    def __init__(self, store: Store):
        self._store = store
        self._lock = threading.Lock()
        self._conn: Any = None
        self._version: int | None = None
        self._notified = False

    def changed(self) -> bool:
        with self._lock:
            try:
                return self._sqlite_changed() if self._store.dialect == "sqlite" else self._pg_changed()
            except Exception:  # noqa: BLE001 - unknown means changed; reconnect next time
                self._close()
                return True

    def close(self) -> None:
        with self._lock:
            self._close()

    def _sqlite_changed(self) -> bool:
        if self._conn is None:
            database = self._store.engine.url.database
            if not database:  # in memory: no file another connection could watch
                return True
            self._conn = sqlite3.connect(database, check_same_thread=False, isolation_level=None)
        version: int = self._conn.execute("PRAGMA data_version").fetchone()[0]
        changed = version != self._version
        self._version = version
        return changed

    def _pg_changed(self) -> bool:
        first = self._conn is None
        if first:
            raw = self._store.engine.raw_connection()
            self._conn = raw.driver_connection
            raw.detach()  # ours for good, out of the pool
            self._conn.rollback()  # the pool's ping may have opened a transaction
            self._conn.autocommit = True
            self._conn.add_notify_handler(self._on_notify)
            self._conn.execute(f"LISTEN {LEADS_CHANNEL}")
        self._conn.execute("SELECT 1")  # delivers the notifications committed before it
        changed, self._notified = self._notified or first, False
        return changed

    def _on_notify(self, _notify: Any) -> None:
        self._notified = True

    def _close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self._conn.close()
        self._conn = None
        self._version = None
