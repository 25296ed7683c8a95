"""The SLA checker (C7) on SQLite and PostgreSQL: breach, resolve, idempotence, concurrency.

Every case asserts on ``leads.sla_escalated_at`` and the ``lead_events`` rows, the
contract the dashboard and alerting read.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import sqlalchemy as sa

from odoosync.service.sla import SlaPolicy, breach_cutoff, check_sla
from odoosync.store import Store
from odoosync.store.schema import lead_events, leads, odoo_outbox, scheduled_activities

NOW = dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC)
YESTERDAY = dt.date(2026, 3, 9)  # ended at 2026-03-10 00:00 UTC: 12 h overdue at NOW
TODAY = dt.date(2026, 3, 10)


def _lead(
    store: Store, title: str, *, deadline=YESTERDAY, status="open", deleted=False, odoo_id=None, owner="Ann"
) -> int:
    with store.transaction() as conn:
        return conn.execute(
            sa.insert(leads)
            .values(
                title=title,
                deadline=deadline,
                status=status,
                owner_name=owner,
                odoo_id=odoo_id,
                deleted_at=NOW if deleted else None,
            )
            .returning(leads.c.id)
        ).scalar_one()


def _events(store: Store) -> list[tuple[int, str]]:
    with store.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(sa.select(lead_events.c.lead_id, lead_events.c.event_type).order_by(lead_events.c.id))
        ]


def _escalated(store: Store, lead_id: int) -> dt.datetime | None:
    with store.connect() as conn:
        return conn.execute(sa.select(leads.c.sla_escalated_at).where(leads.c.id == lead_id)).scalar_one()


def test_cutoff_is_end_of_deadline_day_plus_grace():
    assert breach_cutoff(NOW, dt.timedelta(0)) == YESTERDAY
    assert breach_cutoff(NOW, dt.timedelta(hours=13)) == dt.date(2026, 3, 8)
    assert breach_cutoff(dt.datetime(2026, 3, 10, 0, 0, tzinfo=dt.UTC), dt.timedelta(0)) == YESTERDAY


def test_only_open_past_deadline_leads_breach(store):
    overdue = _lead(store, "overdue")
    _lead(store, "won", status="won")
    _lead(store, "lost", status="lost")
    _lead(store, "deleted", deleted=True)
    _lead(store, "due today", deadline=TODAY)
    _lead(store, "no deadline", deadline=None)

    result = check_sla(store, now=NOW)

    assert [b.lead_id for b in result.breached] == [overdue]
    assert result.breached[0].hours_overdue == 12.0
    assert result.breached[0].owner == "Ann"
    assert _events(store) == [(overdue, "sla_breach")]
    assert _escalated(store, overdue) == NOW
    with store.connect() as conn:
        payload = conn.execute(sa.select(lead_events.c.payload)).scalar_one()
    assert payload["deadline"] == "2026-03-09" and payload["hours_overdue"] == 12.0 and payload["owner"] == "Ann"


def test_grace_delays_the_breach(store):
    lead = _lead(store, "overdue")
    assert check_sla(store, SlaPolicy(grace=dt.timedelta(hours=13)), now=NOW).breached == ()
    assert [b.lead_id for b in check_sla(store, SlaPolicy(grace=dt.timedelta(hours=11)), now=NOW).breached] == [lead]


def test_twice_in_a_row_escalates_once(store):
    lead = _lead(store, "overdue")
    first = check_sla(store, now=NOW)
    second = check_sla(store, now=NOW + dt.timedelta(minutes=5))
    assert len(first.breached) == 1 and second.breached == () and second.resolved == ()
    assert _events(store) == [(lead, "sla_breach")]
    assert _escalated(store, lead) == NOW


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"deadline": dt.date(2026, 4, 1)}, "deadline_moved"),
        ({"status": "won"}, "won"),
        ({"status": "lost"}, "lost"),
        ({"deleted_at": NOW}, "deleted"),
    ],
)
def test_resolved_then_breaches_again(store, change, reason):
    lead = _lead(store, "overdue")
    check_sla(store, now=NOW)
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead).values(**change))

    result = check_sla(store, now=NOW + dt.timedelta(minutes=5))

    assert [(r.lead_id, r.reason) for r in result.resolved] == [(lead, reason)]
    assert _escalated(store, lead) is None
    assert _events(store) == [(lead, "sla_breach"), (lead, "sla_resolved")]

    # back in breach (deadline passed again / reopened / restored): escalates again
    with store.transaction() as conn:
        conn.execute(sa.update(leads).where(leads.c.id == lead).values(status="open", deleted_at=None))
    later = NOW + (dt.timedelta(days=30) if reason == "deadline_moved" else dt.timedelta(minutes=10))
    again = check_sla(store, now=later)
    assert [b.lead_id for b in again.breached] == [lead]
    assert [e for _, e in _events(store)] == ["sla_breach", "sla_resolved", "sla_breach"]


def test_two_checkers_at_once_escalate_each_lead_once(store):
    ids = [_lead(store, f"lead {i}") for i in range(30)]
    barrier = threading.Barrier(4)
    results = []
    errors = []

    def checker():
        try:
            barrier.wait(10)
            results.append(check_sla(store, now=NOW))
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=checker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert sorted(b.lead_id for r in results for b in r.breached) == ids
    assert sorted(lead for lead, _ in _events(store)) == ids


def test_odoo_activity_for_the_owner_goes_through_the_outbox(store):
    lead = _lead(store, "in odoo", odoo_id=501, owner="Ann")
    _lead(store, "app only", odoo_id=None)
    with store.transaction() as conn:
        conn.execute(sa.delete(odoo_outbox))  # the app-made lead's own create

    result = check_sla(store, SlaPolicy(odoo_activity=True), now=NOW)

    assert result.activities_queued == 1
    with store.connect() as conn:
        todo = conn.execute(sa.select(scheduled_activities)).one()
        items = conn.execute(sa.select(odoo_outbox)).all()
    assert (todo.lead_id, todo.summary, todo.assigned_name, todo.due_date) == (lead, "SLA breached", "Ann", TODAY)
    assert [(i.model, i.operation, i.local_table, i.local_id) for i in items] == [
        ("mail.activity", "create", "scheduled_activities", todo.id)
    ]


class _Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append(json.loads(body))
        self.send_response(type(self).status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook_server():
    _Hook.received = []
    _Hook.status = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hooks/T000/SECRETPART", _Hook
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_webhook_gets_slack_text_and_failure_rolls_nothing_back(store, webhook_server, caplog):
    caplog.set_level(logging.DEBUG)
    url, hook = webhook_server
    _lead(store, "Big deal")
    result = check_sla(store, SlaPolicy(webhook_url=url), now=NOW)
    assert result.webhook_sent and result.webhook_error is None
    assert "Big deal" in hook.received[0]["text"] and "SLA breached" in hook.received[0]["text"]

    hook.status = 500
    second = _lead(store, "Second deal")
    failed = check_sla(store, SlaPolicy(webhook_url=url), now=NOW)
    assert [b.lead_id for b in failed.breached] == [second]
    assert failed.webhook_error == "SLA webhook failed: HTTP 500"
    assert _escalated(store, second) == NOW  # the breach stays recorded
    # the URL carries the hook's token: no log line shows it, not even httpx's at DEBUG
    assert caplog.records and not [r for r in caplog.records if "SECRETPART" in r.getMessage()]
