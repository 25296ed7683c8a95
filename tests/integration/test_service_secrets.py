"""Secrets never leave: the API tokens and the Odoo API key appear in no response, no
log record, no runs-log row and no error message, whatever the requests do.

The test drives the service through good and bad paths (wrong tokens, a token pasted
into a body field, an unknown model, an expired Odoo key), captures everything at DEBUG,
dumps every ops table, and greps it all.
"""

from __future__ import annotations

import json
import logging

import httpx
import sqlalchemy as sa

from odoosync.events import EventBus
from odoosync.jobs import Jobs
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.store.schema import odoo_outbox, odoo_sync_config, odoo_sync_locks, odoo_sync_runs
from odoosync.store.sync_config import config_set
from odoosync.web.app import WebContext
from odoosync.web.auth import Tokens
from tests.fixtures.service import running_api

ADMIN = "adm-secret-3e8f1a6c44"
READ = "rd-secret-9b2d7c1e55"


def test_no_secret_in_responses_logs_runs_or_errors(store, make_simulator, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    sim = make_simulator(version="17.0")
    secrets = [ADMIN, READ, sim.api_key]
    config = OdooConfig(url=sim.url, db=sim.db, username=sim.login, api_key=sim.api_key, protocol="jsonrpc")
    seen: list[str] = []

    def keep(response: httpx.Response) -> httpx.Response:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    api_url = ""
    with OdooClient(config) as client:
        jobs = Jobs(store, client, events=EventBus())
        context = WebContext(store=store, tokens=Tokens(admin=ADMIN, read=READ), jobs=jobs,
                             client_stats=client.stats.snapshot)
        with running_api(context) as server:
            api_url = server.url
            admin, reader = server.client(ADMIN), server.client(READ)
            stranger = server.client(sim.api_key)  # the Odoo key is not an API token
            keep(stranger.get("/api/status"))
            keep(reader.post("/api/sync/leads"))
            keep(admin.post("/api/sync/leads", json={"mode": ADMIN}))
            keep(admin.post("/api/sync/leads", json={"budget": READ}))
            keep(admin.get("/api/runs", params={"stream": ADMIN, "limit": READ}))
            run_id = keep(admin.post("/api/sync/stages", json={"mode": "full"})).json()["run_id"]
            config_set(store, "odoo_to_sb:x.unknown", {"fields": ["name"]})
            keep(admin.post("/api/jobs/reference"))
            jobs.join(60)
            sim.expire_api_key()  # the next call fails authentication
            keep(admin.post("/api/sync/partners", json={"mode": "full"}))
            jobs.join(60)
            for path in ("/api/status", "/api/runs?limit=100", f"/api/runs/{run_id}", "/api/metrics", "/metrics",
                         "/api/outbox", "/api/checkpoints", "/api/events?max_seconds=0.3", "/api/health"):
                keep(reader.get(path))

    with store.connect() as conn:
        tables = {
            table.name: [dict(row) for row in conn.execute(sa.select(table)).mappings()]
            for table in (odoo_sync_runs, odoo_outbox, odoo_sync_config, odoo_sync_locks)
        }
    failed = {r["stream"] for r in tables["odoo_sync_runs"] if r["status"] == "failed"}
    assert failed == {"x.unknown", "partners"}, "the unknown model and the expired key fail their runs"
    captured = capsys.readouterr()
    # the test's own HTTP client logs the URLs it requests (tokens placed in query strings
    # on purpose); everything else, the server's Odoo client included, is kept
    records = [r for r in caplog.records if not (r.name.startswith("httpx") and api_url in r.getMessage())]
    records = [r for r in records if not r.name.startswith("httpcore")]
    everything = "\n".join([
        *seen,
        *(record.getMessage() for record in records),
        json.dumps(tables, default=str),
        captured.out,
        captured.err,
    ])
    assert len(seen) >= 15 and any(r.name.startswith("odoosync") for r in records)
    for secret in secrets:
        assert secret not in everything
