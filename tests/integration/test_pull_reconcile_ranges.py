"""The reconcile by counted id ranges, end to end: the simulator over HTTP, SQLite and
PostgreSQL. A stream's first reconcile lists every id; later ones cost one count and one
listing of the tail and of a range picked at random, whatever the table's size, and still
find what Odoo deleted or gained, including where the database's rows differ from Odoo's
on purpose (a lead the app deleted)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.id_ranges import IdRanges
from odoosync.models import RunStatus, SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.pull import checkpoint_key
from odoosync.pull import reconcile as reconcile_module
from odoosync.push.engine import PushEngine
from odoosync.push.worker import run_once
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store import checkpoints as checkpoint_store
from odoosync.store.schema import lead_activities, leads
from odoosync.streams.registry import stream_catalog
from tests.fixtures.pull import pull


@pytest.fixture
def chunk(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Set the ids per listing chunk (and per range): small, so that a small simulator
    makes many ranges."""

    def set_chunk(size: int) -> None:
        monkeypatch.setattr(reconcile_module, "ID_CHUNK", size)

    set_chunk(40)
    return set_chunk


def _pick(monkeypatch: pytest.MonkeyPatch, choose: Callable[[int], int]) -> None:
    monkeypatch.setattr(reconcile_module, "pick_range", choose)


def _results(report: Any) -> dict[str, Any]:
    for result in report.results:
        assert result.status == RunStatus.OK and not result.remaining, result
    return {r.stream: r for r in report.results}


def _ranges(store: Store, stream: str) -> IdRanges:
    with store.connect() as conn:
        state = checkpoint_store.get(conn, checkpoint_key("default", stream))
    return IdRanges.from_json(state["id_ranges"])


def _odoo_count(client: OdooClient, stream: str) -> int:
    spec = next(s for s in stream_catalog() if s.name == stream)
    return client.search_count(spec.model, list(spec.domain), active_test=False)


def _range_of(ranges: IdRanges, odoo_id: int) -> int:
    return next(i for i, r in enumerate(ranges.ranges) if ranges.after(i) < odoo_id <= r.upto)


def _live_leads(store: Store) -> set[int]:
    with store.connect() as conn:
        return set(conn.execute(sa.select(leads.c.odoo_id).where(leads.c.deleted_at.is_(None))).scalars())


@pytest.mark.parametrize("scale", [0.02, 0.1])
def test_a_no_change_reconcile_costs_the_same_few_requests_whatever_the_table_size(
    make_simulator: Callable[..., Simulator],
    client_for: Callable[..., OdooClient],
    store: Store,
    chunk: Callable[[int], None],
    scale: float,
) -> None:
    client = client_for(make_simulator(scale=scale, seed=3))
    _results(pull(client, store, "all"))
    messages = _odoo_count(client, "chatter")
    ranges = _ranges(store, "chatter")
    assert sum(r.count for r in ranges.ranges) == messages  # the first reconcile counted every id
    assert len(ranges.ranges) >= messages // 40 > 15
    before = checkpoint_store.list_checkpoints(store)
    again = _results(pull(client, store, "all"))
    for name, result in again.items():
        c = result.counters
        assert (c.inserted, c.updated, c.deleted) == (0, 0, 0), (name, c)
        assert c.rpc_calls <= 3, (name, c)  # the increment, the count, the listing of tail and one range
    assert checkpoint_store.list_checkpoints(store) == before  # nothing learnt, nothing written


def test_what_odoo_deleted_or_created_between_ranges_is_found_by_the_counts(
    make_simulator: Callable[..., Simulator],
    client_for: Callable[..., OdooClient],
    store: Store,
    chunk: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_simulator(scale=0.1, seed=5)
    client = client_for(sim)
    exhaustive = _results(pull(client, store, "all"))["chatter"].counters.rpc_calls
    ranges = _ranges(store, "leads")
    assert len(ranges.ranges) >= 4
    lead = sorted(_live_leads(store))[len(_live_leads(store)) // 2]
    _pick(monkeypatch, lambda n: 0 if _range_of(ranges, lead) else n - 1)  # never the lead's range
    with sim.env() as env:
        messages = env["mail.message"].search([("model", "=", "crm.lead"), ("res_id", "=", lead)])
        env["crm.lead"].unlink([lead])
    assert messages
    results = _results(pull(client, store, "all", reconcile=True, mode=SyncMode.MISSING))
    assert results["leads"].counters.deleted == 1
    assert lead not in _live_leads(store)
    for stream in ("leads", "partners"):
        assert sum(r.count for r in _ranges(store, stream).ranges) == _odoo_count(client, stream)
    incremental = _results(pull(client, store, "all"))
    assert incremental["chatter"].counters.deleted == len(messages)
    assert incremental["chatter"].counters.rpc_calls < exhaustive // 3
    assert sum(r.count for r in _ranges(store, "chatter").ranges) == _odoo_count(client, "chatter")


def test_an_odoo_delete_beside_a_lead_the_app_deleted_is_found(
    simulator: Simulator,
    sim_client: OdooClient,
    store: Store,
    chunk: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database lacks the lead the app deleted (Odoo keeps it, archived): a count of
    the database's rows would let an Odoo delete in the same range balance it. The
    ranges count Odoo's ids, so the delete is seen."""
    chunk(10)
    pull(sim_client, store, mode=SyncMode.FULL)
    ranges = _ranges(store, "leads")
    live = sorted(_live_leads(store))
    index = _range_of(ranges, live[len(live) // 2])
    in_range = [i for i in live if ranges.after(index) < i <= ranges.ranges[index].upto]
    assert len(in_range) >= 2 and len(ranges.ranges) >= 3
    app_deleted, odoo_deleted = in_range[0], in_range[-1]
    _pick(monkeypatch, lambda n: (index + 1) % n)  # the random listing never sees that range
    with store.transaction() as conn:
        conn.execute(sa.delete(leads).where(leads.c.odoo_id == app_deleted))
    assert run_once(PushEngine(store, sim_client)).done == 1  # archived in Odoo
    assert _results(pull(sim_client, store))["leads"].counters.inserted == 0
    _pick(monkeypatch, lambda n: min(index, n - 1))  # its range listed: Odoo has the lead, the app deleted it
    listed = _results(pull(sim_client, store, mode=SyncMode.MISSING))["leads"].counters
    assert (listed.fetched, listed.inserted) == (0, 0)  # not read again
    _pick(monkeypatch, lambda n: (index + 1) % n)
    with simulator.env() as env:
        env["crm.lead"].unlink([odoo_deleted])
    result = _results(pull(sim_client, store))["leads"]
    assert result.counters.deleted == 1 and result.counters.inserted == 0
    assert odoo_deleted not in _live_leads(store)
    with store.connect() as conn:
        assert conn.execute(sa.select(leads.c.id).where(leads.c.odoo_id == app_deleted)).first() is None


def test_records_entering_the_domain_under_old_ids_are_found_by_the_counts(
    simulator: Simulator,
    client_for: Callable[..., OdooClient],
    store: Store,
    chunk: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sync user gains a company: its leads enter the stream with old ids and old
    ``write_date``s, which no increment reads. The counts differ, and they are listed."""
    chunk(10)
    narrow = client_for(simulator, company_ids=(1,))
    pull(narrow, store, mode=SyncMode.FULL)
    wide = client_for(simulator, company_ids=(1, 2))
    odoo = set(wide.search("crm.lead", [], active_test=False))
    entering = odoo - _live_leads(store)
    assert entering, "company 2 has leads"
    increment_only = _results(pull(wide, store, reconcile=False))["leads"]
    assert increment_only.counters.inserted == 0  # old write_dates: no increment reads them
    _pick(monkeypatch, lambda n: 0)
    reconciled = _results(pull(wide, store))["leads"]
    assert reconciled.counters.inserted == len(entering)
    assert _live_leads(store) == odoo
    assert sum(r.count for r in _ranges(store, "leads").ranges) == len(odoo)


def test_a_row_lost_in_the_database_comes_back_when_its_range_is_listed(
    simulator: Simulator,
    sim_client: OdooClient,
    store: Store,
    chunk: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Odoo's counts cannot see a row lost on the database's side (deleted by hand): the
    range listed at random each run finds it, sooner or later (``verify`` at once)."""
    pull(sim_client, store, "all")
    ranges = _ranges(store, "chatter")
    with store.connect() as conn:
        message = conn.execute(sa.select(sa.func.min(lead_activities.c.odoo_message_id))).scalar_one()
    with store.transaction() as conn:
        conn.execute(sa.delete(lead_activities).where(lead_activities.c.odoo_message_id == message))
    picks: list[int] = []

    def pick(n: int) -> int:
        picks.append(len(picks) % n)
        return picks[-1]

    _pick(monkeypatch, pick)
    runs = 0
    while True:
        runs += 1
        result = _results(pull(sim_client, store, "chatter"))["chatter"]
        if result.counters.inserted:
            break
        assert runs < len(ranges.ranges), "every range is listed in turn"
    assert result.counters.inserted == 1 and picks[-1] == _range_of(ranges, message)
    with store.connect() as conn:
        assert conn.execute(sa.select(lead_activities.c.id).where(lead_activities.c.odoo_message_id == message)).first()


def test_ranges_of_another_scope_are_not_trusted(
    simulator: Simulator, sim_client: OdooClient, store: Store, chunk: Callable[[int], None]
) -> None:
    """Ranges counted for another model or domain (the stream's configuration changed)
    are dropped: the reconcile lists every id again."""
    pull(sim_client, store, "all")
    key = checkpoint_key("default", "chatter")
    with store.transaction() as conn:
        state = checkpoint_store.get(conn, key)
        state["id_ranges"] = {**state["id_ranges"], "scope": "another domain"}
        checkpoint_store.put(conn, key, state)
    listing = _results(pull(sim_client, store, "chatter"))["chatter"].counters.rpc_calls
    assert listing > _odoo_count(sim_client, "chatter") // 40
    assert _ranges(store, "chatter").scope != "another domain"
    assert _results(pull(sim_client, store, "chatter"))["chatter"].counters.rpc_calls <= 3


def test_records_created_in_odoo_arrive_once_and_join_the_ranges(
    simulator: Simulator, sim_client: OdooClient, store: Store, chunk: Callable[[int], None]
) -> None:
    """The reconcile's first round (the tail listed) travels with the increment, which
    reads the same new records: each is written once, and the ranges count it."""
    chunk(10)
    pull(sim_client, store)
    with simulator.env() as env:
        created = [env["crm.lead"].create({"name": f"New lead {i}", "type": "opportunity"}) for i in range(25)]
    result = _results(pull(sim_client, store))["leads"]
    assert (result.counters.inserted, result.counters.updated, result.counters.deleted) == (25, 0, 0)
    assert set(created) <= _live_leads(store)
    ranges = _ranges(store, "leads")
    assert ranges.last >= max(created)
    assert sum(r.count for r in ranges.ranges) == _odoo_count(sim_client, "leads")
    again = _results(pull(sim_client, store))["leads"].counters  # re-read in the overlap window only
    assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
