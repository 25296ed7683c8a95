"""A flood of webhooks for ids Odoo does not have: bounded, batched, counted, and a real
webhook in the middle of it still reaches the database. The simulator over HTTP, the
real API; the Odoo requests are counted by the simulator itself.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from odoosync.odoo.client import OdooClient
from odoosync.service.events import EventBus
from odoosync.service.jobs import Jobs
from odoosync.service.webhook_queue import PullQueue, RecordPuller
from odoosync.web.app import WebContext, create_app
from odoosync.web.auth import Tokens
from tests.fixtures.service import ADMIN_TOKEN, READ_TOKEN, serve_app, simulator_config
from tests.integration.test_webhooks import SECRET, odoo_payload, title_of, wait_for

FLOOD = 1200
MAX_PENDING = 300


@pytest.fixture
def flooded(store, simulator) -> Iterator[tuple[str, PullQueue]]:
    events = EventBus()
    with OdooClient(simulator_config(simulator)) as client:
        jobs = Jobs(store, client, events=events)
        jobs.run_job("reference", "manual")
        jobs.run_job("increments", "manual")
        context = WebContext(
            store=store,
            tokens=Tokens(admin=ADMIN_TOKEN, read=READ_TOKEN),
            events=events,
            jobs=jobs,
            webhook_secret=SECRET,
        )
        app = create_app(context)
        puller = RecordPuller(store, client, jobs.catalog, events=events, stopping=jobs.stopping)
        queue = app.state.webhook_queue = PullQueue(
            puller,
            probe=puller.probe_many,
            stopping=jobs.stopping,
            # nothing is due for 3 s: the first few hundred posts of the flood are all pending
            # at once however fast the queue drains them (a slow machine slows the senders too)
            settle=3.0,
            retry_delays=(0.2, 0.4),
            max_pending=MAX_PENDING,
        )
        with serve_app(app) as url:
            try:
                yield url, queue
            finally:
                jobs.stop()
                queue.stop()
                jobs.join(10)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_flood_of_unknown_ids_is_bounded_batched_and_does_not_starve_a_real_one(flooded, simulator, store) -> None:
    url, queue = flooded
    before = simulator.request_log.count("search_read", "crm.lead")
    with simulator.env() as env:
        lead_id = env["crm.lead"].search([], limit=1)[0]
        env["crm.lead"].write([lead_id], {"name": "Real edit in a flood"})
        real = odoo_payload(env, "crm.lead", lead_id, ["write_date"])

    def send(ids: range) -> None:
        with httpx.Client(base_url=url, timeout=30) as client:
            for odoo_id in ids:
                answer = client.post(
                    "/api/webhooks/odoo", params={"token": SECRET}, json={"_model": "crm.lead", "_id": odoo_id}
                )
                assert answer.status_code == 202

    senders = [
        threading.Thread(target=send, args=(range(9_000_000 + n * 400, 9_000_000 + (n + 1) * 400),))
        for n in range(FLOOD // 400)
    ]
    for sender in senders[:2]:
        sender.start()
    assert httpx.post(f"{url}/api/webhooks/odoo", params={"token": SECRET}, json=real, timeout=30).status_code == 202
    for sender in senders[2:]:
        sender.start()
    for sender in senders:
        sender.join(120)
    assert wait_for(lambda: title_of(store, lead_id) == "Real edit in a flood", 60)
    assert queue.wait_idle(60)

    stats = queue.stats
    assert stats.received == FLOOD + 1
    assert stats.dropped > 0  # more arrived than the queue holds
    # one read per batch of ids (plus the real lead's pull), not one or more per id
    spent = simulator.request_log.count("search_read", "crm.lead") - before
    assert spent < FLOOD / 10, spent
    assert stats.probes < FLOOD / 10

    text = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {READ_TOKEN}"}, timeout=30).text
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert families["odoosync_webhook_dropped"].samples[0].value == stats.dropped
    assert families["odoosync_webhook_queue_depth"].samples[0].value == 0
    metrics = httpx.get(f"{url}/api/metrics", headers={"Authorization": f"Bearer {READ_TOKEN}"}, timeout=30).json()
    assert metrics["webhook_queue"]["dropped"] == stats.dropped and metrics["webhook_queue"]["depth"] == 0


def test_fresh_targets_go_before_retries_and_a_full_queue_evicts_a_retry() -> None:
    from odoosync.service.webhook_queue import Outcome, Target

    queue = PullQueue(lambda target, _: Outcome.DONE, max_pending=2, settle=60)
    try:
        queue.submit(Target("crm.lead", 1))
        queue.submit(Target("crm.lead", 2))
        queue.submit(Target("crm.lead", 3))  # full of fresh targets: the newcomer is dropped
        assert queue.stats.dropped == 1 and queue.pending() == 2
        with queue._wake:  # a retry waiting (as after a NOT_YET)
            queue._pending[Target("crm.lead", 1)].attempts = 2
        queue.submit(Target("crm.lead", 4))  # evicts the retry, keeps the fresh one
        assert queue.stats.dropped == 2
        with queue._wake:
            assert set(queue._pending) == {Target("crm.lead", 2), Target("crm.lead", 4)}
    finally:
        queue.stop()
