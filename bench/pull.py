"""Benchmark: the pull engine against a naive importer written the old way.

    .venv/bin/python bench/pull.py [--scale 1.0] [--latency-ms 50] [--naive-budget 60]
                                   [--factor10 | --no-factor10] [--memory-factors 10 20]
                                   [--pg-url postgresql://...]
                                   [--db-latency-ms 5 20]   (60: the seed's own distance)

What it runs, each measured in its own child process (peak RSS from ``wait4``):

1. the Odoo simulator in a child process (seed-scale data, ``--latency-ms`` per request);
2. **engine (leads)**: ``sync`` of reference data, partners and leads, as the seed's
   importer did (leads with their customers and contacts), into a fresh PostgreSQL
   database;
3. **engine (all)**: the same plus chatter and scheduled activities;
4. **naive**: the seed's importer: ``offset`` pages of 200 leads, then per
   lead a dedup check, a customer lookup (and insert), a contact check (and insert), the
   lead insert and an activity-log insert, each its own statement and commit. It runs
   under ``--naive-budget`` seconds; if the budget stops it, its totals are extrapolated
   and marked ``(extrapolated)``: by the statements the complete loopback run needed
   (its time per statement is nearly constant at a distance; a per-lead rate would
   overstate it, as the first leads create most of the customers and contacts);
5. with ``--factor10``: the engine (leads) again on ten times the data (or on each of
   ``--memory-factors``, e.g. ``10 20``), to show that memory stays bounded by the rounds
   in flight, not by the table.

Steps 2 and 4 run with the database on loopback, then with the database each
``--db-latency-ms`` (default 5, 20 and 60) of round trip away: the children reach
PostgreSQL through a TCP proxy (``bench/netdelay.py``) that delays every chunk by half of
it each way, so every round trip pays, whether a statement or psycopg's BEGIN and COMMIT,
connection start-up and pool pre-pings. 60 ms is the seed's own distance: its importer,
a Supabase edge function, saw about 60 ms per query (200 leads per 60-second run at 5
queries per lead). The seed's importer "timed out every 60 seconds and needed ten runs":
that is the naive importer from about 20 ms on; on loopback it finishes in one run. It
prints one table (wall seconds, the engine's CPU seconds during its run, Odoo requests,
database statements, leads/s, peak RSS, and the speed-up over the naive importer in the
same conditions). The CPU column shows how fast the machine was: on the shared 2-core
machine the same import's CPU moves by half within the hour. Nothing here asserts; tests
never assert on wall time.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench.netdelay import DelayProxy  # noqa: E402

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# ---------------------------------------------------------------------------- children


def engine_child(odoo_url: str, database_url: str, streams: str, out: str) -> None:
    """Run the engine once and write its numbers to ``out`` (JSON)."""
    from odoosync import heap
    from odoosync.odoo.config import OdooConfig
    from odoosync.service.operations import open_client, open_store, pull_options, run_sync
    from odoosync.settings import Settings
    from odoosync.store.schema import leads
    from odoosync.streams.registry import stream_catalog

    settings = Settings(
        odoo=OdooConfig(url=odoo_url, db="odoosync_demo", username="admin", password="admin", protocol="jsonrpc"),
        database_url=database_url,
    )
    with open_store(settings) as store, open_client(settings) as client:
        heap.settle()  # as `odoosync sync` does once its modules are loaded
        store.stats.reset()
        before = client.stats.snapshot()
        catalog = stream_catalog()
        if streams == "leads":
            catalog = [s for s in catalog if s.name not in ("chatter", "activities")]
        started, cpu_started = time.perf_counter(), time.process_time()
        report = run_sync(client, store, "all", pull_options(settings), streams=catalog)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        with store.connect() as conn:
            count = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()
        spent = client.stats.snapshot() - before
        Path(out).write_text(
            json.dumps(
                {
                    "wall": wall,
                    "cpu": cpu,
                    "requests": spent.requests,
                    "statements": store.stats.statements,
                    "leads": count,
                    "extrapolated": False,
                    "rows": sum(r.counters.inserted for r in report.results),
                }
            )
        )


def naive_child(odoo_url: str, database_url: str, budget: float, out: str) -> None:
    """The seed's importer: offset pages, then 4+ statements per lead, one at a time."""
    from odoosync.odoo.client import OdooClient
    from odoosync.odoo.config import OdooConfig
    from odoosync.store.database import normalise_url

    config = OdooConfig(url=odoo_url, db="odoosync_demo", username="admin", password="admin", protocol="jsonrpc")
    engine = sa.create_engine(normalise_url(database_url), isolation_level="AUTOCOMMIT")
    statements = 0

    @sa.event.listens_for(engine, "before_cursor_execute")
    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    fields = [
        "name",
        "partner_id",
        "partner_name",
        "contact_name",
        "email_from",
        "phone",
        "stage_id",
        "expected_revenue",
        "probability",
        "user_id",
        "team_id",
        "date_deadline",
        "active",
        "write_date",
    ]
    done = 0
    stopped = False
    started = time.perf_counter()
    with OdooClient(config) as client, engine.connect() as conn:
        (user,) = client.read("res.users", [client.uid], ["company_ids"])
        client.config = OdooConfig(**{**config.__dict__, "company_ids": tuple(user["company_ids"])})
        total = client.search_count("crm.lead", [], active_test=False)
        offset = 0
        while not stopped:
            page = client.search_read("crm.lead", [], fields, offset=offset, limit=200, order="id", active_test=False)
            if not page:
                break
            for lead in page:
                if time.perf_counter() - started > budget:
                    stopped = True
                    break
                key = f"odoo_crm_{lead['id']}"
                if conn.execute(sa.text("SELECT id FROM leads WHERE source_email_id = :k"), {"k": key}).first():
                    continue
                customer_name = lead["partner_name"] or (lead["partner_id"][1] if lead["partner_id"] else None)
                customer_id = None
                if customer_name:
                    row = conn.execute(
                        sa.text("SELECT id FROM customers WHERE company_id IS NULL AND name = :n"), {"n": customer_name}
                    ).first()
                    customer_id = (
                        row[0]
                        if row
                        else conn.execute(
                            sa.text("INSERT INTO customers (name) VALUES (:n) RETURNING id"), {"n": customer_name}
                        ).scalar_one()
                    )
                if (
                    lead["email_from"]
                    and customer_id
                    and not conn.execute(
                        sa.text("SELECT id FROM contacts WHERE email = :e"), {"e": lead["email_from"]}
                    ).first()
                ):
                    conn.execute(
                        sa.text("INSERT INTO contacts (customer_id, name, email) VALUES (:c, :n, :e)"),
                        {"c": customer_id, "n": lead["contact_name"], "e": lead["email_from"]},
                    )
                lead_id = conn.execute(
                    sa.text(
                        "INSERT INTO leads (customer_id, title, contact_name, email, phone, stage, status, value, probability,"
                        " owner_name, team_name, deadline, source, source_email_id, odoo_id)"
                        " VALUES (:c, :t, :cn, :e, :p, :s, :st, :v, :pr, :o, :tm, :d, 'odoo', :k, :i) RETURNING id"
                    ),
                    {
                        "c": customer_id,
                        "t": lead["name"],
                        "cn": lead["contact_name"],
                        "e": lead["email_from"],
                        "p": lead["phone"],
                        "s": lead["stage_id"][1] if lead["stage_id"] else None,
                        "st": "open" if lead["active"] else "lost",
                        "v": lead["expected_revenue"] or 0,
                        "pr": lead["probability"],
                        "o": lead["user_id"][1] if lead["user_id"] else None,
                        "tm": lead["team_id"][1] if lead["team_id"] else None,
                        "d": lead["date_deadline"],
                        "k": key,
                        "i": lead["id"],
                    },
                ).scalar_one()
                conn.execute(
                    sa.text("INSERT INTO lead_events (lead_id, event_type) VALUES (:l, 'imported')"), {"l": lead_id}
                )
                done += 1
            offset += 200
        requests = client.stats.snapshot().requests
    wall = time.perf_counter() - started
    result = {"wall": wall, "requests": requests, "statements": statements, "leads": done, "extrapolated": False}
    if stopped and done:
        factor = total / done
        result.update(
            wall=wall * factor,
            requests=int(requests + (total - done) / 200),
            statements=int(statements * factor),
            leads=total,
            extrapolated=True,
            measured_leads=done,
            measured_wall=wall,
            measured_statements=statements,
        )
    Path(out).write_text(json.dumps(result))


# ---------------------------------------------------------------------------- driver


def run_child(args: list[str]) -> tuple[dict[str, Any], int]:
    """Run ``bench/pull.py <args>`` in a child; returns (its JSON, its peak RSS in KiB)."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as fh:
        out = fh.name
    process = subprocess.Popen([sys.executable, __file__, *args, "--out", out], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"child {args[0]} failed with status {status}")
    data = json.loads(Path(out).read_text())
    Path(out).unlink()
    return data, usage.ru_maxrss


@contextmanager
def simulator(scale: float, latency_ms: float):
    """The simulator in its own process; yields its URL."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoosync",
            "simulator",
            "--port",
            "0",
            "--scale",
            str(scale),
            "--latency-ms",
            str(latency_ms),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        for line in process.stdout:
            found = re.search(r"at (http://\S+)", line)
            if found:
                url = found.group(1)
                break
        else:
            raise SystemExit("the simulator did not start")
        for line in process.stdout:
            if line.startswith("Press Ctrl-C"):
                break
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def fresh_database(server: str):
    """A new, migrated PostgreSQL database; dropped afterwards."""
    from odoosync.store import Store

    name = f"odoosync_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        with Store(url) as store:
            store.upgrade()
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def database_at(server: str, latency_ms: float):
    """``server``'s URL, or one through a ``latency_ms`` round-trip proxy in front of it;
    yields a function turning a database URL on ``server`` into the one children use."""
    if latency_ms <= 0:
        yield lambda url: url
        return
    target = sa.make_url(server)
    with DelayProxy(target.host or "127.0.0.1", target.port or 5432, latency_ms) as proxy:
        yield lambda url: sa.make_url(url).set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)


def row(label: str, data: dict[str, Any], rss_kib: int, baseline: dict[str, Any] | None, goal: str = "") -> list[str]:
    speed = data["leads"] / data["wall"] if data["wall"] else 0.0
    ratio = f"{baseline['wall'] / data['wall']:.0f}×" if baseline and data is not baseline else "1×"
    mark = " (extrapolated)" if data.get("extrapolated") else ""
    return [
        label,
        f"{data['leads']:,}",
        f"{data['wall']:.1f}{mark}",
        f"{data['cpu']:.1f}" if "cpu" in data else "",
        f"{data['requests']:,}",
        f"{data['statements']:,}",
        f"{speed:,.0f}",
        f"{rss_kib / 1024:.0f} MiB",
        ratio,
        goal,
    ]


HEADER = [
    "run",
    "leads",
    "wall s",
    "engine CPU s",
    "Odoo requests",
    "DB statements",
    "leads/s",
    "peak RSS",
    "faster than naive",
    "goal",
]


def print_table(rows: list[list[str]], title: str, header: list[str] = HEADER) -> None:
    """A Markdown table under ``title``, columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def by_statements(naive: dict[str, Any], complete: dict[str, Any]) -> dict[str, Any]:
    """A budget-stopped naive run extrapolated by the statements the complete
    (loopback) run needed, rather than by leads."""
    if not naive.get("extrapolated") or complete.get("extrapolated"):
        return naive
    factor = complete["statements"] / naive["measured_statements"]
    return {
        **naive,
        "wall": naive["measured_wall"] * factor,
        "statements": complete["statements"],
        "requests": complete["requests"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--naive-budget", type=float, default=60.0, help="seconds before the naive run is extrapolated")
    parser.add_argument("--factor10", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument(
        "--memory-factors", type=float, nargs="+", default=[10.0], help="scales (× --scale) of the memory rows"
    )
    parser.add_argument("--full-runs", type=int, default=3, help="runs of the full import (the median is shown)")
    parser.add_argument("--pg-url", default=os.environ.get("ODOOSYNC_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument(
        "--db-latency-ms",
        type=float,
        nargs="*",
        default=[5.0, 20.0, 60.0],
        help="round-trip ms between the children and PostgreSQL (a TCP proxy), one pair of"
        " runs each (loopback always runs); 60 is the seed's own distance",
    )
    args = parser.parse_args()

    rows = []
    with simulator(args.scale, args.latency_ms) as url:
        for db_ms in sorted({0.0, *args.db_latency_ms}):
            where = "loopback DB" if db_ms == 0 else f"DB {db_ms:g} ms away"
            with database_at(args.pg_url, db_ms) as reach:
                with fresh_database(args.pg_url) as db:
                    naive, rss_naive = run_child(["_naive", url, reach(db), str(args.naive_budget)])
                with fresh_database(args.pg_url) as db:
                    engine_leads, rss_leads = run_child(["_engine", url, reach(db), "leads"])
            if db_ms == 0:
                complete = naive
            else:
                naive = by_statements(naive, complete)
            rows.append(row(f"naive importer, {where}", naive, rss_naive, naive))
            rows.append(
                row(
                    f"engine: reference + partners + leads, {where}",
                    engine_leads,
                    rss_leads,
                    naive,
                    "≥ 100× faster" if db_ms >= 60 else "",
                )
            )
        full_imports = []
        for _ in range(args.full_runs):
            with fresh_database(args.pg_url) as db:
                full_imports.append(run_child(["_engine", url, db, "all"]))
        engine_all, rss_all = sorted(full_imports, key=lambda run: run[0]["wall"])[len(full_imports) // 2]
        label = f"engine: all incl. chatter + activities, loopback DB (median of {args.full_runs})"
        rows.append(row(label, engine_all, rss_all, None, "≤ 5 s"))
    for factor in args.memory_factors if args.factor10 else ():
        with simulator(args.scale * factor, args.latency_ms) as url, fresh_database(args.pg_url) as db:
            engine_big, rss_big = run_child(["_engine", url, db, "leads"])
        rows.append(
            row(
                f"engine: reference + partners + leads, scale {args.scale * factor:g}, loopback DB",
                engine_big,
                rss_big,
                None,
                "peak RSS flat",
            )
        )
    print_table(
        rows,
        f"Pull benchmark: scale {args.scale:g} ({rows[0][1]} leads), simulator with "
        f"{args.latency_ms:g} ms per request, PostgreSQL "
        f"({sa.make_url(args.pg_url).render_as_string(hide_password=True)}), {os.cpu_count()} CPUs, "
        f"load {os.getloadavg()[0]:.1f}",
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("_engine", "_naive"):
        child = argparse.ArgumentParser()
        child.add_argument("kind")
        child.add_argument("odoo_url")
        child.add_argument("database_url")
        child.add_argument("extra")
        child.add_argument("--out", required=True)
        a = child.parse_args()
        if a.kind == "_engine":
            engine_child(a.odoo_url, a.database_url, a.extra, a.out)
        else:
            naive_child(a.odoo_url, a.database_url, float(a.extra), a.out)
    else:
        main()
