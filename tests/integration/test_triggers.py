"""Outbox triggers on both databases: what an app's plain SQL queues, and what it does not."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads, odoo_outbox, odoo_partners, scheduled_activities


def _outbox(store: Store) -> list[dict]:
    with store.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(odoo_outbox).order_by(odoo_outbox.c.id))]


def _insert_lead(store: Store, **values) -> int:
    with store.transaction() as conn:
        return conn.execute(sa.insert(leads).values(**values).returning(leads.c.id)).scalar_one()


def test_a_lead_with_only_a_title_queues_one_create(store: Store) -> None:
    with store.transaction() as conn:
        conn.exec_driver_sql("INSERT INTO leads (title) VALUES ('Only a title')")
    [item] = _outbox(store)
    assert (item["model"], item["operation"], item["local_table"], item["status"]) == (
        "crm.lead",
        "create",
        "leads",
        "queued",
    )
    assert item["payload"]["values"]["title"] == "Only a title"
    assert item["payload"]["values"]["status"] == "open"
    assert item["payload"]["values"]["tags"] == []
    assert len(item["payload"]["xid"]) == 32
    assert item["odoo_id"] is None and item["attempts"] == 0


def test_update_queues_changed_columns_with_old_values(store: Store) -> None:
    lead_id = _insert_lead(store, title="A", stage="New", odoo_id=7)
    assert _outbox(store) == []  # a row that already has an Odoo id is Odoo's own
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(stage="Won", tags=["x"]))
    [item] = _outbox(store)
    assert (item["operation"], item["local_id"], item["odoo_id"]) == ("write", lead_id, 7)
    assert item["payload"] == {"values": {"stage": "Won", "tags": ["x"]}, "old": {"stage": "New", "tags": []}}


def test_unpushed_columns_and_no_op_updates_queue_nothing(store: Store) -> None:
    lead_id = _insert_lead(store, title="A", odoo_id=7)
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(title="A", odoo_write_date=sa.func.now()))
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(sla_escalated_at=sa.func.now()))
    assert _outbox(store) == []


def test_delete_queues_unlink_with_the_old_row(store: Store) -> None:
    lead_id = _insert_lead(store, title="Gone", odoo_id=9)
    with store.transaction() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead_id))
    [item] = _outbox(store)
    assert (item["operation"], item["odoo_id"], item["local_id"]) == ("unlink", 9, lead_id)
    assert item["payload"]["old"]["title"] == "Gone"


def test_pull_origin_queues_nothing_and_rolls_back_with_the_change(store: Store) -> None:
    with store.transaction(origin="pull") as conn:
        lead_id = conn.execute(sa.insert(leads).values(title="From Odoo").returning(leads.c.id)).scalar_one()
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(stage="Won"))
        conn.execute(sa.insert(lead_activities).values(lead_id=lead_id, activity_type="note", description="x"))
    assert _outbox(store) == []
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(stage="Lost"))
            raise RuntimeError("app rolls back")
    assert _outbox(store) == []
    with store.transaction() as conn:  # after a guarded transaction, app writes queue again
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(stage="Lost"))
    assert [i["operation"] for i in _outbox(store)] == ["write"]


def test_notes_activities_and_partners_queue_their_models(store: Store) -> None:
    lead_id = _insert_lead(store, title="L", odoo_id=3)
    with store.transaction() as conn:
        conn.execute(sa.insert(lead_activities).values(lead_id=lead_id, activity_type="note", description="Hello"))
        act = conn.execute(
            sa.insert(scheduled_activities).values(lead_id=lead_id, summary="Call").returning(scheduled_activities.c.id)
        ).scalar_one()
        conn.execute(sa.update(scheduled_activities).where(scheduled_activities.c.id == act).values(status="done"))
        conn.execute(sa.insert(odoo_partners).values(odoo_id=-1, name="New Co", is_company=True))
        conn.execute(sa.insert(odoo_partners).values(odoo_id=44, name="Pulled Co"))
    items = _outbox(store)
    assert [(i["model"], i["operation"]) for i in items] == [
        ("mail.message", "create"),
        ("mail.activity", "create"),
        ("mail.activity", "write"),
        ("res.partner", "create"),
    ]
    assert items[1]["payload"]["values"]["status"] == "planned"
    assert items[2]["payload"] == {"values": {"status": "done"}, "old": {"status": "planned"}}
    assert items[3]["local_id"] == -1


def test_cascaded_deletes_of_notes_and_activities_queue_nothing(store: Store) -> None:
    lead_id = _insert_lead(store, title="Parent", odoo_id=5)
    with store.transaction(origin="pull") as conn:
        conn.execute(sa.insert(lead_activities).values(lead_id=lead_id, activity_type="note", odoo_message_id=51))
        conn.execute(sa.insert(scheduled_activities).values(lead_id=lead_id, odoo_activity_id=61))
        other = conn.execute(
            sa.insert(lead_activities)
            .values(lead_id=lead_id, activity_type="note", odoo_message_id=52)
            .returning(lead_activities.c.id)
        ).scalar_one()
    with store.transaction() as conn:
        conn.execute(sa.delete(lead_activities).where(lead_activities.c.id == other))  # the app deletes one note
    with store.transaction() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead_id))  # the rest goes with the lead
    assert [(i["model"], i["operation"], i["odoo_id"]) for i in _outbox(store)] == [
        ("mail.message", "unlink", 52),
        ("crm.lead", "unlink", 5),
    ]
