"""The pull engine against the simulator over HTTP, into SQLite and PostgreSQL.

Every test runs twice (``store`` is parametrised): full import, incremental changes
(creates, edits, archives, deletes, same-second edits, late commits inside the overlap
window, placed on Odoo's clock), the cost of an idle Odoo, no-write re-runs, resume
after interruptions, budgets and locks.
"""

from __future__ import annotations

import datetime as dt
import gc
import random
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.exceptions import LockHeld
from odoosync.models import RunStatus, SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.pull import checkpoint_key
from odoosync.simulator import Simulator
from odoosync.store import Store, runs
from odoosync.store import checkpoints as checkpoint_store
from odoosync.store.schema import customers, leads, odoo_partners, odoo_stages
from odoosync.streams.customers import CustomersMap
from odoosync.streams.leads import LeadsTarget
from odoosync.streams.mirror import MirrorTarget
from tests.fixtures.pull import canonical_state, core_streams, odoo_config_for, odoo_leads, pull


def db_leads(store: Store) -> dict[int, dict[str, Any]]:
    with store.connect() as conn:
        return {r["odoo_id"]: dict(r) for r in conn.execute(sa.select(leads)).mappings()}


def test_full_import_equals_the_simulator_archived_and_lost_included(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    report = pull(sim_client, store)
    assert [r.status for r in report.results] == [RunStatus.OK] * len(report.results)
    in_odoo = odoo_leads(simulator)
    in_db = db_leads(store)
    assert set(in_db) == set(in_odoo)
    assert any(not r["active"] for r in in_odoo.values()), "the dataset should contain archived leads"
    with simulator.env(context={"active_test": False}) as env:
        won_stages = {s["id"] for s in env["crm.stage"].search_read([("is_won", "=", True)], ["id"])}
    for odoo_id, lead in in_odoo.items():
        row = in_db[odoo_id]
        assert row["title"] == lead["name"]
        assert row["stage"] == (lead["stage_id"][1] if lead["stage_id"] else None)
        expected_status = (
            "won"
            if lead["active"] and lead["stage_id"] and lead["stage_id"][0] in won_stages
            else "lost"
            if not lead["active"] or lead["lost_reason_id"]
            else "open"
        )
        assert row["status"] == expected_status
        assert float(row["value"] or 0) == pytest.approx(float(lead["expected_revenue"] or 0), abs=0.01)
        assert row["owner_name"] == (lead["user_id"][1] if lead["user_id"] else None)
        assert row["source_email_id"] == f"odoo_crm_{odoo_id}"
        assert row["deleted_at"] is None
    assert {r["status"] for r in in_db.values()} >= {"open", "lost"}
    with simulator.env(context={"active_test": False}) as env:
        partner_count = env["res.partner"].search_count([])
        stage_count = env["crm.stage"].search_count([])
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(odoo_partners)).scalar_one() == partner_count
        assert conn.execute(sa.select(sa.func.count()).select_from(odoo_stages)).scalar_one() == stage_count
        names = conn.execute(sa.select(customers.c.company_id, customers.c.name, customers.c.odoo_partner_id)).all()
    partner_bound = [pid for _, _, pid in names if pid is not None]
    assert len(partner_bound) == len(set(partner_bound)), "one customer per Odoo company"
    linked = [r for r in in_db.values() if r["customer_id"] is not None]
    assert linked, "leads are linked to customers"


def test_incremental_picks_up_creates_edits_archives_and_deletes(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    pull(sim_client, store)
    ids = sorted(odoo_leads(simulator))
    edited, archived, deleted = ids[0], ids[1], ids[2]
    simulator.clock.advance(2)
    with simulator.env() as env:
        created = env["crm.lead"].create(
            {"name": "Fresh lead", "partner_name": "Brand New Co", "expected_revenue": 999}
        )
        env["crm.lead"].write([edited], {"name": "Renamed lead"})
        env["crm.lead"].action_archive([archived])
        env["crm.lead"].unlink([deleted])
    report = pull(sim_client, store, "leads")
    (result,) = report.results
    assert (result.counters.inserted, result.counters.updated, result.counters.deleted) == (1, 2, 1)
    rows = db_leads(store)
    assert rows[created]["title"] == "Fresh lead"
    assert float(rows[created]["value"]) == 999
    assert rows[edited]["title"] == "Renamed lead"
    assert rows[archived]["status"] == "lost"
    assert rows[deleted]["deleted_at"] is not None, "a vanished lead is marked deleted, never dropped"
    with store.connect() as conn:
        assert conn.execute(sa.select(customers.c.id).where(customers.c.name == "Brand New Co")).all()


def test_edits_in_the_same_second_as_the_cursor_are_not_skipped(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    """Even without an overlap window, ``(write_date, id)`` order keeps same-second rows."""
    simulator.clock.freeze()
    with simulator.env() as env:
        first = env["crm.lead"].create({"name": "same second A"})
    pull(sim_client, store, "leads", overlap=dt.timedelta(0))
    cursor = checkpoint_store_cursor(store, "leads")
    # Same stamp as the cursor, a higher id: strictly after (write_date, id).
    with simulator.env() as env:
        second = env["crm.lead"].create({"name": "same second B"})
    assert odoo_leads(simulator)[second]["write_date"] == odoo_leads(simulator)[first]["write_date"]
    assert cursor["write_date"] == odoo_leads(simulator)[first]["write_date"]
    pull(sim_client, store, "leads", overlap=dt.timedelta(0), reconcile=False)
    assert db_leads(store)[second]["title"] == "same second B"


def test_a_late_commit_with_an_older_write_date_inside_the_overlap_is_read(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    pull(sim_client, store)
    target = sorted(odoo_leads(simulator))[5]
    simulator.clock.advance(60)
    with simulator.env() as env:  # moves the cursor past the late transaction's stamp
        env["crm.lead"].write([sorted(odoo_leads(simulator))[6]], {"name": "moves the cursor"})
    pull(sim_client, store, "leads", reconcile=False)
    cursor = dt.datetime.fromisoformat(checkpoint_store_cursor(store, "leads")["write_date"])
    # A long transaction that started two minutes before the cursor commits only now.
    with simulator.env(stamp=cursor - dt.timedelta(minutes=2)) as env:
        env["crm.lead"].write([target], {"name": "committed late"})
    (result,) = pull(sim_client, store, "leads", reconcile=False).results
    assert result.counters.updated == 1
    assert db_leads(store)[target]["title"] == "committed late"


def test_a_late_commit_behind_the_cursor_is_read_on_odoo_s_clock_when_nothing_else_changes(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    """The window follows the previous read on *Odoo's* clock (its ``Date`` header), here
    an hour behind ours: a row committed after that read, stamped before the cursor, is
    read although the cursor did not move and nothing else changed."""
    pull(sim_client, store)
    ids = sorted(odoo_leads(simulator))
    newest = simulator.clock.freeze(dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    with simulator.env() as env:
        env["crm.lead"].write([ids[6]], {"name": "newest change"})
    simulator.clock.advance(60)
    (seen,) = pull(sim_client, store, "leads", reconcile=False).results
    assert seen.counters.updated == 1
    assert checkpoint_store_cursor(store, "leads")["write_date"] == str(newest)
    # A transaction that began two minutes before the newest change commits only now,
    # after that read; then Odoo stays idle.
    with simulator.env(stamp=newest - dt.timedelta(minutes=2)) as env:
        env["crm.lead"].write([ids[5]], {"name": "committed late"})
    simulator.clock.advance(60)
    (result,) = pull(sim_client, store, "leads", reconcile=False).results
    assert result.counters.updated == 1
    assert db_leads(store)[ids[5]]["title"] == "committed late"


def test_an_idle_odoo_costs_one_search_read_per_stream_once_the_overlap_has_passed(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    """Thirty leads changed in the four minutes before the newest change (three pages
    of ten), then Odoo idle: the first increment re-reads them, the next ones only ask
    for what is past the cursor."""
    recent = sorted(odoo_leads(simulator))[:30]
    newest = simulator.clock.freeze()
    for i, lead in enumerate(recent):
        with simulator.env(stamp=newest - dt.timedelta(seconds=8 * (len(recent) - 1 - i))) as env:
            env["crm.lead"].write([lead], {"name": f"recent {i}"})
    pull(sim_client, store, page_size=10)
    simulator.clock.advance(6 * 60)  # idle for longer than the overlap
    report = pull(sim_client, store, page_size=10, reconcile=False)
    (leads_run,) = [r for r in report.results if r.stream == "leads"]
    assert leads_run.counters.fetched == len(recent), "the read right after the changes may have missed some"
    checkpoints_before = checkpoint_store.list_checkpoints(store)
    models = {stream.model for stream in core_streams()}
    for _ in range(2):
        simulator.request_log.clear()
        report = pull(sim_client, store, page_size=10, reconcile=False)
        assert simulator.request_log.count() == len(models) == len(report.results)
        assert {model: simulator.request_log.count("search_read", model) for model in models} == dict.fromkeys(
            models, 1
        )
        assert sum(r.counters.fetched for r in report.results) == 0
        assert checkpoint_store.list_checkpoints(store) == checkpoints_before, "an idle run writes no checkpoint"


def checkpoint_store_cursor(store: Store, stream: str) -> dict[str, Any]:
    with store.connect() as conn:
        return checkpoint_store.get(conn, checkpoint_key("default", stream))["cursor"]


def row_versions(store: Store) -> dict[str, Any]:
    """Something that changes whenever a row is rewritten, per table."""
    tables = [leads, customers, odoo_partners, odoo_stages]
    with store.connect() as conn:
        if store.dialect == "postgresql":
            return {
                t.name: sorted(
                    conn.execute(
                        sa.text(
                            f"SELECT id::text, xmin::text FROM {t.name}"
                            if "id" in t.c
                            else f"SELECT odoo_id::text, xmin::text FROM {t.name}"
                        )
                    ).all()
                )
                for t in tables
            }
        return {t.name: sorted(map(tuple, conn.execute(sa.select(*list(t.c))).all()), key=repr) for t in tables}


def test_a_rerun_with_no_change_writes_nothing(simulator: Simulator, sim_client: OdooClient, store: Store) -> None:
    pull(sim_client, store)
    before = row_versions(store)
    checkpoints_before = checkpoint_store.list_checkpoints(store)
    report = pull(sim_client, store)
    for result in report.results:
        assert (result.counters.inserted, result.counters.updated, result.counters.deleted) == (0, 0, 0), result
        assert result.status == RunStatus.OK
    assert row_versions(store) == before
    assert checkpoint_store.list_checkpoints(store) == checkpoints_before
    logged = runs.list_runs(store, limit=len(report.results), job="pull")
    assert all(r.counters.inserted == r.counters.updated == 0 for r in logged)
    assert all(r.counters.rpc_calls <= 3 for r in logged), "a no-change run costs a handful of requests"


def test_a_full_rerun_rewrites_nothing_either(simulator: Simulator, sim_client: OdooClient, store: Store) -> None:
    pull(sim_client, store)
    before = row_versions(store)
    report = pull(sim_client, store, mode=SyncMode.FULL)
    assert sum(r.counters.inserted + r.counters.updated for r in report.results) == 0
    assert row_versions(store) == before


class Interrupted(Exception):
    """Raised by the test to cut a run at a chosen point."""


@pytest.fixture(scope="module")
def shared_simulator() -> Iterator[Simulator]:
    """One dataset for the interruption cases (they never change it)."""
    with Simulator(0.03, 3) as sim:
        yield sim


@pytest.fixture(scope="module")
def clean_state(shared_simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The database after one uninterrupted sync of ``shared_simulator``."""
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    with (
        Store(f"sqlite:///{path}") as clean,
        OdooClient(odoo_config_for(shared_simulator, company_ids=(1, 2))) as client,
    ):
        clean.upgrade()
        pull(client, clean, page_size=25)
        return canonical_state(clean)


@pytest.mark.xdist_group("test_pull_clean_state")  # one worker builds the module fixtures once
@pytest.mark.parametrize("seed", range(4))
def test_interrupted_runs_resume_to_the_state_of_one_clean_run(
    shared_simulator: Simulator,
    clean_state: dict[str, Any],
    client_for: Callable[..., OdooClient],
    store: Store,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    """Cut the sync at random points (before a page's write, or inside its transaction
    after the upsert), re-run, and compare with a clean run elsewhere."""
    client = client_for(shared_simulator)
    expected = clean_state
    rng = random.Random(seed)

    original = MirrorTarget.write_page
    calls = {"n": 0}
    cuts = sorted(rng.sample(range(1, 14), 4))  # a clean run writes about 14 pages

    def flaky(self: MirrorTarget, ctx: Any, conn: Any, records: Any) -> Any:
        calls["n"] += 1
        where = rng.choice(["before", "inside"])
        if calls["n"] in cuts and where == "before":
            raise Interrupted(f"before page {calls['n']}")
        counts = original(self, ctx, conn, records)
        if calls["n"] in cuts:
            raise Interrupted(f"inside page {calls['n']}")  # the transaction rolls back
        return counts

    monkeypatch.setattr(MirrorTarget, "write_page", flaky)
    interruptions = 0
    for _ in range(20):
        try:
            pull(client, store, page_size=25)
            break
        except Interrupted:
            interruptions += 1
    else:
        pytest.fail("the sync never completed")
    monkeypatch.setattr(MirrorTarget, "write_page", original)
    pull(client, store, page_size=25)  # settles anything the cut runs left for later
    assert interruptions >= 1
    assert canonical_state(store) == expected
    failed = [r for r in runs.list_runs(store, limit=200) if r.status == RunStatus.FAILED]
    assert len(failed) >= interruptions and all("Interrupted" in (r.error or "") for r in failed)


def test_a_budget_run_reports_remaining_and_the_next_run_finishes(
    make_simulator: Callable[..., Simulator], client_for: Callable[..., OdooClient], store: Store, tmp_path: Any
) -> None:
    sim = make_simulator(scale=0.03, seed=1, latency_ms=30)
    client = client_for(sim)
    report = pull(client, store, "leads", budget=0.05, page_size=5)
    assert report.remaining
    (logged,) = runs.list_runs(store, limit=1)
    assert logged.remaining and logged.status == RunStatus.PARTIAL
    assert len(db_leads(store)) < len(odoo_leads(sim))
    report = pull(client, store, "leads", page_size=5)
    assert not report.remaining
    assert set(db_leads(store)) == set(odoo_leads(sim))


def test_a_second_concurrent_run_is_refused_naming_the_holder(sim_client: OdooClient, store: Store) -> None:
    with store.lock(checkpoint_key("default", "leads"), {"run_id": 4242}):
        with pytest.raises(LockHeld) as refused:
            pull(sim_client, store, "leads")
    assert "run_id=4242" in str(refused.value) and "pid=" in (refused.value.holder or "")
    (skipped,) = runs.list_runs(store, limit=1)
    assert skipped.status == RunStatus.SKIPPED and "run_id=4242" in (skipped.error or "")
    assert db_leads(store) == {}
    pull(sim_client, store, "leads")  # released: runs now
    assert db_leads(store)


def test_one_record_mode_reads_that_record_and_marks_a_vanished_one_deleted(
    simulator: Simulator, sim_client: OdooClient, store: Store
) -> None:
    ids = sorted(odoo_leads(simulator))
    (result,) = pull(sim_client, store, "leads", odoo_id=ids[3]).results
    assert set(db_leads(store)) == {ids[3]} and result.counters.inserted == 1
    with simulator.env() as env:
        env["crm.lead"].unlink([ids[3]])
    pull(sim_client, store, "leads", odoo_id=ids[3])
    assert db_leads(store)[ids[3]]["deleted_at"] is not None
    assert checkpoint_store.list_checkpoints(store) == [], "a one-record run leaves the cursor alone"


def test_missing_mode_fills_only_the_gaps(simulator: Simulator, sim_client: OdooClient, store: Store) -> None:
    pull(sim_client, store, "leads")
    gone = sorted(db_leads(store))[:3]
    # Rows lost without the app deleting them (origin "pull": no outbox item is queued);
    # a deletion the app made is kept, see test_pull_app_edits.py.
    with store.transaction(origin="pull") as conn:
        conn.execute(sa.delete(leads).where(leads.c.odoo_id.in_(gone)))
    (result,) = pull(sim_client, store, "leads", mode=SyncMode.MISSING).results
    assert result.counters.inserted == 3 and result.counters.fetched == 3
    assert set(db_leads(store)) == set(odoo_leads(simulator))


def test_a_run_lets_go_of_its_lookups_when_it_ends(
    simulator: Simulator, sim_client: OdooClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Partners' customers map (one entry per customer) is gone when leads load their
    own, so two maps of a large table are never held at once. The collector is off:
    without the run dropping its lookups, the cycles a run's parts make would keep the
    map until the collector's next pass."""
    maps: weakref.WeakSet[CustomersMap] = weakref.WeakSet()
    load = CustomersMap.load

    def tracked(self: CustomersMap, conn: sa.Connection) -> CustomersMap:
        maps.add(self)
        return load(self, conn)

    alive_when_leads_load: list[int] = []
    begin_run = LeadsTarget.begin_run

    def leads_begin(self: LeadsTarget, ctx: Any) -> None:
        alive_when_leads_load.append(len(maps))
        begin_run(self, ctx)

    monkeypatch.setattr(CustomersMap, "load", tracked)
    monkeypatch.setattr(LeadsTarget, "begin_run", leads_begin)
    collecting = gc.isenabled()
    gc.disable()
    try:
        report = pull(sim_client, store)
    finally:
        if collecting:
            gc.enable()
    assert report.ok, report
    assert alive_when_leads_load == [0]  # partners' map was released when partners ended
    assert len(maps) == 0  # and leads' when leads ended
