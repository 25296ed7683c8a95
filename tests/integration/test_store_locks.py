"""One run at a time: locks across threads and processes, released on exit and on errors."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import sqlalchemy as sa

from odoosync.exceptions import LockHeld
from odoosync.store import Store
from odoosync.store.schema import odoo_sync_locks

HOLDER_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from odoosync.store import Store
    store = Store(sys.argv[1]).open()
    with store.lock("pull:crm.lead", {"run_id": 42}, ttl=float(sys.argv[2])):
        print("locked", flush=True)
        sys.stdin.readline()  # hold until told (or killed)
    print("released", flush=True)
    """
)


def test_second_caller_is_refused_with_the_holder_named(store: Store) -> None:
    with store.lock("pull:crm.lead", {"run_id": 7}):
        with pytest.raises(LockHeld) as caught:
            with store.lock("pull:crm.lead", {"run_id": 8}):
                pytest.fail("two holders at once")
        assert f"pid={os.getpid()}" in caught.value.holder
        assert "run_id=7" in caught.value.holder and "since=" in caught.value.holder
        assert "pull:crm.lead" in str(caught.value)
        # other keys are independent
        with store.lock("pull:res.partner"):
            pass
    with store.lock("pull:crm.lead", {"run_id": 9}):
        pass


def test_lock_is_released_after_an_exception(store: Store) -> None:
    with pytest.raises(RuntimeError), store.lock("push"):
        raise RuntimeError("the run failed")
    with store.lock("push"):
        pass
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_locks)).scalar_one() == 0


def test_only_one_of_many_threads_gets_the_lock(store: Store) -> None:
    start = threading.Barrier(4)
    everyone_tried = threading.Barrier(4, timeout=60)  # the winner holds until all have tried
    outcomes: list[str] = []

    def contender() -> None:
        start.wait()
        try:
            with store.lock("sheets:1"):
                outcomes.append("held")
                everyone_tried.wait()
        except LockHeld as exc:
            outcomes.append(f"refused: {exc.holder}")
            everyone_tried.wait()

    threads = [threading.Thread(target=contender) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("held") == 1
    assert all(o.startswith("refused: host=") for o in outcomes if o != "held")


def test_lock_held_by_another_process(database_url: str) -> None:
    holder = _start_holder(database_url, ttl=30)
    try:
        with Store(database_url) as store:
            with pytest.raises(LockHeld) as caught, store.lock("pull:crm.lead"):
                pass
            assert f"pid={holder.pid}" in caught.value.holder and "run_id=42" in caught.value.holder
            holder.stdin.write("done\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            with store.lock("pull:crm.lead"):
                pass
    finally:
        _stop(holder)


def test_killed_holder_loses_the_lock(database_url: str) -> None:
    """PostgreSQL frees it with the connection; SQLite once the heartbeat-less row expires."""
    holder = _start_holder(database_url, ttl=1)
    try:
        with Store(database_url) as store:
            with pytest.raises(LockHeld), store.lock("pull:crm.lead"):
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            assert _eventually_acquired(store, "pull:crm.lead")
    finally:
        _stop(holder)


def test_stale_sqlite_lock_is_taken_over(migrated_sqlite_url: str) -> None:
    with Store(migrated_sqlite_url) as store:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        with store.transaction() as conn:
            conn.execute(
                sa.insert(odoo_sync_locks).values(
                    key=f"{store.lock_id}:pull:crm.lead",
                    holder={"host": "gone", "pid": 1, "token": "x"},
                    acquired_at=past,
                    expires_at=past + dt.timedelta(seconds=60),
                )
            )
        with store.lock("pull:crm.lead", {"run_id": 3}) as handle:
            assert handle.holder["run_id"] == 3
            with pytest.raises(LockHeld, match="run_id=3"), store.lock("pull:crm.lead"):
                pass


def test_sqlite_heartbeat_keeps_a_live_lock(migrated_sqlite_url: str) -> None:
    with Store(migrated_sqlite_url) as store:
        with store.lock("pull:crm.lead", ttl=0.9) as handle:
            time.sleep(2.0)  # more than twice the TTL: only the heartbeat keeps it
            with pytest.raises(LockHeld), store.lock("pull:crm.lead"):
                pass
            assert not handle.lost


def test_lock_id_namespaces_deployments(database_url: str) -> None:
    with Store(database_url, lock_id="tenant-a") as a, Store(database_url, lock_id="tenant-b") as b:
        with a.lock("pull:crm.lead"), b.lock("pull:crm.lead"):
            pass


def _start_holder(url: str, ttl: float) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, url, str(ttl)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "locked"
    return process


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


def _eventually_acquired(store: Store, key: str, attempts: int = 100) -> bool:
    for _ in range(attempts):
        try:
            with store.lock(key):
                return True
        except LockHeld:
            time.sleep(0.1)
    return False


def test_lock_inside_a_transaction_is_refused(store: Store) -> None:
    from odoosync.exceptions import StoreError

    with store.transaction(), pytest.raises(StoreError, match="before opening a transaction"):
        with store.lock("pull:crm.lead"):
            pass
    with store.lock("pull:crm.lead"):
        pass
