"""Odoo's own "Send Webhook Notification" automation rule (Odoo 17+, ``base_automation``)
calls the service's ``POST /api/webhooks/odoo``, and an edit made in Odoo lands in the
database within seconds, without any scheduled run. The rule is installed in the
throwaway database by the test (and removed afterwards)."""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.pull import PullOptions
from odoosync.service.events import EventBus
from odoosync.service.jobs import Jobs
from odoosync.service.operations import run_sync
from odoosync.store import Store
from odoosync.store.schema import leads
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens
from tests.fixtures.service import running_api
from tests.real_odoo.loader import CrmData

pytestmark = [pytest.mark.real_odoo, pytest.mark.xdist_group("real_odoo")]

SECRET = "whk-" + uuid.uuid4().hex[:12]


def _webhook_rule(odoo: OdooClient, url: str) -> int | None:
    """A "Send Webhook Notification" rule on crm.lead (On save, ``write_date`` sent); None
    where the server has no such action (before Odoo 17)."""
    module = odoo.search_read("ir.module.module", [("name", "=", "base_automation")], ["state"])
    if not module:
        return None
    if module[0]["state"] != "installed":
        odoo.call("ir.module.module", "button_immediate_install", [module[0]["id"]])
    states = [key for key, _ in odoo.fields_get("ir.actions.server", ["selection"])["state"]["selection"]]
    if "webhook" not in states:
        return None
    (model,) = odoo.search("ir.model", [("model", "=", "crm.lead")])
    fields = odoo.search("ir.model.fields", [("model", "=", "crm.lead"), ("name", "=", "write_date")])
    rule = odoo.create(
        "base.automation", {"name": "odoosync test webhook", "model_id": model, "trigger": "on_create_or_write"}
    )
    odoo.create(
        "ir.actions.server",
        {
            "name": "odoosync test webhook",
            "model_id": model,
            "state": "webhook",
            "webhook_url": url,
            "webhook_field_ids": [(6, 0, fields)],
            "base_automation_id": rule,
            "usage": "base_automation",
        },
    )
    return int(rule)


def test_an_odoo_edit_arrives_by_webhook_within_seconds(odoo: OdooClient, crm: CrmData, real_store: Store) -> None:
    run_sync(odoo, real_store, "leads", PullOptions())
    events = EventBus()
    jobs = Jobs(real_store, odoo, events=events)
    context = WebContext(
        store=real_store, tokens=Tokens(admin="a" * 32, read="r" * 32), events=events, jobs=jobs, webhook_secret=SECRET
    )
    app = create_app(context)
    with running_api(context, app) as server:
        rule = _webhook_rule(odoo, f"{server.url}/api/webhooks/odoo?token={SECRET}")
        if rule is None:
            pytest.skip("this Odoo has no Send Webhook Notification action (Odoo 17+)")
        try:
            lead = crm.lead_ids[10]
            title = f"ORT lead renamed by webhook {uuid.uuid4().hex[:6]}"
            started = time.monotonic()
            odoo.write("crm.lead", [lead], {"name": title})
            while time.monotonic() - started < 30:
                with real_store.connect() as conn:
                    if conn.execute(sa.select(leads.c.title).where(leads.c.odoo_id == lead)).scalar() == title:
                        break
                time.sleep(0.2)
            else:
                pytest.fail("the edit did not arrive by webhook within 30 s")
        finally:
            odoo.unlink("base.automation", [rule])
            jobs.stop()
            queue = getattr(app.state, "webhook_queue", None)
            if queue is not None:
                queue.stop()  # its pull in flight ends before the suite closes the store
            jobs.join(30)
