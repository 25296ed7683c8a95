"""Secrets never leave: the API tokens, the Odoo API key and the SLA webhook URL (a Slack
webhook URL carries its token) appear in no response, no log record, no runs-log row, no
error message and no settings repr, whatever the requests do.

The test drives the service through good and bad paths (wrong tokens, a token pasted
into a body field, an unknown model, an expired Odoo key, an SLA webhook that answers,
fails and is unreachable), captures everything at DEBUG, dumps every ops table, and
greps it all.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.service.events import EventBus
from odoosync.service.jobs import Jobs
from odoosync.service.scheduler import Scheduler
from odoosync.settings import load_settings
from odoosync.store.schema import leads, odoo_outbox, odoo_sync_config, odoo_sync_locks, odoo_sync_runs
from odoosync.store.sync_config import config_set
from odoosync.web.app import WebContext
from odoosync.web.auth import Tokens
from tests.fixtures.service import running_api

ADMIN = "adm-secret-3e8f1a6c44"
READ = "rd-secret-9b2d7c1e55"
HOOK_TOKEN = "hook-secret-5d0e8b2a77"  # the path of a Slack incoming webhook is its token


@contextmanager
def _sla_hook() -> Iterator[tuple[str, list[int]]]:
    """A Slack-like incoming webhook: answers each POST with the next status of the list."""
    statuses: list[int] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/services/T0/B0/{HOOK_TOKEN}", statuses
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _late_lead(store, title: str) -> None:
    with store.transaction() as conn:
        conn.execute(sa.insert(leads).values(title=title, deadline=dt.date(2020, 1, 1), status="open"))


def test_no_secret_in_responses_logs_runs_or_errors(store, make_simulator, caplog, capsys, tmp_path):
    caplog.set_level(logging.DEBUG)
    sim = make_simulator(version="17.0")
    secrets = [ADMIN, READ, sim.api_key, HOOK_TOKEN]
    config = OdooConfig(url=sim.url, db=sim.db, username=sim.login, api_key=sim.api_key, protocol="jsonrpc")
    seen: list[str] = []

    def keep(response: httpx.Response) -> httpx.Response:
        seen.append(f"{response.status_code} {dict(response.headers)} {response.text}")
        return response

    api_url = ""
    with OdooClient(config) as client, _sla_hook() as (hook_url, hook_statuses):
        toml = tmp_path / "odoosync.toml"
        toml.write_text(f'[sla]\nwebhook_url = "{hook_url}"\n')
        settings = load_settings({"ODOOSYNC_API_TOKEN": ADMIN}, config_path=toml)
        seen.append(repr(settings))
        jobs = Jobs(store, client, events=EventBus(), sla_webhook_url=settings.sla_webhook_url)
        scheduler = Scheduler(jobs.functions(), dict.fromkeys(jobs.functions(), "0 0 1 1 *"))
        context = WebContext(
            store=store,
            tokens=Tokens(admin=ADMIN, read=READ),
            jobs=jobs,
            scheduler=scheduler,
            client_stats=client.stats.snapshot,
        )
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
            config_set(store, "odoo_to_sb:x.unknown", {})  # no fields named: not disabled up front, fails its run
            keep(admin.post("/api/jobs/reference"))
            jobs.join(60)
            sim.expire_api_key()  # the next call fails authentication
            keep(admin.post("/api/sync/partners", json={"mode": "full"}))
            jobs.join(60)
            _late_lead(store, "told the hook")
            assert keep(admin.post("/api/sla/check")).json()["webhook_sent"] is True
            hook_statuses.append(500)
            _late_lead(store, "the hook fails")
            assert keep(admin.post("/api/sla/check")).json()["webhook_error"] == "SLA webhook failed: HTTP 500"
            for path in (
                "/api/status",
                "/api/schedule",
                "/api/runs?limit=100",
                f"/api/runs/{run_id}",
                "/api/metrics",
                "/metrics",
                "/api/outbox",
                "/api/checkpoints",
                "/api/events?max_seconds=0.3",
                "/api/health",
            ):
                keep(reader.get(path))

    # an unreachable hook: the error names the failure, not the URL
    unreachable = Jobs(store, None, sla_webhook_url=f"http://127.0.0.1:9/services/T0/B0/{HOOK_TOKEN}")
    _late_lead(store, "the hook is gone")
    seen.append(json.dumps(unreachable.check_sla(trigger="manual").as_dict()))
    with store.connect() as conn:
        tables = {
            table.name: [dict(row) for row in conn.execute(sa.select(table).order_by(*table.primary_key)).mappings()]
            for table in (odoo_sync_runs, odoo_outbox, odoo_sync_config, odoo_sync_locks)
        }
    assert [r["error"] for r in tables["odoo_sync_runs"] if r["job"] == "sla"][-2:] == [
        "SLA webhook failed: HTTP 500",
        "SLA webhook failed: ConnectError",
    ]
    failed = {r["stream"] for r in tables["odoo_sync_runs"] if r["status"] == "failed"}
    assert failed == {"x.unknown", "partners"}, "the unknown model and the expired key fail their runs"
    captured = capsys.readouterr()
    # the test's own HTTP client logs the URLs it requests (tokens placed in query strings
    # on purpose); everything else, the server's Odoo client included, is kept
    records = [r for r in caplog.records if not (r.name.startswith("httpx") and api_url in r.getMessage())]
    records = [r for r in records if not r.name.startswith("httpcore")]
    everything = "\n".join(
        [
            *seen,
            *(record.getMessage() for record in records),
            json.dumps(tables, default=str),
            captured.out,
            captured.err,
        ]
    )
    assert len(seen) >= 15 and any(r.name.startswith("odoosync") for r in records)
    for secret in secrets:
        assert secret not in everything
