"""SLA breach checker: escalate open leads whose deadline has passed, once.

SLA deadlines set in Odoo escalate on their own here. A lead is *in breach*
when it is open (not won, not lost, not deleted), has a ``deadline``, and the end of that
day (UTC) plus the grace period is in the past. Each check:

* **breach**: every lead in breach and not yet escalated gets ``sla_escalated_at`` and a
  ``lead_events`` row (``event_type = 'sla_breach'``, payload: lead, title, owner,
  deadline, hours overdue), in one transaction; optionally (``odoo_activity``) an
  "SLA breached" to-do for the lead's owner is scheduled in that same transaction, which
  the outbox trigger queues as a ``mail.activity`` create for Odoo;
* **resolve**: every escalated lead no longer in breach (deadline moved into the future,
  won, lost or deleted) loses ``sla_escalated_at`` and gets an ``sla_resolved`` event,
  so a later breach escalates again;
* after commit, an optional outgoing webhook (Slack-compatible ``{"text": ...}``) is
  told about the new breaches. A webhook failure is reported, never rolls anything back.

Idempotent, also under concurrent checkers: the escalation is one conditional
``UPDATE ... WHERE sla_escalated_at IS NULL ... RETURNING``. On PostgreSQL a second
checker's UPDATE waits on the first one's row locks and then re-evaluates its ``WHERE``
(the rows are escalated by then, so it returns nothing); SQLite serialises writers.
Only the rows an UPDATE returned get events, so each breach is recorded exactly once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa

from odoosync.store import Store
from odoosync.store.schema import lead_events, leads, scheduled_activities

__all__ = ["SlaPolicy", "SlaBreach", "SlaResult", "check_sla", "SLA_CONFIG_KEY", "breach_cutoff"]

log = logging.getLogger(__name__)

SLA_CONFIG_KEY = "sla"
"""``ops.odoo_sync_config`` key: ``{"grace_hours": 0, "odoo_activity": false}``."""


@dataclass(frozen=True)
class SlaPolicy:
    """How the checker escalates. ``webhook_url`` is a secret-bearing URL: never shown."""

    grace: dt.timedelta = dt.timedelta(0)
    odoo_activity: bool = False
    webhook_url: str | None = field(default=None, repr=False)
    webhook_timeout: float = 10.0

    @classmethod
    def from_config(cls, value: Mapping[str, Any] | None, *, webhook_url: str | None = None) -> SlaPolicy:
        value = value or {}
        return cls(
            grace=dt.timedelta(hours=float(value.get("grace_hours", 0))),
            odoo_activity=bool(value.get("odoo_activity", False)),
            webhook_url=webhook_url,
        )


@dataclass(frozen=True)
class SlaBreach:
    """One lead that breached (or was resolved) in this check."""

    lead_id: int
    title: str
    owner: str | None
    deadline: dt.date | None
    hours_overdue: float | None
    odoo_id: int | None = None
    reason: str | None = None  # for resolutions: deadline_moved | won | lost | deleted

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "lead_id": self.lead_id,
            "title": self.title,
            "owner": self.owner,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "odoo_id": self.odoo_id,
        }
        if self.hours_overdue is not None:
            data["hours_overdue"] = self.hours_overdue
        if self.reason is not None:
            data["reason"] = self.reason
        return data


@dataclass(frozen=True)
class SlaResult:
    """What one check did. ``webhook_error`` is set when the webhook could not be told."""

    breached: Sequence[SlaBreach] = ()
    resolved: Sequence[SlaBreach] = ()
    activities_queued: int = 0
    webhook_sent: bool = False
    webhook_error: str | None = None
    checked_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "breached": [b.payload() for b in self.breached],
            "resolved": [r.payload() for r in self.resolved],
            "breached_count": len(self.breached),
            "resolved_count": len(self.resolved),
            "activities_queued": self.activities_queued,
            "webhook_sent": self.webhook_sent,
            "webhook_error": self.webhook_error,
            "checked_at": self.checked_at.isoformat() if self.checked_at else None,
        }


def breach_cutoff(now: dt.datetime, grace: dt.timedelta) -> dt.date:
    """The latest deadline that is in breach at ``now``.

    A deadline is a date; it passes at the end of that day (UTC), plus the grace:
    ``deadline + 1 day + grace <= now``  ⇔  ``deadline <= (now - grace - 1 day).date()``.
    """
    return (now.astimezone(dt.UTC) - grace - dt.timedelta(days=1)).date()


def _hours_overdue(deadline: dt.date, now: dt.datetime) -> float:
    end_of_day = dt.datetime.combine(deadline + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    return round((now - end_of_day).total_seconds() / 3600, 2)


def check_sla(
    store: Store,
    policy: SlaPolicy = SlaPolicy(),
    *,
    now: dt.datetime | None = None,
) -> SlaResult:
    """Escalate new breaches and resolve old ones; see the module docstring."""
    now = now or dt.datetime.now(dt.UTC)
    cutoff = breach_cutoff(now, policy.grace)
    in_breach = sa.and_(
        leads.c.status == "open",
        leads.c.deleted_at.is_(None),
        leads.c.deadline.is_not(None),
        leads.c.deadline <= cutoff,
    )
    returning = (
        leads.c.id,
        leads.c.title,
        leads.c.owner_name,
        leads.c.deadline,
        leads.c.odoo_id,
        leads.c.status,
        leads.c.deleted_at,
    )
    with store.transaction() as conn:
        escalated_rows = conn.execute(
            sa.update(leads)
            .where(leads.c.sla_escalated_at.is_(None), in_breach)
            .values(sla_escalated_at=now)
            .returning(*returning)
        ).all()
        resolved_rows = conn.execute(
            sa.update(leads)
            .where(leads.c.sla_escalated_at.is_not(None), sa.not_(in_breach))
            .values(sla_escalated_at=None)
            .returning(*returning)
        ).all()
        breached = tuple(
            SlaBreach(row.id, row.title, row.owner_name, row.deadline, _hours_overdue(row.deadline, now), row.odoo_id)
            for row in sorted(escalated_rows, key=lambda r: r.id)
        )
        resolved = tuple(
            SlaBreach(row.id, row.title, row.owner_name, row.deadline, None, row.odoo_id, _resolution(row))
            for row in sorted(resolved_rows, key=lambda r: r.id)
        )
        events = [
            {"lead_id": b.lead_id, "event_type": "sla_breach", "payload": b.payload(), "created_at": now}
            for b in breached
        ] + [
            {"lead_id": r.lead_id, "event_type": "sla_resolved", "payload": r.payload(), "created_at": now}
            for r in resolved
        ]
        if events:
            conn.execute(sa.insert(lead_events), events)
        queued = _queue_odoo_activities(conn, breached, now) if policy.odoo_activity else 0
    result = SlaResult(breached=breached, resolved=resolved, activities_queued=queued, checked_at=now)
    if breached and policy.webhook_url:
        result = _notify(result, policy)
    return result


def _resolution(row: Any) -> str:
    if row.deleted_at is not None:
        return "deleted"
    if row.status in ("won", "lost"):
        return str(row.status)
    return "deadline_moved" if row.deadline is not None else "deadline_removed"


def _queue_odoo_activities(conn: sa.Connection, breached: Sequence[SlaBreach], now: dt.datetime) -> int:
    """A "SLA breached" to-do for the owner of each breached lead that is in Odoo.

    It is an app-side ``scheduled_activities`` row: the outbox trigger queues its
    ``mail.activity`` create in this same transaction, and the push engine maps it
    (owner name → Odoo user) like any other activity the app schedules.
    """
    rows = [
        {
            "lead_id": breach.lead_id,
            "activity_type": "todo",
            "summary": "SLA breached",
            "note": f"Deadline {breach.deadline.isoformat() if breach.deadline else '?'} passed "
            f"{breach.hours_overdue} hours ago.",
            "due_date": now.date(),
            "assigned_name": breach.owner,
            "status": "planned",
        }
        for breach in breached
        if breach.odoo_id is not None
    ]
    if rows:
        conn.execute(sa.insert(scheduled_activities), rows)
    return len(rows)


def _notify(result: SlaResult, policy: SlaPolicy) -> SlaResult:
    lines = [f"SLA breached on {len(result.breached)} lead(s):"]
    for b in result.breached[:20]:
        lines.append(
            f"• {b.title} (owner {b.owner or 'unassigned'}, deadline {b.deadline}, {b.hours_overdue} h overdue)"
        )
    if len(result.breached) > 20:
        lines.append(f"… and {len(result.breached) - 20} more")
    body = {"text": "\n".join(lines), "breaches": [b.payload() for b in result.breached]}
    try:
        status = _post_json(str(policy.webhook_url), body, policy.webhook_timeout)
    except Exception as exc:  # noqa: BLE001 - the breach is recorded; the channel is best-effort
        # The URL carries a secret (Slack webhook URLs do): name the failure, not the URL.
        error = f"SLA webhook failed: {type(exc).__name__}"
    else:
        if status < 400:
            return dataclasses.replace(result, webhook_sent=True)
        error = f"SLA webhook failed: HTTP {status}"
    log.warning(error)
    return dataclasses.replace(result, webhook_error=error)


def _post_json(url: str, body: Mapping[str, Any], timeout: float) -> int:
    """POST ``body`` and return the status code, through the transport alone.

    ``httpx.Client`` logs every request's URL (at INFO); this URL is a secret, so the
    request skips the client. Proxies from the environment (``HTTPS_PROXY``, ``NO_PROXY``)
    still apply, as they would through a client.
    """
    request = httpx.Request("POST", url, json=body, extensions={"timeout": httpx.Timeout(timeout).as_dict()})
    with httpx.HTTPTransport(proxy=_environment_proxy(request.url)) as transport:
        response = transport.handle_request(request)
        try:
            response.read()
        finally:
            response.close()
    return response.status_code


def _environment_proxy(url: httpx.URL) -> str | None:
    if urllib.request.proxy_bypass(url.host):
        return None
    return urllib.request.getproxies().get(url.scheme)
