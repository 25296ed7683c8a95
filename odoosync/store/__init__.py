"""The application database: schema, migrations, transactions, upserts, locks, runs.

``Store`` is the entry point; see ``store/database.py``.
"""

from __future__ import annotations

from odoosync.store.database import Store, StoreStats, UpsertCounts

__all__ = ["Store", "StoreStats", "UpsertCounts"]
