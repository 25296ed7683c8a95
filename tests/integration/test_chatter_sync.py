"""The chatter stream end to end: the simulator over HTTP → the pull engine → a real
SQLite file and a real PostgreSQL database (DESIGN C3, issue 4)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from odoosync.exceptions import OdooError
from odoosync.html_text import html_to_text
from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.pull import PullEngine, PullOptions
from odoosync.simulator import Simulator
from odoosync.store.database import Store
from odoosync.store.schema import lead_activities, leads
from odoosync.streams.chatter import chatter_stream
from tests.fixtures.pull import core_streams, open_client

SCALE = 0.02
KIND_OF_TYPE = {
    "email": "email",
    "email_outgoing": "email",
    "notification": "system",
    "auto_comment": "system",
    "user_notification": "system",
}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(scale=SCALE, seed=3) as running:
        yield running


@pytest.fixture
def client(sim: Simulator) -> Iterator[OdooClient]:
    with open_client(sim) as opened:
        yield opened


@pytest.fixture
def engine(client: OdooClient, store: Store) -> PullEngine:
    """An engine on a database that already holds every lead (chatter runs after leads)."""
    pull = PullEngine(client, store)
    pull.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
    return pull


def sync(engine: PullEngine, mode: SyncMode = SyncMode.FULL, page_size: int | None = None, **options):
    stream = chatter_stream()
    if page_size is not None:  # the stream's own page size wins over the options'
        stream = dataclasses.replace(stream, page_size=page_size)
    return engine.run(stream, PullOptions(mode=mode, **options))


def odoo_messages(sim: Simulator) -> dict[int, dict]:
    """Every message on a lead, as Odoo holds it (superuser view)."""
    with sim.as_sync_user() as env:
        rows = env["mail.message"].search_read(
            [("model", "=", "crm.lead")],
            [
                "res_id",
                "message_type",
                "subtype_id",
                "author_id",
                "email_from",
                "body",
                "subject",
                "tracking_value_ids",
            ],
        )
    return {row["id"]: row for row in rows}


def tracked_labels(sim: Simulator, value_ids: list[int]) -> list[str]:
    """The labels of the fields these tracking values changed, in creation order."""
    with sim.env() as env:
        values = env["mail.tracking.value"].read(sorted(value_ids), ["field_id"])
        fields = env["ir.model.fields"].read([v["field_id"][0] for v in values], ["field_description"])
    return [f["field_description"] for f in fields]


def stored(store: Store) -> dict[int, dict]:
    """``odoo_message_id`` → the row, with the lead's Odoo id."""
    query = sa.select(lead_activities, leads.c.odoo_id.label("lead_odoo_id")).join(
        leads, leads.c.id == lead_activities.c.lead_id
    )
    with store.connect() as conn:
        return {row.odoo_message_id: row._asdict() for row in conn.execute(query)}


def snapshot(store: Store) -> set[tuple]:
    """The table's content without surrogate ids: what two equivalent runs must agree on."""
    return {
        (
            r["odoo_message_id"],
            r["lead_odoo_id"],
            r["activity_type"],
            r["title"],
            r["description"],
            r["created_by"],
            r["created_at"],
        )
        for r in stored(store).values()
    }


def test_every_lead_gets_exactly_the_messages_odoo_holds_mapped_as_c3_says(sim, engine, store):
    result = sync(engine)

    in_odoo = odoo_messages(sim)
    rows = stored(store)
    assert set(rows) == set(in_odoo)
    assert result.counters.inserted == len(in_odoo)
    with sim.env() as env:
        subtypes = {s["id"]: s for s in env["mail.message.subtype"].search_read([], ["name", "internal"])}
    for message_id, message in in_odoo.items():
        row = rows[message_id]
        assert row["lead_odoo_id"] == message["res_id"]
        subtype = subtypes.get(message["subtype_id"][0]) if message["subtype_id"] else None
        if message["message_type"] == "comment":
            expected = "note" if subtype and subtype["internal"] else "comment"
        else:
            expected = KIND_OF_TYPE[message["message_type"]]
        assert row["activity_type"] == expected
        author = message["author_id"][1] if message["author_id"] else message["email_from"]
        assert row["created_by"] == author
        assert row["title"] == (message["subject"] or row["title"])
        assert html_to_text(message["body"]) in (row["description"] or "")
        changes = [line for line in (row["description"] or "").split("\n") if " → " in line]
        assert [line.split(": ")[0] for line in changes] == tracked_labels(sim, message["tracking_value_ids"])
    kinds = Counter(row["activity_type"] for row in rows.values())
    assert set(kinds) == {"note", "comment", "email", "system"}


def test_leads_without_chatter_in_odoo_have_none(sim, engine, store):
    sync(engine)
    with sim.env() as env:
        every_lead = set(env["crm.lead"].search([("active", "in", [True, False])]))
    silent = every_lead - {m["res_id"] for m in odoo_messages(sim).values()}
    assert len(silent) == sim.counts.leads_without_messages
    assert silent.isdisjoint({row["lead_odoo_id"] for row in stored(store).values()})


def test_a_second_run_inserts_and_updates_nothing(engine, store):
    sync(engine)
    before = snapshot(store)
    for mode in (SyncMode.FULL, SyncMode.INCREMENTAL):
        again = sync(engine, mode)
        assert (again.counters.inserted, again.counters.updated, again.counters.deleted) == (0, 0, 0)
    assert snapshot(store) == before


def test_new_messages_and_tracking_arrive_incrementally(sim, engine, store):
    sync(engine)
    lead_id = next(iter(stored(store).values()))["lead_odoo_id"]
    with sim.env() as env:
        env["mail.message"].create(
            {
                "model": "crm.lead",
                "res_id": lead_id,
                "message_type": "comment",
                "subtype_id": env.ref("mail.mt_note"),
                "author_id": env.partner_id,
                "body": "<p>Called &amp; <b>agreed</b></p><ul><li>price</li></ul><script>x()</script>",
            }
        )
        env["crm.lead"].write([lead_id], {"expected_revenue": 2500.0})
    sim.clock.advance(2)
    result = sync(engine, SyncMode.INCREMENTAL)
    assert result.counters.inserted == 2
    rows = [r for r in stored(store).values() if r["lead_odoo_id"] == lead_id]
    assert ("note", "Internal note", "Called & agreed\n- price") in {
        (r["activity_type"], r["title"], r["description"]) for r in rows
    }
    descriptions = {r["description"] for r in rows}
    assert any(d and d.startswith("Expected Revenue: ") and d.endswith("→ 2,500") for d in descriptions)


def test_one_lead_mode_touches_only_that_lead(sim, engine, store):
    lead_id = max(m["res_id"] for m in odoo_messages(sim).values())
    sync(engine, odoo_id=lead_id)
    rows = stored(store)
    assert rows
    assert {row["lead_odoo_id"] for row in rows.values()} == {lead_id}
    assert set(rows) == {i for i, m in odoo_messages(sim).items() if m["res_id"] == lead_id}


def test_missing_mode_touches_only_leads_without_history(sim, engine, store):
    sync(engine)
    rows = stored(store)
    by_lead: dict[int, list[int]] = {}
    for message_id, row in rows.items():
        by_lead.setdefault(row["lead_odoo_id"], []).append(message_id)
    emptied, trimmed = [lead for lead, ids in by_lead.items() if len(ids) > 1][:2]
    with store.transaction() as conn:
        conn.execute(sa.delete(lead_activities).where(lead_activities.c.odoo_message_id.in_(by_lead[emptied])))
        conn.execute(sa.delete(lead_activities).where(lead_activities.c.odoo_message_id == by_lead[trimmed][0]))

    result = sync(engine, SyncMode.MISSING)

    after = stored(store)
    assert result.counters.inserted == len(by_lead[emptied])
    assert set(by_lead[emptied]) <= set(after)
    assert by_lead[trimmed][0] not in after  # the lead had history: missing mode leaves it alone
    unchanged = {i: r["id"] for i, r in rows.items() if r["lead_odoo_id"] not in (emptied, trimmed)}
    assert {i: after[i]["id"] for i in unchanged} == unchanged


def test_missing_mode_after_a_full_run_requests_no_message_bodies(sim, engine, store):
    sync(engine)
    sim.request_log.clear()
    result = sync(engine, SyncMode.MISSING)
    assert result.counters.inserted == 0
    assert sim.request_log.count("search_read", "mail.message") == 0
    assert sim.request_log.count("read", "mail.message") == 0


def test_messages_deleted_in_odoo_and_of_deleted_leads_are_reconciled(sim, engine, store):
    sync(engine)
    rows = stored(store)
    leads_with_chatter = sorted({r["lead_odoo_id"] for r in rows.values()})
    gone_lead = leads_with_chatter[0]
    gone_message = next(i for i, r in rows.items() if r["lead_odoo_id"] == leads_with_chatter[1])
    with sim.env() as env:
        env["crm.lead"].unlink([gone_lead])
        env["mail.message"].unlink([gone_message])

    result = sync(engine, SyncMode.INCREMENTAL)

    after = stored(store)
    assert set(after) == set(odoo_messages(sim))
    assert gone_message not in after
    assert gone_lead not in {r["lead_odoo_id"] for r in after.values()}
    assert result.counters.deleted == sum(1 for r in rows.values() if r["lead_odoo_id"] == gone_lead) + 1


def test_app_rows_without_an_odoo_id_are_never_touched(sim, engine, store):
    sync(engine)
    with store.connect() as conn:
        lead_pk = conn.execute(sa.select(leads.c.id).limit(1)).scalar_one()
    with store.transaction() as conn:
        conn.execute(sa.insert(lead_activities).values(lead_id=lead_pk, activity_type="note", title="App note"))
    sync(engine, SyncMode.FULL)
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).where(lead_activities.c.title == "App note")).scalar_one() == 1


@pytest.mark.parametrize("killed_at", [2, 5])
def test_a_run_killed_midway_resumes_to_the_state_of_a_clean_run(killed_at, store):
    spec = f"mail.message.search_read#{killed_at}:500"
    with Simulator(scale=SCALE, seed=3, faults=spec) as faulty, open_client(faulty, max_attempts=1) as client:
        engine = PullEngine(client, store)
        engine.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
        with pytest.raises(OdooError):
            sync(engine, page_size=40)
        partial = snapshot(store)
        sync(engine, page_size=40)
        resumed = snapshot(store)
        assert len(partial) < len(resumed)
        assert {row[0] for row in resumed} == set(odoo_messages(faulty))
        with store.transaction() as conn:
            conn.execute(sa.delete(lead_activities))
        sync(engine, SyncMode.FULL, page_size=40)
        assert snapshot(store) == resumed
