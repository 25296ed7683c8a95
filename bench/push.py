"""Benchmark: 1,000 queued app changes of mixed kinds pushed to Odoo (goal: ≤ 5 s).

The simulator answers every request after a fixed latency (50 ms by default). The app
database (SQLite, or PostgreSQL with ``--database-url``) gets leads bound to the
simulator's leads (written as the pull would, queueing nothing), then 1,000 changes made
with plain SQL, which the triggers queue:

* 300 new leads (``crm.lead`` creates),
* 300 stage moves of existing leads (writes of a few distinct ``stage_id`` values),
* 100 phone edits (writes, every value different),
* 200 notes on leads (``message_post``),
* 100 scheduled activities (``mail.activity`` creates).

The same changes are pushed twice in the same run, each time into a fresh simulator and
a fresh database:

* **odoosync**: the push engine (``load`` for all creates of a model, one ``write`` per
  distinct value set, conflict reads and read-backs batched per model; batches and their
  independent calls in flight together, up to the client's concurrency limit);
* **one call per item**: each outbox item in turn becomes one Odoo call (``create``,
  ``write``, ``message_post``) and its own commit, as the seed's edge function does.

The table: wall seconds beside the goal, the CPU seconds of the process (the engine and
the in-process simulator together), Odoo requests, the floor those requests set
(requests × latency / requests in flight), and the ratio one-per-item/odoosync; then
the machine's load average.

    .venv/bin/python bench/push.py                        # 1,000 changes, 50 ms, 4 in flight
    .venv/bin/python bench/push.py --latency-ms 10 --changes 200 --concurrency 8
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import DEFAULT_MAX_CONCURRENCY, OdooConfig
from odoosync.push import outbox
from odoosync.push.binder import Binder
from odoosync.push.engine import PushEngine
from odoosync.push.mappers import map_values
from odoosync.service.operations import allowed_companies
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads

MIX = {"create": 0.3, "stage": 0.3, "phone": 0.1, "note": 0.2, "activity": 0.1}


def prepare(database_url: str, sim: Simulator, changes: int) -> None:
    """Bound leads as the pull would write them, then ``changes`` app edits in plain SQL."""
    with Store(database_url) as store:
        store.upgrade()
        with sim.env({"active_test": False}) as env:
            records = env["crm.lead"].search_read([("active", "=", True)], ["name", "phone", "stage_id"], limit=400)
            stages = [s["name"] for s in env["crm.stage"].search_read([], ["name"])]
        with store.transaction(origin="pull") as conn:
            for r in records:
                stage = r["stage_id"][1] if r.get("stage_id") else None
                conn.execute(
                    sa.insert(leads).values(
                        title=r["name"], odoo_id=r["id"], phone=r["phone"] or None, stage=stage, source="odoo"
                    )
                )
        with store.connect() as conn:
            bound = [row[0] for row in conn.execute(sa.select(leads.c.id).order_by(leads.c.id))]
        counts = {kind: int(changes * share) for kind, share in MIX.items()}
        with store.transaction() as conn:
            for i in range(counts["create"]):
                conn.execute(
                    sa.text("INSERT INTO leads (title, email) VALUES (:t, :e)"),
                    {"t": f"Bench lead {i}", "e": f"bench{i}@example.com"},
                )
            current = {row[0]: row[1] for row in conn.execute(sa.select(leads.c.id, leads.c.stage))}
            for i in range(counts["stage"]):
                lead = bound[i % len(bound)]
                stage = next(s for s in (stages[i % 3], stages[(i + 1) % 3]) if s != current[lead])
                conn.execute(sa.text("UPDATE leads SET stage = :s WHERE id = :id"), {"s": stage, "id": lead})
            for i in range(counts["phone"]):
                conn.execute(
                    sa.text("UPDATE leads SET phone = :p WHERE id = :id"),
                    {"p": f"+1 555 {i:04d}", "id": bound[(i + 300) % len(bound)]},
                )
            for i in range(counts["note"]):
                conn.execute(
                    sa.text(
                        "INSERT INTO lead_activities (lead_id, activity_type, title, description) "
                        "VALUES (:id, 'note', 'Note', :d)"
                    ),
                    {"id": bound[i % len(bound)], "d": f"note {i}"},
                )
            for i in range(counts["activity"]):
                conn.execute(
                    sa.text(
                        "INSERT INTO scheduled_activities (lead_id, activity_type, summary, due_date) "
                        "VALUES (:id, 'call', :s, '2030-01-01')"
                    ),
                    {"id": bound[i % len(bound)], "s": f"call {i}"},
                )


def client_for(sim: Simulator, concurrency: int = DEFAULT_MAX_CONCURRENCY) -> OdooClient:
    """A client allowed into every company of the user, as ``odoosync push`` opens it."""
    client = OdooClient(
        OdooConfig(
            url=sim.url,
            db=sim.db,
            username=sim.login,
            password=sim.password,
            protocol="jsonrpc",
            max_concurrency=concurrency,
        )
    ).open()
    client.config = dataclasses.replace(client.config, company_ids=allowed_companies(client))
    return client


def run_odoosync(database_url: str, sim: Simulator, concurrency: int) -> dict[str, Any]:
    with Store(database_url) as store, client_for(sim, concurrency) as client:
        queued = outbox.status_counts(store)["queued"]
        started, cpu = time.perf_counter(), time.process_time()
        result = PushEngine(
            store, client, policies={}, clock=lambda: dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
        ).push_all()
        seconds = time.perf_counter() - started
        return {
            "queued": queued,
            "done": outbox.status_counts(store)["done"],
            "seconds": seconds,
            "cpu": time.process_time() - cpu,
            "requests": result.rpc_calls,
            "failed": result.failed,
        }


def run_one_per_item(database_url: str, sim: Simulator, concurrency: int) -> dict[str, Any]:
    """Each outbox item → one Odoo call and one commit, in queue order (one at a time)."""
    with Store(database_url) as store, client_for(sim, 1) as client:
        before = client.stats.snapshot().requests
        started = time.perf_counter()
        items = outbox.claim(
            store,
            worker="naive",
            now=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1),
            lease=dt.timedelta(hours=1),
            limit=10**6,
        )
        binder = Binder(store, client)
        lead_model = binder.model_id("crm.lead")
        done = 0
        for item in items:
            values = item.payload.get("values", {})
            if item.local_table == "leads" and item.operation == "create":
                new_id = client.create("crm.lead", map_values("leads", values, binder, creating=True))
                with store.transaction(origin="pull") as conn:
                    conn.execute(sa.update(leads).where(leads.c.id == item.local_id).values(odoo_id=new_id))
            elif item.local_table == "leads":
                client.write(
                    "crm.lead",
                    [binder.odoo_id("leads", item.local_id)],
                    map_values("leads", values, binder, creating=False),
                )
            elif item.local_table == "lead_activities":
                client.call(
                    "crm.lead",
                    "message_post",
                    [binder.odoo_id("leads", values["lead_id"])],
                    body=values.get("description") or "",
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
            else:
                mapped = map_values("scheduled_activities", values, binder, creating=True)
                client.create("mail.activity", {**mapped, "res_model_id": lead_model})
            with store.transaction() as conn:
                done += outbox.complete(conn, [item.id], worker="naive", now=dt.datetime.now(dt.UTC))
        seconds = time.perf_counter() - started
        return {
            "queued": len(items),
            "done": done,
            "seconds": seconds,
            "requests": client.stats.snapshot().requests - before,
            "failed": 0,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--scale", type=float, default=0.2, help="simulator dataset scale (needs ≥ 400 leads)")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: a temporary SQLite file)")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=DEFAULT_MAX_CONCURRENCY,
        help="the client's limit of requests in flight (its default: %(default)s)",
    )
    args = parser.parse_args()
    results = {}
    for name, run in (("odoosync", run_odoosync), ("one call per item", run_one_per_item)):
        with tempfile.TemporaryDirectory() as tmp, Simulator(args.scale, 0) as sim:
            url = args.database_url or f"sqlite:///{tmp}/bench.db"
            if args.database_url:
                with Store(url) as store, store.transaction() as conn:
                    for table in ("lead_activities", "scheduled_activities", "leads"):
                        conn.execute(sa.text(f"DELETE FROM {table}"))
                    conn.execute(sa.text("DELETE FROM ops.odoo_outbox"))
            prepare(url, sim, args.changes)
            sim.latency_ms = args.latency_ms
            results[name] = run(url, sim, args.concurrency)
    fast, slow = results["odoosync"], results["one call per item"]
    floor = fast["requests"] * args.latency_ms / 1000 / args.concurrency
    print(
        f"push of {fast['queued']} queued app changes, {args.latency_ms:g} ms per Odoo request, "
        f"{args.concurrency} in flight\n"
    )
    print("| target | goal | odoosync | CPU | Odoo requests (floor) | one call per item | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|")
    print(
        f"| {fast['queued']:,} queued app changes | ≤ 5 s | {fast['seconds']:.1f} s "
        f"({fast['done']:,} done, {fast['failed']} failed) | {fast['cpu']:.1f} s | {fast['requests']} ({floor:.1f} s) | "
        f"{slow['seconds']:.1f} s ({slow['requests']} requests) | {slow['seconds'] / fast['seconds']:.1f}× |"
    )
    print(f"\nload average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
