"""The demo's app-side edits, made with plain SQL as an app would (a new lead, a stage
move, a note), and the push that sends them to Odoo."""

from __future__ import annotations

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.push.engine import PushEngine
from odoosync.push.result import PushResult
from odoosync.store import Store

__all__ = ["demo_edits", "demo_push"]


def demo_edits(store: Store) -> dict[str, int]:
    """A new lead, a stage move and a note on an existing lead; the rows touched."""
    with store.transaction() as conn:
        target = conn.execute(
            sa.text(
                "SELECT id FROM leads WHERE odoo_id IS NOT NULL AND deleted_at IS NULL AND status = 'open' "
                "ORDER BY id LIMIT 1"
            )
        ).scalar()
        stage = conn.execute(
            sa.text(
                "SELECT name FROM odoo_stages WHERE is_won = false AND deleted_at IS NULL ORDER BY sequence DESC, odoo_id LIMIT 1"
            )
        ).scalar()
        new_lead = conn.execute(
            sa.text(
                "INSERT INTO leads (title, email) VALUES ('Demo lead from the app', 'demo@example.com') RETURNING id"
            )
        ).scalar_one()
        touched = {"new_lead": int(new_lead)}
        if target is not None:
            if stage is not None:
                conn.execute(sa.text("UPDATE leads SET stage = :stage WHERE id = :id"), {"stage": stage, "id": target})
                touched["stage_moved"] = int(target)
            conn.execute(
                sa.text(
                    "INSERT INTO lead_activities (lead_id, activity_type, title, description) "
                    "VALUES (:id, 'note', 'Note', 'Called the customer from the app.')"
                ),
                {"id": target},
            )
            touched["noted"] = int(target)
    return touched


def demo_push(store: Store, client: OdooClient) -> PushResult:
    """The demo's push step: :func:`demo_edits`, then push everything queued."""
    demo_edits(store)
    return PushEngine(store, client, backend=client.config.name).push_all()
