"""Outbox persistence on both databases: claims, per-record order, leases, outcomes, wake-ups."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import sqlalchemy as sa

from odoosync.exceptions import StoreError
from odoosync.push import outbox
from odoosync.store import Store
from odoosync.store.schema import leads

NOW = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)  # every queued item is ready by then
LEASE = dt.timedelta(minutes=5)


def _queue(store: Store, n: int) -> list[int]:
    with store.transaction() as conn:
        return [
            conn.execute(sa.insert(leads).values(title=f"L{i}").returning(leads.c.id)).scalar_one() for i in range(n)
        ]


def test_claim_takes_a_record_with_its_followers_and_keeps_order(store: Store) -> None:
    a, b = _queue(store, 2)
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == a).values(stage="New"))
    first = outbox.claim(store, worker="w1", now=NOW, lease=LEASE, limit=1)
    assert [(r.local_id, r.operation) for r in first] == [(a, "create"), (a, "write")]  # followers come along
    assert all(r.status == "processing" and r.locked_by == "w1" and r.attempts == 1 for r in first)
    with store.transaction() as conn:  # a new edit of a record being pushed waits for it
        conn.execute(sa.update(leads).where(leads.c.id == a).values(stage="Won"))
    second = outbox.claim(store, worker="w2", now=NOW, lease=LEASE, limit=10)
    assert [(r.local_id, r.operation) for r in second] == [(b, "create")]
    with store.transaction() as conn:
        assert outbox.complete(conn, [r.id for r in first], worker="w2", now=NOW) == 0  # not w2's
        assert outbox.complete(conn, [r.id for r in first], worker="w1", now=NOW) == 2
    third = outbox.claim(store, worker="w2", now=NOW, lease=LEASE, limit=10)
    assert [(r.local_id, r.payload["values"]) for r in third] == [(a, {"stage": "Won"})]


def test_expired_lease_is_reclaimed_and_backoff_is_respected(store: Store) -> None:
    _queue(store, 1)
    [item] = outbox.claim(store, worker="dead", now=NOW, lease=LEASE, limit=5)
    assert outbox.claim(store, worker="w", now=NOW + LEASE - dt.timedelta(seconds=1), lease=LEASE, limit=5) == []
    [again] = outbox.claim(store, worker="w", now=NOW + LEASE + dt.timedelta(seconds=1), lease=LEASE, limit=5)
    assert (again.id, again.attempts, again.locked_by) == (item.id, 2, "w")
    later = NOW + dt.timedelta(minutes=10)
    with store.transaction() as conn:
        outbox.reschedule(conn, [item.id], worker="w", now=later, at=later + dt.timedelta(seconds=20), error="boom")
    assert outbox.claim(store, worker="w", now=later + dt.timedelta(seconds=19), lease=LEASE, limit=5) == []
    [ready] = outbox.claim(store, worker="w", now=later + dt.timedelta(seconds=20), lease=LEASE, limit=5)
    with store.transaction() as conn:
        outbox.fail(conn, [ready.id], worker="w", now=later, error="gave up")
    assert outbox.status_counts(store) == {"queued": 0, "processing": 0, "done": 0, "failed": 1, "discarded": 0}
    assert outbox.retry_failed(store, now=later) == 1
    [requeued] = outbox.list_items(store)
    assert (requeued.status, requeued.attempts, requeued.last_error) == ("queued", 0, "gave up")
    with pytest.raises(StoreError, match="unknown outbox status 'lost'"):
        outbox.list_items(store, status="lost")


def test_concurrent_claims_are_disjoint(store: Store) -> None:
    _queue(store, 60)
    claimed: dict[str, list[int]] = {"a": [], "b": [], "c": []}

    def work(name: str) -> None:
        while rows := outbox.claim(store, worker=name, now=NOW, lease=LEASE, limit=4):
            claimed[name] += [r.id for r in rows]

    threads = [threading.Thread(target=work, args=(name,)) for name in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [i for ids in claimed.values() for i in ids]
    assert len(every) == len(set(every)) == 60


def test_the_waker_wakes_on_a_queued_change(store: Store) -> None:
    """PostgreSQL: the trigger's NOTIFY; SQLite: the poll finds the ready item."""
    woken = threading.Event()
    waker = outbox.OutboxWaker(store, woken.set, poll_seconds=0.2).start()
    try:
        assert not woken.wait(0.5)  # nothing queued: nothing to push
        _queue(store, 1)
        assert woken.wait(30)
        assert waker.problem() is None
    finally:
        waker.stop()
