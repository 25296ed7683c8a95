"""After ``odoosync demo`` every simulator lead has exactly its Odoo chatter and
activities, and the 384-style silent leads have none (issue 4, "done when")."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from odoosync.demo.run import DemoContext, run_demo, sync_everything
from odoosync.store.schema import lead_activities, leads, scheduled_activities


def test_the_demo_imports_every_leads_history_exactly(tmp_path: Path) -> None:
    seen: dict[str, dict[int, set[int]]] = {}

    def compare(ctx: DemoContext) -> list:
        with ctx.simulator.as_sync_user() as env:
            lead_ids = env["crm.lead"].search([])
            messages = env["mail.message"].search_read([("model", "=", "crm.lead")], ["res_id"])
            activities = env["mail.activity"].search_read([("res_model", "=", "crm.lead")], ["res_id"])
        seen["odoo_messages"] = {lead: set() for lead in lead_ids}
        seen["odoo_activities"] = {lead: set() for lead in lead_ids}
        for m in messages:
            seen["odoo_messages"][m["res_id"]].add(m["id"])
        for a in activities:
            seen["odoo_activities"][a["res_id"]].add(a["id"])
        with ctx.store.connect() as conn:
            for name, table, column in (
                ("db_messages", lead_activities, "odoo_message_id"),
                ("db_activities", scheduled_activities, "odoo_activity_id"),
            ):
                query = sa.select(leads.c.odoo_id, table.c[column]).join(leads, leads.c.id == table.c.lead_id)
                seen[name] = {lead: set() for lead in lead_ids}
                for lead, odoo_id in conn.execute(query):
                    seen[name][lead].add(odoo_id)
        return []

    report = run_demo(tmp_path / "demo.db", scale=0.02, steps=[sync_everything, compare])

    assert seen["db_messages"] == seen["odoo_messages"]
    assert seen["db_activities"] == seen["odoo_activities"]
    silent = [lead for lead, ids in seen["odoo_messages"].items() if not ids]
    assert silent and all(not seen["db_messages"][lead] for lead in silent)
    assert report.history["messages_in_database"] == report.history["messages_in_odoo"]
    assert report.history["activities_in_database"] == report.history["activities_in_odoo"]
    chatter_rows = [r for r in report.rows if r.stream == "chatter"]
    assert [r.step for r in chatter_rows] == ["first sync", "second sync"]
    assert chatter_rows[1].inserted == chatter_rows[1].updated == 0
