"""One run at a time per key (e.g. ``pull:default:crm.lead``), across processes and machines.

``with store.lock(key, {"run_id": 7}):`` either holds the lock for the block or raises
``LockHeld`` at once, its ``holder`` naming who has it (host, pid, run id, since). The
lock is released when the block ends, also on an exception.

* PostgreSQL: a session advisory lock, ``pg_try_advisory_lock(hashtext(LOCK_ID || ':' ||
  key))``, on a dedicated connection held for the whole block. If the process dies, the
  server drops the connection and with it the lock. A row in ``ops.odoo_sync_locks``
  records the holder so a refused caller can be told who it is (the row is information;
  the advisory lock is the truth).
* SQLite: the row in ``odoo_sync_locks`` *is* the lock. It carries an expiry that a
  heartbeat thread pushes forward while the block runs; a crashed holder stops beating,
  and once its row has expired the next caller takes it over. A holder that certainly
  died (a process of this host, in this PID namespace, that no longer exists) is taken
  over at once, so a run after a ``kill -9`` need not wait for the expiry.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from odoosync.exceptions import LockHeld, StoreError
from odoosync.store.schema import odoo_sync_locks

if TYPE_CHECKING:
    from odoosync.store.database import Store

__all__ = ["LockHandle", "hold", "describe_holder", "this_process", "died_here", "DEFAULT_TTL_SECONDS"]

DEFAULT_TTL_SECONDS = 60.0
HOLDER_ROW_POLLS = 40
HOLDER_ROW_POLL_SECONDS = 0.05
_NOT_SHOWN = frozenset({"token", "pid_ns"})  # the private token; the PID namespace is noise
_locks = odoo_sync_locks
log = logging.getLogger("odoosync.store")


@dataclass
class LockHandle:
    """A held lock. ``lost`` turns true if a SQLite heartbeat found the lock taken over
    (the holder stalled past its expiry); a careful engine stops at the next page."""

    key: str
    holder: dict[str, Any]
    lost: bool = field(default=False)


def describe_holder(holder: Mapping[str, Any], acquired_at: dt.datetime | None = None) -> str:
    """``host=h pid=1 run_id=5 since=2025-01-01T10:00:00+00:00`` (never the private token)."""
    first = [name for name in ("host", "pid", "run_id") if name in holder]
    names = first + sorted(name for name in holder if name not in first and name not in _NOT_SHOWN)
    parts = [f"{name}={holder[name]}" for name in names if holder[name] is not None]
    if acquired_at is not None:
        parts.append(f"since={acquired_at.isoformat(timespec='seconds')}")
    return " ".join(parts) or "unknown holder"


@contextmanager
def hold(
    store: Store,
    key: str,
    holder_info: Mapping[str, Any] | None = None,
    *,
    ttl: float = DEFAULT_TTL_SECONDS,
) -> Iterator[LockHandle]:
    """Hold the lock ``key`` for the block, or raise ``LockHeld`` naming its holder."""
    if not key:
        raise ValueError("a lock needs a key")
    if store.in_transaction:
        # The lock row must commit at once, not with the caller's transaction.
        raise StoreError(f"take the lock {key!r} before opening a transaction, not inside one")
    # This process's identity comes last: a dead holder is recognised by it (SQLite).
    holder = {**dict(holder_info or {}), **this_process(), "token": uuid.uuid4().hex}
    handle = LockHandle(key=key, holder=holder)
    row_key = f"{store.lock_id}:{key}"
    if store.dialect == "postgresql":
        with _advisory(store, row_key, handle, ttl):
            yield handle
    else:
        with _lock_row(store, row_key, handle, ttl):
            yield handle


@contextmanager
def _advisory(store: Store, row_key: str, handle: LockHandle, ttl: float) -> Iterator[None]:
    lock_number = sa.select(sa.func.hashtext(row_key))
    with store.connect() as conn:  # dedicated: the session lock lives as long as it does
        acquired = conn.execute(sa.select(sa.func.pg_try_advisory_lock(lock_number.scalar_subquery()))).scalar_one()
        conn.commit()
        if not acquired:
            raise _held(store, handle.key, row_key)
        try:
            with store.transaction() as tx:
                _write_row(tx, row_key, handle, ttl)
            yield
        finally:
            try:
                with store.transaction() as tx:
                    _delete_row(tx, row_key, handle)
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(lock_number.scalar_subquery())))
                conn.commit()


@contextmanager
def _lock_row(store: Store, row_key: str, handle: LockHandle, ttl: float) -> Iterator[None]:
    with store.transaction() as tx:
        row = tx.execute(
            sa.select(_locks.c.holder, _locks.c.acquired_at, _locks.c.expires_at).where(_locks.c.key == row_key)
        ).one_or_none()
        if row is not None and row.expires_at > _now():
            described = describe_holder(row.holder, row.acquired_at)
            if not died_here(row.holder):
                raise LockHeld(f"{handle.key} is locked by {described}", holder=described)
            log.warning("lock %s: its holder (%s) no longer runs; taking it over", handle.key, described)
        _write_row(tx, row_key, handle, ttl)
    stop = threading.Event()
    beat = threading.Thread(
        target=_heartbeat, args=(store, row_key, handle, ttl, stop), name=f"lock-heartbeat:{handle.key}", daemon=True
    )
    beat.start()
    try:
        yield
    finally:
        stop.set()
        beat.join()
        with store.transaction() as tx:
            _delete_row(tx, row_key, handle)


def _heartbeat(store: Store, row_key: str, handle: LockHandle, ttl: float, stop: threading.Event) -> None:
    """Push the expiry forward every third of the TTL until told to stop."""
    while not stop.wait(ttl / 3):
        try:
            with store.transaction() as tx:
                moved = tx.execute(
                    sa.update(_locks)
                    .where(_locks.c.key == row_key, _locks.c.holder["token"].as_string() == handle.holder["token"])
                    .values(expires_at=_now() + dt.timedelta(seconds=ttl))
                ).rowcount
        except Exception:  # noqa: BLE001 - a missed beat is retried; the expiry gives slack
            continue
        if moved == 0:
            handle.lost = True
            return


def this_process() -> dict[str, Any]:
    """Who we are, as recorded by lock rows and runs: host, pid, PID namespace."""
    return {"host": socket.gethostname(), "pid": os.getpid(), "pid_ns": _pid_namespace()}


def _pid_namespace() -> str | None:
    """Linux: the PID namespace pids are numbered in (``pid:[4026531836]``). Containers
    can share a hostname (host networking) yet not each other's pids."""
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return None


def died_here(holder: Mapping[str, Any]) -> bool:
    """True only when the holder is certainly dead: it recorded this host and PID
    namespace and its pid names no process. Anything unsure (another host, an older row
    without ``pid_ns``, a pid alive under another user) counts as alive; the expiry
    still frees those. A pid reused by a new process also reads as alive."""
    pid = holder.get("pid")
    if holder.get("host") != socket.gethostname() or holder.get("pid_ns") != _pid_namespace():
        return False
    if type(pid) is not int or pid <= 0:  # 0 and negative pids would signal process groups
        return False
    try:
        os.kill(pid, 0)  # signal 0: nothing is sent, only existence and permission are checked
    except ProcessLookupError:
        return True
    except OSError:  # PermissionError: alive, owned by another user
        return False
    return False


def _held(store: Store, key: str, row_key: str) -> LockHeld:
    # The holder writes its row just after taking the advisory lock: give it a moment.
    row = None
    for _ in range(HOLDER_ROW_POLLS):
        with store.connect() as conn:
            row = conn.execute(
                sa.select(_locks.c.holder, _locks.c.acquired_at).where(_locks.c.key == row_key)
            ).one_or_none()
        if row is not None:
            break
        time.sleep(HOLDER_ROW_POLL_SECONDS)
    holder = (
        describe_holder(row.holder, row.acquired_at) if row is not None else "another process (holder not recorded)"
    )
    return LockHeld(f"{key} is locked by {holder}", holder=holder)


def _write_row(tx: sa.Connection, row_key: str, handle: LockHandle, ttl: float) -> None:
    """The lock's row, written or taken over, in one statement (an upsert on its key)."""
    now = _now()
    values = {"holder": handle.holder, "acquired_at": now, "expires_at": now + dt.timedelta(seconds=ttl)}
    insert = postgresql.insert if tx.dialect.name == "postgresql" else sqlite.insert
    statement = insert(_locks).values(key=row_key, **values)
    tx.execute(statement.on_conflict_do_update(index_elements=[_locks.c.key], set_=values))


def _delete_row(tx: sa.Connection, row_key: str, handle: LockHandle) -> None:
    tx.execute(
        sa.delete(_locks).where(_locks.c.key == row_key, _locks.c.holder["token"].as_string() == handle.holder["token"])
    )


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
