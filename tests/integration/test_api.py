"""The HTTP API over real HTTP (uvicorn on loopback), on SQLite and PostgreSQL.

Endpoints that need no Odoo: health, status/freshness, runs, outbox, checkpoints,
schedule (without a scheduler), metrics (JSON and Prometheus), input validation, and the
authentication matrix of every endpoint.
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

from odoosync.models import RunCounters, RunStatus
from odoosync.store import checkpoints
from odoosync.store import runs as run_store
from odoosync.store.schema import odoo_outbox, odoo_sync_runs
from odoosync.store.sync_config import config_set
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN

# (method, path, json body, needs admin)
ENDPOINTS = [
    ("GET", "/api/status", None, False),
    ("GET", "/api/runs", None, False),
    ("GET", "/api/runs/1", None, False),
    ("POST", "/api/sync/leads", {"mode": "incremental"}, True),
    ("POST", "/api/jobs/increments", None, True),
    ("GET", "/api/outbox", None, False),
    ("POST", "/api/outbox/retry", {}, True),
    ("GET", "/api/checkpoints", None, False),
    ("DELETE", "/api/checkpoints/pull:default:leads", None, True),
    ("GET", "/api/schedule", None, False),
    ("POST", "/api/schedule/increments/pause", None, True),
    ("POST", "/api/schedule/increments/resume", None, True),
    ("POST", "/api/sla/check", None, True),
    ("GET", "/api/verify", None, False),
    ("GET", "/api/rejects", None, False),
    ("POST", "/api/verify", None, True),
    ("GET", "/api/metrics", None, False),
    ("GET", "/metrics", None, False),
    ("GET", "/api/events?max_seconds=0.2", None, False),
    ("GET", "/api/odoo-sync?mode=odoo_to_sb&model=res.partner", None, True),
    ("POST", "/api/odoo-sync?mode=sb_to_odoo&model=res.partner", None, True),
]


def test_auth_matrix(api):
    """No token / wrong token → 401; read token → GET ok, admin endpoints 403; admin → all."""
    clients = {
        name: api.client(token)
        for name, token in (
            ("anonymous", None),
            ("wrong", "not-a-token"),
            ("reader", READ_TOKEN),
            ("admin", ADMIN_TOKEN),
        )
    }
    for method, path, body, admin_only in ENDPOINTS:
        where = f"{method} {path}"
        answers = {name: client.request(method, path, json=body) for name, client in clients.items()}
        assert answers["anonymous"].status_code == 401, where
        assert answers["anonymous"].headers["www-authenticate"] == "Bearer", where
        assert answers["wrong"].status_code == 401, where
        if admin_only:
            assert answers["reader"].status_code == 403, where
        else:
            assert answers["reader"].status_code not in (401, 403, 500), where
        assert answers["admin"].status_code not in (401, 403, 500), (where, answers["admin"].text)
        for response in answers.values():
            assert ADMIN_TOKEN not in response.text and READ_TOKEN not in response.text, where


def test_health_needs_no_token(api):
    response = api.client(None).get("/api/health")
    assert response.status_code == 200
    assert response.json()["ok"] is True and response.json()["database"] == "ok"


def _run(store, stream: str, status: RunStatus, finished_ago: dt.timedelta | None) -> int:
    run_id = run_store.start_run(store, job="pull", stream=stream, mode="incremental", trigger="schedule")
    run_store.finish_run(store, run_id, status, RunCounters(fetched=3, inserted=1))
    if finished_ago is not None:
        with store.transaction() as conn:
            conn.execute(
                sa.update(odoo_sync_runs)
                .where(odoo_sync_runs.c.id == run_id)
                .values(finished_at=dt.datetime.now(dt.UTC) - finished_ago)
            )
    return run_id


def test_status_reports_freshness_per_stream(api):
    store = api.context.store
    _run(store, "leads", RunStatus.OK, dt.timedelta(minutes=2))
    _run(store, "partners", RunStatus.OK, dt.timedelta(minutes=45))
    _run(store, "stages", RunStatus.OK, dt.timedelta(minutes=90))
    _run(store, "tags", RunStatus.OK, dt.timedelta(minutes=1))
    failed = _run(store, "tags", RunStatus.FAILED, None)

    body = api.client(READ_TOKEN).get("/api/status").json()

    colours = {s["stream"]: s["freshness"] for s in body["streams"]}
    assert colours == {"leads": "green", "partners": "amber", "stages": "red", "tags": "green"}
    assert body["freshness"] == "red"
    tags = next(s for s in body["streams"] if s["stream"] == "tags")
    assert tags["last_run"]["id"] == failed and tags["last_run"]["status"] == "failed"
    assert tags["last_success_at"] is not None
    assert body["outbox"] == {"queued": 0, "processing": 0, "done": 0, "failed": 0, "discarded": 0}


def test_freshness_thresholds_are_configurable(api):
    store = api.context.store
    _run(store, "leads", RunStatus.OK, dt.timedelta(minutes=10))
    config_set(store, "service:freshness", {"amber_after_seconds": 300, "red_after_seconds": 500})
    body = api.client(READ_TOKEN).get("/api/status").json()
    assert body["streams"][0]["freshness"] == "red"


def test_runs_list_filter_and_one(api):
    store = api.context.store
    ok = _run(store, "leads", RunStatus.OK, None)
    failed = _run(store, "partners", RunStatus.FAILED, None)
    client = api.client(READ_TOKEN)
    assert [r["id"] for r in client.get("/api/runs").json()["runs"]] == [failed, ok]
    assert [r["id"] for r in client.get("/api/runs", params={"status": "failed"}).json()["runs"]] == [failed]
    assert [r["id"] for r in client.get("/api/runs", params={"stream": "leads"}).json()["runs"]] == [ok]
    one = client.get(f"/api/runs/{ok}").json()
    assert one["stream"] == "leads" and one["fetched"] == 3 and one["status"] == "ok"
    missing = client.get("/api/runs/999999")
    assert missing.status_code == 404 and "999999" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "field"),
    [
        ("GET", "/api/runs", {"limit": "0"}, None, "limit"),
        ("GET", "/api/runs", {"limit": "abc"}, None, "limit"),
        ("GET", "/api/runs", {"status": "exploded"}, None, "status"),
        ("GET", "/api/runs/abc", None, None, "run_id"),
        ("GET", "/api/outbox", {"status": "nope"}, None, "status"),
        ("POST", "/api/sync/leads", None, {"mode": "sideways"}, "mode"),
        ("POST", "/api/sync/leads", None, {"budget": -5}, "budget"),
        ("POST", "/api/sync/leads", None, {"odoo_id": 0}, "odoo_id"),
        ("POST", "/api/sync/leads", None, {"surprise": 1}, "surprise"),
        ("POST", "/api/outbox/retry", None, {"ids": ["x"]}, "ids"),
        ("GET", "/api/odoo-sync", {"mode": "sideways"}, None, "mode"),
    ],
)
def test_bad_input_is_422_naming_the_field(api, method, path, params, body, field):
    response = api.client(ADMIN_TOKEN).request(method, path, params=params, json=body)
    assert response.status_code == 422, response.text
    assert field in response.json()["message"]
    if body is not None:
        for value in body.values():
            assert repr(value) not in response.text or isinstance(value, int)


def test_outbox_list_and_retry(api):
    store = api.context.store
    now = dt.datetime.now(dt.UTC)
    with store.transaction() as conn:
        ids = (
            conn.execute(
                sa.insert(odoo_outbox).returning(odoo_outbox.c.id),
                [
                    {
                        "model": "crm.lead",
                        "operation": "write",
                        "status": "failed",
                        "attempts": 5,
                        "last_error": "boom",
                        "next_run_at": now,
                    },
                    {
                        "model": "crm.lead",
                        "operation": "write",
                        "status": "failed",
                        "attempts": 5,
                        "last_error": "boom",
                        "next_run_at": now,
                    },
                    {
                        "model": "res.partner",
                        "operation": "create",
                        "status": "done",
                        "attempts": 1,
                        "last_error": None,
                        "next_run_at": now,
                    },
                ],
            )
            .scalars()
            .all()
        )
    reader, admin = api.client(READ_TOKEN), api.client(ADMIN_TOKEN)
    listing = reader.get("/api/outbox", params={"status": "failed"}).json()
    assert listing["counts"]["failed"] == 2 and [i["id"] for i in listing["items"]] == sorted(ids[:2], reverse=True)
    assert listing["items"][0]["last_error"] == "boom"

    assert admin.post("/api/outbox/retry", json={"ids": [ids[0]]}).json() == {"requeued": 1}
    assert admin.post("/api/outbox/retry").json() == {"requeued": 1}
    counts = reader.get("/api/outbox").json()["counts"]
    assert counts == {"queued": 2, "processing": 0, "done": 1, "failed": 0, "discarded": 0}


def test_checkpoints_list_and_reset(api):
    store = api.context.store
    with store.transaction() as conn:
        checkpoints.put(conn, "pull:default:leads", {"cursor": ["2026-01-01 00:00:00", 5]})
    reader, admin = api.client(READ_TOKEN), api.client(ADMIN_TOKEN)
    assert [c["key"] for c in reader.get("/api/checkpoints").json()["checkpoints"]] == ["pull:default:leads"]
    assert admin.delete("/api/checkpoints/pull:default:leads").json() == {"reset": "pull:default:leads"}
    assert reader.get("/api/checkpoints").json()["checkpoints"] == []
    assert admin.delete("/api/checkpoints/pull:default:leads").status_code == 404


def test_without_scheduler_schedule_is_empty_and_changes_are_503(api):
    assert api.client(READ_TOKEN).get("/api/schedule").json() == {"running": False, "jobs": []}
    response = api.client(ADMIN_TOKEN).post("/api/schedule/increments/pause")
    assert response.status_code == 503 and "scheduler" in response.json()["detail"]
    assert api.client(ADMIN_TOKEN).post("/api/sla/check").status_code == 503


def test_metrics_json_and_prometheus_agree(api):
    store = api.context.store
    _run(store, "leads", RunStatus.OK, dt.timedelta(minutes=3))
    _run(store, "leads", RunStatus.FAILED, None)
    as_json = api.client(READ_TOKEN).get("/api/metrics").json()
    assert {"stream": "leads", "status": "ok", "count": 1} in as_json["runs"]
    assert as_json["seconds_since_last_success"]["leads"] >= 180

    text = api.client(READ_TOKEN).get("/metrics")
    assert text.headers["content-type"].startswith("text/plain")
    families = {f.name: f for f in text_string_to_metric_families(text.text)}
    runs = {
        (s.labels["stream"], s.labels["status"]): s.value
        for s in families["odoosync_runs"].samples
        if s.name.endswith("_total")
    }
    assert runs == {("leads", "ok"): 1.0, ("leads", "failed"): 1.0}
    since = families["odoosync_seconds_since_last_success"].samples[0]
    assert since.labels == {"stream": "leads"} and since.value >= 180
    assert "odoosync_outbox_items" in families and "odoosync_sla_breaches" in families


def test_openapi_is_served(api):
    spec = api.client(None).get("/openapi.json").json()
    assert "/api/status" in spec["paths"] and "/api/sync/{stream}" in spec["paths"]
    assert api.client(None).get("/docs").status_code == 200
