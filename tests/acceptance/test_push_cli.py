"""``odoosync push`` and ``odoosync outbox`` as a user runs them: subprocesses against the
simulator over HTTP, including a worker killed with SIGKILL (on SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from odoosync.push import outbox
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_outbox
from tests.acceptance.test_cli_sync import cli_env, odoosync


@pytest.fixture
def sqlite_store(migrated_sqlite_url: str) -> Iterator[Store]:
    """The CLI's commands on SQLite (each CLI start costs seconds: the engines' behaviour on
    both databases is covered in-process by tests/integration/test_push.py)."""
    with Store(migrated_sqlite_url) as opened:
        yield opened


def test_push_once_then_outbox_list_and_retry(
    simulator: Simulator, sqlite_store: Store, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    store = sqlite_store
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    with store.transaction() as conn:
        conn.execute(sa.text("INSERT INTO leads (title) VALUES ('From the CLI')"))
        conn.execute(sa.text("INSERT INTO leads (title, stage) VALUES ('Bad stage', 'Nowhere')"))
    pushed = odoosync("push", "--once", "--json", env=env)
    assert pushed.returncode == 1, pushed.stderr  # a push with a failed item fails
    report = json.loads(pushed.stdout)
    assert (report["done"], report["failed"], report["created"]) == (1, 1, 1)
    with simulator.env() as odoo:
        assert odoo["crm.lead"].search_count([("name", "=", "From the CLI")]) == 1

    listed = json.loads(odoosync("outbox", "list", "--status", "failed", "--json", env=env).stdout)
    assert listed["counts"] == {"queued": 0, "processing": 0, "done": 1, "failed": 1, "discarded": 0}
    [failed] = listed["items"]
    assert "Nowhere" in failed["last_error"]

    done_id = outbox.list_items(store, status="done")[0].id
    for wrong, says in (
        (["999999"], "outbox item 999999 not found"),
        ([str(done_id)], f"outbox item {done_id} is done, not failed"),
    ):
        refused = odoosync("outbox", "retry", *wrong, env=env)
        assert refused.returncode == 2 and says in refused.stderr, refused.stderr
    assert outbox.status_counts(store)["failed"] == 1  # nothing changed

    with store.transaction() as conn:  # the user fixes the data, then retries
        conn.execute(sa.text("UPDATE leads SET stage = 'Won' WHERE title = 'Bad stage'"))
    retried = odoosync("outbox", "retry", str(failed["id"]), env=env)
    assert retried.returncode == 0 and "re-queued 1" in retried.stdout
    assert f"#{failed['id']} queued" in odoosync("outbox", "list", env=env).stdout
    assert json.loads(odoosync("push", "--json", env=env).stdout)["failed"] == 0
    assert outbox.status_counts(store) == {"queued": 0, "processing": 0, "done": 3, "failed": 0, "discarded": 0}
    with simulator.env() as odoo:
        [lead] = odoo["crm.lead"].search_read([("name", "=", "Bad stage")], ["stage_id"])
        assert lead["stage_id"][1] == "Won"

    with store.connect() as conn:
        runs = conn.execute(
            sa.text("SELECT status, fetched, inserted, failed FROM odoo_sync_runs WHERE job = 'push' ORDER BY id")
        ).all()
    assert [tuple(r) for r in runs] == [("partial", 2, 1, 1), ("ok", 2, 1, 0)]


def test_push_without_odoo_is_a_clear_error(migrated_sqlite_url: str, tmp_path: Path) -> None:
    result = odoosync("push", env=cli_env(None, migrated_sqlite_url, tmp_path))
    assert result.returncode == 2 and "ODOO_URL" in result.stderr


def test_worker_killed_mid_batch_loses_and_duplicates_nothing(
    make_simulator, store: Store, database_url: str, tmp_path: Path
) -> None:
    sim = make_simulator(latency_ms=40)
    with store.transaction() as conn:
        for i in range(120):
            conn.execute(sa.insert(leads).values(title=f"Killed {i:03d}"))
    env = cli_env(sim, database_url, tmp_path)
    worker = subprocess.Popen(
        [sys.executable, "-m", "odoosync", "push", "--once"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=str(tmp_path),
    )
    deadline = time.monotonic() + 60
    while sim.request_log.count("load") < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    worker.send_signal(signal.SIGKILL)  # after Odoo created a batch, before (or while) it was recorded
    worker.wait()
    counts = outbox.status_counts(store)
    assert counts["done"] < 120 and counts["failed"] == 0
    with store.transaction() as conn:  # time passes: the dead worker's lease expires
        conn.execute(
            sa.update(odoo_outbox)
            .where(odoo_outbox.c.status == "processing")
            .values(locked_until=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )
    rerun = odoosync("push", "--json", env=env)
    assert rerun.returncode == 0, rerun.stderr
    assert outbox.status_counts(store) == {"queued": 0, "processing": 0, "done": 120, "failed": 0, "discarded": 0}
    with sim.env({"active_test": False}) as odoo:
        names = [r["name"] for r in odoo["crm.lead"].search_read([("name", "=like", "Killed %")], ["name"])]
    assert sorted(names) == [f"Killed {i:03d}" for i in range(120)]  # each exactly once
    with store.connect() as conn:
        assert (
            conn.execute(sa.select(sa.func.count()).select_from(leads).where(leads.c.odoo_id.is_(None))).scalar() == 0
        )


def test_outbox_discard_gives_up_on_an_item_and_marks_its_lead(
    simulator: Simulator, sqlite_store: Store, migrated_sqlite_url: str, tmp_path: Path
) -> None:
    store = sqlite_store
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    with store.transaction() as conn:
        conn.execute(sa.text("INSERT INTO leads (title, stage) VALUES ('Never in Odoo', 'Nowhere')"))
    assert odoosync("push", env=env).returncode == 1
    [failed] = outbox.list_items(store, status="failed")

    refused = odoosync("outbox", "discard", "999999", env=env)
    assert refused.returncode == 2 and "outbox item 999999 not found" in refused.stderr
    discarded = odoosync("outbox", "discard", str(failed.id), "--json", env=env)
    assert discarded.returncode == 0, discarded.stderr
    assert json.loads(discarded.stdout) == {"discarded": [failed.id]}
    assert outbox.status_counts(store) == {"queued": 0, "processing": 0, "done": 0, "failed": 0, "discarded": 1}
    with store.connect() as conn:
        marked = conn.execute(
            sa.text("SELECT odoo_push_discarded_at FROM leads WHERE title = 'Never in Odoo'")
        ).scalar_one()
    assert marked is not None

    again = odoosync("outbox", "discard", str(failed.id), env=env)  # only failed items can be discarded
    assert again.returncode == 2 and "is discarded, not failed" in again.stderr
    assert odoosync("outbox", "retry", env=env).stdout.strip() == "re-queued 0 failed item(s)"
    pushed = json.loads(odoosync("push", "--json", env=env).stdout)
    assert pushed["claimed"] == 0  # a discarded item is never pushed
    assert outbox.status_counts(store)["queued"] == 0  # marking the lead queued nothing
