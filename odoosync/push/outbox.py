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
which items the caller still holds, :func:`held` only says it (the push calls Odoo only
for those). :class:`ChangeListener` lets an idle worker wait for the
triggers' ``NOTIFY`` on PostgreSQL.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import StoreError
from odoosync.push.coalesce import QueuedItem
from odoosync.redact import redact_text
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
    "held",
    "complete",
    "reschedule",
    "fail",
    "list_items",
    "retry_failed",
    "discard",
    "statuses_of",
    "status_counts",
    "any_ready",
    "backlog",
    "lead_items",
    "OutboxWaker",
]

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 30.0  # the outbox waker's longest wait between reconnects

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
        return QueuedItem(
            self.id,
            self.model,
            self.operation,
            self.local_table,
            self.local_id,
            self.odoo_id,
            self.payload,
            self.attempts,
            self.created_at,
        )

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
        .values(
            backend=backend,
            model=model,
            operation=operation,
            local_table=local_table,
            local_id=local_id,
            odoo_id=odoo_id,
            payload=dict(payload),
        )
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
        .where(
            earlier.c.local_table == o.c.local_table,
            earlier.c.local_id == o.c.local_id,
            earlier.c.model == o.c.model,
            earlier.c.id < o.c.id,
            earlier.c.status.in_(_PENDING),
        )
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
    taken = {
        "status": "processing",
        "locked_by": worker,
        "locked_until": now + lease,
        "attempts": o.c.attempts + 1,
        "updated_at": now,
    }
    with store.transaction() as conn:
        head_rows = [
            _row(r)
            for r in conn.execute(
                sa.update(o).where(o.c.id.in_(heads.scalar_subquery())).values(**taken).returning(*o.c)
            )
        ]
        records = {(r.model, r.local_table, r.local_id) for r in head_rows if r.local_id is not None}
        followers: list[OutboxRow] = []
        if records:
            followers = [
                _row(r)
                for r in conn.execute(
                    sa.update(o)
                    .where(
                        o.c.backend == backend,
                        sa.tuple_(o.c.model, o.c.local_table, o.c.local_id).in_(sorted(records, key=repr)),
                        o.c.operation != "call",
                        sa.or_(o.c.status == "queued", sa.and_(o.c.status == "processing", o.c.locked_until < now)),
                    )
                    .values(**taken)
                    .returning(*o.c)
                )
            ]
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
        return set(
            conn.execute(
                sa.update(o).where(_owned(wanted, worker)).values(locked_until=now + lease).returning(o.c.id)
            ).scalars()
        )


def held(store: Store, ids: Iterable[int], *, worker: str, until: dt.datetime) -> set[int]:
    """The ids ``worker`` holds with a lease that runs at least until ``until`` (a read:
    no write lock, so checks before calls do not queue behind other writers)."""
    wanted = list(ids)
    if not wanted:
        return set()
    o = odoo_outbox
    with store.connect() as conn:
        return set(conn.execute(sa.select(o.c.id).where(_owned(wanted, worker), o.c.locked_until >= until)).scalars())


def complete(
    conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, odoo_id: int | None = None
) -> int:
    """``processing → done`` for the items ``worker`` still holds; how many changed."""
    values: dict[str, Any] = {
        "status": "done",
        "locked_by": None,
        "locked_until": None,
        "last_error": None,
        "updated_at": now,
    }
    if odoo_id is not None:
        values["odoo_id"] = odoo_id
    return conn.execute(sa.update(odoo_outbox).where(_owned(ids, worker)).values(**values)).rowcount


def reschedule(
    conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, at: dt.datetime, error: str
) -> int:
    """``processing → queued`` until ``at``, keeping the error (the attempt stays counted)."""
    values: dict[str, Any] = {
        "status": "queued",
        "next_run_at": at,
        "last_error": error[:2000],
        "locked_by": None,
        "locked_until": None,
        "updated_at": now,
    }
    return conn.execute(sa.update(odoo_outbox).where(_owned(ids, worker)).values(**values)).rowcount


def fail(conn: sa.Connection, ids: Iterable[int], *, worker: str, now: dt.datetime, error: str) -> int:
    """``processing → failed`` with Odoo's message."""
    return conn.execute(
        sa.update(odoo_outbox)
        .where(_owned(ids, worker))
        .values(status="failed", last_error=error[:2000], locked_by=None, locked_until=None, updated_at=now)
    ).rowcount


def list_items(
    store: Store, *, status: str | None = None, model: str | None = None, limit: int = 100
) -> list[OutboxRow]:
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
        return conn.execute(query.values(status="queued", attempts=0, next_run_at=now, updated_at=now)).rowcount


def discard(store: Store, ids: Sequence[int], *, now: dt.datetime) -> list[OutboxRow]:
    """``failed → discarded`` for ``ids``: a change that can only fail again is given up.
    Each discarded item's lead is stamped ``odoo_push_discarded_at``, so the app can see
    which of its changes never reached Odoo. Returns the items discarded."""
    with store.transaction(origin="push") as conn:  # the stamp is odoosync's own write: queue nothing
        rows = [
            _row(r)
            for r in conn.execute(
                sa.update(odoo_outbox)
                .where(odoo_outbox.c.status == "failed", odoo_outbox.c.id.in_(list(ids)))
                .values(status="discarded", locked_by=None, locked_until=None, updated_at=now)
                .returning(*odoo_outbox.c)
            )
        ]
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


def any_ready(store: Store, now: dt.datetime) -> bool:
    """Is an item ready to push now? (one indexed ``EXISTS``: the waker's poll on SQLite)"""
    with store.connect() as conn:
        return bool(conn.execute(sa.select(sa.exists().where(_ready(now)))).scalar())


def backlog(conn: sa.Connection) -> tuple[dict[str, int], dt.datetime | None]:
    """Items per status, and when the oldest still waiting (queued or processing) was queued."""
    counts = {
        status: int(n)
        for status, n in conn.execute(sa.select(odoo_outbox.c.status, sa.func.count()).group_by(odoo_outbox.c.status))
    }
    oldest = conn.execute(
        sa.select(sa.func.min(odoo_outbox.c.created_at)).where(odoo_outbox.c.status.in_(("queued", "processing")))
    ).scalar()
    return counts, oldest


def lead_items(conn: sa.Connection, backend: str, odoo_ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """``(odoo_id, operation, status)`` of every item about these Odoo leads, oldest first:
    the pull asks whether the app deleted a lead or still has changes to it waiting."""
    query = (
        sa.select(odoo_outbox.c.odoo_id, odoo_outbox.c.operation, odoo_outbox.c.status)
        .where(
            odoo_outbox.c.local_table == "leads",
            odoo_outbox.c.model == "crm.lead",
            odoo_outbox.c.backend == backend,
            odoo_outbox.c.odoo_id.in_(list(odoo_ids)),
        )
        .order_by(odoo_outbox.c.id)
    )
    return [(int(i), str(op), str(st)) for i, op, st in conn.execute(query)]


class OutboxWaker:
    """Calls ``wake()`` soon after an outbox item becomes ready (a thread; ``start``/``stop``).

    PostgreSQL: ``LISTEN odoosync_outbox`` on a connection of its own; every trigger
    ``NOTIFY`` wakes it at once. SQLite: every ``poll_seconds`` one indexed ``SELECT``
    asks whether an item is ready. Either way, *any* error (a database restart raises the
    driver's own errors from the listening connection) is logged and the waker reconnects
    with exponential backoff (``poll_seconds`` doubling up to :data:`MAX_BACKOFF_SECONDS`);
    :meth:`problem` says what is wrong meanwhile (``/api/health``). The minute sweep of the
    ``outbox`` job remains as a safety net.
    """

    def __init__(self, store: Store, wake: Callable[[], None], *, poll_seconds: float = 2.0) -> None:
        self._store = store
        self._wake = wake
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox-waker", daemon=True)
        self._problem: str | None = "starting"

    def start(self) -> OutboxWaker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def problem(self) -> str | None:
        """None while the waker listens (or polls) successfully; else what is wrong."""
        if not self._thread.is_alive() and not self._stop.is_set():
            return "not running"
        return self._problem

    def _loop(self) -> None:
        backoff = self._poll_seconds
        while not self._stop.is_set():
            try:
                if self._store.dialect == "postgresql":
                    self._listen()
                else:
                    self._poll()
            except Exception as exc:  # noqa: BLE001 - any failure: reconnect, never die silently
                self._problem = f"reconnecting after {type(exc).__name__}"
                log.warning(
                    "outbox waker: %s: %s; reconnecting in %.1f s",
                    type(exc).__name__,
                    redact_text(str(exc)).splitlines()[0] if str(exc) else "",
                    backoff,
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            else:
                backoff = self._poll_seconds

    def _ready(self) -> bool:
        return any_ready(self._store, dt.datetime.now(dt.UTC))

    def _poll(self) -> None:
        while not self._stop.is_set():
            if self._ready():
                self._wake()
            self._problem = None
            self._stop.wait(self._poll_seconds)

    def _listen(self) -> None:
        raw = self._store.engine.raw_connection()
        try:
            driver: Any = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
            if self._ready():  # queued while nobody listened
                self._wake()
            self._problem = None
            while not self._stop.is_set():
                if any(True for _ in driver.notifies(timeout=self._poll_seconds, stop_after=1)):
                    self._wake()
        finally:
            with contextlib.suppress(Exception):  # already broken: nothing to give back
                raw.invalidate()  # a LISTENing connection does not go back to the pool
