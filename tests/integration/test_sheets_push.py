"""``push_to_odoo`` round trip: sheet leads → outbox → the push engine → the simulator's
``crm.lead`` → the next pull, with exactly one Odoo lead and one app lead per row."""

from __future__ import annotations

import sqlalchemy as sa

from odoosync.push.engine import PushEngine
from odoosync.push.worker import run_once
from odoosync.sheets.engine import SheetSync
from odoosync.sheets.fetch import SheetFetcher
from odoosync.store.schema import leads, odoo_outbox
from tests.fixtures.pull import odoo_leads, pull

HEADER = ["Ref", "Company", "Email", "Amount"]


def test_pushed_sheet_leads_reach_odoo_once_and_a_pull_does_not_duplicate_them(
    store, simulator, sim_client, sheet_server
):
    pull(sim_client, store)  # the app already mirrors Odoo
    odoo_before = set(odoo_leads(simulator))
    with store.connect() as conn:
        app_before = conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()

    rows = [[f"R{i}", f"Sheet company {i}", f"s{i}@example.com", str(i * 100)] for i in range(1, 4)]
    url = sheet_server.serve_rows("/leads.csv", HEADER, rows)
    with SheetFetcher(allow_private=True) as fetcher:
        sheets = SheetSync(store, fetcher)
        state, _ = sheets.add("acme", url, key_column="Ref", push_to_odoo=True)
        assert sheets.sync(state.customer_id).inserted == 3

        pushed = run_once(PushEngine(store, sim_client))
        assert pushed.failed == 0

        created = {i: r for i, r in odoo_leads(simulator).items() if i not in odoo_before}
        assert sorted(r["name"] for r in created.values()) == [f"Sheet company {i}" for i in range(1, 4)]
        with store.connect() as conn:
            bound = dict(
                conn.execute(sa.select(leads.c.source_email_id, leads.c.odoo_id).where(leads.c.source == "sheet")).all()
            )
        assert set(bound.values()) == set(created)
        assert all(sid.startswith(f"sheet_{state.customer_id}_") for sid in bound)

        pull(sim_client, store)
        with store.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one() == app_before + 3
            outbox_left = conn.execute(
                sa.select(sa.func.count()).select_from(odoo_outbox).where(odoo_outbox.c.status != "done")
            ).scalar_one()
        assert outbox_left == 0
        assert len(odoo_leads(simulator)) == len(odoo_before) + 3

        rows[1][3] = "250"  # one cell edited in the sheet after the round trip
        sheet_server.serve_rows("/leads.csv", HEADER, rows)
        again = sheets.sync(state.customer_id)
        assert (again.inserted, again.updated, again.deleted) == (0, 1, 0)  # the pull kept the sheet's digests
        assert run_once(PushEngine(store, sim_client)).failed == 0
        after = odoo_leads(simulator)
        assert len(after) == len(odoo_before) + 3
        edited = next(r for i, r in after.items() if i in created and r["name"] == "Sheet company 2")
        assert edited["expected_revenue"] == 250
