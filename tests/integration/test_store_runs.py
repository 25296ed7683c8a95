"""Checkpoints, the runs log and the sync config on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import subprocess
import sys

import pytest
import sqlalchemy as sa

from odoosync.exceptions import ConfigError, StoreError
from odoosync.models import RunCounters, RunStatus, Trigger
from odoosync.store import Store, checkpoints, runs
from odoosync.store.schema import odoo_partners, odoo_sync_runs
from odoosync.store.sync_config import config_delete, config_get, config_list, config_set

# ---------------------------------------------------------------- checkpoints


def test_checkpoint_commits_together_with_the_page(store: Store) -> None:
    with store.transaction(origin="pull") as conn:
        store.upsert_rows(
            conn, odoo_partners, [{"backend": "default", "odoo_id": 1, "name": "a"}], key=["backend", "odoo_id"]
        )
        checkpoints.put(conn, "pull:res.partner", {"write_date": "2025-01-01 00:00:00", "id": 1})
    with store.connect() as conn:
        assert checkpoints.get(conn, "pull:res.partner") == {"write_date": "2025-01-01 00:00:00", "id": 1}


def test_checkpoint_rolls_back_with_the_page(store: Store) -> None:
    with store.transaction() as conn:
        checkpoints.put(conn, "pull:res.partner", {"id": 1})
    with pytest.raises(RuntimeError), store.transaction(origin="pull") as conn:
        store.upsert_rows(
            conn, odoo_partners, [{"backend": "default", "odoo_id": 2, "name": "b"}], key=["backend", "odoo_id"]
        )
        checkpoints.put(conn, "pull:res.partner", {"id": 2})
        raise RuntimeError("killed between the page and the commit")
    with store.connect() as conn:
        assert checkpoints.get(conn, "pull:res.partner") == {"id": 1}
        assert conn.execute(sa.select(odoo_partners.c.odoo_id)).scalars().all() == []


def test_checkpoint_list_and_reset(store: Store) -> None:
    with store.transaction() as conn:
        checkpoints.put(conn, "pull:crm.lead", {"id": 5})
        checkpoints.put(conn, "pull:crm.lead", {"id": 9})  # overwrites
        checkpoints.put(conn, "pull:res.partner", {"id": 3})
        checkpoints.put(conn, "sheets:1", {"checksum": "x"})
    listed = checkpoints.list_checkpoints(store)
    assert [(c.key, c.cursor) for c in listed] == [
        ("pull:crm.lead", {"id": 9}),
        ("pull:res.partner", {"id": 3}),
        ("sheets:1", {"checksum": "x"}),
    ]
    assert all(c.updated_at.tzinfo is not None for c in listed)
    assert [c.key for c in checkpoints.list_checkpoints(store, prefix="pull:")] == ["pull:crm.lead", "pull:res.partner"]
    assert checkpoints.reset(store, "pull:crm.lead") is True
    assert checkpoints.reset(store, "pull:crm.lead") is False
    with store.connect() as conn:
        assert checkpoints.get(conn, "pull:crm.lead") is None


def test_checkpoint_cursor_must_be_a_dict(store: Store) -> None:
    with store.transaction() as conn, pytest.raises(TypeError, match="must be a dict"):
        checkpoints.put(conn, "k", [1, 2])  # type: ignore[arg-type]


# ---------------------------------------------------------------- runs


def test_run_lifecycle(store: Store) -> None:
    run_id = runs.start_run(store, job="pull", stream="crm.lead", mode="incremental", trigger=Trigger.MANUAL)
    run = runs.get_run(store, run_id)
    assert run is not None and run.status is RunStatus.RUNNING and run.finished_at is None
    assert run.duration_ms >= 0

    runs.update_progress(store, run_id, RunCounters(fetched=200, inserted=150, rpc_calls=2))
    assert runs.get_run(store, run_id).counters == RunCounters(fetched=200, inserted=150, rpc_calls=2)

    final = RunCounters(fetched=400, inserted=300, updated=50, skipped=50, rpc_calls=4, retries=1)
    finished = runs.finish_run(store, run_id, RunStatus.PARTIAL, final, error="budget spent", remaining=True)
    assert finished.status is RunStatus.PARTIAL and finished.remaining is True
    assert finished.counters == final and finished.error == "budget spent"
    assert finished.finished_at >= finished.started_at
    assert finished.duration_ms == int((finished.finished_at - finished.started_at).total_seconds() * 1000)
    as_json = finished.as_dict()
    assert as_json["fetched"] == 400 and as_json["status"] == "partial" and as_json["trigger"] == "manual"


def test_list_runs_newest_first_with_filters(store: Store) -> None:
    ids = [
        runs.start_run(store, job="pull", stream=stream, mode="full", trigger="schedule")
        for stream in ("crm.lead", "res.partner", "crm.lead")
    ]
    runs.finish_run(store, ids[0], "failed", RunCounters(failed=1), error="Odoo said no")
    assert [r.id for r in runs.list_runs(store)] == ids[::-1]
    assert [r.id for r in runs.list_runs(store, 1)] == [ids[2]]
    assert [r.id for r in runs.list_runs(store, stream="crm.lead")] == [ids[2], ids[0]]
    assert [r.id for r in runs.list_runs(store, status=RunStatus.FAILED)] == [ids[0]]


def test_finish_rejects_running_and_unknown(store: Store) -> None:
    run_id = runs.start_run(store, job="pull", stream="crm.lead", mode="full", trigger="api")
    with pytest.raises(ValueError, match="finishes as one of"):
        runs.finish_run(store, run_id, RunStatus.RUNNING, RunCounters())
    with pytest.raises(ValueError, match="no run with id"):
        runs.finish_run(store, run_id + 1000, RunStatus.OK, RunCounters())
    with pytest.raises(ValueError):
        runs.finish_run(store, run_id, "bogus", RunCounters())


def test_a_run_elsewhere_without_heartbeat_is_closed_as_interrupted(store: Store) -> None:
    stale = runs.start_run(store, job="pull", stream="crm.lead", mode="full", trigger="schedule")
    fresh = runs.start_run(store, job="pull", stream="res.partner", mode="full", trigger="schedule")
    old_mine = runs.start_run(store, job="pull", stream="crm.stage", mode="full", trigger="schedule")
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    elsewhere = {"host": "another-machine", "pid": 7, "pid_ns": None, "boot": "x"}
    with store.transaction() as conn:
        for run_id, holder in ((stale, elsewhere), (fresh, elsewhere), (old_mine, None)):
            values = {"holder": holder} if holder else {}
            if run_id != fresh:
                values |= {"started_at": an_hour_ago, "heartbeat_at": an_hour_ago}
            conn.execute(sa.update(odoo_sync_runs).where(odoo_sync_runs.c.id == run_id).values(**values))
        # old_mine keeps this process as its holder: alive, however slow its page
        conn.execute(
            sa.update(odoo_sync_runs)
            .where(odoo_sync_runs.c.id == old_mine)
            .values(started_at=an_hour_ago, heartbeat_at=an_hour_ago)
        )
    assert set(runs.close_interrupted_runs(store, dt.timedelta(minutes=10))) == {stale}
    closed = runs.get_run(store, stale)
    assert closed.status is RunStatus.INTERRUPTED and closed.remaining and "heartbeat" in closed.error
    assert closed.duration_ms >= 3_600_000
    assert runs.get_run(store, fresh).status is RunStatus.RUNNING
    assert runs.get_run(store, old_mine).status is RunStatus.RUNNING
    assert runs.close_interrupted_runs(store, dt.timedelta(minutes=10)) == {}


def test_a_run_of_a_killed_process_is_closed_at_once(store: Store, database_url: str) -> None:
    """kill -9 mid-run: the run's process is gone, so no stale window is needed."""
    script = (
        "import sys, time\n"
        "from odoosync.store import Store\n"
        "from odoosync.store import runs\n"
        "with Store(sys.argv[1]) as store:\n"
        "    print(runs.start_run(store, job='pull', stream='crm.lead', mode='full', trigger='schedule'), flush=True)\n"
        "    time.sleep(60)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script, database_url], stdout=subprocess.PIPE, text=True)
    try:
        run_id = int(process.stdout.readline())
    finally:
        process.kill()  # SIGKILL
        process.wait(30)
        process.stdout.close()
    assert runs.get_run(store, run_id).status is RunStatus.RUNNING
    closed = runs.close_interrupted_runs(store, dt.timedelta(hours=1))
    assert list(closed) == [run_id] and "is gone" in closed[run_id]
    assert runs.get_run(store, run_id).status is RunStatus.INTERRUPTED


def test_a_run_whose_database_went_away_is_closed_once_it_is_back(migrated_sqlite_url: str) -> None:
    """Finishing fails (the database is unavailable): the row cannot say so then, the sweep does later."""
    with Store(migrated_sqlite_url, busy_timeout=0.2) as store:
        run_id = runs.start_run(store, job="pull", stream="crm.lead", mode="incremental", trigger="schedule")
        blocker = sqlite3.connect(migrated_sqlite_url.removeprefix("sqlite:///"))
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            with pytest.raises(StoreError):
                runs.finish_run(store, run_id, RunStatus.FAILED, RunCounters(), error="connection lost")
            with pytest.raises(StoreError):
                runs.close_interrupted_runs(store, dt.timedelta(hours=1))  # still away: tried again later
        finally:
            blocker.rollback()
            blocker.close()
        assert runs.get_run(store, run_id).status is RunStatus.RUNNING
        closed = runs.close_interrupted_runs(store, dt.timedelta(hours=1))
        assert list(closed) == [run_id] and "could not be finished" in closed[run_id]
        assert runs.get_run(store, run_id).status is RunStatus.INTERRUPTED
        assert runs.close_interrupted_runs(store, dt.timedelta(hours=1)) == {}


def test_skipped_run_is_recorded(store: Store) -> None:
    run_id = runs.record_skipped(
        store, job="pull", stream="crm.lead", mode="incremental", trigger="schedule", reason="locked by host=a pid=1"
    )
    run = runs.get_run(store, run_id)
    assert run.status is RunStatus.SKIPPED and run.error == "locked by host=a pid=1" and run.duration_ms == 0


def test_counters_add_up() -> None:
    total = RunCounters(fetched=1, inserted=1) + RunCounters(fetched=2, retries=3)
    assert total == RunCounters(fetched=3, inserted=1, retries=3)


# ---------------------------------------------------------------- sync config


def test_sync_config_round_trip(store: Store) -> None:
    config_set(store, "odoo_to_sb:crm.lead", {"domain": [["type", "=", "opportunity"]], "page_size": 200})
    config_set(store, "sb_to_odoo:crm.lead", {"max_attempts": 5})
    config_set(store, "odoo_to_sb:crm.lead", {"domain": [], "page_size": 500})
    assert config_get(store, "odoo_to_sb:crm.lead") == {"domain": [], "page_size": 500}
    assert config_get(store, "missing", {"x": 1}) == {"x": 1}
    assert config_list(store, "odoo_to_sb:") == {"odoo_to_sb:crm.lead": {"domain": [], "page_size": 500}}
    assert set(config_list(store)) == {"odoo_to_sb:crm.lead", "sb_to_odoo:crm.lead"}
    assert config_delete(store, "sb_to_odoo:crm.lead") is True
    assert config_get(store, "sb_to_odoo:crm.lead") is None


@pytest.mark.parametrize(
    "value", [{"password": "hunter2"}, {"auth": {"api_key": "abc"}}, {"hooks": [{"webhook_secret": "s"}]}]
)
def test_sync_config_refuses_secrets(store: Store, value: dict) -> None:
    with pytest.raises(ConfigError) as caught:
        config_set(store, "odoo_to_sb:crm.lead", value)
    assert "hunter2" not in str(caught.value) and "abc" not in str(caught.value)
    assert config_list(store) == {}
