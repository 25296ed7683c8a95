"""Benchmark: what the service costs when nothing changes, and how fast it answers.

1. **Odoo requests per hour at the default schedule with nothing changing.** The
   simulator is synced once (the start-up catch-up of ``odoosync serve``), then each job
   of ``scheduler.DEFAULT_SCHEDULE`` is fired once more, as the scheduler would, and the
   Odoo requests it made are counted (the client's counters, cross-checked with the
   simulator's own request log). Requests per hour = requests per fire × fires per hour
   of the job's cron expression.
2. **``GET /api/status`` under 50 concurrent clients.** The API (with the jobs, as
   ``serve`` runs it) is served by uvicorn in a separate process over the synced SQLite
   file; 50 client threads send requests with the read token until ``--requests`` are
   done or ``--seconds`` have passed (bounded both ways). Throughput and latency
   percentiles. The load generator is Python threads on the same machine: the numbers
   are a floor, not a ceiling.

    .venv/bin/python bench/service.py                      # scale 1.0 (seed volume)
    .venv/bin/python bench/service.py --scale 0.1 --requests 2000
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import multiprocessing
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.service.jobs import STARTUP_JOBS, Jobs
from odoosync.service.operations import allowed_companies
from odoosync.service.scheduler import DEFAULT_SCHEDULE, parse_cron
from odoosync.simulator import Simulator
from odoosync.store import Store

READ_TOKEN = "bench-read-token"


def fires_per_hour(expression: str) -> int:
    """How many times ``expression`` fires in one hour (the hour after a full hour)."""
    trigger = parse_cron(expression)
    start = dt.datetime(2030, 1, 1, 0, 0, tzinfo=dt.UTC)
    end = start + dt.timedelta(hours=1)
    fires, previous, now = 0, None, start - dt.timedelta(microseconds=1)
    while True:
        when = trigger.get_next_fire_time(previous, now)
        if when is None or when >= end:
            return fires
        fires += 1
        previous, now = when, when


def client_for(sim: Simulator) -> OdooClient:
    client = OdooClient(
        OdooConfig(url=sim.url, db=sim.db, username=sim.login, password=sim.password, protocol="jsonrpc")
    ).open()
    client.config = dataclasses.replace(client.config, company_ids=allowed_companies(client))
    return client


def idle_cost(database_url: str, sim: Simulator) -> list[dict[str, Any]]:
    """Sync once, then fire every default job once with nothing changed in Odoo."""
    with Store(database_url) as store, client_for(sim) as client:
        jobs = Jobs(store, client)
        functions = jobs.functions()
        for job in STARTUP_JOBS:
            functions[job]("schedule")
        for job in STARTUP_JOBS:  # the first increment after a full walk settles the cursors
            functions[job]("schedule")
        rows = []
        for job, expression in DEFAULT_SCHEDULE.items():
            before, logged = client.stats.snapshot().requests, len(sim.request_log.records)
            functions[job]("schedule")
            requests = client.stats.snapshot().requests - before
            assert len(sim.request_log.records) - logged == requests, "client and simulator disagree"
            per_hour = fires_per_hour(expression)
            rows.append(
                {
                    "job": job,
                    "cron": expression,
                    "fires": per_hour,
                    "per_fire": requests,
                    "per_hour": requests * per_hour,
                }
            )
        return rows


def _serve_api(database_url: str, sim_url: str, db: str, login: str, password: str, port: int) -> None:
    """The API as ``odoosync serve --no-schedule`` assembles it, until SIGTERM."""
    from odoosync.service.app import App, settings_for, until_signal

    config = OdooConfig(url=sim_url, db=db, username=login, password=password, protocol="jsonrpc")
    settings = settings_for(odoo=config, database_url=database_url, api_token="bench-admin", read_token=READ_TOKEN)
    with App(settings, scheduled=False, catch_up=False) as service, until_signal() as stop:
        service.start("127.0.0.1", port)
        service.wait(stop)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def load(database_url: str, sim: Simulator, *, clients: int, requests: int, seconds: float) -> dict[str, Any]:
    port = _free_port()
    server = multiprocessing.get_context("spawn").Process(
        target=_serve_api, args=(database_url, sim.url, sim.db, sim.login, sim.password, port), daemon=True
    )
    server.start()
    url = f"http://127.0.0.1:{port}/api/status"
    headers = {"Authorization": f"Bearer {READ_TOKEN}"}
    try:
        for _ in range(300):
            try:
                if httpx.get(url, headers=headers, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        latencies: list[float] = []
        errors = 0
        lock = threading.Lock()
        remaining = [requests]
        deadline = time.monotonic() + seconds

        def worker() -> None:
            nonlocal errors
            with httpx.Client(headers=headers, timeout=30) as client:
                while time.monotonic() < deadline:
                    with lock:
                        if remaining[0] <= 0:
                            return
                        remaining[0] -= 1
                    started = time.perf_counter()
                    ok = client.get(url).status_code == 200
                    elapsed = time.perf_counter() - started
                    with lock:
                        latencies.append(elapsed)
                        errors += 0 if ok else 1

        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            for _ in range(clients):
                pool.submit(worker)
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.join(10)
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "errors": errors,
        "wall": wall,
        "rps": len(ordered) / wall,
        "p50": statistics.median(ordered) * 1000,
        "p99": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
        "max": ordered[-1] * 1000,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="simulator dataset scale (1.0: seed volume)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=5000, help="stop after this many status requests")
    parser.add_argument("--seconds", type=float, default=60.0, help="...or after this long")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Simulator(args.scale, 0) as sim:
        url = f"sqlite:///{tmp}/bench.db"
        with Store(url) as store:
            store.upgrade()
        rows = idle_cost(url, sim)
        total = sum(r["per_hour"] for r in rows)
        print(f"Odoo requests per hour at the default schedule, nothing changing (scale {args.scale:g})\n")
        print("| job | cron | fires/h | requests/fire | requests/h |")
        print("|---|---|---:|---:|---:|")
        for r in rows:
            print(f"| {r['job']} | `{r['cron']}` | {r['fires']} | {r['per_fire']} | {r['per_hour']} |")
        print(f"| **total** | | | | **{total}** |\n")
        result = load(url, sim, clients=args.clients, requests=args.requests, seconds=args.seconds)
        print(f"GET /api/status, {args.clients} concurrent clients, SQLite, loopback\n")
        print("| requests | errors | wall s | requests/s | p50 ms | p99 ms | max ms |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        print(
            f"| {result['requests']} | {result['errors']} | {result['wall']:.1f} | {result['rps']:.0f} | "
            f"{result['p50']:.1f} | {result['p99']:.1f} | {result['max']:.1f} |"
        )


if __name__ == "__main__":
    main()
