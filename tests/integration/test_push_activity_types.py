"""The push maps an app activity kind to an Odoo activity type with the pull's map,
configured ``activity_types`` included (over HTTP to the simulator, SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.pull import PullOptions
from odoosync.push import outbox
from odoosync.push.engine import PushEngine
from odoosync.push.worker import run_once
from odoosync.service.operations import run_sync
from odoosync.store.sync_config import config_set
from tests.integration.test_push import Clock, _client


def _pull(client, store) -> None:
    run_sync(client, store, "all", PullOptions(mode=SyncMode.FULL, overlap=dt.timedelta(seconds=300), page_size=500))


def _push_a_call(store, client) -> tuple[int, int | None, str | None]:
    with store.transaction() as conn:
        lead_id = conn.execute(
            sa.text("SELECT id FROM leads WHERE odoo_id IS NOT NULL ORDER BY id LIMIT 1")
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO scheduled_activities (lead_id, activity_type, summary) VALUES (:l, 'call', 'Ring them')"
            ),
            {"l": lead_id},
        )
    result = run_once(PushEngine(store, client, clock=Clock(), policies={}))
    with store.connect() as conn:
        activity_id = conn.execute(
            sa.text("SELECT odoo_activity_id FROM scheduled_activities WHERE summary = 'Ring them'")
        ).scalar_one()
    items = outbox.list_items(store, model="mail.activity")
    return result.failed, activity_id, max(items, key=lambda item: item.id).last_error


def test_a_configured_type_is_used_when_odoo_has_no_default_call_type(store, simulator) -> None:
    """Odoo's "Call" type is archived and renamed (a German database, say): without the
    configuration the push cannot place a call; with ``{"Telefonat": "call"}`` it uses that type."""
    with simulator.env() as env:
        [call] = env["mail.activity.type"].search([("name", "=", "Call")])
        env["mail.activity.type"].write([call], {"active": False, "name": "Anruf (alt)"})
        env["ir.model.data"].unlink(
            env["ir.model.data"].search([("model", "=", "mail.activity.type"), ("res_id", "=", call)])
        )
        telefonat = env["mail.activity.type"].create({"name": "Telefonat", "category": "default"})
    with _client(simulator) as client:
        _pull(client, store)
        failed, activity_id, error = _push_a_call(store, client)
        assert failed == 1 and activity_id is None
        assert "no activity type of that kind" in (error or "")

        config_set(store, "odoo_to_sb:mail.activity", {"activity_types": {"Telefonat": "call"}})
        with store.transaction() as conn:
            conn.execute(sa.text("DELETE FROM scheduled_activities WHERE summary = 'Ring them'"))
        failed, activity_id, error = _push_a_call(store, client)
        assert failed == 0 and activity_id is not None
        [activity] = client.read("mail.activity", [activity_id], ["activity_type_id"])
        assert activity["activity_type_id"][0] == telefonat
