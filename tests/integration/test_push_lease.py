"""A batch that outlives its lease never posts a note twice, on SQLite and PostgreSQL.

Two workers, the simulator over HTTP. Deterministic first, one call at a time: worker A's
lease expires after its first note (the test's clock jumps) and worker B reclaims the batch and posts
the rest; A must then stop calling Odoo for the items it lost. Then concurrently, with
a short real lease and a slow Odoo: the heartbeat keeps A's lease, whatever B tries.
"""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import sqlalchemy as sa

from odoosync.push import outbox
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads
from tests.integration.test_push import Clock, _client, _engine, _statuses

LEASE = dt.timedelta(seconds=60)


def _notes(store: Store, client, clock: Clock, prefix: str, count: int) -> None:
    with store.transaction() as conn:
        lead = conn.execute(sa.insert(leads).values(title=f"{prefix} lead").returning(leads.c.id)).scalar_one()
    _engine(store, client, clock).push_all()  # the lead is in Odoo first
    with store.transaction() as conn:
        for i in range(count):
            conn.execute(
                sa.insert(lead_activities).values(lead_id=lead, activity_type="note", description=f"{prefix} {i}")
            )


def _posted(simulator: Simulator, prefix: str) -> list[str]:
    with simulator.env({"active_test": False}) as env:
        messages = env["mail.message"].search_read([("body", "=like", f"%{prefix} %")], ["body"])
    return sorted(m["body"] for m in messages)


def test_a_worker_that_lost_its_lease_stops_posting(store: Store, simulator: Simulator) -> None:
    clock = Clock()
    with _client(simulator, max_concurrency=1) as client:  # one call at a time: the lease ends between two posts
        _notes(store, client, clock, "lease-note", 6)
        other: dict[str, object] = {}

        def expire_and_reclaim(kind: str) -> None:
            if kind == "post" and "result" not in other:
                clock.advance(LEASE.total_seconds() + 1)  # A's lease is over: B reclaims everything
                other["result"] = _engine(store, client, clock, worker="b", lease=LEASE).push_all()

        a = _engine(store, client, clock, worker="a", lease=LEASE, after_odoo_call=expire_and_reclaim).push_all()
    b = other["result"]
    assert b.claimed == 6 and b.done == 6  # B settled all, the one A had posted found by its marker
    assert a.lost == 5  # A posted one note, then found the other five gone
    assert _posted(simulator, "lease-note") == sorted(f"lease-note {i}" for i in range(6))
    assert _statuses(store) == {"done": 7}
    with store.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM lead_activities WHERE odoo_message_id IS NULL")).scalar() == 0


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_two_workers_and_a_slow_odoo_post_every_note_once(store: Store, make_simulator, seed: int) -> None:
    """A's batch runs for several leases (each post is slowed); B polls all along."""
    simulator = make_simulator(seed=seed)
    clock = Clock()
    lease = dt.timedelta(seconds=0.6)
    with _client(simulator) as client, _client(simulator) as client_b:
        _notes(store, client, clock, f"slow-{seed}", 8)
        done = threading.Event()

        def slow(kind: str) -> None:
            time.sleep(0.25)  # a slow Odoo: 8 notes take about three leases

        def worker_b() -> None:
            engine = _engine(store, client_b, clock, worker="b", lease=lease)
            while not done.is_set():
                engine.push_batch()
                done.wait(0.05)

        thread = threading.Thread(target=worker_b)
        thread.start()
        try:
            _engine(store, client, clock, worker="a", lease=lease, after_odoo_call=slow).push_all()
        finally:
            done.set()
            thread.join(30)
        _engine(store, client, clock, worker="c", lease=lease).push_all()
    posted = _posted(simulator, f"slow-{seed}")
    assert posted == sorted(f"slow-{seed} {i}" for i in range(8))  # each once
    assert _statuses(store) == {"done": 9}


def test_renew_extends_only_the_callers_lease(store: Store) -> None:
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)  # past the rows' database-stamped next_run_at
    with store.transaction() as conn:
        ids = [outbox.enqueue(conn, model="crm.lead", operation="call", payload={"method": "m"}) for _ in range(2)]
    rows = outbox.claim(store, worker="a", now=now, lease=LEASE, limit=10)
    assert {r.id for r in rows} == set(ids)
    assert outbox.renew(store, ids, worker="b", now=now, lease=LEASE) == set()
    assert outbox.renew(store, ids, worker="a", now=now + LEASE, lease=LEASE) == set(ids)
    later = now + LEASE + dt.timedelta(seconds=1)  # the first lease would be over, the renewed one holds
    assert outbox.claim(store, worker="b", now=later, lease=LEASE, limit=10) == []
