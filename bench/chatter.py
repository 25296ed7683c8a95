"""Benchmark: the seed's chatter and scheduled activities, Odoo → PostgreSQL (issue 4).

The simulator serves the seed-scale CRM (2,764 leads, 38,472 messages, ~3,000
activities) with a fixed latency per request (50 ms by default). The database first gets
every lead (reference data, partners, leads through the pull engine; not timed). Then the
history is imported twice in the same run, into emptied tables each time:

* **odoosync**: the ``chatter`` and ``activities`` streams through the pull engine (keyset
  pages read concurrently, one multi-row upsert per page, checkpoints);
* **naive**: what the seed's edge function does: for each lead, one ``search_read`` of
  its messages, one ``read`` of their tracking values, one ``search_read`` of its
  activities, then one ``INSERT`` per row and a commit per lead. Same mappers, so the
  rows are the same; only the way of reading and writing differs.

Each way runs in its own child process, so its peak RSS is its own. The table shows wall
seconds, Odoo requests, rows written, rows/s, peak RSS and the ratio naive/odoosync.

    .venv/bin/python bench/chatter.py                    # seed scale, 50 ms, PostgreSQL
    .venv/bin/python bench/chatter.py --scale 0.1 --naive-leads 300

``--naive-leads N`` times the naive way on the first N leads only and scales its time
and requests up to all leads (marked "extrapolated"): the full naive run takes minutes.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import queue
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.pull import PullEngine, PullOptions
from odoosync.store.database import Store
from odoosync.store.schema import lead_activities, leads, odoo_activity_types, scheduled_activities
from odoosync.streams.activities import (
    ACTIVITY_FIELDS,
    ActivityLookups,
    ActivityType,
    activities_stream,
    map_activities,
)
from odoosync.streams.chatter import (
    MESSAGE_FIELDS,
    SUBTYPE_FIELDS,
    TRACKED_FIELD_FIELDS,
    TRACKING_FIELDS,
    ChatterLookups,
    Subtype,
    TrackedField,
    chatter_stream,
    map_messages,
)
from odoosync.streams.registry import builtin_streams

DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/odoosync_bench_chatter"


def serve_simulator(scale: float, latency_ms: float, ready: Any, stop: Any) -> None:
    """Child process: the simulated Odoo, until ``stop`` is set."""
    from odoosync.simulator import Simulator

    with Simulator(scale=scale, seed=0, latency_ms=latency_ms) as sim:
        ready.put(
            {
                "url": sim.url,
                "db": sim.db,
                "login": sim.login,
                "password": sim.password,
                "counts": sim.counts.__dict__ if sim.counts else {},
            }
        )
        stop.wait()


def odoo_client(odoo: dict[str, Any]) -> OdooClient:
    return OdooClient(
        OdooConfig(
            url=odoo["url"], db=odoo["db"], username=odoo["login"], password=odoo["password"], company_ids=(1, 2)
        )
    ).open()


def fresh_database(url: str) -> None:
    """Drop and create the benchmark database, then migrate it."""
    target = sa.make_url(url)
    admin = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    with Store(url) as store:
        store.upgrade()


def empty_history(url: str) -> None:
    with Store(url) as store, store.transaction() as conn:
        conn.execute(sa.delete(lead_activities))
        conn.execute(sa.delete(scheduled_activities))


def history_rows(url: str) -> tuple[int, int]:
    with Store(url) as store, store.connect() as conn:
        count = sa.func.count()
        return (
            conn.execute(sa.select(count).select_from(lead_activities)).scalar_one(),
            conn.execute(sa.select(count).select_from(scheduled_activities)).scalar_one(),
        )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_odoosync(odoo: dict[str, Any], url: str, out: Any) -> None:
    """Child process: the two streams through the pull engine."""
    with odoo_client(odoo) as client, Store(url) as store:
        engine = PullEngine(client, store)
        started = time.perf_counter()
        engine.run_many([chatter_stream(), activities_stream()], PullOptions(mode=SyncMode.FULL))
        wall = time.perf_counter() - started
        out.put({"wall": wall, "requests": client.stats.snapshot().requests, "rss": peak_rss_mb()})


def run_naive(odoo: dict[str, Any], url: str, limit: int | None, out: Any) -> None:
    """Child process: per lead, fetch and insert row by row (the seed's edge function)."""
    with odoo_client(odoo) as client, Store(url) as store:
        started = time.perf_counter()
        subtypes = {
            int(s["id"]): Subtype.of(s) for s in client.search_read("mail.message.subtype", [], list(SUBTYPE_FIELDS))
        }
        fields: dict[int, TrackedField] = {}
        with store.connect() as conn:
            lead_rows = conn.execute(sa.select(leads.c.id, leads.c.odoo_id).order_by(leads.c.odoo_id)).all()
            types = {
                int(t.odoo_id): ActivityType(int(t.odoo_id), t.name or "", t.xml_id, t.category)
                for t in conn.execute(sa.select(odoo_activity_types))
            }
        tracking_fields = [f for f in TRACKING_FIELDS if f in client.field_types("mail.tracking.value")]
        for lead_id, odoo_id in lead_rows[:limit]:
            messages = client.search_read(
                "mail.message",
                [("model", "=", "crm.lead"), ("res_id", "=", odoo_id)],
                ["id", *MESSAGE_FIELDS],
                active_test=False,
            )
            value_ids = [i for m in messages for i in m.get("tracking_value_ids") or ()]
            tracking: dict[int, list[dict[str, Any]]] = {}
            if value_ids:
                for value in client.read("mail.tracking.value", value_ids, tracking_fields):
                    tracking.setdefault(value["mail_message_id"][0], []).append(value)
                unknown = sorted({v["field_id"][0] for vs in tracking.values() for v in vs} - set(fields))
                if unknown:
                    fields.update(
                        {
                            int(f["id"]): TrackedField.of(f)
                            for f in client.read("ir.model.fields", unknown, list(TRACKED_FIELD_FIELDS))
                        }
                    )
            activities = client.search_read(
                "mail.activity",
                [("res_model", "=", "crm.lead"), ("res_id", "=", odoo_id)],
                ["id", "write_date", *ACTIVITY_FIELDS],
                active_test=False,
            )
            message_rows = map_messages(messages, ChatterLookups({odoo_id: lead_id}, subtypes, tracking, fields))
            activity_rows = map_activities(activities, ActivityLookups({odoo_id: lead_id}, types))
            with store.transaction() as conn:
                for row in message_rows:
                    conn.execute(sa.insert(lead_activities).values(**row))
                for row in activity_rows:
                    conn.execute(sa.insert(scheduled_activities).values(**row))
        wall = time.perf_counter() - started
        out.put(
            {
                "wall": wall,
                "requests": client.stats.snapshot().requests,
                "rss": peak_rss_mb(),
                "leads": min(len(lead_rows), limit or len(lead_rows)),
                "all_leads": len(lead_rows),
            }
        )


def in_child(target: Any, *args: Any) -> dict[str, Any]:
    context = mp.get_context("spawn")
    out = context.Queue()
    process = context.Process(target=target, args=(*args, out))
    process.start()
    while True:
        try:
            result = out.get(timeout=1)
            break
        except queue.Empty:
            if not process.is_alive():
                raise SystemExit(f"{target.__name__} failed (exit code {process.exitcode})") from None
    process.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="simulator data volume (1.0 = the seed's)")
    parser.add_argument("--latency-ms", type=float, default=50.0, help="delay per Odoo request")
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL, help="PostgreSQL database (recreated)")
    parser.add_argument("--naive-leads", type=int, default=None, help="time the naive way on N leads, extrapolate")
    args = parser.parse_args()

    context = mp.get_context("spawn")
    ready, stop = context.Queue(), context.Event()
    simulator = context.Process(target=serve_simulator, args=(args.scale, args.latency_ms, ready, stop), daemon=True)
    simulator.start()
    odoo = ready.get(timeout=600)
    try:
        fresh_database(args.database_url)
        with odoo_client(odoo) as client, Store(args.database_url) as store:
            history = {"chatter", "activities"}
            base = [s for s in builtin_streams() if s.name not in history]
            PullEngine(client, store).run_many(base, PullOptions(mode=SyncMode.FULL))

        ours = in_child(run_odoosync, odoo, args.database_url)
        messages, activities = history_rows(args.database_url)
        ours["rows"] = messages + activities

        empty_history(args.database_url)
        naive = in_child(run_naive, odoo, args.database_url, args.naive_leads)
        naive_messages, naive_activities = history_rows(args.database_url)
        naive["rows"] = naive_messages + naive_activities
        factor = naive["all_leads"] / naive["leads"]
        extrapolated = factor > 1
        if extrapolated:
            naive = {
                **naive,
                "wall": naive["wall"] * factor,
                "requests": round(naive["requests"] * factor),
                "rows": ours["rows"],
            }
        elif (naive_messages, naive_activities) != (messages, activities):
            raise SystemExit(f"the two ways disagree: {messages}/{activities} vs {naive_messages}/{naive_activities}")
    finally:
        stop.set()
        simulator.join(timeout=10)
        if simulator.is_alive():
            simulator.terminate()

    counts = odoo["counts"]
    print(
        f"Chatter + activities: {counts.get('leads')} leads, {messages} messages, {activities} activities; "
        f"simulator latency {args.latency_ms:g} ms/request; PostgreSQL"
    )
    print()
    print("| way | wall s | Odoo requests | rows | rows/s | peak RSS MB | ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, result in (
        ("odoosync (pull engine)", ours),
        ("naive per lead" + (f" (extrapolated from {naive['leads']} leads)" if extrapolated else ""), naive),
    ):
        ratio = result["wall"] / ours["wall"]
        print(
            f"| {name} | {result['wall']:.1f} | {result['requests']:,} | {result['rows']:,} | "
            f"{result['rows'] / result['wall']:,.0f} | {result['rss']:.0f} | {ratio:.1f}× |"
        )


if __name__ == "__main__":
    main()
