"""Benchmark: odoosync's full import from a real Odoo beside the floor measured in the same run.

    ODOOSYNC_TEST_ODOO_URL=... ODOOSYNC_TEST_ODOO_DB=... ODOOSYNC_TEST_ODOO_LOGIN=admin \\
    ODOOSYNC_TEST_ODOO_PASSWORD=admin .venv/bin/python bench/real_odoo.py [--rounds 3] \\
        [--database-url sqlite:///... | postgresql://...]

The same variables as ``tests/real_odoo/`` (a throwaway Odoo database; the suite's loader
fills it). Each measurement runs in a child process of its own (peak RSS from ``wait4``),
alternating, ``--rounds`` times, and the table shows the medians:

* **floor**: a bare keyset read of every stream's model with the same domain and fields
  the engine reads (``search_read``, ``id > last``, pages of 2,000, one request at a time,
  until an empty page), nothing written: what any importer must pay to fetch the data;
* **odoosync**: ``sync all --mode full`` into a fresh, migrated database (``--database-url``,
  default a new SQLite file), writing everything.

It prints wall seconds, Odoo requests, rows read, peak RSS and odoosync's ratio to the floor
(the goal: at most 1.5). Nothing here asserts; tests never assert on wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FLOOR_PAGE = 2000


def _client() -> Any:
    from odoosync.odoo.client import OdooClient
    from odoosync.service.operations import allowed_companies
    from tests.real_odoo.conftest import real_config

    client = OdooClient(real_config()).open()
    client.config = real_config(company_ids=allowed_companies(client))
    return client


def _floor(_: str) -> dict[str, Any]:
    from odoosync.streams.registry import stream_catalog

    client = _client()
    rows = 0
    before = client.stats.snapshot()
    started = time.perf_counter()
    for stream in stream_catalog():
        fields = stream.read_fields(client.field_types(stream.model))
        after = 0
        while True:
            page = client.search_read(
                stream.model,
                [*stream.domain, ("id", ">", after)],
                fields,
                limit=FLOOR_PAGE,
                order="id",
                active_test=False,
                normalize=False,
            )
            if not page:
                break
            rows += len(page)
            after = int(page[-1]["id"])
    wall = time.perf_counter() - started
    return {"wall": wall, "requests": (client.stats.snapshot() - before).requests, "rows": rows}


def _odoosync(database_url: str) -> dict[str, Any]:
    from odoosync import heap
    from odoosync.models import SyncMode
    from odoosync.pull import PullOptions
    from odoosync.service.operations import run_sync
    from odoosync.store import Store

    client = _client()
    with Store(database_url) as store:
        store.upgrade()
        heap.settle()  # as `odoosync sync` does once its modules are loaded
        before = client.stats.snapshot()
        started = time.perf_counter()
        report = run_sync(client, store, "all", PullOptions(mode=SyncMode.FULL))
        wall = time.perf_counter() - started
    return {
        "wall": wall,
        "requests": (client.stats.snapshot() - before).requests,
        "rows": sum(r.counters.fetched for r in report.results),
    }


def _child(kind: str, database_url: str) -> dict[str, Any]:
    """One measurement in a fresh interpreter; its peak RSS from ``wait4``."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", kind, "--database-url", database_url], stdout=subprocess.PIPE, cwd=ROOT
    )
    out = process.stdout.read() if process.stdout else b""
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{kind} failed (status {status})")
    result = json.loads(out)
    result["rss_mib"] = usage.ru_maxrss / 1024
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--child", choices=("floor", "odoosync"))
    args = parser.parse_args()
    if args.child:
        run = _floor if args.child == "floor" else _odoosync
        print(json.dumps(run(args.database_url)))
        return
    if not os.environ.get("ODOOSYNC_TEST_ODOO_URL"):
        raise SystemExit("set ODOOSYNC_TEST_ODOO_URL, _DB, _LOGIN and _PASSWORD (or _API_KEY) to a throwaway Odoo")
    results: dict[str, list[dict[str, Any]]] = {"floor": [], "odoosync": []}
    with tempfile.TemporaryDirectory() as scratch:
        for round_ in range(args.rounds):
            for kind in ("floor", "odoosync"):
                url = args.database_url or f"sqlite:///{Path(scratch) / f'bench-{round_}.db'}"
                results[kind].append(_child(kind, url))
    medians = {
        kind: {key: statistics.median(r[key] for r in runs) for key in runs[0]} for kind, runs in results.items()
    }
    floor = medians["floor"]["wall"]
    print(f"{'run':<10} {'wall s':>8} {'requests':>9} {'rows':>8} {'peak RSS MiB':>13} {'vs floor':>9}")
    for kind in ("floor", "odoosync"):
        m = medians[kind]
        print(
            f"{kind:<10} {m['wall']:>8.2f} {m['requests']:>9.0f} {m['rows']:>8.0f} {m['rss_mib']:>13.0f} "
            f"{m['wall'] / floor:>8.2f}x"
        )
    print(f"(medians of {args.rounds} alternating rounds; goal: odoosync at most 1.5x the floor)")


if __name__ == "__main__":
    main()
