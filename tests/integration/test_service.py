"""The service against the Odoo simulator over real HTTP, on SQLite and PostgreSQL.

Triggers (202 with a run id; 409 naming the holder while the stream is locked), the
scheduler running jobs by itself (asserted on the runs log), a failing job not stopping
the others, Server-Sent Events of a run, the SLA check and the seed-003 endpoint.
"""

from __future__ import annotations

import json
import threading

import httpx
import sqlalchemy as sa

from odoosync.pull import checkpoint_key
from odoosync.store import runs as run_store
from odoosync.store.schema import leads
from odoosync.store.sync_config import config_set
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, start_scheduler

EVERY_SECOND = "* * * * * *"


def _wait_for(condition, timeout: float = 60.0):
    pause = threading.Event()
    for _ in range(int(timeout / 0.1)):
        value = condition()
        if value:
            return value
        pause.wait(0.1)
    return condition()


def _finished(store, run_id: int):
    run = run_store.get_run(store, run_id)
    return run if run is not None and str(run.status) != "running" else None


def test_trigger_runs_in_background_and_returns_its_run_id(service):
    store = service.context.store
    response = service.client(ADMIN_TOKEN).post("/api/sync/stages", json={"mode": "full"})
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    run = _wait_for(lambda: _finished(store, run_id))
    assert run.stream == "stages" and str(run.status) == "ok" and run.trigger == "api"
    assert run.counters.fetched > 0
    # the same run through the API
    assert service.client(READ_TOKEN).get(f"/api/runs/{run_id}").json()["status"] == "ok"


def test_trigger_while_locked_is_409_naming_the_holder(service):
    store = service.context.store
    with store.lock(checkpoint_key("default", "leads"), {"run_id": 4242}):
        response = service.client(ADMIN_TOKEN).post("/api/sync/leads")
    assert response.status_code == 409
    body = response.json()
    assert "4242" in body["holder"] and "4242" in body["detail"]
    skipped = run_store.list_runs(store, 5, stream="leads")
    assert [str(r.status) for r in skipped] == ["skipped"]


def test_trigger_unknown_stream_is_422(service):
    response = service.client(ADMIN_TOKEN).post("/api/sync/no_such_stream")
    assert response.status_code == 422 and "no_such_stream" in response.json()["detail"]


def test_scheduled_jobs_fire_by_themselves_and_status_turns_green(service):
    store = service.context.store
    scheduler = start_scheduler(service, {"reference": EVERY_SECOND, "increments": EVERY_SECOND})
    wanted = {
        "stages",
        "users",
        "teams",
        "tags",
        "lost_reasons",
        "activity_types",
        "leads",
        "partners",
        "chatter",
        "activities",
    }

    def all_synced():
        done = {r.stream for r in run_store.list_runs(store, 200) if str(r.status) == "ok" and r.trigger == "schedule"}
        return wanted <= done

    assert _wait_for(all_synced, 120)
    scheduler.shutdown()
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one() > 0
    status = service.client(READ_TOKEN).get("/api/status").json()
    colours = {s["stream"]: s["freshness"] for s in status["streams"]}
    assert all(colours[name] == "green" for name in wanted), colours
    rows = {s["stream"]: s["rows"] for s in status["streams"]}
    with store.connect() as conn:
        assert rows["leads"] == conn.execute(sa.select(sa.func.count()).select_from(leads)).scalar_one()
    schedule = service.client(READ_TOKEN).get("/api/schedule").json()
    assert {job["job"] for job in schedule["jobs"]} == {"reference", "increments"}


def test_a_failing_job_does_not_stop_the_others(service):
    store = service.context.store
    # a configured model the simulator does not know, naming no fields (so no field check
    # disables it up front): the reference job fails every time it reads it
    config_set(store, "odoo_to_sb:x.unknown.model", {})
    scheduler = start_scheduler(service, {"reference": EVERY_SECOND, "increments": EVERY_SECOND})

    def both():
        recent = run_store.list_runs(store, 300)
        failed = [r for r in recent if r.stream == "x.unknown.model" and str(r.status) == "failed"]
        ok_leads = [r for r in recent if r.stream == "leads" and str(r.status) == "ok"]
        return len(failed) >= 2 and len(ok_leads) >= 2

    assert _wait_for(both, 120)
    assert scheduler.running


def test_pause_and_resume_through_the_api(service):
    start_scheduler(service, {"increments": "0 0 1 1 *"})
    admin = service.client(ADMIN_TOKEN)
    paused = admin.post("/api/schedule/increments/pause").json()
    assert paused["paused"] is True and paused["next_run_at"] is None
    resumed = admin.post("/api/schedule/increments/resume").json()
    assert resumed["paused"] is False and resumed["next_run_at"].startswith(
        str(__import__("datetime").date.today().year + 1)
    )
    assert admin.post("/api/schedule/nope/pause").status_code == 404
    assert admin.post("/api/schedule/increments/explode").status_code == 422


def test_events_stream_a_runs_progress_and_end(service):
    received: list[tuple[str, dict]] = []
    connected = threading.Event()

    def listen():
        with httpx.Client(
            base_url=service.url, headers={"Authorization": f"Bearer {READ_TOKEN}"}, timeout=60
        ) as client:
            with client.stream("GET", "/api/events", params={"max_seconds": 60, "heartbeat": 0.5}) as response:
                kind = None
                for line in response.iter_lines():
                    if line.startswith(": connected"):
                        connected.set()
                    elif line.startswith("event: "):
                        kind = line[len("event: ") :]
                    elif line.startswith("data: "):
                        received.append((kind, json.loads(line[len("data: ") :])))
                        if kind == "run.finished":
                            return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    assert connected.wait(30)
    run_id = service.client(ADMIN_TOKEN).post("/api/sync/partners", json={"mode": "full"}).json()["run_id"]
    listener.join(60)
    kinds = [kind for kind, _ in received]
    assert kinds[0] == "run.started" and kinds[-1] == "run.finished"
    assert all(data["stream"] == "partners" for _, data in received)
    assert received[0][1]["run_id"] == run_id
    assert received[-1][1]["status"] == "ok" and received[-1][1]["fetched"] > 0


def test_sla_check_through_the_api_is_logged_as_a_run(service):
    import datetime as dt

    store = service.context.store
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title="late", deadline=dt.date(2020, 1, 1), status="open"))
    body = service.client(ADMIN_TOKEN).post("/api/sla/check").json()
    assert body["breached_count"] == 1 and body["breached"][0]["title"] == "late"
    again = service.client(ADMIN_TOKEN).post("/api/sla/check").json()
    assert again["breached_count"] == 0
    sla_runs = run_store.list_runs(store, 5, job="sla")
    assert [str(r.status) for r in sla_runs] == ["ok", "ok"] and sla_runs[-1].counters.updated == 1


def test_seed_003_endpoint_answers_in_its_shape(service):
    admin = service.client(ADMIN_TOKEN)
    pulled = admin.get("/api/odoo-sync", params={"mode": "odoo_to_sb", "model": "res.partner"}).json()
    assert pulled["ok"] is True
    part = pulled["result"]["odoo_to_sb"]
    assert pulled["result"]["mode"] == "odoo_to_sb" and pulled["result"]["model"] == "res.partner"
    assert part["fetched"] > 0 and part["upserted"] == part["fetched"]
    pushed = admin.post("/api/odoo-sync", json={"mode": "sb_to_odoo", "model": "res.partner"}).json()
    assert pushed["ok"] is True
    assert set(pushed["result"]["sb_to_odoo"]) >= {"scanned", "processed", "failed", "skipped"}
    assert pushed["result"]["sb_to_odoo"]["scanned"] == 0


def test_outbox_is_pushed_as_soon_as_a_change_is_queued(service):
    """The outbox job's cron never fires here: only the waker (LISTEN/NOTIFY on
    PostgreSQL, polling on SQLite) can push the new lead."""
    from odoosync.push.outbox import OutboxWaker
    from odoosync.service.scheduler import Scheduler
    from odoosync.store.schema import odoo_outbox

    store, jobs = service.context.store, service.context.jobs
    scheduler = Scheduler({"outbox": jobs.push_outbox}, {"outbox": "0 0 1 1 *"}, on_skip=jobs.record_skip)
    service.context.scheduler = scheduler
    scheduler.start()
    waker = OutboxWaker(store, lambda: jobs.wake_outbox(scheduler), poll_seconds=0.3).start()
    try:
        with store.transaction() as conn:  # an app-side change: the trigger queues a create
            lead_id = conn.execute(
                sa.insert(leads).values(title="Made in the app", email="app@example.com").returning(leads.c.id)
            ).scalar_one()

        def pushed():
            with store.connect() as conn:
                odoo_id = conn.execute(sa.select(leads.c.odoo_id).where(leads.c.id == lead_id)).scalar_one()
                statuses = conn.execute(sa.select(odoo_outbox.c.status)).scalars().all()
            finished = [r for r in run_store.list_runs(store, 10, job="push") if str(r.status) != "running"]
            return odoo_id if odoo_id and statuses == ["done"] and finished else None

        odoo_id = _wait_for(pushed, 60)
    finally:
        waker.stop()
    assert odoo_id, "the queued create was not pushed"
    push_runs = run_store.list_runs(store, 10, job="push")
    assert push_runs and {r.trigger for r in push_runs} == {"schedule"}
    assert sum(r.counters.inserted for r in push_runs) == 1


def test_a_scheduled_fire_during_a_held_lock_is_skipped_and_recorded(service):
    store = service.context.store
    with store.lock(checkpoint_key("default", "leads"), {"run_id": 777}):
        scheduler = start_scheduler(service, {"increments": EVERY_SECOND})

        def skipped_and_others_ran():
            recent = run_store.list_runs(store, 50)
            skipped = [
                r for r in recent if r.stream == "leads" and str(r.status) == "skipped" and r.trigger == "schedule"
            ]
            others = [r for r in recent if r.stream == "chatter" and str(r.status) == "ok"]
            return skipped and others and skipped[0]

        skip = _wait_for(skipped_and_others_ran, 120)
        scheduler.shutdown()
    assert skip, "no skipped run recorded"
    assert "777" in skip.error
