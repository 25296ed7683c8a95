"""Benchmark: a ``sync all`` when nothing changed in Odoo, beside re-reading everything.

    .venv/bin/python bench/no_change.py [--scale 1.0] [--latency-ms 50] [--rounds 3]
                                        [--factor10] [--pg-url postgresql://...]

The simulator runs in its own process (``--latency-ms`` per request) and every stream is
imported once into a fresh PostgreSQL database (not timed). Then, in one child process
(a warm client, as in ``serve``), ``--rounds`` times each:

* **re-read (naive baseline)**: ``sync all --mode full``: what an importer without a
  cursor does on every run;
* **increment + reconcile**: ``sync all`` (incremental, then the id reconcile);
* **increment only**: ``sync all`` without the reconcile (what a warm ``serve`` runs
  between reconciles).

It prints the medians: wall seconds, Odoo requests (the most any one stream made), rows
written (inserted + updated + deleted), and the goal of each column. ``--factor10``
repeats it on ten times the data: a no-change run should not grow with the table.
Nothing here asserts; tests never assert on wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.pull import DEFAULT_PG, fresh_database, print_table, simulator  # noqa: E402

KINDS = (
    ("re-read (naive baseline)", "full", True),
    ("increment + reconcile", "incremental", True),
    ("increment only", "incremental", False),
)
GOALS = {"wall": "≤ 0.5 s", "requests": "≤ 3", "writes": "0"}


def child(odoo_url: str, database_url: str, rounds: int, out: str) -> None:
    """Import everything, then time each kind of no-change run ``rounds`` times."""
    import dataclasses

    from odoosync import heap
    from odoosync.odoo.config import OdooConfig
    from odoosync.service.operations import open_client, open_store, pull_options, run_sync
    from odoosync.settings import Settings

    settings = Settings(
        odoo=OdooConfig(url=odoo_url, db="odoosync_demo", username="admin", password="admin", protocol="jsonrpc"),
        database_url=database_url,
    )
    results: dict[str, list[dict[str, Any]]] = {}
    with open_store(settings) as store, open_client(settings) as client:
        heap.settle()  # as `odoosync serve` does once its modules are loaded
        run_sync(client, store, "all", pull_options(settings, mode="full"))
        for _ in range(rounds):
            for label, mode, reconcile in KINDS:
                options = dataclasses.replace(pull_options(settings, mode=mode), reconcile=reconcile)
                before = client.stats.snapshot()
                started = time.perf_counter()
                report = run_sync(client, store, "all", options)
                wall = time.perf_counter() - started
                spent = client.stats.snapshot() - before
                results.setdefault(label, []).append(
                    {
                        "wall": wall,
                        "requests": spent.requests,
                        "max_stream_requests": max(r.counters.rpc_calls for r in report.results),
                        "per_stream": {r.stream: r.counters.rpc_calls for r in report.results},
                        "writes": sum(
                            r.counters.inserted + r.counters.updated + r.counters.deleted for r in report.results
                        ),
                    }
                )
    Path(out).write_text(json.dumps(results))


def table(results: dict[str, list[dict[str, Any]]], title: str) -> None:
    header = ["run", "wall s (median)", "Odoo requests", "most by one stream", "rows written", "vs re-read"]
    base = statistics.median(r["wall"] for r in results[KINDS[0][0]])
    rows = []
    for label, _, _ in KINDS:
        runs = results[label]
        wall = statistics.median(r["wall"] for r in runs)
        rows.append(
            [
                label,
                f"{wall:.2f}",
                f"{statistics.median(r['requests'] for r in runs):.0f}",
                f"{statistics.median(r['max_stream_requests'] for r in runs):.0f}",
                f"{statistics.median(r['writes'] for r in runs):.0f}",
                f"{base / wall:.1f}×",
            ]
        )
    rows.append(["goal", GOALS["wall"], "", GOALS["requests"], GOALS["writes"], ""])
    print_table(rows, title, header)
    last = results[KINDS[1][0]][-1]["per_stream"]
    print("\nrequests per stream, increment + reconcile: " + ", ".join(f"{k} {v}" for k, v in last.items()))


def measure(scale: float, latency_ms: float, rounds: int, pg_url: str) -> None:
    import subprocess
    import tempfile

    with simulator(scale, latency_ms) as url, fresh_database(pg_url) as db:
        with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
            out = fh.name
        subprocess.run([sys.executable, __file__, "_child", url, db, str(rounds), "--out", out], cwd=ROOT, check=True)
        results = json.loads(Path(out).read_text())
        Path(out).unlink()
    table(
        results,
        f"No-change runs: scale {scale:g}, simulator with {latency_ms:g} ms per request, PostgreSQL on "
        f"{sa.make_url(pg_url).host}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--factor10", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument("--pg-url", default=os.environ.get("ODOOSYNC_BENCH_PG_URL", DEFAULT_PG))
    args = parser.parse_args()
    measure(args.scale, args.latency_ms, args.rounds, args.pg_url)
    if args.factor10:
        measure(args.scale * 10, args.latency_ms, args.rounds, args.pg_url)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_child":
        parsed = argparse.ArgumentParser()
        for name in ("kind", "odoo_url", "database_url", "rounds"):
            parsed.add_argument(name)
        parsed.add_argument("--out", required=True)
        a = parsed.parse_args()
        child(a.odoo_url, a.database_url, int(a.rounds), a.out)
    else:
        main()
