"""What survives what: kill -9 of the pull and the push at random points, Odoo answering
25% of its requests with 429, 500 or a reset. After each, re-running brings the database
to exactly the state of a clean run, and nothing is duplicated in Odoo.

Property tests over seeded random cases (a few each, so the suite stays short; the same
cases every run, so a failure reproduces): the CLI runs as a real child process killed with SIGKILL after a random delay, against
the simulator over HTTP, on SQLite and PostgreSQL. The lease expiring mid-batch with two
workers is in ``test_push_lease.py``, a PostgreSQL restart under the service in
``test_service_reconnect.py``; ``docs/operations.md`` ("What survives what") sums it up.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.pull import PullOptions
from odoosync.service.operations import run_sync
from odoosync.simulator import Simulator
from odoosync.simulator.faults import Faults
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads, odoo_outbox, scheduled_activities
from tests.fixtures.pull import canonical_state

# Four xdist groups, so the suite's long kills run on several workers: the pull cases and
# the push cases (each their own simulator) on each kind of database (each its own
# ``databases``); a group's module fixtures are built once, on the worker that runs it.
pytestmark = [pytest.mark.slow]
_PULL_GROUP = pytest.mark.xdist_group("outage_pull")
_PUSH_GROUP = pytest.mark.xdist_group("outage_push")

SEED, SCALE = 7, 0.02
_random = random.Random(20261203)
KILL_DELAYS = sorted(round(_random.uniform(0.2, 4.0), 2) for _ in range(5))  # seconds into the run
PUSH_KILLS = [(round(_random.uniform(0.3, 3.0), 2), _random.randint(3, 12)) for _ in range(5)]  # (delay, notes)
FAULT_SEEDS = [_random.randint(1, 10_000) for _ in range(3)]


# ---------------------------------------------------------------------------- set-up


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    simulator = Simulator(SCALE, SEED).start()
    yield simulator
    simulator.stop()


@pytest.fixture(scope="module")
def push_sim() -> Iterator[Simulator]:
    """The push tests' own Odoo: what they create must not reach the pull tests' one."""
    simulator = Simulator(SCALE, SEED).start()
    yield simulator
    simulator.stop()


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", marks=pytest.mark.xdist_group("sqlite")),
        pytest.param("postgresql", marks=[pytest.mark.postgres, pytest.mark.xdist_group("postgresql")]),
    ],
)
def databases(request: pytest.FixtureRequest, _sqlite_template: Path) -> Iterator[Any]:
    """A factory of fresh migrated databases of one kind (or copies of ``source``, one it
    made before); all dropped at the end."""
    made: list[str] = []
    if request.param == "sqlite":
        directory = Path(tempfile.mkdtemp(prefix="odoosync-outage-"))

        def fresh(source: str | None = None) -> str:
            path = directory / f"{uuid.uuid4().hex}.db"
            if source is None:
                shutil.copyfile(_sqlite_template, path)
            else:  # SQLite's backup API: a consistent copy, whatever is left in the WAL
                with (
                    closing(sqlite3.connect(sa.make_url(source).database)) as src,
                    closing(sqlite3.connect(path)) as dst,
                ):
                    src.backup(dst)
            return f"sqlite:///{path}"

        yield fresh
        shutil.rmtree(directory, ignore_errors=True)
        return
    server = request.getfixturevalue("pg_server")
    libpq = sa.make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    base = f"odoosync_outage_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{base}"')
    with Store(sa.make_url(server).set(database=base)) as store:
        store.upgrade()

    def fresh_pg(source: str | None = None) -> str:
        name = f"{base}_{len(made)}"
        template = sa.make_url(source).database if source else base
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        made.append(name)
        return sa.make_url(server).set(database=name).render_as_string(hide_password=False)

    yield fresh_pg

    def drop(name: str) -> None:
        with psycopg.connect(libpq, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    # At once: each DROP DATABASE waits for a checkpoint, and drops waiting together share one.
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(drop, [*made, base]))


def _env(sim: Simulator, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID"))}
    env.update(
        {
            "DATABASE_URL": url,
            "ODOO_URL": sim.url,
            "ODOO_DB": sim.db,
            "ODOO_USERNAME": sim.login,
            "ODOO_PASSWORD": sim.password,
            "ODOO_PROTOCOL": "jsonrpc",
            "ODOO_TIMEOUT": "10",
        }
    )
    return env


def _cli(sim: Simulator, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "odoosync", *args], env=_env(sim, url), capture_output=True, text=True, timeout=300
    )


def _killed(sim: Simulator, url: str, delay: float, *args: str) -> None:
    """Start the CLI, SIGKILL it after ``delay`` seconds (or let it finish first)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "odoosync", *args],
        env=_env(sim, url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        process.wait(delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(30)


def _state(url: str) -> dict[str, Any]:
    with Store(url) as store:
        state = canonical_state(store)
        with store.connect() as conn:
            state["chatter"] = sorted(conn.execute(sa.select(lead_activities.c.odoo_message_id)).scalars())
            state["activities"] = sorted(conn.execute(sa.select(scheduled_activities.c.odoo_activity_id)).scalars())
    return state


@pytest.fixture(scope="module")
def clean(sim: Simulator, databases: Any) -> dict[str, Any]:
    url = databases()
    done = _cli(sim, url, "sync", "all")
    assert done.returncode == 0, done.stderr
    state = _state(url)
    assert state["leads"] and state["chatter"] and state["activities"]
    return state


# ---------------------------------------------------------------------------- pull


@_PULL_GROUP
@pytest.mark.parametrize("delay", KILL_DELAYS)
def test_pull_killed_at_a_random_point_then_rerun_ends_like_a_clean_run(sim, databases, clean, delay) -> None:
    url = databases()
    _killed(sim, url, delay, "sync", "all")
    rerun = _cli(sim, url, "sync", "all")
    assert rerun.returncode == 0, rerun.stderr
    _assert_same(_state(url), clean)


@_PULL_GROUP
@pytest.mark.parametrize("seed", FAULT_SEEDS)
def test_pull_against_an_odoo_failing_a_quarter_of_its_requests_ends_like_a_clean_run(databases, clean, seed) -> None:
    faulty = Simulator(
        SCALE, SEED, faults=Faults.parse("429:0.1,500:0.1,reset:0.05", seed=seed, retry_after=0.001)
    ).start()
    url = databases()
    try:
        config = OdooConfig(
            url=faulty.url,
            db=faulty.db,
            username=faulty.login,
            password=faulty.password,
            protocol="jsonrpc",
            backoff_base=0.01,
            backoff_cap=0.05,
            company_ids=(1, 2),
        )
        with Store(url) as store, OdooClient(config) as client:
            for _ in range(10):  # a run that met five failures in a row is simply run again
                try:
                    run_sync(
                        client, store, "all", PullOptions(mode=SyncMode.INCREMENTAL, overlap=dt.timedelta(minutes=5))
                    )
                    break
                except Exception:  # noqa: BLE001 - the fault; the next run continues from the checkpoint
                    continue
        assert sum(1 for r in faulty.request_log.records if r.fault) > 0
        _assert_same(_state(url), clean)
    finally:
        faulty.stop()


# ---------------------------------------------------------------------------- push


@pytest.fixture(scope="module")
def synced_for_push(push_sim: Simulator, databases: Any) -> str:
    """A database after the CLI's ``sync all`` of ``push_sim``: each push case starts from a
    copy of it. (Syncing again per case would only add the leads earlier cases pushed, which
    no case looks at: each checks its own lead and notes, by a tag of its own.)"""
    url = databases()
    done = _cli(push_sim, url, "sync", "all")
    assert done.returncode == 0, done.stderr
    return url


@_PUSH_GROUP
@pytest.mark.parametrize(("delay", "notes"), PUSH_KILLS)
def test_push_killed_at_a_random_point_then_rerun_duplicates_nothing(
    push_sim, databases, synced_for_push, delay, notes
) -> None:
    sim = push_sim
    url = databases(synced_for_push)
    tag = uuid.uuid4().hex[:8]
    with Store(url) as store, store.transaction() as conn:
        lead = conn.execute(sa.insert(leads).values(title=f"Kill push {tag}").returning(leads.c.id)).scalar_one()
        existing = conn.execute(sa.select(leads.c.id).where(leads.c.odoo_id.is_not(None)).limit(1)).scalar_one()
        for i in range(notes):
            conn.execute(
                sa.insert(lead_activities).values(
                    lead_id=existing if i % 2 else lead, activity_type="note", description=f"kill {tag} {i}"
                )
            )
    _killed(sim, url, delay, "push", "--once")
    with Store(url) as store, store.transaction() as conn:  # the dead worker's lease runs out
        conn.execute(
            sa.update(odoo_outbox)
            .where(odoo_outbox.c.status == "processing")
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    for _ in range(3):  # a note waiting for its new lead is retried after a short backoff
        assert _cli(sim, url, "push", "--once").returncode == 0
        if not _unfinished(url):
            break
        with Store(url) as store, store.transaction() as conn:
            conn.execute(
                sa.update(odoo_outbox)
                .where(odoo_outbox.c.status == "queued")
                .values(next_run_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
            )
    with sim.env({"active_test": False}) as env:
        assert env["crm.lead"].search_count([("name", "=", f"Kill push {tag}")]) == 1
        bodies = [m["body"] for m in env["mail.message"].search_read([("body", "=like", f"%kill {tag} %")], ["body"])]
    assert sorted(bodies) == sorted(f"kill {tag} {i}" for i in range(notes))  # each note exactly once
    assert _unfinished(url) == 0
    with Store(url) as store, store.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(lead_activities)
                .where(lead_activities.c.odoo_message_id.is_(None))
            ).scalar()
            == 0
        )


def _unfinished(url: str) -> int:
    with Store(url) as store, store.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(odoo_outbox).where(odoo_outbox.c.status != "done")
        ).scalar()


def _assert_same(state: dict[str, Any], clean: dict[str, Any]) -> None:
    """Equal to the clean run's state; on a difference, name the table and a few keys."""
    for table, rows in clean.items():
        got = state.get(table)
        if got == rows:
            continue
        if isinstance(rows, dict) and isinstance(got, dict):
            keys = sorted({*rows, *got} - {k for k in rows if got.get(k) == rows[k]}, key=repr)[:3]
            detail = {k: (rows.get(k), got.get(k)) for k in keys}
        else:
            detail = {"clean": len(rows), "got": len(got or ())}
        pytest.fail(f"{table} differs from the clean run: {detail}")
    assert set(state) == set(clean)
