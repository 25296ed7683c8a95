"""One record the database refuses must not stop its stream: it is quarantined in
``ops.odoo_sync_rejects``, retried every run, and released once it passes (SQLite and
PostgreSQL, the simulator over HTTP)."""

from __future__ import annotations

import sqlalchemy as sa

from odoosync.models import RunStatus, SyncMode
from odoosync.pull import rejects
from odoosync.store.schema import leads, odoo_sync_rejects, odoo_sync_runs
from tests.fixtures.pull import open_client, pull


def _leads_result(report):
    return next(r for r in report.results if r.stream == "leads")


def test_a_refused_lead_is_quarantined_the_rest_lands_and_it_is_released_once_fixed(make_simulator, store) -> None:
    sim = make_simulator(scale=0.05, seed=6)
    with sim.env() as env:
        poison, big, *_ = env["crm.lead"].search([], order="id", limit=3)
        env["crm.lead"].write([poison], {"expected_revenue": 1e30})  # legal in Odoo, beyond any money column
        env["crm.lead"].write([big], {"expected_revenue": 1e17})  # overflowed NUMERIC(16, 2) before
    with open_client(sim) as client:
        first = _leads_result(pull(client, store, mode=SyncMode.FULL))
        assert first.status == RunStatus.OK and first.counters.rejected == 1
        with store.connect() as conn:
            stored = set(conn.execute(sa.select(leads.c.odoo_id)).scalars())
            value = conn.execute(sa.select(leads.c.value).where(leads.c.odoo_id == big)).scalar_one()
            logged = conn.execute(
                sa.select(odoo_sync_runs.c.rejected).where(odoo_sync_runs.c.id == first.run_id)
            ).scalar_one()
        with sim.as_sync_user() as env:
            assert stored == set(env["crm.lead"].search([])) - {poison}, "every other lead landed"
        assert float(value) == 1e17 and logged == 1
        [quarantined] = rejects.list_rejects(store, stream="leads")
        assert quarantined["odoo_id"] == poison and quarantined["attempts"] == 1 and quarantined["error"]
        assert rejects.counts(store) == {"leads": 1}

        again = _leads_result(pull(client, store))
        assert again.status == RunStatus.OK and again.counters.rejected == 1
        assert rejects.list_rejects(store, stream="leads")[0]["attempts"] == 2, "retried every run"

        with sim.env() as env:
            env["crm.lead"].write([poison], {"expected_revenue": 5000})
        fixed = _leads_result(pull(client, store))
        assert fixed.counters.rejected == 0 and rejects.counts(store) == {}
        with store.connect() as conn:
            assert float(conn.execute(sa.select(leads.c.value).where(leads.c.odoo_id == poison)).scalar_one()) == 5000
            assert conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_rejects)).scalar_one() == 0


def test_a_quarantined_record_odoo_deleted_leaves_the_quarantine(make_simulator, store) -> None:
    sim = make_simulator(scale=0.02, seed=6)
    with sim.env() as env:
        poison = env["crm.lead"].search([], order="id", limit=1)[0]
        env["crm.lead"].write([poison], {"expected_revenue": 1e30})
    with open_client(sim) as client:
        assert _leads_result(pull(client, store, mode=SyncMode.FULL)).counters.rejected == 1
        with sim.env() as env:
            env["crm.lead"].unlink([poison])
        assert _leads_result(pull(client, store)).counters.rejected == 0
        assert rejects.counts(store) == {}


def test_quarantined_records_show_in_the_api_status_and_metrics(service, store, simulator) -> None:
    from prometheus_client.parser import text_string_to_metric_families

    from odoosync.pull import PullOptions
    from odoosync.service.operations import run_sync
    from tests.fixtures.service import READ_TOKEN

    with simulator.env() as env:  # the service's client reads the user's main company
        poison = env["crm.lead"].search([("company_id", "=", 1)], order="id", limit=1)[0]
        env["crm.lead"].write([poison], {"expected_revenue": 1e30})
    run_sync(service.context.jobs.client, store, "all", PullOptions(mode=SyncMode.FULL))
    reader = service.client(READ_TOKEN)
    listed = reader.get("/api/rejects").json()
    assert listed["counts"] == {"leads": 1} and listed["rejects"][0]["odoo_id"] == poison
    assert "cannot hold" in listed["rejects"][0]["error"]
    status = {s["stream"]: s for s in reader.get("/api/status").json()["streams"]}
    assert status["leads"]["quarantined"] == 1 and status["partners"]["quarantined"] == 0
    families = {f.name: f for f in text_string_to_metric_families(reader.get("/metrics").text)}
    assert [(s.labels["stream"], s.value) for s in families["odoosync_quarantined_records"].samples] == [("leads", 1.0)]
