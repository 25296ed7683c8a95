"""Streams that come after others (leads after partners, chatter and activities after
leads) read Odoo while those are still written, and write only once they are done
(``pull/prerequisites.py``): the simulator over HTTP, a real SQLite file and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.exceptions import OdooError
from odoosync.models import RunStatus, SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.pull import PullEngine, PullOptions
from odoosync.simulator import Simulator
from odoosync.simulator.faults import Faults
from odoosync.store import Store, runs
from odoosync.store.schema import lead_activities, leads, scheduled_activities
from odoosync.streams.leads import LeadsTarget
from odoosync.streams.registry import stream_catalog


def _finished_at(store: Store, stream: str) -> dt.datetime:
    run = next(r for r in runs.list_runs(store, limit=50) if r.stream == stream)
    assert run.finished_at is not None
    return run.finished_at.astimezone(dt.UTC) if run.finished_at.tzinfo else run.finished_at.replace(tzinfo=dt.UTC)


def _first_read(sim: Simulator, model: str) -> dt.datetime:
    return min(r.at for r in sim.request_log.records if r.model == model and r.method == "search_read")


def _odoo_count(client: OdooClient, model: str, domain: list[Any]) -> int:
    """What the sync user may read (some messages are hidden from it)."""
    return int(client.search_count(model, domain, active_test=False))


def _slow_lead_writes(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    """Each page of leads takes ``seconds`` more to write (the streams after leads wait)."""
    original = LeadsTarget.write_page

    def slow(self: LeadsTarget, ctx: Any, conn: Any, records: Any) -> Any:
        time.sleep(seconds)
        return original(self, ctx, conn, records)

    monkeypatch.setattr(LeadsTarget, "write_page", slow)


def test_dependents_read_odoo_while_their_prerequisites_write_and_write_only_once_they_are_done(
    make_simulator: Callable[..., Simulator],
    client_for: Callable[..., OdooClient],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_simulator(scale=0.1, seed=4, latency_ms=30)
    client = client_for(sim)
    _slow_lead_writes(monkeypatch, 0.2)  # leads are written for a second or more, whatever the load
    engine = PullEngine(client, store)
    results = {r.stream: r for r in engine.run_many(stream_catalog(), PullOptions(mode=SyncMode.FULL, page_size=20))}
    assert all(r.status == RunStatus.OK for r in results.values()), results

    # Chatter asked Odoo for its first pages before leads were written ...
    assert _first_read(sim, "mail.message") < _finished_at(store, "leads")
    # ... and wrote only once they were: every record found its parent on the first
    # read, none was dropped for a missing lead and read again by the reconcile.
    messages = _odoo_count(client, "mail.message", [("model", "=", "crm.lead")])
    activities = _odoo_count(client, "mail.activity", [("res_model", "=", "crm.lead")])
    with store.connect() as conn:
        stored_messages = conn.execute(sa.select(sa.func.count()).select_from(lead_activities)).scalar_one()
        stored_activities = conn.execute(sa.select(sa.func.count()).select_from(scheduled_activities)).scalar_one()
    assert stored_messages == messages > 0
    assert stored_activities == activities > 0
    assert results["chatter"].counters.fetched == messages
    assert results["activities"].counters.fetched == activities
    assert results["leads"].counters.fetched == _odoo_count(client, "crm.lead", [])


def test_a_failed_prerequisite_leaves_the_streams_after_it_unwritten_and_skipped(
    make_simulator: Callable[..., Simulator], client_for: Callable[..., OdooClient], store: Store
) -> None:
    # Partners' pages from the 6th on answer 500 (its partitions are read concurrently, so
    # a retry may be any of them): with two attempts the stream fails after leads, chatter
    # and activities have started reading. Only these four run, so all start at once
    # (leads' other prerequisites are not selected), whatever the machine's load.
    faults = Faults.parse(",".join(f"res.partner.search_read#{n}:500" for n in range(6, 40)))
    sim = make_simulator(scale=0.05, seed=4, latency_ms=15, faults=faults)
    engine = PullEngine(client_for(sim), store)
    streams = [s for s in stream_catalog() if s.name in ("partners", "leads", "chatter", "activities")]
    with pytest.raises(OdooError):
        engine.run_many(streams, PullOptions(mode=SyncMode.FULL, page_size=10))

    by_stream = {r.stream: r for r in runs.list_runs(store, limit=50)}
    assert by_stream["partners"].status == RunStatus.FAILED
    for name, prerequisite in (("leads", "partners"), ("chatter", "leads"), ("activities", "leads")):
        run = by_stream[name]
        assert run.status == RunStatus.SKIPPED, run
        assert f"'{prerequisite}'" in (run.error or ""), run.error
    with store.connect() as conn:
        for table in (leads, lead_activities, scheduled_activities):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one() == 0, table.name


def test_a_waiting_stream_reads_its_first_page_and_one_round_no_more(
    make_simulator: Callable[..., Simulator],
    client_for: Callable[..., OdooClient],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_simulator(scale=0.1, seed=4)
    client = client_for(sim)
    _slow_lead_writes(monkeypatch, 0.3)  # leads take long to write: activities wait for them
    # Only leads and activities: both start at once (leads' own prerequisites are not
    # selected), so activities certainly wait for leads, whatever the machine's load.
    streams = [s for s in stream_catalog() if s.name in ("leads", "activities")]
    results = PullEngine(client, store).run_many(streams, PullOptions(mode=SyncMode.FULL, page_size=20))
    assert all(r.status == RunStatus.OK for r in results)

    leads_done = _finished_at(store, "leads")
    pages = [r for r in sim.request_log.records if r.model == "mail.activity" and r.method == "search_read"]
    while_waiting = [r for r in pages if r.at < leads_done]
    assert len(pages) > 2 + client.max_concurrency  # more than the wait lets it read
    assert len(while_waiting) == 1 + client.max_concurrency  # the first page, then one round
