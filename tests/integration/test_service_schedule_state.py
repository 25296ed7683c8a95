"""The schedule's state lives in the database, on SQLite and PostgreSQL.

* a pause made through the HTTP API survives a restart (a new scheduler over another
  ``Store`` starts with the job paused) and shows in ``odoosync status``; resuming clears it;
* a running scheduler follows sheets that another process adds, re-schedules, pauses,
  resumes and removes, at its next refresh (called directly here, instead of waiting for
  the minute), and a paused sheet's job does not fire;
* pausing a sheet through either API pauses its job at once.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from typer.testing import CliRunner

from odoosync.cli import app as cli_app
from odoosync.service.schedule_state import ScheduleSource, paused_jobs, set_job_paused
from odoosync.service.scheduler import Scheduler
from odoosync.sheets.engine import SheetSync
from odoosync.sheets.fetch import SheetFetcher
from odoosync.sheets.schedule import DEFAULT_SHEET_SCHEDULE
from odoosync.sheets.state import get_state, remove_state, save_config, set_paused
from odoosync.store import Store
from odoosync.store import runs as run_store
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens
from odoosync.web.sheets_api import install
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, running_api, serve_app

NEVER = "0 0 1 1 *"
EVERY_SECOND = "* * * * * *"
HEADER = ["Ref", "Company", "Email"]
ROWS = [["R1", "Acme", "a@example.com"], ["R2", "Globex", "g@example.com"]]


def _wait(condition, timeout: float = 30.0):
    pause = threading.Event()
    for _ in range(int(timeout / 0.05)):
        if value := condition():
            return value
        pause.wait(0.05)
    return condition()


def _scheduler(store: Store, calls: dict[str, list[str]], sheets: SheetSync | None = None) -> Scheduler:
    functions = {name: calls.setdefault(name, []).append for name in ("increments", "reference")}
    return Scheduler(functions, dict.fromkeys(functions, NEVER), source=ScheduleSource(store, sheets))


def test_a_pause_through_the_api_survives_a_restart_and_shows_in_status(store, database_url, monkeypatch, tmp_path):
    first = _scheduler(store, {})
    first.refresh()
    first.start()
    context = WebContext(store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), scheduler=first)
    with running_api(context) as server:
        answer = server.client(ADMIN_TOKEN).post("/api/schedule/increments/pause")
        assert answer.status_code == 200 and answer.json()["paused"] is True
    first.shutdown()
    assert set(paused_jobs(store)) == {"increments"}

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.chdir(tmp_path)  # no odoosync.toml
    status = CliRunner().invoke(cli_app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    assert set(json.loads(status.output)["paused_jobs"]) == {"increments"}
    assert "job increments is paused since" in CliRunner().invoke(cli_app, ["status"]).output

    # the restart: another process, another Store, a new scheduler
    calls: dict[str, list[str]] = {}
    with Store(database_url) as other:
        second = _scheduler(other, calls)
        second.refresh()
        second.start()
        try:
            context = WebContext(store=other, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), scheduler=second)
            with running_api(context) as server:
                jobs = {j["job"]: j for j in server.client(READ_TOKEN).get("/api/schedule").json()["jobs"]}
                assert jobs["increments"]["paused"] is True and jobs["increments"]["next_run_at"] is None
                assert jobs["reference"]["paused"] is False and jobs["reference"]["next_run_at"]
                second.run_now("increments")
                second.run_now("reference")
                assert _wait(lambda: calls["reference"] == ["schedule"])
                assert calls["increments"] == [], "a paused job does not fire"

                resumed = server.client(ADMIN_TOKEN).post("/api/schedule/increments/resume").json()
                assert resumed["paused"] is False and resumed["next_run_at"]
                assert paused_jobs(other) == {}
        finally:
            second.shutdown()
    # pausing twice keeps the first time; the key is per job
    with Store(database_url) as other:
        set_job_paused(other, "reference", True)
        since = paused_jobs(other)["reference"]
        set_job_paused(other, "reference", True)
        assert paused_jobs(other) == {"reference": since}


@contextmanager
def _sheets(store: Store) -> Iterator[SheetSync]:
    with SheetFetcher(allow_private=True) as fetcher:
        yield SheetSync(store, fetcher)


def test_a_running_scheduler_follows_sheets_configured_by_another_process(store, database_url, sheet_server):
    url = sheet_server.serve_rows("/acme.csv", HEADER, ROWS)
    ticks: list[str] = []
    with _sheets(store) as sheets:
        scheduler = Scheduler({"tick": ticks.append}, {"tick": EVERY_SECOND}, source=ScheduleSource(store, sheets))
        scheduler.refresh()
        scheduler.start()
        try:
            with Store(database_url) as other, _sheets(other) as elsewhere:  # `odoosync sheets add` elsewhere
                state, _ = elsewhere.add("acme", url, key_column="Ref")
                name = f"sheet:{state.customer_id}"
                assert name not in scheduler.job_names()
                assert scheduler.refresh().added == (name,)
                assert scheduler.info(name).cron == DEFAULT_SHEET_SCHEDULE and scheduler.info(name).next_run_at

                elsewhere.add("acme", url, key_column="Ref", schedule="5 * * * *")
                assert scheduler.refresh().rescheduled == (name,) and scheduler.info(name).cron == "5 * * * *"

                # paused, then due every second: it does not fire
                set_paused(other, state.customer_id, True)
                save_config(
                    other,
                    state.customer_id,
                    sheet_url=url,
                    column_map={},
                    key_column="Ref",
                    schedule=EVERY_SECOND,
                    push_to_odoo=False,
                )
                changes = scheduler.refresh()
                assert (changes.rescheduled, changes.paused) == ((name,), (name,))
                assert scheduler.info(name).next_run_at is None
                seen = len(ticks)
                assert _wait(lambda: len(ticks) >= seen + 3), "the scheduler kept firing"
                assert run_store.list_runs(store, 10, job="sheets") == []

                set_paused(other, state.customer_id, False)
                assert scheduler.refresh().resumed == (name,)

                def synced_by_schedule():
                    return [
                        r
                        for r in run_store.list_runs(store, 10, job="sheets")
                        if r.trigger == "schedule" and str(r.status) == "ok"
                    ]

                assert _wait(synced_by_schedule), "the resumed sheet was not synced by the schedule"

                remove_state(other, state.customer_id)
                assert scheduler.refresh().removed == (name,)
                assert scheduler.job_names() == ["tick"]
        finally:
            scheduler.shutdown()


@pytest.fixture
def sheet_service(store, sheet_server):
    """The API with the sheets router and a scheduler refreshed from the database."""
    with _sheets(store) as sheets:
        state, _ = sheets.add("acme", sheet_server.serve_rows("/acme.csv", HEADER, ROWS), key_column="Ref")
        scheduler = _scheduler(store, {}, sheets)
        scheduler.refresh()
        scheduler.start()
        app = create_app(
            WebContext(store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), scheduler=scheduler)
        )
        web = install(app, store, allow_private=True)
        try:
            with serve_app(app) as base:
                yield base, scheduler, state.customer_id
        finally:
            scheduler.shutdown()
            web.close()


def test_pausing_a_sheet_through_either_api_pauses_its_job_at_once(store, sheet_service):
    base, scheduler, customer_id = sheet_service
    name = f"sheet:{customer_id}"
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30) as admin:
        assert admin.post("/api/leads/sync/pause", params={"customerId": "acme"}).json()["isPaused"] is True
        assert scheduler.info(name).paused, "paused without waiting for the minute's refresh"
        assert admin.post("/api/leads/sync/resume", params={"customerId": "acme"}).json()["isPaused"] is False
        assert not scheduler.info(name).paused

        # the schedule's pause of a sheet job is the sheet's own pause: one flag, no second key
        assert admin.post(f"/api/schedule/{name}/pause").json()["paused"] is True
        assert get_state(store, customer_id).is_paused and paused_jobs(store) == {}
        assert admin.post(f"/api/schedule/{name}/resume").json()["paused"] is False
        assert not get_state(store, customer_id).is_paused

        remove_state(store, customer_id)  # by another process, before the next refresh
        assert admin.post(f"/api/schedule/{name}/pause").status_code == 404
