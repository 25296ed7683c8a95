"""``POST /api/webhooks/odoo`` over real HTTP: Odoo's payload in, the record pulled, nothing leaked.

The service runs its real jobs against the simulator; webhooks are posted the way Odoo
17/18 posts them (``_model``, ``_id``, ``_action`` and the chosen fields read with
``load=None``, serialised with ``json.dumps(default=str)``).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import sqlalchemy as sa

from odoosync.service.freshness import read_status
from odoosync.store.schema import lead_activities, leads, odoo_sync_runs
from tests.fixtures.service import ApiServer, serve_service

SECRET = "whk-secret-91c2e0f7"


@pytest.fixture
def hooked(store, simulator) -> Iterator[ApiServer]:
    with serve_service(store, simulator, webhook_secret=SECRET) as server:
        server.context.jobs.run_job("reference", "manual")
        server.context.jobs.run_job("increments", "manual")
        yield server


def post(server: ApiServer, payload, token: str | None = SECRET) -> httpx.Response:
    params = {"token": token} if token is not None else {}
    return httpx.post(f"{server.url}/api/webhooks/odoo", params=params, json=payload, timeout=5)


def odoo_payload(env, model: str, record_id: int, fields: list[str]) -> dict:
    (values,) = env[model].read([record_id], fields, load=None)
    return {"_model": model, "_id": record_id, "_action": "odoosync(#7)", **values}


def webhook_runs(store) -> list[str]:
    with store.connect() as conn:
        return (
            conn.execute(
                sa.select(odoo_sync_runs.c.stream).where(
                    odoo_sync_runs.c.trigger == "webhook", odoo_sync_runs.c.status == "ok"
                )
            )
            .scalars()
            .all()
        )


def title_of(store, odoo_id: int) -> str | None:
    with store.connect() as conn:
        return conn.execute(sa.select(leads.c.title).where(leads.c.odoo_id == odoo_id)).scalar_one_or_none()


def wait_for(condition, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_another_backends_webhook_is_404_without_the_distributed_engine(hooked, store) -> None:
    """One process serves its own backend's webhooks; another backend's (``&backend=``)
    need ``serve --engine procrastinate``: refused, nothing pulled, the name not echoed."""
    before = webhook_runs(store)
    good = {"_model": "crm.lead", "_id": 1}
    answer = httpx.post(
        f"{hooked.url}/api/webhooks/odoo", params={"token": SECRET, "backend": "acme-x"}, json=good, timeout=5
    )
    assert answer.status_code == 404
    assert "acme-x" not in answer.text
    own = httpx.post(
        f"{hooked.url}/api/webhooks/odoo", params={"token": SECRET, "backend": "default"}, json=good, timeout=5
    )
    assert own.status_code == 202
    assert wait_for(lambda: len(webhook_runs(store)) > len(before))
    with hooked.client() as api:
        assert api.get("/api/workers").json() == {"engine": "in-process", "workers": [], "jobs": []}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_lead_write_is_pulled_after_its_webhook(hooked, store) -> None:
    with hooked.simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
        env["crm.lead"].write([lead_id], {"name": "Renamed by webhook"})
        payload = odoo_payload(env, "crm.lead", lead_id, ["write_date", "stage_id"])
    answer = post(hooked, payload)
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"queued": {"model": "crm.lead", "id": lead_id}}
    assert wait_for(lambda: len(webhook_runs(store)) == 3)
    assert title_of(store, lead_id) == "Renamed by webhook"
    assert sorted(webhook_runs(store)) == ["activities", "chatter", "leads"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_wrong_secret_401_unknown_model_422_and_the_token_is_not_logged(hooked) -> None:
    good = {"_model": "crm.lead", "_id": 1, "_action": "x(#1)"}
    for token in (None, "", "whk-secret-91c2e0f8", SECRET + "x"):
        answer = post(hooked, good, token=token)
        assert answer.status_code == 401
        assert answer.json() == {"detail": "invalid webhook token"}
    assert post(hooked, "not json at all", token="nope").status_code == 401  # the token is checked first
    for bad in (
        {"_model": "res.company", "_id": 1},
        {"_model": "crm.lead"},
        {"_model": "crm.lead", "_id": "1"},
        {"_model": "crm.lead", "_id": True},
        [1, 2],
        None,
    ):
        answer = post(hooked, bad)
        assert answer.status_code == 422, bad
        assert SECRET not in answer.text
    access = logging.getLogger("uvicorn.access")  # the line uvicorn writes for every request
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append
    access.addHandler(handler)
    level = access.level
    access.setLevel(logging.INFO)
    try:
        access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "POST", f"/api/webhooks/odoo?token={SECRET}", "1.1", 202)
    finally:
        access.removeHandler(handler)
        access.setLevel(level)
    logged = [r.getMessage() for r in records]
    assert logged and all(SECRET not in line for line in logged)
    assert "token=***" in logged[-1]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_burst_for_one_lead_is_coalesced_and_a_message_reaches_its_lead(hooked, store) -> None:
    with hooked.simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
        env["crm.lead"].write([lead_id], {"name": "Burst"})
        lead = odoo_payload(env, "crm.lead", lead_id, ["write_date"])
        message_id = env["crm.lead"].message_post([lead_id], body="<p>hello from Odoo</p>")
        message = odoo_payload(env, "mail.message", message_id, ["model", "res_id", "write_date"])
    senders = [threading.Thread(target=post, args=(hooked, p)) for p in [lead] * 8 + [message] * 4]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join()
    assert wait_for(lambda: len(webhook_runs(store)) >= 3)
    time.sleep(1.5)  # nothing more arrives: 12 webhooks, one pull of the lead family
    assert sorted(webhook_runs(store)) == ["activities", "chatter", "leads"]
    assert title_of(store, lead_id) == "Burst"
    with store.connect() as conn:
        assert (
            conn.execute(
                sa.select(sa.func.count())
                .select_from(lead_activities)
                .where(lead_activities.c.odoo_message_id == message_id)
            ).scalar_one()
            == 1
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_webhook_sent_before_odoo_commits_waits_for_the_commit(hooked, store) -> None:
    """Odoo posts from inside its transaction: the payload's write_date is newer than what
    Odoo shows until the commit. The pull must not settle for the old values."""
    sim = hooked.simulator
    with sim.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
    sim.clock.freeze()
    sim.clock.advance(5)
    later = sim.clock.now()
    payload = {"_model": "crm.lead", "_id": lead_id, "_action": "x(#1)", "write_date": str(later.replace(tzinfo=None))}
    assert post(hooked, payload).status_code == 202
    time.sleep(1.2)  # the queue probes: Odoo still shows the old record, so it waits
    assert "leads" not in webhook_runs(store)
    with sim.env() as env:  # the commit
        env["crm.lead"].write([lead_id], {"name": "Committed late"})
    assert wait_for(lambda: title_of(store, lead_id) == "Committed late")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_simulator_sends_odoos_webhooks_and_an_xmlrpc_rename_reaches_the_database(hooked, store) -> None:
    import xmlrpc.client

    from odoosync.simulator.webhooks import attach

    sim = hooked.simulator
    sender = attach(sim, f"{hooked.url}/api/webhooks/odoo?token={SECRET}")
    try:
        with sim.env() as env:
            lead_id = env["crm.lead"].search([], limit=1)[0]
        with xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/object") as models:
            models.execute_kw(
                sim.db, sim.uid, sim.password, "crm.lead", "write", [[lead_id], {"name": "Renamed over XML-RPC"}]
            )
            assert sender.sent == 1 and sender.failed == 0
            assert wait_for(lambda: title_of(store, lead_id) == "Renamed over XML-RPC", timeout=5)
            models.execute_kw(
                sim.db, sim.uid, sim.password, "crm.lead", "message_post", [[lead_id]], {"body": "<p>note</p>"}
            )
        assert sender.sent >= 2
    finally:
        sender.close()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_webhook_pulls_do_not_make_a_stale_stream_look_fresh(hooked, store) -> None:
    two_hours_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    with store.transaction() as conn:
        conn.execute(sa.update(odoo_sync_runs).values(started_at=two_hours_ago, finished_at=two_hours_ago))
    with hooked.simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
        env["crm.lead"].write([lead_id], {"name": "Webhook only"})
        payload = odoo_payload(env, "crm.lead", lead_id, ["write_date"])
    assert post(hooked, payload).status_code == 202
    assert wait_for(lambda: len(webhook_runs(store)) == 3)
    leads_status = next(s for s in read_status(store) if s.stream == "leads")
    assert leads_status.freshness == "red"  # the schedule has not synced the stream for two hours
