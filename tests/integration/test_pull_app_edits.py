"""The pull against what the app did to leads it shares with Odoo, end to end with the
simulator and the real push engine, on SQLite and PostgreSQL:

* a lead the app deleted (``DELETE`` or ``deleted_at``) is archived in Odoo by the push
  and stays deleted in the app through later pulls, until Odoo restores it;
* a sheet lead pushed to Odoo keeps its sheet data when Odoo's edits come back.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.push.engine import PushEngine
from odoosync.push.worker import run_once
from odoosync.service.operations import SyncReport
from odoosync.sheets.engine import SheetSync
from odoosync.sheets.fetch import SheetFetcher
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_outbox
from tests.fixtures.pull import odoo_leads, pull


def _lead_writes(report: SyncReport) -> tuple[int, int, int]:
    counters = next(r.counters for r in report.results if r.stream == "leads")
    return counters.inserted, counters.updated, counters.deleted


def _waiting_items(store: Store) -> int:
    with store.connect() as conn:
        return conn.execute(
            sa.select(sa.func.count()).select_from(odoo_outbox).where(odoo_outbox.c.status != "done")
        ).scalar_one()


def _row(store: Store, odoo_id: int) -> dict[str, Any] | None:
    with store.connect() as conn:
        row = conn.execute(sa.select(leads).where(leads.c.odoo_id == odoo_id)).mappings().first()
    return dict(row) if row is not None else None


def _open_lead(store: Store) -> tuple[int, int]:
    with store.connect() as conn:
        return tuple(
            conn.execute(
                sa.select(leads.c.id, leads.c.odoo_id)
                .where(leads.c.status == "open", leads.c.deleted_at.is_(None), leads.c.odoo_id.is_not(None))
                .order_by(leads.c.odoo_id)
                .limit(1)
            ).one()
        )


@pytest.mark.parametrize("deletion", ["hard", "soft"])
def test_a_lead_deleted_in_the_app_stays_deleted_until_odoo_restores_it(
    store: Store, simulator: Simulator, sim_client: OdooClient, deletion: str
) -> None:
    pull(sim_client, store, mode=SyncMode.FULL)
    lead_id, odoo_id = _open_lead(store)
    with store.transaction() as conn:  # the app's own SQL: the triggers queue the deletion
        if deletion == "hard":
            conn.execute(sa.delete(leads).where(leads.c.id == lead_id))
        else:
            conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(deleted_at=sa.func.now()))

    pushed = run_once(PushEngine(store, sim_client))
    assert (pushed.failed, pushed.done) == (0, 1)
    assert odoo_leads(simulator)[odoo_id]["active"] is False  # on_delete: archive

    def assert_still_deleted() -> None:
        row = _row(store, odoo_id)
        if deletion == "hard":
            assert row is None
        else:
            assert row is not None and row["deleted_at"] is not None
        assert _waiting_items(store) == 0

    for mode in (SyncMode.INCREMENTAL, SyncMode.FULL, SyncMode.INCREMENTAL):
        report = pull(sim_client, store, mode=mode)
        assert _lead_writes(report) == (0, 0, 0)
        assert_still_deleted()
        assert run_once(PushEngine(store, sim_client)).claimed == 0
    assert_still_deleted()

    # Odoo-side deletes still reconcile to deleted_at (C2).
    with store.connect() as conn:
        other = conn.execute(
            sa.select(leads.c.odoo_id)
            .where(leads.c.deleted_at.is_(None), leads.c.odoo_id != odoo_id)
            .order_by(leads.c.odoo_id.desc())
            .limit(1)
        ).scalar_one()
    with simulator.env() as env:
        env["crm.lead"].unlink([other])
    pull(sim_client, store)
    assert _row(store, other)["deleted_at"] is not None

    # Restored (unarchived) in Odoo after the deletion was pushed: the lead comes back.
    with simulator.env({"active_test": False}) as env:
        env["crm.lead"].write([odoo_id], {"active": True})
    report = pull(sim_client, store)
    assert _lead_writes(report)[:2] == ((1, 0) if deletion == "hard" else (0, 1))
    row = _row(store, odoo_id)
    assert row is not None and row["deleted_at"] is None and row["status"] == "open"
    assert _waiting_items(store) == 0
    assert run_once(PushEngine(store, sim_client)).claimed == 0
    assert _lead_writes(pull(sim_client, store)) == (0, 0, 0)


def test_a_soft_deletion_waiting_in_the_outbox_is_not_undone_by_a_pull(
    store: Store, simulator: Simulator, sim_client: OdooClient
) -> None:
    """Odoo edits the lead between the app's deletion and its push: the pull keeps the
    deletion, the push then archives the lead, and it stays deleted."""
    pull(sim_client, store, mode=SyncMode.FULL)
    lead_id, odoo_id = _open_lead(store)
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead_id).values(deleted_at=sa.func.now()))
    with simulator.env() as env:
        env["crm.lead"].write([odoo_id], {"name": "Edited in Odoo meanwhile"})
    pull(sim_client, store)
    assert _row(store, odoo_id)["deleted_at"] is not None
    assert run_once(PushEngine(store, sim_client)).failed == 0
    assert odoo_leads(simulator)[odoo_id]["active"] is False
    assert _lead_writes(pull(sim_client, store)) == (0, 0, 0)
    assert _row(store, odoo_id)["deleted_at"] is not None
    assert _waiting_items(store) == 0


@pytest.mark.parametrize("mode", [SyncMode.FULL, SyncMode.MISSING, SyncMode.INCREMENTAL])
def test_a_hard_deletion_waiting_in_the_outbox_is_not_undone_by_a_pull(
    store: Store, simulator: Simulator, sim_client: OdooClient, mode: SyncMode
) -> None:
    """The app deletes a lead with DELETE and a pull (full, missing or incremental, with
    the lead edited in Odoo meanwhile) runs before the push: the lead is not inserted
    again; the push then archives it in Odoo, and it stays gone."""
    pull(sim_client, store, mode=SyncMode.FULL)
    lead_id, odoo_id = _open_lead(store)
    with store.transaction() as conn:
        conn.execute(sa.delete(leads).where(leads.c.id == lead_id))
    with simulator.env() as env:
        env["crm.lead"].write([odoo_id], {"name": "Edited in Odoo meanwhile"})
    assert _lead_writes(pull(sim_client, store, mode=mode))[:2] == (0, 0)
    assert _row(store, odoo_id) is None
    assert _waiting_items(store) == 1
    assert run_once(PushEngine(store, sim_client)).failed == 0
    assert odoo_leads(simulator)[odoo_id]["active"] is False
    assert _lead_writes(pull(sim_client, store, mode=mode)) == (0, 0, 0)
    assert _row(store, odoo_id) is None
    assert _waiting_items(store) == 0


HEADER = ["Ref", "Company", "Email", "Amount"]


def test_odoo_edits_of_a_pushed_sheet_lead_keep_its_sheet_data(
    store: Store, simulator: Simulator, sim_client: OdooClient, sheet_server
) -> None:
    pull(sim_client, store)
    rows = [[f"R{i}", f"Sheet company {i}", f"s{i}@example.com", str(i * 100)] for i in range(1, 4)]
    url = sheet_server.serve_rows("/leads.csv", HEADER, rows)
    with SheetFetcher(allow_private=True) as fetcher:
        sheets = SheetSync(store, fetcher)
        state, _ = sheets.add("acme", url, key_column="Ref", push_to_odoo=True)
        assert sheets.sync(state.customer_id).inserted == 3
        assert run_once(PushEngine(store, sim_client)).failed == 0

        def sheet_leads() -> dict[int, dict[str, Any]]:
            with store.connect() as conn:
                return {
                    r["odoo_id"]: dict(r)
                    for r in conn.execute(sa.select(leads).where(leads.c.source == "sheet")).mappings()
                }

        before = sheet_leads()
        assert len(before) == 3 and all(i is not None for i in before)
        edited = min(before)
        simulator.clock.advance(2)  # a later second than the push's create (write_date precision)
        with simulator.env() as env:
            env["crm.lead"].write([edited], {"name": "Renamed in Odoo", "partner_id": False, "partner_name": False})

        # Decided on values, not write_date: the first pull after the push completes the
        # three rows with what Odoo filled in (priority, metadata) and the rename; the
        # sheet's own data stays (below), and a second pull writes nothing.
        report = pull(sim_client, store)
        assert _lead_writes(report)[:2] == (0, 3)
        assert _lead_writes(pull(sim_client, store))[:2] == (0, 0)
        after = sheet_leads()
        assert after[edited]["title"] == "Renamed in Odoo"
        for odoo_id, row in after.items():
            old = before[odoo_id]
            assert row["metadata"]["sheet"] == old["metadata"]["sheet"]
            assert (row["customer_id"], row["source"], row["source_email_id"]) == (
                state.customer_id,
                "sheet",
                old["source_email_id"],
            )
        assert _waiting_items(store) == 0

        # The sheet did not change; sync it as if it had (checksum and ETag forgotten):
        # every digest still matches, so nothing is rewritten and nothing goes to Odoo.
        with store.transaction() as conn:
            conn.execute(sa.text("UPDATE lead_sync_states SET checksum = NULL, etag = NULL"))
        again = sheets.sync(state.customer_id)
        assert (again.inserted, again.updated, again.deleted) == (0, 0, 0)
        assert _waiting_items(store) == 0
        assert run_once(PushEngine(store, sim_client)).claimed == 0
        assert sheet_leads()[edited]["title"] == "Renamed in Odoo"
