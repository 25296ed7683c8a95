"""The leads-sheet API over real HTTP (uvicorn), on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from odoosync.service.events import EventBus
from odoosync.sheets.engine import lock_key
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens
from odoosync.web.sheets_api import install
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, serve_app

HEADER = ["Ref", "Company", "Email", "Amount"]
SEED_STATUS_FIELDS = {
    "isPaused",
    "isRunning",
    "syncDuration",
    "rowsProcessed",
    "rowsInserted",
    "rowsUpdated",
    "rowsDeleted",
    "errorCount",
    "retryCount",
    "progressPercent",
    "progressMessage",
}


def rows(n: int) -> list[list[str]]:
    return [[f"R{i}", f"Company {i}", f"p{i}@example.com", str(i)] for i in range(1, n + 1)]


class Api:
    def __init__(self, url: str, store, sheets):
        self.store = store
        self.sheets = sheets
        self.admin = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30)
        self.reader = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {READ_TOKEN}"}, timeout=30)
        self.anonymous = httpx.Client(base_url=url, timeout=30)

    def close(self) -> None:
        for client in (self.admin, self.reader, self.anonymous):
            client.close()

    def wait_idle(self, customer: str) -> dict:
        for _ in range(2400):  # up to a minute on a loaded machine
            status = self.reader.get("/api/leads/sync/status", params={"customerId": customer}).json()
            if not status["isRunning"]:
                return status
            time.sleep(0.025)
        raise AssertionError("the sync did not finish")


@pytest.fixture
def sheets_api(store, sheet_server) -> Iterator[Api]:
    app = create_app(WebContext(store=store, tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN), events=EventBus()))
    sheets = install(app, store, allow_private=True)
    url = sheet_server.serve_rows("/leads.csv", HEADER, rows(5))
    sheets.engine.add("acme", url, key_column="Ref")
    with serve_app(app) as base:
        api = Api(base, store, sheets)
        try:
            yield api
        finally:
            api.close()
            sheets.close()


def test_the_six_seed_endpoints_answer_with_the_seed_field_names(sheets_api):
    api = sheets_api
    status = api.reader.get("/api/leads/sync/status", params={"customerId": "acme"})
    assert status.status_code == 200 and set(status.json()) >= SEED_STATUS_FIELDS
    assert status.json()["customerName"] == "acme" and status.json()["lastSyncAt"] is None

    triggered = api.admin.post("/api/leads/sync/trigger", params={"customerId": "acme"})
    assert triggered.status_code == 202 and triggered.json()["runId"]
    done = api.wait_idle("acme")
    assert (done["rowsInserted"], done["progressPercent"], done["lastSyncAt"] is not None) == (5, 100, True)

    everyone = api.reader.get("/api/leads/sync/status/all").json()
    assert [s["customerId"] for s in everyone] == [done["customerId"]] and set(everyone[0]) >= SEED_STATUS_FIELDS

    paused = api.admin.post("/api/leads/sync/pause", params={"customerId": done["customerId"]}).json()
    assert paused["isPaused"] is True
    refused = api.admin.post("/api/leads/sync/trigger", params={"customerId": "acme"})
    assert refused.status_code == 409 and "paused" in refused.text
    assert api.admin.post("/api/leads/sync/resume", params={"customerId": "acme"}).json()["isPaused"] is False

    metrics = api.reader.get("/api/leads/sync/metrics", params={"customerId": "acme"}).json()
    assert {
        "syncDuration",
        "rowsProcessed",
        "rowsInserted",
        "rowsUpdated",
        "rowsDeleted",
        "errorCount",
        "retryCount",
        "successRate",
        "errorRate",
    } <= set(metrics)
    assert (metrics["successRate"], metrics["errorRate"], metrics["rowsProcessed"]) == (1.0, 0.0, 5)


def test_cached_lead_reads_and_their_invalidation(sheets_api, sheet_server):
    api = sheets_api
    assert api.reader.get("/api/leads/count", params={"customerId": "acme"}).json()["count"] == 0
    api.admin.post("/api/leads/sync/trigger", params={"customerId": "acme"})
    api.wait_idle("acme")
    assert api.reader.get("/api/leads/count", params={"customerId": "acme"}).json()["count"] == 5
    recent = api.reader.get("/api/leads", params={"customerId": "acme", "limit": 2}).json()["leads"]
    assert len(recent) == 2 and {"title", "sourceEmailId", "createdAt"} <= set(recent[0])
    hits = api.sheets.cache.hits
    assert api.reader.get("/api/leads/count").json()["count"] == 5
    assert api.reader.get("/api/leads/count").json()["count"] == 5
    assert api.sheets.cache.hits == hits + 1


def test_auth_and_bad_input(sheets_api):
    api = sheets_api
    assert api.anonymous.get("/api/leads/sync/status/all").status_code == 401
    assert api.reader.post("/api/leads/sync/trigger", params={"customerId": "acme"}).status_code == 403
    assert api.reader.get("/api/leads/sync/status").status_code == 422  # customerId missing
    missing = api.reader.get("/api/leads/sync/status", params={"customerId": "nobody"})
    assert missing.status_code == 404 and "nobody" in missing.json()["detail"]
    assert api.reader.get("/api/leads", params={"limit": 0}).status_code == 422


def test_a_trigger_while_a_sync_runs_is_409_naming_the_holder(sheets_api):
    api = sheets_api
    customer = api.reader.get("/api/leads/sync/status", params={"customerId": "acme"}).json()["customerId"]
    with api.store.lock(lock_key(customer), {"run_id": 4242}):
        answer = api.admin.post("/api/leads/sync/trigger", params={"customerId": "acme"})
    assert answer.status_code == 409
    assert "another sync" in answer.json()["detail"]["message"] and "4242" in answer.json()["detail"]["holder"]


def test_reads_answer_while_a_sync_holds_its_write_transaction(sheets_api, sheet_server):
    """Issue 17 item 4: the sync is parked inside its diff's transaction (SQLite: the one
    writer) until every read has answered; a read that took a write lock would wait for it."""
    import threading

    api = sheets_api
    sheet_server.serve_rows("/leads.csv", HEADER, rows(300))
    customer = api.reader.get("/api/leads/sync/status", params={"customerId": "acme"}).json()["customerId"]
    in_diff, release = threading.Event(), threading.Event()

    def park(percent: int, message: str) -> None:
        if message.startswith("insert") and not in_diff.is_set():
            in_diff.set()
            release.wait(60)

    outcome: list = []
    sync = threading.Thread(target=lambda: outcome.append(api.sheets.engine.sync(customer, on_progress=park)))
    sync.start()
    try:
        assert in_diff.wait(30), "the sync never reached its diff"
        reader = httpx.Client(base_url=str(api.reader.base_url), headers=api.reader.headers, timeout=10)
        with reader:
            for ref in ("acme", str(customer)):
                status = reader.get("/api/leads/sync/status", params={"customerId": ref})
                assert status.status_code == 200 and status.json()["isRunning"] is True
            assert reader.get("/api/leads/sync/status/all").status_code == 200
            assert reader.get("/api/leads/sync/metrics", params={"customerId": "acme"}).status_code == 200
            assert reader.get("/api/leads/count", params={"customerId": "acme"}).json()["count"] == 0
        assert sync.is_alive() and not outcome  # provably still inside the sync
    finally:
        release.set()
        sync.join(60)
    assert outcome[0].status == "ok" and outcome[0].inserted == 300


def test_trigger_all_syncs_every_customer_with_per_customer_results(sheets_api, sheet_server):
    """Issue 17 item 5: the CLI's ``sheets sync --all`` over HTTP."""
    api = sheets_api
    other = sheet_server.serve_rows("/globex.csv", HEADER, rows(3))
    api.sheets.engine.add("globex", other, key_column="Ref")
    sleepy = sheet_server.serve_rows("/initech.csv", HEADER, rows(2))
    api.sheets.engine.add("initech", sleepy, key_column="Ref")
    api.admin.post("/api/leads/sync/pause", params={"customerId": "initech"})
    assert api.reader.post("/api/leads/sync/trigger/all").status_code == 403  # admin only

    waited = api.admin.post("/api/leads/sync/trigger/all", params={"wait": "true"})
    assert waited.status_code == 200
    outcome = {c["customerName"]: (c["status"], c.get("inserted")) for c in waited.json()["customers"]}
    assert outcome == {"acme": ("ok", 5), "globex": ("ok", 3), "initech": ("paused", None)}
    assert all(c.get("runId") for c in waited.json()["customers"] if c["status"] == "ok")

    sheet_server.serve_rows("/globex.csv", HEADER, [])  # header only: refused, per customer
    queued = api.admin.post("/api/leads/sync/trigger/all", params={"allowMassDelete": "false"})
    assert queued.status_code == 202
    assert {c["customerName"]: c["status"] for c in queued.json()["customers"]} == {
        "acme": "queued",
        "globex": "queued",
        "initech": "paused",
    }
    for _ in range(2400):
        globex = api.reader.get("/api/leads/sync/status", params={"customerId": "globex"}).json()
        if globex["refusedDeletes"] is not None and not globex["isRunning"]:
            break
        time.sleep(0.025)
    assert globex["refusedDeletes"] == 3 and globex["lastError"].startswith("refused")
    assert api.reader.get("/api/leads/count", params={"customerId": "globex"}).json()["count"] == 3
