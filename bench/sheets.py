"""Benchmark: syncing a leads sheet of 500, 10,000 and 100,000 rows from a local server.

For each size, two implementations run in their own child process (so each has its own
peak RSS), against a fresh database:

* ``odoosync``: the sheet engine (conditional fetch, streaming parse into the stage,
  checksum skip, diff in multi-row batches in one transaction);
* ``naive``: what the seed's old worker did: download the whole CSV, then per row one
  ``SELECT`` by ``source_email_id`` and one ``INSERT`` or ``UPDATE`` (one transaction, to
  be generous), no checksum.

Phases: the first sync, an unchanged re-sync, one cell changed, a column moved (the
"Notes" column to the front, no value changed), and 1% of the rows changed. The local
server sends no ``ETag`` (the worst case for odoosync: the unchanged
re-sync downloads the body and compares its hash). Printed: wall seconds, CPU seconds of
the syncing process (the fairer number on a busy machine: the database work of SQLite
runs in-process, PostgreSQL's does not), statements sent to the database, lead writes,
peak RSS, and the naive/odoosync wall-time ratio.

    .venv/bin/python bench/sheets.py                      # SQLite, all sizes
    .venv/bin/python bench/sheets.py --sizes 500,10000 --postgres postgresql://postgres@127.0.0.1:5432/postgres

Goals (issues 9 and 17): 10,000 rows first sync ≤ 3 s, unchanged ≤ 100 ms; 100,000 rows
one cell changed ≤ 2 s, column moved ≤ 2 s; memory flat 10k → 100k. Checked at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADER = ["Ref", "Company", "Contact", "Email", "Phone", "Amount", "Deadline", "Stage", "Tags", "Notes"]
PHASES = ("first sync", "unchanged", "1 cell changed", "column moved", "1% changed")
MOVED = [HEADER[-1], *HEADER[:-1]]  # "Notes" first
GOALS = (  # (rows, phase, seconds at most)
    (10_000, "first sync", 3.0),
    (10_000, "unchanged", 0.1),
    (100_000, "1 cell changed", 2.0),
    (100_000, "column moved", 2.0),
)


def sheet_bytes(size: int, changed_every: int | None = None, *, one_cell: bool = False, moved: bool = False) -> bytes:
    """The bench sheet; ``one_cell`` changes the amount of the middle row, ``moved`` puts Notes first."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(MOVED if moved else HEADER)
    for i in range(size):
        bump = 1 if (changed_every and i % changed_every == 0) or (one_cell and i == size // 2) else 0
        cells = [
            f"R{i}",
            f"Company {i}",
            f"Person {i}",
            f"person{i}@example.com",
            f"+44 20 7946 {i % 10000:04d}",
            str(i * 10 + bump),
            "2026-03-01",
            "New",
            "web, inbound",
            f"called on day {i % 28 + 1}",
        ]
        writer.writerow([cells[-1], *cells[:-1]] if moved else cells)
    return out.getvalue().encode()


def phase_body(size: int, phase: str) -> bytes:
    """What the server serves for ``phase`` (each phase starts from the previous one's sheet)."""
    if phase in ("first sync", "unchanged"):
        return sheet_bytes(size)
    if phase == "1 cell changed":
        return sheet_bytes(size, one_cell=True)
    if phase == "column moved":
        return sheet_bytes(size, one_cell=True, moved=True)
    return sheet_bytes(size, changed_every=100, one_cell=True, moved=True)


# ---------------------------------------------------------------------------- child


def child(impl: str, url: str, database_url: str) -> None:
    """Run the phases; print one JSON line per phase; 'NEXT <phase>' and wait for 'go' before each change."""
    import sqlalchemy as sa

    from odoosync.store import Store

    with Store(database_url) as store:
        store.upgrade()
        writes = _lead_write_counter(store)
        run = _engine_runner(store, url) if impl == "odoosync" else _naive_runner(store, url)
        for phase in PHASES:
            if phase not in ("first sync", "unchanged"):
                print(f"NEXT {phase}", flush=True)
                sys.stdin.readline()
            store.stats.reset()
            writes[0] = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            outcome = run()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            print(
                json.dumps(
                    {
                        "phase": phase,
                        "seconds": seconds,
                        "cpu": cpu,
                        "statements": store.stats.statements,
                        "lead_writes": writes[0],
                        "outcome": outcome,
                    }
                ),
                flush=True,
            )
        with store.connect() as conn:
            live = conn.execute(sa.text("SELECT count(*) FROM leads WHERE deleted_at IS NULL")).scalar_one()
    print(
        json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "live": live}), flush=True
    )


def _lead_write_counter(store) -> list[int]:
    from sqlalchemy import event

    counter = [0]

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        head = " ".join(statement.split()[:3]).upper()
        if head.startswith(("INSERT INTO LEADS", "UPDATE LEADS", "DELETE FROM LEADS")):
            counter[0] += len(parameters) if executemany else 1

    event.listen(store.engine, "before_cursor_execute", seen)
    return counter


def _engine_runner(store, url: str):
    from odoosync.sheets.engine import SheetSync
    from odoosync.sheets.fetch import SheetFetcher

    fetcher = SheetFetcher(allow_private=True)
    engine = SheetSync(store, fetcher)
    state, _ = engine.add("bench", url, key_column="Ref")

    def run() -> str:
        result = engine.sync(state.customer_id)
        return f"{result.status}: +{result.inserted} ~{result.updated} -{result.deleted}"

    return run


def _naive_runner(store, url: str):
    import httpx
    import sqlalchemy as sa

    from odoosync.sheets.mapping import SheetLead, map_record, plan_columns, source_email_id
    from odoosync.sheets.state import resolve_customer
    from odoosync.store.schema import leads

    customer_id = resolve_customer(store, "bench", create=True)

    def run() -> str:
        text = httpx.get(url, timeout=60).text  # the whole body in memory
        rows = list(csv.reader(io.StringIO(text)))
        plan = plan_columns(rows[0], key_column="Ref")
        inserted = updated = 0
        with store.transaction() as conn:
            for number, cells in enumerate(rows[1:], 2):
                lead = map_record(plan, number, cells)
                if not isinstance(lead, SheetLead):
                    continue
                values = {
                    **lead.values,
                    "source": "sheet",
                    "customer_id": customer_id,
                    "source_email_id": source_email_id(customer_id, lead.key),
                }
                found = conn.execute(
                    sa.select(leads.c.id).where(leads.c.source_email_id == values["source_email_id"])
                ).scalar_one_or_none()
                if found is None:
                    conn.execute(sa.insert(leads).values(**values))
                    inserted += 1
                else:
                    conn.execute(sa.update(leads).where(leads.c.id == found).values(**values))
                    updated += 1
        return f"+{inserted} ~{updated}"

    return run


# ---------------------------------------------------------------------------- parent


class _Databases:
    """A fresh database per child: a SQLite file, or a PostgreSQL database created and dropped."""

    def __init__(self, postgres: str | None):
        self.postgres = postgres
        self.tmp = tempfile.mkdtemp(prefix="odoosync-bench-")

    def create(self) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if not self.postgres:
            return f"sqlite:///{self.tmp}/{name}.db"
        import psycopg
        import sqlalchemy as sa

        with psycopg.connect(
            sa.make_url(self.postgres).set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return sa.make_url(self.postgres).set(database=name).render_as_string(hide_password=False)

    def drop(self, url: str) -> None:
        if not self.postgres:
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            return
        import psycopg
        import sqlalchemy as sa

        name = sa.make_url(url).database
        with psycopg.connect(
            sa.make_url(self.postgres).set(drivername="postgresql").render_as_string(False), autocommit=True
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(server, databases: _Databases, impl: str, size: int) -> tuple[list[dict], dict]:
    path = f"/bench-{impl}-{size}.csv"
    url = server.serve(path, phase_body(size, "first sync"), etag=False, last_modified=None)
    database_url = databases.create()
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", impl, url, database_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    phases: list[dict] = []
    final: dict = {}
    try:
        assert process.stdout is not None and process.stdin is not None
        for line in process.stdout:
            if line.startswith("NEXT "):
                server.serve(path, phase_body(size, line.strip()[5:]), etag=False, last_modified=None)
                process.stdin.write("go\n")
                process.stdin.flush()
                continue
            data = json.loads(line)
            (phases.append(data) if "phase" in data else final.update(data))
        if process.wait() != 0:
            raise SystemExit(f"{impl} at {size} rows failed (exit {process.returncode})")
    finally:
        databases.drop(database_url)
    return phases, final


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="500,10000,100000", help="comma-separated row counts")
    parser.add_argument(
        "--postgres", metavar="URL", help="a PostgreSQL server's maintenance URL (default: SQLite files)"
    )
    parser.add_argument("--naive-max", type=int, default=100_000, help="skip the naive baseline above this many rows")
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "URL", "DATABASE_URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return

    from tests.fixtures.sheets import SheetServer

    os.environ.setdefault("PYTHONPATH", str(ROOT))
    databases = _Databases(args.postgres)
    server = SheetServer()
    database = "PostgreSQL" if args.postgres else "SQLite"
    print(f"sheets benchmark on {database}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    goals: list[str] = []
    print(
        f"{'rows':>8} {'impl':<9} {'phase':<14} {'seconds':>8} {'cpu s':>7} {'stmts':>7} {'lead writes':>11} {'peak MB':>8} {'naive/ours':>10}  outcome"
    )
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            ours, ours_final = measure(server, databases, "odoosync", size)
            naive, naive_final = measure(server, databases, "naive", size) if size <= args.naive_max else ([], {})
            for impl, phases, final in (("odoosync", ours, ours_final), ("naive", naive, naive_final)):
                for index, phase in enumerate(phases):
                    ratio = ""
                    if impl == "naive" and ours:
                        ratio = f"{phase['seconds'] / max(ours[index]['seconds'], 1e-6):.1f}x"
                    print(
                        f"{size:>8,} {impl:<9} {phase['phase']:<14} {phase['seconds']:>8.3f} {phase['cpu']:>7.3f} "
                        f"{phase['statements']:>7,} "
                        f"{phase['lead_writes']:>11,} {final.get('peak_rss_mb', 0):>8.0f} {ratio:>10}  {phase['outcome']}"
                    )
            if not naive:
                print(f"{size:>8,} naive     (skipped: above --naive-max)")
            seconds = {phase["phase"]: phase["seconds"] for phase in ours}
            for goal_size, phase, bound in GOALS:
                if goal_size == size:
                    verdict = "met" if seconds[phase] <= bound else "MISSED"
                    goals.append(f"{size:,} rows, {phase}: {seconds[phase]:.3f} s (goal ≤ {bound:g} s) {verdict}")
    finally:
        server.close()
    if goals:
        print("\ngoals:\n  " + "\n  ".join(goals))


if __name__ == "__main__":
    main()
