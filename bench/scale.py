"""Benchmark: the distributed engine, 1, 2 and 4 ``odoosync worker`` processes over many backends.

For each worker count, on a fresh PostgreSQL database: ``--backends`` simulated Odoo
databases (each its own process, so that serving Odoo does not share a GIL with anything
measured; same ids, different data) are registered as backends, each backend's start-up
task (reference data, then every increment stream: a whole first import) is queued, and
the workers are started with ``--until-empty``. Measured: wall time until every task
succeeded, backends and records per second, Odoo requests per worker (a backend's
requests go to the worker whose log says it ran that backend), and peak memory (VmHWM)
per worker. Ratios are against one worker, measured in the same run.

The machine's cores bound what more workers can give: on two cores the simulators, the
workers and PostgreSQL share them, which the load column shows.

    .venv/bin/python bench/scale.py                         # 20 backends at scale 0.1
    .venv/bin/python bench/scale.py --scale 1 --workers 1,2,4
    ODOOSYNC_BENCH_PG=postgresql+psycopg://user@host/postgres .venv/bin/python bench/scale.py
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
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from odoosync import backends
from odoosync.service.dispatcher import Dispatcher
from odoosync.service.task_queue import QUEUE_SCHEMA, TASK_NAME, ensure_queue_schema, make_queue_app
from odoosync.settings import Settings
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads

_SIMULATOR = """
import json, sys, threading
from odoosync.simulator import Simulator
sim = Simulator(float(sys.argv[1]), int(sys.argv[2]), db=sys.argv[3]).start()
print(json.dumps({"url": sim.url, "db": sim.db, "login": sim.login, "password": sim.password}), flush=True)
sys.stdin.read()  # until the bench closes our stdin
sim.stop()
"""


def start_simulators(count: int, scale: float) -> tuple[list[subprocess.Popen[str]], list[dict[str, str]]]:
    processes, details = [], []
    for index in range(count):
        process = subprocess.Popen(
            [sys.executable, "-c", _SIMULATOR, str(scale), str(index), f"tenant{index:02d}_crm"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        processes.append(process)
    for process in processes:
        assert process.stdout is not None
        details.append(json.loads(process.stdout.readline()))
    return processes, details


def fresh_database(server: str) -> str:
    name = f"odoosync_scale_{uuid.uuid4().hex[:10]}"
    with sa.create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False)


def drop_database(server: str, url: str) -> None:
    name = sa.make_url(url).database
    with sa.create_engine(server, isolation_level="AUTOCOMMIT").connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def peak_kib(pid: int) -> int:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    match = re.search(r"VmHWM:\s+(\d+) kB", text)
    return int(match.group(1)) if match else 0


def one_round(server: str, sims: list[dict[str, str]], workers: int) -> dict[str, Any]:
    url = fresh_database(server)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL"))}
    env["DATABASE_URL"] = url
    logs = Path(tempfile.mkdtemp(prefix="odoosync-scale-"))
    try:
        with Store(url) as store:
            store.upgrade()
            for index, sim in enumerate(sims):
                name = f"tenant{index:02d}"
                env[f"KEY_{name.upper()}"] = sim["password"]
                backends.add_backend(
                    store,
                    backends.Backend(
                        name=name,
                        url=sim["url"],
                        db=sim["db"],
                        login=sim["login"],
                        protocol="jsonrpc",
                        app_company_id=index + 1,
                        secret_env=f"KEY_{name.upper()}",
                    ),
                )
            ensure_queue_schema(store)
            queue = make_queue_app(url, pool_size=1).open()
            try:
                Dispatcher(queue, Settings(odoo=None, database_url=url), store).catch_up()
            finally:
                queue.close()
            started = time.monotonic()
            processes = []
            for number in range(workers):
                with open(logs / f"w{number}.log", "wb") as log:
                    processes.append(
                        subprocess.Popen(
                            [sys.executable, "-m", "odoosync", "worker", "--until-empty", "--name", f"w{number}"],
                            env=env,
                            stdout=log,
                            stderr=subprocess.STDOUT,
                        )
                    )
            peaks = [0] * workers
            while any(p.poll() is None for p in processes):
                for number, process in enumerate(processes):
                    peaks[number] = max(peaks[number], peak_kib(process.pid))
                time.sleep(0.2)
            wall = time.monotonic() - started
            load = os.getloadavg()[0]
            with store.connect() as conn:
                statuses = Counter(
                    conn.execute(
                        sa.text(f"SELECT status::text FROM {QUEUE_SCHEMA}.procrastinate_jobs WHERE task_name = :task"),
                        {"task": TASK_NAME},
                    ).scalars()
                )
                requests = dict(
                    conn.execute(
                        sa.text("SELECT backend, sum(rpc_calls) FROM ops.odoo_sync_runs GROUP BY backend")
                    ).all()
                )
                records = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()
                records += conn.execute(sa.select(sa.func.count()).select_from(lead_activities)).scalar_one()
        ran = {}
        for number in range(workers):
            text = (logs / f"w{number}.log").read_text(errors="replace")
            for backend in re.findall(r"worker \S+ runs .* of backend (\S+) ", text):
                ran[backend] = number
        per_worker = Counter()
        for backend, count in requests.items():
            per_worker[ran.get(backend, -1)] += int(count or 0)
        return {
            "workers": workers,
            "wall": wall,
            "ok": statuses == Counter({"succeeded": len(sims)}),
            "statuses": dict(statuses),
            "records": records,
            "requests_per_worker": [per_worker[n] for n in range(workers)],
            "peak_mib": [round(kib / 1024) for kib in peaks],
            "load": load,
        }
    finally:
        drop_database(server, url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", type=int, default=20)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument(
        "--server",
        default=os.environ.get("ODOOSYNC_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"),
        help="a PostgreSQL maintenance database where the bench may create databases",
    )
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    print(f"starting {args.backends} simulated Odoo databases at scale {args.scale} ...", flush=True)
    processes, sims = start_simulators(args.backends, args.scale)
    try:
        results = [one_round(args.server, sims, workers) for workers in counts]
    finally:
        for process in processes:
            assert process.stdin is not None
            process.stdin.close()
        for process in processes:
            process.wait(30)
    base = results[0]
    print(f"\n{args.backends} backends at scale {args.scale} (first import of each), {os.cpu_count()} CPUs")
    print(
        "| workers | wall s | backends/s | records/s | vs 1 worker | Odoo requests per worker | peak MiB per worker | load | all succeeded |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['workers']} | {r['wall']:.1f} | {args.backends / r['wall']:.2f} | {r['records'] / r['wall']:.0f}"
            f" | {base['wall'] / r['wall']:.2f}× | {', '.join(map(str, r['requests_per_worker']))}"
            f" | {', '.join(map(str, r['peak_mib']))} | {r['load']:.1f} | {'yes' if r['ok'] else r['statuses']} |"
        )


if __name__ == "__main__":
    main()
