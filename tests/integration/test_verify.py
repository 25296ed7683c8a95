"""``odoosync verify``: Odoo's complete id sets and stamps against the database, drift
reported per kind, ``--repair`` syncing exactly the drifting records (simulator over HTTP,
SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.pull import PullOptions
from odoosync.pull.verify import latest_drift
from odoosync.service.operations import run_sync, run_verify
from odoosync.store.schema import lead_activities, leads, odoo_partners, scheduled_activities
from tests.acceptance.test_cli_sync import cli_env, odoosync_here
from tests.fixtures.pull import open_client


def _drift(report) -> dict[str, tuple[int, int, int]]:
    return {d.stream: (len(d.missing), len(d.extra), len(d.stale)) for d in report.found if d.drift}


def test_a_clean_sync_verifies_with_no_drift_and_each_kind_of_drift_is_found_and_repaired(
    make_simulator, store
) -> None:
    sim = make_simulator(scale=0.05, seed=3)
    with open_client(sim) as client:
        run_sync(client, store, "all", PullOptions(mode=SyncMode.FULL))
        clean = run_verify(client, store, "all")
        assert clean.drift == 0, _drift(clean)
        assert {d.stream for d in clean.found} >= {"leads", "partners", "chatter", "activities", "stages"}
        chatter = next(d for d in clean.found if d.stream == "chatter")
        assert chatter.in_odoo == chatter.in_database > 0 and sim.counts.hidden_messages > 0, "hidden ones not counted"

        with store.connect() as conn:
            lead_ids = sorted(conn.execute(sa.select(leads.c.odoo_id).where(leads.c.odoo_id.is_not(None))).scalars())
            first_lead = conn.execute(sa.select(leads.c.id).where(leads.c.odoo_id == lead_ids[0])).scalar_one()
            cascaded = {  # the lead's history goes with its row (ON DELETE CASCADE): drift too
                "chatter": conn.execute(
                    sa.select(sa.func.count()).where(lead_activities.c.lead_id == first_lead)
                ).scalar_one(),
                "activities": conn.execute(
                    sa.select(sa.func.count()).where(scheduled_activities.c.lead_id == first_lead)
                ).scalar_one(),
            }
            message_ids = sorted(
                conn.execute(
                    sa.select(lead_activities.c.odoo_message_id).where(lead_activities.c.lead_id != first_lead)
                ).scalars()
            )
        with store.transaction(origin="pull") as conn:  # drift the app's copy, as a bug or a crash would
            conn.execute(sa.delete(leads).where(leads.c.odoo_id == lead_ids[0]))
            conn.execute(sa.delete(lead_activities).where(lead_activities.c.odoo_message_id.in_(message_ids[:3])))
            conn.execute(
                sa.update(leads)
                .where(leads.c.odoo_id.in_(lead_ids[1:3]))
                .values(odoo_write_date=dt.datetime(2000, 1, 1, tzinfo=dt.UTC), title="stale")
            )
            conn.execute(sa.insert(odoo_partners).values(odoo_id=999_999, name="Not in Odoo", raw={}))
        found = run_verify(client, store, "all")
        expected = {"leads": (1, 0, 2), "chatter": (3 + cascaded["chatter"], 0, 0), "partners": (0, 1, 0)}
        if cascaded["activities"]:
            expected["activities"] = (cascaded["activities"], 0, 0)
        assert _drift(found) == expected
        leads_drift = next(d for d in found.found if d.stream == "leads")
        assert leads_drift.missing == (lead_ids[0],) and leads_drift.stale == tuple(lead_ids[1:3])
        stored = {d["stream"]: d for d in latest_drift(store)}
        assert stored["leads"]["missing"] == 1 and stored["leads"]["stale_ids"] == lead_ids[1:3]
        assert stored["stages"]["drift"] == 0

        repaired = run_verify(client, store, "all", repair=True)
        assert repaired.drift == 0 and len(repaired.repairs) == len(expected)
        with store.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).where(leads.c.title == "stale")).scalar_one() == 0
            assert (
                conn.execute(
                    sa.select(odoo_partners.c.deleted_at).where(odoo_partners.c.odoo_id == 999_999)
                ).scalar_one()
                is not None
            )
        assert run_verify(client, store, "all").drift == 0


def test_verify_on_the_command_line_exits_1_on_drift_and_0_once_repaired(
    simulator, migrated_sqlite_url, tmp_path: Path, store
) -> None:
    env = cli_env(simulator, migrated_sqlite_url, tmp_path)
    assert odoosync_here("sync", "all", "--json", env=env).returncode == 0
    assert odoosync_here("verify", env=env).returncode == 0
    from odoosync.store import Store

    with Store(migrated_sqlite_url) as sqlite, sqlite.transaction(origin="pull") as conn:
        conn.execute(
            sa.delete(leads).where(leads.c.odoo_id == sa.select(sa.func.min(leads.c.odoo_id)).scalar_subquery())
        )
    drifting = odoosync_here("verify", "leads", env=env)
    assert drifting.returncode == 1 and "1 missing" in drifting.stdout and "--repair" in drifting.stdout
    fixed = odoosync_here("verify", "leads", "--repair", "--json", env=env)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    document = json.loads(fixed.stdout)
    assert document["streams"][0]["missing"] == 1 and document["after_repair"][0]["drift"] == 0


def test_the_service_verifies_on_its_schedule_and_shows_drift_in_the_api_and_metrics(service, store) -> None:
    """The hourly ``verify`` job (fired here by the scheduler at once), ``GET /api/verify``
    and the ``odoosync_verify_drift`` gauge read the same verify runs."""
    from prometheus_client.parser import text_string_to_metric_families

    from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, start_scheduler
    from tests.integration.test_service import _wait_for

    jobs = service.context.jobs
    run_sync(jobs.client, store, "all", PullOptions(mode=SyncMode.FULL))
    reader = service.client(READ_TOKEN)
    assert reader.get("/api/verify").json() == {"drift": None, "streams": []}
    scheduler = start_scheduler(service, {"verify": "0 0 1 1 *"})
    scheduler.run_now("verify")
    streams = {s.name for s in jobs.catalog()}
    _wait_for(lambda: {d["stream"] for d in reader.get("/api/verify").json()["streams"]} == streams)
    clean = reader.get("/api/verify").json()
    assert clean["drift"] == 0 and all(d["drift"] == 0 for d in clean["streams"])

    with store.transaction(origin="pull") as conn:
        conn.execute(sa.insert(odoo_partners).values(odoo_id=999_999, name="Not in Odoo", raw={}))
    before = max(d["run_id"] for d in clean["streams"])
    assert service.client(ADMIN_TOKEN).post("/api/verify").status_code == 202
    _wait_for(lambda: min(d["run_id"] for d in reader.get("/api/verify").json()["streams"]) > before)
    drifting = reader.get("/api/verify").json()
    partners = next(d for d in drifting["streams"] if d["stream"] == "partners")
    assert drifting["drift"] == 1 and partners["extra"] == 1 and partners["extra_ids"] == [999_999]
    families = {f.name: f for f in text_string_to_metric_families(reader.get("/metrics").text)}
    samples = {(s.labels["stream"], s.labels["kind"]): s.value for s in families["odoosync_verify_drift"].samples}
    assert samples[("partners", "extra")] == 1 and samples[("leads", "missing")] == 0
    status = {s["stream"]: s for s in reader.get("/api/status").json()["streams"]}
    assert status["partners"]["last_run"]["job"] == "pull", "a verify run is not the stream's last sync"

    assert service.client(ADMIN_TOKEN).post("/api/verify", params={"repair": "true"}).status_code == 202
    _wait_for(lambda: reader.get("/api/verify").json()["drift"] == 0)
