"""One run at a time: locks across threads and processes, released on exit and on errors."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
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
    """A live holder on this host is refused and named, however long its TTL."""
    holder = _start_holder(database_url, ttl=600)
    try:
        with Store(database_url) as store:
            with pytest.raises(LockHeld) as caught, store.lock("pull:crm.lead"):
                pass
            assert caught.value.holder.startswith(f"host={socket.gethostname()} pid={holder.pid} run_id=42 since=")
            assert "token" not in caught.value.holder and "pid_ns" not in caught.value.holder
            holder.stdin.write("done\n")
            holder.stdin.flush()
            assert holder.stdout.readline().strip() == "released"
            with store.lock("pull:crm.lead"):
                pass
    finally:
        _stop(holder)


def test_sqlite_lock_of_a_killed_holder_is_taken_over_at_once(migrated_sqlite_url: str) -> None:
    """kill -9 leaves the row with 600 s to live; the holder's pid is gone from this
    host, so the very next attempt takes the lock."""
    holder = _start_holder(migrated_sqlite_url, ttl=600)
    try:
        with Store(migrated_sqlite_url) as store:
            with pytest.raises(LockHeld, match=f"pid={holder.pid}"), store.lock("pull:crm.lead"):
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            with store.connect() as conn:  # the dead holder's row is still there, unexpired
                row = conn.execute(sa.select(odoo_sync_locks.c.holder, odoo_sync_locks.c.expires_at)).one()
            assert row.holder["pid"] == holder.pid and row.expires_at > dt.datetime.now(dt.UTC)
            with store.lock("pull:crm.lead", {"run_id": 43}) as handle:
                assert handle.holder["pid"] == os.getpid()
                with pytest.raises(LockHeld, match=f"pid={os.getpid()} run_id=43"), store.lock("pull:crm.lead"):
                    pass
    finally:
        _stop(holder)


@pytest.mark.postgres
def test_postgresql_lock_of_a_killed_holder_is_freed_with_its_session(pg_url: str) -> None:
    """The server drops a dead client's session and its advisory lock (no TTL involved)."""
    holder = _start_holder(pg_url, ttl=600)
    try:
        with Store(pg_url) as store:
            with pytest.raises(LockHeld, match=f"pid={holder.pid}"), store.lock("pull:crm.lead"):
                pass
            holder.send_signal(signal.SIGKILL)
            holder.wait()
            # the server notices the closed socket a moment later
            assert _eventually_acquired(store, "pull:crm.lead")
    finally:
        _stop(holder)


def _dead_pid() -> int:
    """The pid of a process of this host that has exited (and been reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _this_pid_namespace() -> str | None:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def _insert_unexpired_row(store: Store, holder: dict) -> None:
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        conn.execute(
            sa.insert(odoo_sync_locks).values(
                key=f"{store.lock_id}:pull:crm.lead",
                holder={**holder, "token": "t", "run_id": 5},
                acquired_at=now,
                expires_at=now + dt.timedelta(seconds=600),
            )
        )


def test_sqlite_row_of_a_dead_pid_of_this_host_is_taken_over(migrated_sqlite_url: str) -> None:
    with Store(migrated_sqlite_url) as store:
        _insert_unexpired_row(
            store, {"host": socket.gethostname(), "pid": _dead_pid(), "pid_ns": _this_pid_namespace()}
        )
        with store.lock("pull:crm.lead", {"run_id": 6}) as handle:
            assert handle.holder["run_id"] == 6


@pytest.mark.parametrize(
    "who",
    [
        pytest.param({"host": "web-2"}, id="another-host"),
        pytest.param({"pid_ns": "pid:[1]"}, id="another-pid-namespace"),
        pytest.param({"pid_ns": None, "pid": None}, id="no-pid"),
        pytest.param({"pid": 1}, id="a-live-pid-maybe-another-users"),
    ],
)
def test_sqlite_row_of_a_holder_not_known_dead_waits_for_its_expiry(migrated_sqlite_url: str, who: dict) -> None:
    """Only a certainly dead holder is taken over early: a pid of another host or PID
    namespace says nothing here, and pid 1 exists (os.kill may answer PermissionError)."""
    holder = {"host": socket.gethostname(), "pid": _dead_pid(), "pid_ns": _this_pid_namespace(), **who}
    with Store(migrated_sqlite_url) as store:
        _insert_unexpired_row(store, holder)
        with pytest.raises(LockHeld, match=f"locked by host={holder['host']}.*run_id=5") as caught:
            with store.lock("pull:crm.lead"):
                pass
        if holder["pid"] is not None:
            assert f"pid={holder['pid']}" in caught.value.holder


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
