"""Large sheets: 100,000 rows sync completely, and memory does not grow with the sheet."""

from __future__ import annotations

import tracemalloc

import pytest
import sqlalchemy as sa

from bench.sheets import sheet_bytes
from odoosync.sheets.engine import SheetSync
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.state import resolve_customer, save_config
from odoosync.store import Store
from odoosync.store.schema import leads


def configure(store: Store, name: str, url: str) -> int:
    customer = resolve_customer(store, name, create=True)
    save_config(store, customer, sheet_url=url, column_map={}, key_column="Ref", schedule=None, push_to_odoo=False)
    return customer


@pytest.mark.slow
def test_a_100k_row_sheet_syncs_completely(migrated_sqlite_url, sheet_server):
    rows = 100_000
    url = sheet_server.serve("/big.csv", sheet_bytes(rows), etag=False, last_modified=None)
    with Store(migrated_sqlite_url) as store, SheetFetcher(allow_private=True) as fetcher:
        engine = SheetSync(store, fetcher)
        customer = configure(store, "big", url)
        result = engine.sync(customer)
        assert (result.status, result.inserted, result.error_count) == ("ok", rows, 0)
        with store.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one() == rows
        assert engine.sync(customer).status == "unchanged"


def test_memory_does_not_grow_with_the_sheet(migrated_sqlite_url, sheet_server):
    """Ten times the rows, about the same peak: rows live in the stage file, not in Python."""
    with Store(migrated_sqlite_url) as store, SheetFetcher(allow_private=True) as fetcher:
        engine = SheetSync(store, fetcher)
        peaks = {}
        for name, rows in (("warm-up", 500), ("small", 1_000), ("large", 10_000)):
            url = sheet_server.serve(f"/{name}.csv", sheet_bytes(rows), etag=False, last_modified=None)
            customer = configure(store, name, url)
            tracemalloc.start()
            try:
                assert engine.sync(customer).inserted == rows
                peaks[name] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
    body_growth = len(sheet_bytes(10_000)) - len(sheet_bytes(1_000))  # the spooled body (in memory below 4 MB)
    assert peaks["large"] - peaks["small"] < body_growth + 2 * 2**20, {k: v // 1024 for k, v in peaks.items()}
