"""Settling: what happened to each task, written back in one transaction per outcome.

Done: the new Odoo id onto the local row (and ``source_email_id``), ``odoo_write_date``
when the record holds only our change, new notes and activities stored as the pull maps
them (its own mappers: read back from Odoo, so the next pull finds nothing to change),
and the outbox items ``done``; all in one echo-guarded transaction
(``Store.transaction(origin="push")``: it queues nothing). Failed: rescheduled with the
policy's backoff, or ``failed``. Waiting for a parent: rescheduled, the attempt counted.
Outcomes apply only to items the worker still holds (``outbox``'s rule).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import OdooError
from odoosync.odoo.client import OdooClient
from odoosync.push import outbox
from odoosync.push.binder import Binder
from odoosync.push.coalesce import Change
from odoosync.push.plan import Task
from odoosync.push.policy import GiveUp, PushPolicy
from odoosync.push.result import PushResult
from odoosync.store import Store
from odoosync.store.schema import leads, scheduled_activities
from odoosync.streams import activities as activity_stream
from odoosync.streams import chatter
from odoosync.streams.leads import lead_source_id

__all__ = ["Settler"]

log = logging.getLogger("odoosync.push")

_DEPENDENCY_WAIT = dt.timedelta(seconds=5)


class Settler:
    """Writes outcomes back for one worker."""

    def __init__(
        self,
        store: Store,
        client: OdooClient,
        binder: Binder,
        *,
        worker: str,
        clock: Callable[[], dt.datetime],
        policy: Callable[[str], PushPolicy],
        subtypes: dict[int, chatter.Subtype],
    ):
        self.store = store
        self.client = client
        self.binder = binder
        self.worker = worker
        self.clock = clock
        self.policy = policy
        self._subtypes = subtypes  # shared by the engine's passes: read once per subtype

    def done(self, tasks: list[Task], result: PushResult, *, counter: str) -> None:
        """Bind, store read-backs and mark the items ``done``; ``counter`` counts the tasks."""
        now = self.clock()
        refreshed = self._refresh(tasks) if counter in ("created", "written") else {}
        if counter == "created":
            refreshed.update(self._refresh_chatter(tasks))
        with self.store.transaction(origin="push") as conn:
            for task in tasks:
                change = task.change
                if task.kind in ("create", "post") and task.odoo_id is not None and change.local_id is not None:
                    extra = dict(refreshed.get(task.odoo_id, {}))
                    if change.local_table == "leads":
                        extra.setdefault(
                            "source_email_id",
                            sa.func.coalesce(
                                leads.c.source_email_id, lead_source_id(self.binder.backend, task.odoo_id)
                            ),
                        )
                    self.binder.bind(conn, change.local_table or "", change.local_id, task.odoo_id, extra)
                elif task.kind == "write" and task.own_write_date and task.odoo_id in refreshed:
                    conn.execute(
                        sa.update(leads)
                        .where(leads.c.id == change.local_id)
                        .values(odoo_write_date=refreshed[task.odoo_id].get("odoo_write_date"))
                    )
                elif task.kind == "feedback" and change.local_id is not None:
                    conn.execute(
                        sa.update(scheduled_activities)
                        .where(
                            scheduled_activities.c.id == change.local_id, scheduled_activities.c.completed_at.is_(None)
                        )
                        .values(completed_at=now)
                    )
                settled = outbox.complete(conn, change.item_ids, worker=self.worker, now=now, odoo_id=task.odoo_id)
                if settled != len(change.item_ids):
                    log.warning("outbox items %s: lease lost before settling", change.item_ids)
                result.done += settled
                setattr(result, counter, getattr(result, counter) + 1)

    def error(self, changes: Sequence[Change], error: OdooError, result: PushResult) -> None:
        """Reschedule with backoff (transient) or fail (permanent, or out of attempts)."""
        now = self.clock()
        with self.store.transaction() as conn:
            for change in changes:
                decision = self.policy(change.model).decide(error, change.attempts, now)
                if isinstance(decision, GiveUp):
                    outbox.fail(conn, change.item_ids, worker=self.worker, now=now, error=decision.reason)
                    result.failed += len(change.item_ids)
                    result.errors.append(f"{change.model} {change.local_table}:{change.local_id}: {decision.reason}")
                else:
                    outbox.reschedule(
                        conn,
                        change.item_ids,
                        worker=self.worker,
                        now=now,
                        at=decision.at,
                        error=f"{type(error).__name__}: {error}",
                    )
                    result.retried += len(change.item_ids)

    def wait(self, change: Change, reason: str, result: PushResult) -> None:
        """A dependency is not in Odoo yet: wait, counting the attempt (a parent that never
        arrives fails the item after ``max_attempts``)."""
        now = self.clock()
        policy = self.policy(change.model)
        with self.store.transaction() as conn:
            if change.attempts >= policy.max_attempts:
                outbox.fail(conn, change.item_ids, worker=self.worker, now=now, error=reason)
                result.failed += len(change.item_ids)
                result.errors.append(reason)
            else:
                outbox.reschedule(
                    conn,
                    change.item_ids,
                    worker=self.worker,
                    now=now,
                    at=now + max(_DEPENDENCY_WAIT, policy.backoff(change.attempts)),
                    error=reason,
                )
                result.retried += len(change.item_ids)

    def _refresh(self, tasks: list[Task]) -> dict[int, dict[str, Any]]:
        """Local columns to store after a create/write, read back from Odoo (one read per model)."""
        partner_ids = sorted(
            {t.odoo_id for t in tasks if t.model == "res.partner" and t.kind == "create" and t.odoo_id}
        )
        if partner_ids:
            try:
                return {
                    int(r["id"]): {"write_date": r.get("write_date")}
                    for r in self.client.read("res.partner", partner_ids, ["write_date"], active_test=False)
                }
            except OdooError:
                return {}
        leads_ids = sorted(
            {
                t.odoo_id
                for t in tasks
                if t.model == "crm.lead" and t.odoo_id is not None and (t.kind == "create" or t.own_write_date)
            }
        )
        if not leads_ids:
            return {}
        try:
            records = self.client.read(
                "crm.lead",
                leads_ids,
                ["write_date", "stage_id", "user_id", "team_id", "probability"],
                active_test=False,
            )
        except OdooError:
            return {}  # the next pull fills these in
        created = {t.odoo_id for t in tasks if t.kind == "create"}
        out: dict[int, dict[str, Any]] = {}
        for record in records:
            values: dict[str, Any] = {"odoo_write_date": record.get("write_date")}
            if record["id"] in created:
                values["stage"] = sa.func.coalesce(leads.c.stage, _name(record.get("stage_id")))
                values["owner_name"] = sa.func.coalesce(leads.c.owner_name, _name(record.get("user_id")))
                values["team_name"] = sa.func.coalesce(leads.c.team_name, _name(record.get("team_id")))
                values["probability"] = sa.func.coalesce(leads.c.probability, record.get("probability"))
            out[int(record["id"])] = values
        return out

    def _refresh_chatter(self, tasks: list[Task]) -> dict[int, dict[str, Any]]:
        """New notes and activities as the pull maps them (its own mappers), so the next
        pull finds nothing to change. A failed read only leaves that to the next pull."""
        out: dict[int, dict[str, Any]] = {}
        notes = {t.odoo_id: t for t in tasks if t.kind == "post" and t.odoo_id is not None}
        activities = {t.odoo_id: t for t in tasks if t.model == "mail.activity" and t.kind == "create" and t.odoo_id}
        try:
            if notes:
                messages = self.client.read("mail.message", sorted(notes), list(chatter.MESSAGE_FIELDS))
                unknown = sorted(
                    {s[0] for m in messages if isinstance(s := m.get("subtype_id"), tuple)} - set(self._subtypes)
                )
                if unknown:
                    self._subtypes.update(
                        {
                            int(r["id"]): chatter.Subtype.of(r)
                            for r in self.client.read("mail.message.subtype", unknown, list(chatter.SUBTYPE_FIELDS))
                        }
                    )
                lead_ids = {int(m["res_id"]): int(notes[m["id"]].change.values["lead_id"]) for m in messages}
                rows = chatter.map_messages(messages, chatter.ChatterLookups(lead_ids, self._subtypes, {}, {}))
                out.update({row.pop("odoo_message_id"): _without(row, "lead_id") for row in rows})
            if activities:
                records = self.client.read("mail.activity", sorted(activities), list(activity_stream.ACTIVITY_FIELDS))
                lead_ids = {int(r["res_id"]): int(activities[r["id"]].change.values["lead_id"]) for r in records}
                rows = activity_stream.map_activities(records, activity_stream.ActivityLookups(lead_ids, {}))
                out.update({row.pop("odoo_activity_id"): _without(row, "lead_id") for row in rows})
        except OdooError:
            log.info("could not read back new notes/activities; the next pull maps them")
        return out


def _without(row: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


def _name(value: Any) -> str | None:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return str(value[1])
    return None
