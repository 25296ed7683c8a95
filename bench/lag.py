"""Benchmark: how long an Odoo edit takes to reach the app's ``leads`` row (issue 8).

A real measurement, in two modes, each with a fresh simulator and SQLite database synced
once beforehand:

* **webhook**: the service's API (uvicorn, loopback) with ``POST /api/webhooks/odoo``, and
  the simulator sending Odoo's automation webhooks (before its commit, 1 s timeout). No
  schedule runs, so every pull is the webhook's.
* **polling**: the service's scheduler with the default schedule (``increments`` every
  minute, cron ``* * * * *``) and no webhooks. Edits are spread at random over
  ``--polling-seconds`` (default 180 s), so they land at every phase of the minute; the
  run is bounded by that window plus one schedule period.

Each edit renames one lead over XML-RPC (as a user in Odoo would); its lag is the time
from just before that call until the ``leads`` row shows the new title (the database is
polled every 20 ms). The table: median, p95 and max lag, and the Odoo requests odoosync
spent during the mode (``OdooClient`` counters), in total and per edit.

    .venv/bin/python bench/lag.py                          # 50 edits, both modes (~4 min)
    .venv/bin/python bench/lag.py --modes webhook --edits 50
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import xmlrpc.client
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.service.app import App, settings_for
from odoosync.service.jobs import Jobs
from odoosync.simulator import Simulator
from odoosync.simulator.webhooks import attach
from odoosync.store import Store
from odoosync.store.schema import leads

SECRET = "bench-webhook-secret"


@dataclass
class ModeResult:
    mode: str
    lags: list[float]
    requests: int
    unseen: int

    def row(self) -> str:
        ordered = sorted(self.lags)
        p95 = ordered[max(0, round(0.95 * len(ordered)) - 1)] if ordered else float("nan")
        median = statistics.median(ordered) if ordered else float("nan")
        per_edit = self.requests / max(1, len(self.lags) + self.unseen)
        return (
            f"| {self.mode} | {len(self.lags)} | {median:.2f} | {p95:.2f} | {max(ordered, default=float('nan')):.2f} "
            f"| {self.requests} | {per_edit:.1f} | {self.unseen} |"
        )


def _title(store: Store, odoo_id: int) -> str | None:
    with store.connect() as conn:
        return conn.execute(sa.select(leads.c.title).where(leads.c.odoo_id == odoo_id)).scalar_one_or_none()


def run_mode(mode: str, *, edits: int, spread: float, scale: float, latency_ms: float, seed: int) -> ModeResult:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp, Simulator(scale, seed, latency_ms=latency_ms) as sim:
        url = f"sqlite:///{Path(tmp) / 'lag.db'}"
        with Store(url) as store:
            store.upgrade()
        config = OdooConfig(url=sim.url, db=sim.db, username=sim.login, password=sim.password, protocol="jsonrpc")
        with Store(url) as store, OdooClient(config) as client:
            jobs = Jobs(store, client)
            jobs.run_job("reference", "manual")
            jobs.run_job("increments", "manual")
            with xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/object") as rpc:  # leads the user may edit
                lead_ids = rpc.execute_kw(
                    sim.db, sim.uid, sim.password, "crm.lead", "search", [[]], {"limit": edits, "order": "id"}
                )
            # the service as `odoosync serve` assembles it: webhooks with the outbox job only,
            # polling with the default schedule (increments every minute)
            settings = settings_for(odoo=config, database_url=url, api_token="bench", webhook_secret=SECRET)
            service = App(settings, store=store, client=client, scheduled=mode != "webhook", catch_up=False).open()
            base_url = service.start("127.0.0.1", 0)
            sender = attach(sim, f"{base_url}/api/webhooks/odoo?token={SECRET}") if mode == "webhook" else None
            before = client.stats.snapshot()
            offsets = sorted(rng.uniform(0, spread) for _ in lead_ids)
            pending: dict[int, tuple[str, float]] = {}
            lags: list[float] = []
            started = time.monotonic()
            with xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/object") as rpc:
                queue = list(zip(offsets, lead_ids, strict=True))
                deadline = started + spread + 75
                while (queue or pending) and time.monotonic() < deadline:
                    now = time.monotonic()
                    while queue and now - started >= queue[0][0]:
                        _, lead_id = queue.pop(0)
                        title = f"lag bench {lead_id} {rng.random():.6f}"
                        edited_at = time.monotonic()
                        rpc.execute_kw(sim.db, sim.uid, sim.password, "crm.lead", "write", [[lead_id], {"name": title}])
                        pending[lead_id] = (title, edited_at)
                    for lead_id, (title, edited_at) in list(pending.items()):
                        if _title(store, lead_id) == title:
                            lags.append(time.monotonic() - edited_at)
                            del pending[lead_id]
                    time.sleep(0.02)
            requests = (client.stats.snapshot() - before).requests
            if sender is not None:
                sim.database.before_commit = None
                sender.close()
            service.close()
            jobs.stop()
            jobs.join(10)
    return ModeResult(mode, lags, requests, len(pending))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=50)
    parser.add_argument("--modes", default="webhook,polling")
    parser.add_argument("--scale", type=float, default=0.05)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--webhook-seconds", type=float, default=25.0, help="window the webhook edits are spread over")
    parser.add_argument("--polling-seconds", type=float, default=180.0, help="window the polling edits are spread over")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    print(f"{args.edits} lead renames over XML-RPC, simulator scale {args.scale}, {args.latency_ms:g} ms per request")
    print()
    print("| mode | edits seen | median s | p95 s | max s | Odoo requests | per edit | not seen |")
    print("|---|---|---|---|---|---|---|---|")
    for mode in args.modes.split(","):
        spread = args.webhook_seconds if mode == "webhook" else args.polling_seconds
        result = run_mode(
            mode, edits=args.edits, spread=spread, scale=args.scale, latency_ms=args.latency_ms, seed=args.seed
        )
        print(result.row(), flush=True)


if __name__ == "__main__":
    main()
