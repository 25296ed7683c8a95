"""The scheduled-activities stream end to end: the simulator over HTTP → the pull engine →
a real SQLite file and a real PostgreSQL database (DESIGN C3, issue 4)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from odoosync.exceptions import OdooError
from odoosync.models import SyncMode
from odoosync.pull import PullEngine, PullOptions
from odoosync.simulator import Simulator
from odoosync.store.database import Store
from odoosync.store.schema import leads, scheduled_activities
from odoosync.streams.activities import activities_stream
from tests.fixtures.pull import core_streams, open_client

SCALE = 0.02
KIND_BY_TYPE_NAME = {"Email": "email", "Call": "call", "Meeting": "meeting", "To-Do": "todo", "Follow-up": "follow_up"}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(scale=SCALE, seed=5) as running:
        yield running


@pytest.fixture
def engine(sim: Simulator, store: Store) -> Iterator[PullEngine]:
    with open_client(sim) as client:
        pull = PullEngine(client, store)
        pull.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
        yield pull


def sync(engine: PullEngine, mode: SyncMode = SyncMode.FULL, **options):
    return engine.run(activities_stream(), PullOptions(mode=mode, **options))


def odoo_activities(sim: Simulator) -> dict[int, dict]:
    with sim.env() as env:
        rows = env["mail.activity"].search_read(
            [("res_model", "=", "crm.lead"), ("active", "in", [True, False])],
            ["res_id", "activity_type_id", "summary", "date_deadline", "user_id", "active"],
        )
    return {row["id"]: row for row in rows}


def stored(store: Store) -> dict[int, dict]:
    query = sa.select(scheduled_activities, leads.c.odoo_id.label("lead_odoo_id")).join(
        leads, leads.c.id == scheduled_activities.c.lead_id
    )
    with store.connect() as conn:
        return {row.odoo_activity_id: row._asdict() for row in conn.execute(query)}


def snapshot(store: Store) -> set[tuple]:
    return {
        (
            r["odoo_activity_id"],
            r["lead_odoo_id"],
            r["activity_type"],
            r["summary"],
            r["note"],
            r["due_date"],
            r["assigned_name"],
            r["status"],
            r["completed_at"],
        )
        for r in stored(store).values()
    }


def planned(store: Store) -> list[dict]:
    return sorted((r for r in stored(store).values() if r["status"] == "planned"), key=lambda r: r["odoo_activity_id"])


def test_every_activity_of_every_lead_is_mapped_as_c3_says(sim, engine, store):
    result = sync(engine)

    in_odoo = odoo_activities(sim)
    rows = stored(store)
    assert set(rows) == set(in_odoo)
    assert result.counters.inserted == len(in_odoo)
    for activity_id, activity in in_odoo.items():
        row = rows[activity_id]
        assert row["lead_odoo_id"] == activity["res_id"]
        assert row["activity_type"] == KIND_BY_TYPE_NAME[activity["activity_type_id"][1]]
        assert row["summary"] == (activity["summary"] or None)
        assert row["due_date"].isoformat() == activity["date_deadline"]
        assert row["assigned_name"] == activity["user_id"][1]
        assert row["status"] == ("planned" if activity["active"] else "done")
        assert (row["completed_at"] is None) == activity["active"]
    assert {"planned", "done"} == {r["status"] for r in rows.values()}


def test_a_second_run_inserts_and_updates_nothing(engine, store):
    sync(engine)
    before = snapshot(store)
    for mode in (SyncMode.FULL, SyncMode.INCREMENTAL, SyncMode.MISSING):
        again = sync(engine, mode)
        assert (again.counters.inserted, again.counters.updated, again.counters.deleted) == (0, 0, 0)
    assert snapshot(store) == before


def mark_done(sim: Simulator, keep_done: bool) -> tuple[int, str]:
    """Mark one planned activity done in Odoo; its id and the done message's date."""
    with sim.env() as env:
        types = {t["id"]: t["keep_done"] for t in env["mail.activity.type"].search_read([], ["keep_done"])}
        candidates = [
            a
            for a in env["mail.activity"].search_read([("res_model", "=", "crm.lead")], ["activity_type_id"])
            if bool(types[a["activity_type_id"][0]]) == keep_done
        ]
        activity_id = candidates[0]["id"]
        message_id = env["mail.activity"].action_feedback([activity_id], feedback="Went well")
        date = env["mail.message"].read([message_id], ["date"])[0]["date"]
    return activity_id, date


@pytest.mark.parametrize("keep_done", [False, True], ids=["deleted", "archived"])
def test_an_activity_marked_done_in_odoo_becomes_done(sim, engine, store, keep_done):
    sync(engine)
    activity_id, done_at = mark_done(sim, keep_done)
    sim.clock.advance(2)

    sync(engine, SyncMode.INCREMENTAL)

    row = stored(store)[activity_id]
    assert row["status"] == "done"
    assert row["completed_at"].strftime("%Y-%m-%d %H:%M:%S") == done_at
    exists = bool(odoo_activities(sim).get(activity_id))
    assert exists == keep_done


def test_an_activity_cancelled_in_odoo_becomes_cancelled(sim, engine, store):
    sync(engine)
    victim = planned(store)[0]
    with sim.env() as env:
        env["mail.activity"].unlink([victim["odoo_activity_id"]])  # "Cancel": no chatter message

    result = sync(engine, SyncMode.INCREMENTAL)

    row = stored(store)[victim["odoo_activity_id"]]
    assert (row["status"], result.counters.deleted) == ("cancelled", 1)
    assert row["completed_at"] is not None


def test_activities_of_a_lead_deleted_in_odoo_are_cancelled_not_dropped(sim, engine, store):
    sync(engine)
    lead = planned(store)[0]["lead_odoo_id"]
    ours = {
        r["odoo_activity_id"] for r in stored(store).values() if r["lead_odoo_id"] == lead and r["status"] == "planned"
    }
    with sim.env() as env:
        env["crm.lead"].unlink([lead])

    sync(engine, SyncMode.INCREMENTAL)

    rows = stored(store)
    assert {rows[i]["status"] for i in ours} == {"cancelled"}


def test_one_lead_mode_touches_only_that_lead(sim, engine, store):
    lead = max(a["res_id"] for a in odoo_activities(sim).values())
    sync(engine, odoo_id=lead)
    rows = stored(store)
    assert rows
    assert {r["lead_odoo_id"] for r in rows.values()} == {lead}
    assert set(rows) == {i for i, a in odoo_activities(sim).items() if a["res_id"] == lead}


def test_a_run_killed_midway_resumes_to_the_state_of_a_clean_run(store):
    with (
        Simulator(scale=SCALE, seed=5, faults="mail.activity.search_read#3:500") as faulty,
        open_client(faulty, max_attempts=1) as client,
    ):
        engine = PullEngine(client, store)
        engine.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
        with pytest.raises(OdooError):
            sync(engine, page_size=10)
        partial = snapshot(store)
        sync(engine, page_size=10)
        resumed = snapshot(store)
        assert len(partial) < len(resumed)
        assert {row[0] for row in resumed} == set(odoo_activities(faulty))
        with store.transaction() as conn:
            conn.execute(sa.delete(scheduled_activities))
        sync(engine, SyncMode.FULL, page_size=10)
        assert snapshot(store) == resumed


@pytest.mark.parametrize("version", ["16.0", "19.0"])
def test_activities_land_on_odoo_16_without_active_and_on_19_where_done_ones_are_archived(
    make_simulator, store, version
):
    """Odoo 16's mail.activity has no ``active`` (every done activity is deleted); 19
    archives every done one. The stream reads ``active`` only where the server has it."""
    from odoosync.models import SyncMode
    from odoosync.pull import PullEngine, PullOptions
    from odoosync.streams.activities import activities_stream
    from tests.fixtures.pull import core_streams, open_client

    sim = make_simulator(scale=0.02, seed=2, version=version)
    with open_client(sim) as client:
        engine = PullEngine(client, store)
        engine.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
        with sim.as_sync_user() as env:
            assert ("active" in env["mail.activity"].fields_get()) == (version != "16.0")
            planned = env["mail.activity"].search([("res_model", "=", "crm.lead")], limit=2)
        first = engine.run(activities_stream(), PullOptions())
        assert first.status == "ok" and first.counters.inserted > 0
        with sim.env() as env:
            env["mail.activity"].action_feedback([planned[0]], feedback="done")
        with sim.as_sync_user() as env:  # archived included
            archived = env["mail.activity"].search([("id", "=", planned[0])])
        assert bool(archived) == (version == "19.0")
        engine.run(activities_stream(), PullOptions(mode=SyncMode.FULL))
        with store.connect() as conn:
            status = conn.execute(
                sa.text("SELECT status FROM scheduled_activities WHERE odoo_activity_id = :i"), {"i": planned[0]}
            ).scalar_one()
        assert status == "done"
