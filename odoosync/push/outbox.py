"""The outbox: every SQL statement about ``ops.odoo_outbox`` items lives here.

Items are queued by the triggers (``store/triggers.py``) or by :func:`enqueue` inside the
caller's transaction. A worker :func:`claim`\\ s a batch: it marks the items
``processing`` under its name with a lease (``locked_until``) and counts the attempt.
On PostgreSQL the candidate rows are picked ``FOR UPDATE SKIP LOCKED``, so concurrent
workers never claim the same item; SQLite serialises writers (``BEGIN IMMEDIATE``), which
gives the same single-claimer guarantee.

Per record, items are pushed in queue order: only the oldest pending item of a record
can be picked (a *head*), and the claim then takes every later queued item of the same
record with it (they are coalesced). An item whose worker died is claimable again once
its lease has expired.

Outcomes (:func:`complete`, :func:`reschedule`, :func:`fail`) apply only while the
caller still holds the lease, so a worker that lost its lease cannot overwrite the work
of the one that reclaimed it. :func:`renew` extends a lease while a batch runs and says
which items the caller still holds (the push calls Odoo only for those). :class:`ChangeListener` lets an idle worker wait for the
triggers' ``NOTIFY`` on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.push.coalesce import QueuedItem
from odoosync.exceptions import StoreError
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_outbox
from odoosync.store.triggers import NOTIFY_CHANNEL

__all__ = [
    "OPERATIONS",
    "STATUSES",
    "OutboxRow",
    "enqueue",
    "claim",
    "renew",
    "complete",
    "reschedule",
    "fail",
    "list_items",
    "retry_failed",
    "discard",
    "statuses_of",
    "status_counts",
    "ChangeListener",
]

OPERATIONS = ("create", "write", "unlink", "call")
STATUSES = ("queued", "processing", "done", "failed", "discarded")
_PENDING = ("queued", "processing")


@dataclass(frozen=True)
class OutboxRow:
    """One outbox row, every column (listing and the API)."""

    id: int
    backend: str
    model: str
    operation: str
    local_table: str | None
    local_id: int | None
    odoo_id: int | None
    payload: Mapping[str, Any]
    status: str
    attempts: int
    next_run_at: dt.datetime
    last_error: str | None
    locked_by: str | None
    locked_until: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    def as_queued(self) -> QueuedItem:
        return QueuedItem(self.id, self.model, self.operation, self.local_table, self.local_id,
                          self.odoo_id, self.payload, self.attempts, self.created_at)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def _row(record: Any) -> OutboxRow:
    values = dict(record._mapping)
    payload = values["payload"]
    if isinstance(payload, str):  # SQLite triggers store JSON as text
        values["payload"] = json.loads(payload)
    return OutboxRow(**values)


def enqueue(
    conn: sa.Connection,
    *,
    model: str,
    operation: str,
    payload: Mapping[str, Any],
    local_table: str | None = None,
    local_id: int | None = None,
    odoo_id: int | None = None,
    backend: str = "default",
) -> int:
    """Queue one item in the caller's transaction (code-made pushes, e.g. a ``call``)."""
    if operation not in OPERATIONS:
        raise ValueError(f"unknown outbox operation {operation!r}: use one of {', '.join(OPERATIONS)}")
    if operation == "call" and not payload.get("method"):
        raise ValueError("a 'call' item needs payload['method']")
    return conn.execute(
        sa.insert(odoo_outbox)
        .values(backend=backend, model=model, operation=operation, local_table=local_table,
                local_id=local_id, odoo_id=odoo_id, payload=dict(payload))
        .returning(odoo_outbox.c.id)
    ).scalar_one()


def _ready(now: dt.datetime, table: sa.Table | Any = odoo_outbox) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(table.c.status == "queued", table.c.next_run_at <= now),
        sa.and_(table.c.status == "processing", table.c.locked_until < now),
    )


def claim(
    store: Store,
    *,
    worker: str,
    now: dt.datetime,
    lease: dt.timedelta,
    limit: int,
    backend: str = "default",
    models: Sequence[str] | None = None,
) -> list[OutboxRow]:
    """Claim up to ``limit`` records' worth of ready items (plus their followers)."""
    o = odoo_outbox
    earlier = o.alias("earlier")
    blocked_by_earlier = (
        sa.select(sa.literal(1))
        .where(earlier.c.local_table == o.c.local_table, earlier.c.local_id == o.c.local_id,
               earlier.c.model == o.c.model, earlier.c.id < o.c.id, earlier.c.status.in_(_PENDING))
        .exists()
    )
    heads = (
        sa.select(o.c.id)
        .where(o.c.backend == backend, _ready(now), sa.or_(o.c.local_id.is_(None), ~blocked_by_earlier))
        .order_by(o.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    if models:
        heads = heads.where(o.c.model.in_(list(models)))
    taken = {"status": "processing", "locked_by": worker, "locked_until": now + lease,
             "attempts": o.c.attempts + 1, "updated_at": now}
    with store.transaction() as conn:
        head_rows = [_row(r) for r in conn.execute(
            sa.update(o).where(o.c.id.in_(heads.scalar_subquery())).values(**taken).returning(*o.c)
        )]
        records = {(r.model, r.local_table, r.local_id) for r in head_rows if r.local_id is not None}
        followers: list[OutboxRow] = []
        if records:
            followers = [_row(r) for r in conn.execute(
                sa.update(o)
                .where(o.c.backend == backend,
                       sa.tuple_(o.c.model, o.c.local_table, o.c.local_id).in_(sorted(records, key=repr)),
                       o.c.operation != "call",
                       sa.or_(o.c.status == "queued", sa.and_(o.c.status == "processing", o.c.locked_until < now)))
                .values(**taken)
                .returning(*o.c)
            )]
    return sorted({r.id: r for r in (*head_rows, *followers)}.values(), key=lambda r: r.id)


def _owned(ids: Iterable[int], worker: str) -> sa.ColumnElement[bool]:
    o = odoo_outbox
    return sa.and_(o.c.id.in_(list(ids)), o.c.status == "processing", o.c.locked_by == worker)


def renew(store: Store, ids: Iterable[int], *, worker: str, now: dt.datetime, lease: dt.timedelta) -> set[int]:
    """Extend ``worker``'s lease on ``ids`` to ``now + lease``; the ids it still holds."""
    wanted = list(ids)
    if not wanted:
        return set()
    o = odoo_outbox
    with store.transaction() as conn:
        return set(conn.execute(
            sa.update(o).where(_owned(wanted, worker)).values(locked_until=now + lease).returning(o.c.id)
        ).scalars())


def complete(conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, odoo_id: int | None = None) -> int:
    """``processing → done`` for the items ``worker`` still holds; how many changed."""
    values: dict[str, Any] = {"status": "done", "locked_by": None, "locked_until": None,
                              "last_error": None, "updated_at": now}
    if odoo_id is not None:
        values["odoo_id"] = odoo_id
    return conn.execute(sa.update(odoo_outbox).where(_owned(ids, worker)).values(**values)).rowcount


def reschedule(conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, at: dt.datetime,
               error: str) -> int:
    """``processing → queued`` until ``at``, keeping the error (the attempt stays counted)."""
    values: dict[str, Any] = {"status": "queued", "next_run_at": at, "last_error": error[:2000],
                              "locked_by": None, "locked_until": None, "updated_at": now}
    return conn.execute(sa.update(odoo_outbox).where(_owned(ids, worker)).values(**values)).rowcount


def fail(conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, error: str) -> int:
    """``processing → failed`` with Odoo's message."""
    return conn.execute(
        sa.update(odoo_outbox).where(_owned(ids, worker))
        .values(status="failed", last_error=error[:2000], locked_by=None, locked_until=None, updated_at=now)
    ).rowcount


def list_items(store: Store, *, status: str | None = None, model: str | None = None, limit: int = 100) -> list[OutboxRow]:
    """Newest items first, optionally of one status / model."""
    if status is not None and status not in STATUSES:
        raise StoreError(f"unknown outbox status {status!r}: use one of {', '.join(STATUSES)}")
    query = sa.select(odoo_outbox).order_by(odoo_outbox.c.id.desc()).limit(limit)
    if status is not None:
        query = query.where(odoo_outbox.c.status == status)
    if model is not None:
        query = query.where(odoo_outbox.c.model == model)
    with store.connect() as conn:
        return [_row(r) for r in conn.execute(query)]


def retry_failed(store: Store, *, now: dt.datetime, ids: Sequence[int] | None = None) -> int:
    """Re-queue failed items (all, or ``ids``) with their attempts reset; how many."""
    query = sa.update(odoo_outbox).where(odoo_outbox.c.status == "failed")
    if ids is not None:
        query = query.where(odoo_outbox.c.id.in_(list(ids)))
    with store.transaction() as conn:
        return conn.execute(
            query.values(status="queued", attempts=0, next_run_at=now, updated_at=now)
        ).rowcount


def discard(store: Store, ids: Sequence[int], *, now: dt.datetime) -> list[OutboxRow]:
    """``failed → discarded`` for ``ids``: a change that can only fail again is given up.
    Each discarded item's lead is stamped ``odoo_push_discarded_at``, so the app can see
    which of its changes never reached Odoo. Returns the items discarded."""
    with store.transaction(origin="push") as conn:  # the stamp is odoosync's own write: queue nothing
        rows = [_row(r) for r in conn.execute(
            sa.update(odoo_outbox).where(odoo_outbox.c.status == "failed", odoo_outbox.c.id.in_(list(ids)))
            .values(status="discarded", locked_by=None, locked_until=None, updated_at=now).returning(*odoo_outbox.c)
        )]
        lead_ids = [r.local_id for r in rows if r.local_table == "leads" and r.local_id is not None]
        if lead_ids:
            conn.execute(sa.update(leads).where(leads.c.id.in_(lead_ids)).values(odoo_push_discarded_at=now))
    return rows


def statuses_of(store: Store, ids: Iterable[int]) -> dict[int, str]:
    """``{id: status}`` of those of ``ids`` that exist."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(odoo_outbox.c.id, odoo_outbox.c.status).where(odoo_outbox.c.id.in_(list(ids))))
        return {int(item_id): status for item_id, status in rows}


def status_counts(store: Store) -> dict[str, int]:
    """``{status: items}`` for every status (zeros included)."""
    with store.connect() as conn:
        rows = conn.execute(sa.select(odoo_outbox.c.status, sa.func.count()).group_by(odoo_outbox.c.status))
        found = {status: count for status, count in rows}
    return {status: found.get(status, 0) for status in STATUSES}


class ChangeListener:
    """Wakes an idle worker when a change is queued.

    PostgreSQL: the triggers ``NOTIFY odoosync_outbox``; :meth:`wait` returns as soon as
    one arrives (``True``) or after ``timeout`` (``False``). SQLite has no notifications:
    :meth:`wait` simply waits ``timeout`` (or until ``stop`` is set) and the caller polls.
    """

    def __init__(self, store: Store):
        self._raw: Any = None
        if store.dialect == "postgresql":
            self._raw = store.engine.raw_connection()
            driver = self._raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {NOTIFY_CHANNEL}")

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Block until a change is queued (True) or ``timeout`` seconds pass (False)."""
        if self._raw is None:
            if stop is not None:
                stop.wait(timeout)
            return False
        for _ in self._raw.driver_connection.notifies(timeout=timeout, stop_after=1):
            return True
        return False

    def close(self) -> None:
        if self._raw is not None:
            self._raw.driver_connection.execute(f"UNLISTEN {NOTIFY_CHANNEL}")
            self._raw.close()
            self._raw = None

    def __enter__(self) -> ChangeListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
