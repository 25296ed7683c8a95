"""``odoosync serve`` as an operator runs it: a subprocess against the simulator over HTTP.

* it refuses to listen beyond loopback without a token, and says why;
* it keeps the database fresh by itself and answers ``/api/status`` with the read token;
* SIGTERM during a long run: the process exits, no lock is left, the run is ``partial``,
  an open event stream ends cleanly (not cancelled with a traceback), and the next run
  resumes from the checkpoint (reads less than everything, loses nothing);
* a job paused before a restart stays paused (start-up catch-up included) and shows in
  ``/api/schedule`` and ``odoosync status``; a sheet added by another process joins the
  running schedule.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import sqlalchemy as sa

from odoosync.service.schedule_state import paused_jobs, set_job_paused
from odoosync.store import Store
from odoosync.store import runs as run_store
from odoosync.store.schema import lead_activities, odoo_sync_locks
from odoosync.store.sync_config import config_set

ADMIN = "serve-admin-9c1d7e"
READ = "serve-read-4b2a6f"


def _env(sim, database_url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    config = tmp_path / "odoosync.toml"
    config.write_text("[sync]\npage_size = 25\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ODOO_", "ODOOSYNC_", "DATABASE_URL", "LOCK_ID"))}
    env.update({"DATABASE_URL": database_url, "ODOOSYNC_CONFIG": str(config), "COLUMNS": "200"})
    if sim is not None:
        env.update(
            {
                "ODOO_URL": sim.url,
                "ODOO_DB": sim.db,
                "ODOO_USERNAME": sim.login,
                "ODOO_PASSWORD": sim.password,
                "ODOO_PROTOCOL": "jsonrpc",
            }
        )
    env.update(extra)
    return env


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "odoosync", "serve", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=env["ODOOSYNC_CONFIG"].rsplit("/", 1)[0],
    )


class _EventStream(threading.Thread):
    """``GET /api/events`` read to its end in the background."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.lines: list[str] = []
        self.ended_cleanly = False
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            headers = {"Authorization": f"Bearer {self.token}"}
            with httpx.stream("GET", self.url, headers=headers, timeout=httpx.Timeout(10, read=60)) as response:
                for line in response.iter_lines():
                    self.lines.append(line)
            self.ended_cleanly = True
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def _wait(condition, timeout: float):
    pause = threading.Event()
    for _ in range(int(timeout / 0.1)):
        value = condition()
        if value:
            return value
        pause.wait(0.1)
    return condition()


def test_refuses_a_public_address_without_a_token(tmp_path):
    env = _env(
        None,
        f"sqlite:///{tmp_path / 'never-opened.db'}",
        tmp_path,
        ODOO_URL="http://127.0.0.1:9",
        ODOO_DB="x",
        ODOO_USERNAME="u",
        ODOO_PASSWORD="secret-password-xyz",
    )
    process = _serve(env, "--host", "0.0.0.0", "--port", str(_port()))
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "refusing to listen on 0.0.0.0" in output and "ODOOSYNC_API_TOKEN" in output
    assert "secret-password-xyz" not in output


def test_serve_keeps_fresh_and_sigterm_leaves_no_lock_and_a_resumable_run(
    make_simulator, store: Store, database_url: str, tmp_path: Path
):
    sim = make_simulator(scale=0.1, latency_ms=100)
    # small chatter pages: a walk of ~190 pages, long past its first progress report (2 s)
    config_set(store, "odoo_to_sb:mail.message", {"page_size": 20})
    port = _port()
    env = _env(sim, database_url, tmp_path, ODOOSYNC_API_TOKEN=ADMIN, ODOOSYNC_READ_TOKEN=READ)
    process = _serve(env, "--port", str(port))
    try:
        base = f"http://127.0.0.1:{port}"
        assert _wait(lambda: _answers(base), 60), "the API did not come up"
        anonymous = httpx.get(f"{base}/api/status", timeout=10)
        assert anonymous.status_code == 401
        status = httpx.get(f"{base}/api/status", headers={"Authorization": f"Bearer {READ}"}, timeout=10)
        assert status.status_code == 200 and status.json()["scheduler"] in ("running", "stopped")

        # the start-up catch-up reaches chatter, the biggest stream: stop it mid-walk
        def chatter_running():
            running = run_store.list_runs(store, 5, stream="chatter", status="running")
            return running[0] if running and running[0].counters.fetched > 0 else None

        interrupted = _wait(chatter_running, 180)
        assert interrupted is not None, "chatter never started"
        stream = _EventStream(f"{base}/api/events?heartbeat=1", READ)
        assert _wait(lambda: stream.lines, 30), "the event stream did not start"
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
        stream.join(30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert ADMIN not in output and READ not in output and sim.password not in output
    assert stream.ended_cleanly, stream.error
    assert "CancelledError" not in output and "Exception in ASGI application" not in output, output

    closed = run_store.get_run(store, interrupted.id)
    assert str(closed.status) == "partial" and closed.remaining, closed
    assert run_store.list_runs(store, 50, status="running") == []
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(odoo_sync_locks)).scalar_one() == 0
        before = conn.execute(sa.select(sa.func.count()).select_from(lead_activities)).scalar_one()

    # the next run resumes from the checkpoint: it reads what is left, and ends complete
    sim.latency_ms = 0
    resumed = subprocess.run(
        [sys.executable, "-m", "odoosync", "sync", "chatter", "--json"],
        env=env,
        text=True,
        capture_output=True,
        timeout=300,
        cwd=str(tmp_path),
    )
    assert resumed.returncode == 0, resumed.stderr
    latest = run_store.list_runs(store, 1, stream="chatter")[0]
    with store.connect() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(lead_activities)).scalar_one()
    assert str(latest.status) == "ok" and latest.id > interrupted.id
    assert before > 0 and after == before + latest.counters.inserted
    assert latest.counters.fetched < after, "the resumed run read everything again"


def test_a_paused_job_stays_paused_across_a_restart_and_sheets_join_the_running_schedule(
    make_simulator, store: Store, database_url: str, tmp_path: Path, sheet_server
):
    import json

    sim = make_simulator()
    set_job_paused(store, "increments", True)  # through the API of a `serve` that has since restarted
    port = _port()
    env = _env(
        sim,
        database_url,
        tmp_path,
        ODOOSYNC_API_TOKEN=ADMIN,
        ODOOSYNC_READ_TOKEN=READ,
        ODOOSYNC_SHEETS_ALLOW_PRIVATE="1",
    )
    process = _serve(env, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    try:
        # the scheduler starts once the start-up catch-up is over
        assert _wait(lambda: _answers(base) and admin.get("/api/health").json()["scheduler"] == "running", 120)
        health = admin.get("/api/health")
        assert health.status_code == 200 and set(health.json()["components"]) >= {
            "database",
            "odoo",
            "scheduler",
            "listener",
        }
        assert all(c["ok"] for c in health.json()["components"].values()), health.json()
        pulled = {r.stream for r in run_store.list_runs(store, 200)}
        assert "stages" in pulled, "the catch-up ran the reference job"
        assert not pulled & {"partners", "leads", "chatter", "activities"}, "and left the paused increments out"
        jobs = {job["job"]: job for job in admin.get("/api/schedule").json()["jobs"]}
        assert jobs["increments"]["paused"] is True and jobs["increments"]["next_run_at"] is None
        status = subprocess.run(
            [sys.executable, "-m", "odoosync", "status", "--json"],
            env=env,
            text=True,
            capture_output=True,
            timeout=120,
            cwd=str(tmp_path),
        )
        assert status.returncode == 0 and "increments" in json.loads(status.stdout)["paused_jobs"]

        url = sheet_server.serve_rows("/acme.csv", ["Ref", "Company", "Email"], [["R1", "Acme", "a@example.com"]])
        added = subprocess.run(
            [
                sys.executable,
                "-m",
                "odoosync",
                "sheets",
                "add",
                "--customer",
                "acme",
                "--url",
                url,
                "--key",
                "Ref",
                "--schedule",
                "*/10 * * * *",
                "--json",
            ],
            env=env,
            text=True,
            capture_output=True,
            timeout=120,
            cwd=str(tmp_path),
        )
        assert added.returncode == 0, added.stderr
        job = f"sheet:{json.loads(added.stdout)['customer_id']}"
        # the minute's refresh is not awaited: a change through this process's API refreshes at once
        assert admin.post("/api/leads/sync/resume", params={"customerId": "acme"}).status_code == 200
        jobs = {job["job"]: job for job in admin.get("/api/schedule").json()["jobs"]}
        assert jobs[job]["cron"] == "*/10 * * * *" and jobs[job]["paused"] is False and jobs[job]["next_run_at"]

        assert admin.post("/api/schedule/increments/resume").json()["paused"] is False
        assert paused_jobs(store) == {}
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        admin.close()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output


def _answers(base: str, *, healthy: bool = True) -> bool:
    """The API answers ``/api/health`` (with 200, or with anything when not ``healthy``:
    a 503 names a component that is down)."""
    try:
        code = httpx.get(f"{base}/api/health", timeout=2).status_code
    except httpx.HTTPError:
        return False
    return code == 200 or not healthy


def test_sla_check_and_schema_commands(migrated_sqlite_url, tmp_path):
    """The CLI shells (the checker itself runs on both databases in tests/integration/test_sla.py)."""
    import datetime as dt
    import json

    from odoosync.store.schema import leads

    env = _env(None, migrated_sqlite_url, tmp_path)
    # the webhook from odoosync.toml: nothing listens there, so the check reports the failure
    hook = "http://127.0.0.1:9/services/T0/B0/toml-hook-secret-41aa"
    with open(env["ODOOSYNC_CONFIG"], "a") as config:
        config.write(f'[sla]\nwebhook_url = "{hook}"\n')
    with Store(migrated_sqlite_url) as store:
        with store.transaction() as conn:
            conn.execute(sa.insert(leads).values(title="overdue deal", deadline=dt.date(2020, 1, 1), status="open"))
        run = subprocess.run(
            [sys.executable, "-m", "odoosync", "sla", "check", "--json"],
            env=env,
            text=True,
            capture_output=True,
            timeout=120,
            cwd=str(tmp_path),
        )
        assert run.returncode == 0, run.stderr
        result = json.loads(run.stdout)
        assert result["breached_count"] == 1 and result["breached"][0]["title"] == "overdue deal"
        assert result["webhook_error"] == "SLA webhook failed: ConnectError"
        assert "toml-hook-secret" not in run.stdout + run.stderr
        again = subprocess.run(
            [sys.executable, "-m", "odoosync", "sla", "check"],
            env=env,
            text=True,
            capture_output=True,
            timeout=120,
            cwd=str(tmp_path),
        )
        assert again.returncode == 0 and "0 new breach(es)" in again.stdout
        assert [str(r.status) for r in run_store.list_runs(store, 5, job="sla")] == ["ok", "ok"]

    ddl = subprocess.run(
        [sys.executable, "-m", "odoosync", "schema", "--sql"],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert ddl.returncode == 0 and "CREATE TABLE leads" in ddl.stdout and "pg_notify('odoosync_outbox'" in ddl.stdout
    both = subprocess.run(
        [sys.executable, "-m", "odoosync", "schema"],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        cwd=str(tmp_path),
    )
    assert both.returncode == 2 and "--pg-cron" in both.stderr


def test_serve_starts_without_odoo_syncs_sheets_and_links_when_odoo_comes(
    store: Store, database_url: str, tmp_path: Path, sheet_server
):
    """Issue 17 item 7: a sheets-only deployment runs; an Odoo that comes up later is linked."""
    from odoosync.sheets.state import resolve_customer, save_config
    from odoosync.simulator import Simulator
    from odoosync.simulator.simulator import DEFAULT_DB, DEFAULT_LOGIN, DEFAULT_PASSWORD

    url = sheet_server.serve_rows("/acme.csv", ["Ref", "Company"], [["R1", "Acme"], ["R2", "Acme 2"]])
    customer = resolve_customer(store, "acme", create=True)
    save_config(store, customer, sheet_url=url, column_map={}, key_column="Ref", schedule=None, push_to_odoo=False)
    odoo_port = _port()
    sim = None  # nothing listens on odoo_port until the simulator is made
    env = _env(
        None,
        database_url,
        tmp_path,
        ODOOSYNC_API_TOKEN=ADMIN,
        ODOOSYNC_READ_TOKEN=READ,
        ODOOSYNC_SHEETS_ALLOW_PRIVATE="1",
        ODOO_URL=f"http://127.0.0.1:{odoo_port}",
        ODOO_DB=DEFAULT_DB,
        ODOO_USERNAME=DEFAULT_LOGIN,
        ODOO_PASSWORD=DEFAULT_PASSWORD,
        ODOO_PROTOCOL="jsonrpc",
    )
    port = _port()
    process = _serve(env, "--no-schedule", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    admin = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=30)
    try:
        assert _wait(lambda: _answers(base, healthy=False), 90), "the API did not come up without Odoo"
        assert _wait(lambda: admin.get("/api/health").json()["odoo"].startswith("unreachable since"), 60)
        down = admin.get("/api/health")  # a configured Odoo that is down is a component down: 503
        assert down.status_code == 503 and down.json()["components"]["odoo"]["ok"] is False
        assert down.json()["components"]["database"]["ok"] is True
        assert admin.post("/api/jobs/increments").status_code == 503  # needs Odoo: not yet

        assert admin.post("/api/leads/sync/trigger", params={"customerId": "acme"}).status_code == 202
        done = _wait(
            lambda: (
                (s := admin.get("/api/leads/sync/status", params={"customerId": "acme"}).json())["rowsInserted"] == 2
                and not s["isRunning"]
            ),
            60,
        )
        assert done, "the sheet did not sync without Odoo"

        sim = Simulator(0.02, port=odoo_port).start()
        assert _wait(lambda: admin.get("/api/health").json()["odoo"] == "ok", 120), admin.get("/api/health").json()
        assert _wait(lambda: admin.get("/api/health").json()["components"]["odoo"]["ok"] is True, 60)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        admin.close()
        if sim is not None:
            sim.stop()
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output, output


def test_serve_runs_with_no_odoo_configured(migrated_sqlite_url: str, tmp_path: Path):
    env = _env(None, migrated_sqlite_url, tmp_path, ODOOSYNC_API_TOKEN=ADMIN, ODOOSYNC_READ_TOKEN=READ)
    port = _port()
    process = _serve(env, "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    try:
        assert _wait(lambda: _answers(base, healthy=False), 90), "the API did not come up without Odoo"
        assert _wait(lambda: httpx.get(f"{base}/api/health", timeout=5).json()["scheduler"] == "running", 60)
        health = httpx.get(f"{base}/api/health", timeout=5).json()
        assert (health["ok"], health["odoo"]) == (True, "not configured")
        schedule = httpx.get(f"{base}/api/schedule", headers={"Authorization": f"Bearer {READ}"}, timeout=5).json()
        assert [job["job"] for job in schedule["jobs"]] == ["sla"]  # no Odoo job fires in vain
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
