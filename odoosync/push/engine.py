"""The push engine: claimed outbox items → Odoo calls → bindings and outcomes.

One pass (:meth:`PushEngine.push_batch`) is the OCA exporter's template method applied to
a whole batch, each step small and in order:

1. **claim** a batch (``outbox.claim``) and **coalesce** it per record;
2. **skip** no-ops (edits undone, a create deleted before it was sent);
3. **dependencies**: bindings preloaded in one query per table; models go parents first
   (partners, leads, then activities and notes) so a note on a lead created in the same
   batch finds the lead's new id; a write to a row that never reached Odoo becomes a
   create of the current row;
4. **map** app values to Odoo values (``push_mappers``, pure);
5. **conflicts**: one ``read`` per model of the records about to be written, decided per
   field by the model's policy (``conflicts.resolve``), every conflict recorded;
6. **create / write**, batched where Odoo allows: one ``load`` per model for all its
   creates (each row under its external id ``odoosync.<backend>_<table>_<token>``, so a
   retried create whose answer was lost updates the record it made instead of making a
   second one), one ``write`` for all ids sharing the same values, one ``unlink`` /
   archive per model, one ``action_feedback`` for all activities marked done; notes go
   one ``message_post`` each (Odoo posts on one record at a time) with a Message-Id
   marker that every attempt, the first included, looks up first (another worker may
   have posted it under a lease it then lost);
7. **bind** and settle, in one echo-guarded transaction: the new Odoo id onto the local
   row (and ``source_email_id``), ``odoo_write_date`` when the record is known to hold
   only our change (so the next pull skips it), the outbox items ``done``.

The batch's lease is renewed while it runs (``push_lease.LeaseKeeper``), and checked
before every Odoo call: an item another worker reclaimed is not pushed a second time.

A batched call that fails permanently is split and retried item by item in the same
pass, so one poison item fails alone. Transient failures are rescheduled with backoff
(``PushPolicy.decide``). Time comes from an injectable clock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.push import outbox
from odoosync.push.binder import BINDING_COLUMNS, XID_MODULE, Binder, xid_name
from odoosync.push.coalesce import Change, coalesce
from odoosync.push.conflicts import FieldConflict, resolve
from odoosync.exceptions import MissingRecord, OdooError, OdooPermanentError, OdooServerError, OdooValidationError
from odoosync.odoo.client import OdooClient
from odoosync.push.mappers import map_values
from odoosync.push.lease import LeaseKeeper
from odoosync.push.policy import CONFIG_PREFIX, GiveUp, PushPolicy, parse_policy
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_stages, odoo_sync_config, odoo_sync_conflicts, scheduled_activities
from odoosync.store.triggers import WATCHED
from odoosync.streams import activities as activity_stream
from odoosync.streams import chatter

__all__ = ["PushEngine", "PushResult", "Clock", "load_policies", "demo_edits", "demo_push", "MODEL_ORDER", "DEFAULT_LEASE"]

log = logging.getLogger("odoosync.push")

Clock = Callable[[], dt.datetime]
MODEL_ORDER = ("res.partner", "crm.lead", "mail.activity", "mail.message")
_LOADABLE = ("crm.lead", "mail.activity", "res.partner")
_WATCHED = {w.table: w for w in WATCHED}
DEFAULT_LEASE = dt.timedelta(minutes=5)
_DEPENDENCY_WAIT = dt.timedelta(seconds=5)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class PushResult:
    """What pushes did: items by outcome, Odoo calls, conflicts."""

    claimed: int = 0
    done: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0
    created: int = 0
    written: int = 0
    deleted: int = 0
    conflicts: int = 0
    lost: int = 0  # changes not pushed: their lease went to another worker
    rpc_calls: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: PushResult) -> None:
        for name in ("claimed", "done", "retried", "failed", "skipped", "created", "written", "deleted",
                     "conflicts", "lost", "rpc_calls"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors.extend(other.errors)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"errors": self.errors[:20]}


def load_policies(store: Store) -> dict[str, PushPolicy]:
    """Every ``sb_to_odoo:<model>`` policy in ``ops.odoo_sync_config``, validated."""
    with store.connect() as conn:
        rows = conn.execute(
            sa.select(odoo_sync_config.c.key, odoo_sync_config.c.value).where(odoo_sync_config.c.key.startswith(CONFIG_PREFIX))
        ).all()
    return {key[len(CONFIG_PREFIX):]: parse_policy(key[len(CONFIG_PREFIX):], value) for key, value in rows}


@dataclass
class _Task:
    """One change on its way: the Odoo call it becomes and how to settle it."""

    change: Change
    kind: str  # create | write | unlink | archive | feedback | post | call | noop
    odoo_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)
    local_extra: dict[str, Any] = field(default_factory=dict)
    own_write_date: bool = False

    @property
    def model(self) -> str:
        return self.change.model


class PushEngine:
    """Pushes claimed outbox items to one Odoo backend."""

    def __init__(
        self,
        store: Store,
        client: OdooClient,
        *,
        backend: str = "default",
        worker: str | None = None,
        clock: Clock = _utcnow,
        lease: dt.timedelta = DEFAULT_LEASE,
        policies: Mapping[str, PushPolicy] | None = None,
        after_odoo_call: Callable[[str], None] | None = None,
        models: Sequence[str] | None = None,
    ):
        self.store = store
        self.client = client
        self.backend = backend
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.clock = clock
        self.lease = lease
        self.policies = dict(policies) if policies is not None else load_policies(store)
        self._after_odoo_call = after_odoo_call
        self.models = tuple(models) if models else None  # push only these models' items
        self._binder = Binder(store, client, backend=backend)
        self._subtypes: dict[int, chatter.Subtype] = {}
        self._lease: LeaseKeeper | None = None  # the running batch's

    def policy(self, model: str) -> PushPolicy:
        return self.policies.get(model, PushPolicy())

    # ------------------------------------------------------------------ the pass

    def push_batch(self, limit: int | None = None) -> PushResult:
        """Claim one batch, push it, settle every item; the result of this pass."""
        result = PushResult()
        batch = limit or max((p.max_batch for p in self.policies.values()), default=PushPolicy().max_batch)
        if self.models and limit is None:
            batch = min(self.policy(m).max_batch for m in self.models)
        rows = outbox.claim(self.store, worker=self.worker, now=self.clock(), lease=self.lease, limit=batch,
                            backend=self.backend, models=self.models)
        result.claimed = len(rows)
        if not rows:
            return result
        before = self.client.stats.snapshot().requests
        binder = self._binder
        binder.reset_bindings()
        changes = coalesce(row.as_queued() for row in rows)
        by_model: dict[str, list[Change]] = {}
        for change in changes:
            by_model.setdefault(change.model, []).append(change)
        keeper = LeaseKeeper(self.store, [row.id for row in rows], worker=self.worker, lease=self.lease, clock=self.clock)
        with keeper:
            self._lease = keeper
            try:
                for model in sorted(by_model, key=lambda m: MODEL_ORDER.index(m) if m in MODEL_ORDER else len(MODEL_ORDER)):
                    self._push_model(model, by_model[model], binder, result)
            finally:
                self._lease = None
        result.rpc_calls = self.client.stats.snapshot().requests - before
        return result

    def push_all(self, *, max_passes: int = 1000) -> PushResult:
        """Passes until nothing is ready (items in backoff wait for a later run)."""
        total = PushResult()
        for _ in range(max_passes):
            result = self.push_batch()
            total.add(result)
            if result.claimed == 0:
                break
        return total

    # ------------------------------------------------------------------ per model

    def _push_model(self, model: str, changes: list[Change], binder: Binder, result: PushResult) -> None:
        policy = self.policy(model)
        binder.preload(_wanted_bindings(changes))
        tasks: list[_Task] = []
        for change in changes:
            try:
                tasks.append(self._plan(change, binder, policy))
            except _Wait as wait:
                self._settle_wait(change, str(wait), result)
            except OdooError as exc:
                self._settle_error([change], exc, result)
        groups: dict[str, list[_Task]] = {}
        for task in tasks:
            groups.setdefault(task.kind, []).append(task)
        if groups.get("noop"):
            self._settle_done(groups.pop("noop"), result, counter="skipped")
        if "write" in groups or "archive" in groups:
            kept = self._resolve_conflicts([*groups.pop("write", []), *groups.pop("archive", [])], policy, result)
            for task in kept:
                groups.setdefault(task.kind, []).append(task)
        for kind in ("create", "write", "archive", "unlink", "feedback", "post", "call"):
            if groups.get(kind):
                self._run_batched(kind, groups[kind], result)

    def _plan(self, change: Change, binder: Binder, policy: PushPolicy) -> _Task:
        """Skip → dependencies → map: the Odoo call one change needs."""
        if change.operation == "noop":
            return _Task(change, "noop")
        if change.operation == "call":
            return _Task(change, "call", odoo_id=change.odoo_id)
        table = change.local_table or ""
        bound = binder.odoo_id(table, change.local_id) if change.local_id is not None else None
        odoo_id = bound or change.odoo_id
        if change.operation == "unlink":
            return self._plan_unlink(change, binder, policy, odoo_id)
        if change.operation == "write" and odoo_id is None:
            current = self._current_row(table, change.local_id)
            if current is None or current.get("deleted_at") is not None:
                return _Task(change, "noop")  # gone or deleted in the app: nothing to create
            change = Change(change.model, "create", table, change.local_id, None, current, {}, change.xid or
                            f"w{change.items[0].id}", None, change.items)
        if change.operation == "create":
            if odoo_id is not None:  # already bound (an earlier attempt's create was settled)
                return _Task(change, "noop")
            self._require_parent(change, binder)
            values = map_values(table, change.values, binder, creating=True)
            if table == "lead_activities":
                return _Task(change, "post", values=values)
            return _Task(change, "create", values=values)
        # write
        values = dict(change.values)
        if table == "scheduled_activities" and "status" in values:
            status = values.pop("status")
            if status == "done":
                return _Task(change, "feedback", odoo_id=odoo_id)
            if status == "cancelled":
                return _Task(change, "unlink", odoo_id=odoo_id)
        deleted = values.pop("deleted_at", _ABSENT)
        if deleted is not _ABSENT and deleted is not None:
            kind = "archive" if policy.on_delete == "archive" else "unlink"
            return _Task(change, kind, odoo_id=odoo_id, values={"active": False} if kind == "archive" else {})
        mapped = map_values(table, values, binder, creating=False)
        if deleted is not _ABSENT:  # restored in the app
            mapped["active"] = True
        if table == "leads" and mapped.get("active") is False and "stage_id" not in mapped:
            mapped.update(self._out_of_won_stage(change.local_id))
        if not mapped:
            return _Task(change, "noop")
        try:
            base = map_values(table, {k: v for k, v in change.old.items() if k in values}, binder, creating=False)
        except OdooError:
            base = {}
        return _Task(change, "write", odoo_id=odoo_id, values=mapped, base=base)

    def _plan_unlink(self, change: Change, binder: Binder, policy: PushPolicy, odoo_id: int | None) -> _Task:
        if odoo_id is None and change.xid:
            odoo_id = binder.find_xids([xid_name(self.backend, change.local_table or "", change.xid)]).get(
                xid_name(self.backend, change.local_table or "", change.xid))
        if odoo_id is None:
            return _Task(change, "noop")
        if change.model in ("crm.lead", "res.partner") and policy.on_delete == "archive":
            return _Task(change, "archive", odoo_id=odoo_id, values={"active": False})
        return _Task(change, "unlink", odoo_id=odoo_id)

    def _require_parent(self, change: Change, binder: Binder) -> None:
        lead_id = change.values.get("lead_id")
        if (
            change.local_table in ("lead_activities", "scheduled_activities")
            and lead_id is not None
            and binder.odoo_id("leads", int(lead_id)) is None
        ):
            raise _Wait(f"lead {lead_id} is not in Odoo yet")

    def _out_of_won_stage(self, lead_id: int | None) -> dict[str, Any]:
        """A lead lost in the app while in a won stage first leaves it, as Odoo's own UI
        requires (Odoo 19 refuses "A lead in a Won stage cannot be lost"; 17 and 18 would
        keep a lost lead in a won stage): it goes to the last stage that is not won."""
        with self.store.connect() as conn:
            won = conn.execute(
                sa.select(odoo_stages.c.is_won).join(leads, leads.c.stage == odoo_stages.c.name)
                .where(leads.c.id == lead_id, odoo_stages.c.deleted_at.is_(None)).limit(1)
            ).scalar()
            if not won:
                return {}
            stage = conn.execute(
                sa.select(odoo_stages.c.odoo_id).where(odoo_stages.c.is_won.is_(False), odoo_stages.c.deleted_at.is_(None))
                .order_by(odoo_stages.c.sequence.desc(), odoo_stages.c.odoo_id).limit(1)
            ).scalar()
        return {} if stage is None else {"stage_id": int(stage)}

    def _current_row(self, table: str, local_id: int | None) -> dict[str, Any] | None:
        watched = _WATCHED[table]
        sa_table = _table(table)
        with self.store.connect() as conn:
            row = conn.execute(
                sa.select(*(sa_table.c[c] for c in watched.columns)).where(sa_table.c[watched.key] == local_id)
            ).first()
        return dict(row._mapping) if row is not None else None

    # ------------------------------------------------------------------ conflicts

    def _resolve_conflicts(self, tasks: list[_Task], policy: PushPolicy, result: PushResult) -> list[_Task]:
        """Read Odoo's current values once and keep only the fields the policy lets through;
        the tasks still to run."""
        targets = [t for t in tasks if t.odoo_id is not None]
        if not targets:
            return tasks
        model = targets[0].model
        fields = sorted({f for t in targets for f in t.values} | {"write_date"})
        try:
            current = {r["id"]: r for r in self.client.read(model, sorted({t.odoo_id for t in targets if t.odoo_id is not None}), fields,
                                                            active_test=False)}
        except OdooError as exc:
            self._settle_error([t.change for t in targets], exc, result)
            return [t for t in tasks if t.odoo_id is None]
        stamps = self._local_write_dates(targets)
        records: list[tuple[_Task, FieldConflict]] = []
        for task in targets:
            odoo = current.get(task.odoo_id)
            if odoo is None:
                continue  # vanished: the call reports MissingRecord
            resolution = resolve(policy.conflict_policy, task.values, task.base, odoo,
                                 app_changed_at=task.change.changed_at, odoo_changed_at=odoo.get("write_date"))
            task.values = resolution.values
            records += [(task, c) for c in resolution.conflicts]
            lost = any(c.winner == "odoo" for c in resolution.conflicts)
            task.own_write_date = (task.model == "crm.lead" and not lost
                                   and task.change.local_id is not None
                                   and stamps.get(task.change.local_id) == odoo.get("write_date"))
            if not task.values:
                task.kind = "noop"
        if records:
            self._record_conflicts(records, policy)
            result.conflicts += len(records)
        noops = [t for t in tasks if t.kind == "noop"]
        if noops:
            self._settle_done(noops, result, counter="skipped")
        return [t for t in tasks if t.kind != "noop"]

    def _local_write_dates(self, tasks: list[_Task]) -> dict[int, Any]:
        ids = [t.change.local_id for t in tasks if t.model == "crm.lead" and t.change.local_id is not None]
        if not ids:
            return {}
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(leads.c.id, leads.c.odoo_write_date).where(leads.c.id.in_(ids)))
            return {row.id: row.odoo_write_date for row in rows}

    def _record_conflicts(self, records: list[tuple[_Task, FieldConflict]], policy: PushPolicy) -> None:
        now = self.clock()
        rows = [{
            "backend": self.backend, "model": task.model, "odoo_id": task.odoo_id,
            "local_table": task.change.local_table, "local_id": task.change.local_id, "field": c.field,
            "base_value": _jsonable(c.base), "app_value": _jsonable(c.app_value),
            "odoo_value": _jsonable(c.odoo_value), "policy": policy.conflict_policy.value,
            "winner": c.winner, "outbox_ids": task.change.item_ids, "created_at": now,
        } for task, c in records]
        with self.store.transaction() as conn:
            conn.execute(sa.insert(odoo_sync_conflicts), rows)

    # ------------------------------------------------------------------ Odoo calls

    def _run_batched(self, kind: str, tasks: list[_Task], result: PushResult) -> None:
        """One call per group; a permanent failure of a group splits it. The successful
        groups are settled together (one read-back per model)."""
        counter = {"create": "created", "post": "created", "unlink": "deleted", "archive": "deleted"}.get(kind, "written")
        succeeded: list[_Task] = []
        for group in self._groups(kind, tasks):
            group = self._still_held(group, result)
            if not group:
                continue
            try:
                self._call(kind, group)
            except OdooPermanentError as exc:
                if len(group) > 1:
                    for task in group:
                        self._run_batched(kind, [task], result)
                    continue
                if kind in ("unlink", "archive", "feedback") and isinstance(exc, MissingRecord):
                    self._settle_done(group, result, counter="deleted" if kind != "feedback" else "written")
                    continue
                self._settle_error([t.change for t in group], exc, result)
                continue
            except OdooError as exc:
                self._settle_error([t.change for t in group], exc, result)
                continue
            self._notify(kind)
            succeeded += group
        if succeeded:
            self._settle_done(succeeded, result, counter=counter)

    def _still_held(self, group: list[_Task], result: PushResult) -> list[_Task]:
        """The tasks whose items this worker still holds (lease renewed): a reclaimed item
        is another worker's now, and calling Odoo for it again could duplicate it."""
        if self._lease is None:
            return group
        held = self._lease.still_held(i for t in group for i in t.change.item_ids)
        kept = [t for t in group if set(t.change.item_ids) <= held]
        result.lost += len(group) - len(kept)
        return kept

    def _groups(self, kind: str, tasks: list[_Task]) -> Iterable[list[_Task]]:
        if kind in ("post", "call"):
            return [[t] for t in tasks]
        if kind == "create":
            by_fields: dict[tuple[str, ...], list[_Task]] = {}
            for task in tasks:
                by_fields.setdefault(tuple(sorted(task.values)), []).append(task)
            return list(by_fields.values())
        if kind in ("write", "archive"):
            by_values: dict[str, list[_Task]] = {}
            for task in tasks:
                by_values.setdefault(repr(sorted(task.values.items())), []).append(task)
            return list(by_values.values())
        return [tasks]

    def _call(self, kind: str, group: list[_Task]) -> Any:
        model = group[0].model
        ids = sorted({t.odoo_id for t in group if t.odoo_id is not None})
        if kind == "create":
            return self._load(model, group)
        if kind in ("write", "archive"):
            return self.client.write(model, ids, group[0].values)
        if kind == "unlink":
            existing = self.client.search(model, [("id", "in", ids)], active_test=False)
            return self.client.unlink(model, existing) if existing else True
        if kind == "feedback":
            return self.client.call(model, "action_feedback", ids, idempotent=False)
        if kind == "post":
            return self._post(group[0])
        task = group[0]
        call = task.change.call or {}
        args = list(call.get("args") or [])
        return self.client.call(model, str(call["method"]), *args, **dict(call.get("kwargs") or {}))

    def _load(self, model: str, group: list[_Task]) -> list[int]:
        """``load`` with an external id per row: creates, or finds what a lost answer made."""
        names = sorted(group[0].values)
        columns = ["id", *(_load_column(n) for n in names)]
        rows = [[f"{XID_MODULE}.{self._xid(t)}", *(_load_text(t.values[n]) for n in names)] for t in group]
        answer = self.client.call(model, "load", columns, rows, idempotent=True)
        ids = answer.get("ids") if isinstance(answer, Mapping) else None
        if not ids or len(ids) != len(group):
            messages = [m.get("message", "") for m in (answer.get("messages") or [])] if isinstance(answer, Mapping) else []
            raise OdooValidationError("; ".join(m for m in messages if m) or f"{model}.load created nothing",
                                      model=model, method="load")
        for task, new_id in zip(group, ids, strict=True):
            task.odoo_id = int(new_id)
        return ids

    def _xid(self, task: _Task) -> str:
        return xid_name(self.backend, task.change.local_table or "", task.change.xid or f"i{task.change.items[0].id}")

    def _post(self, task: _Task) -> int:
        """``message_post`` as an internal note, unless a previous attempt already posted it."""
        marker = f"<{self._xid(task)}@odoosync>"
        found = self.client.search("mail.message", [("message_id", "=", marker)], limit=1)
        if found:
            task.odoo_id = int(found[0])
            return task.odoo_id
        lead = self._binder.odoo_id("leads", int(task.change.values["lead_id"]))
        new_id = self.client.call(
            "crm.lead", "message_post", [lead], body=task.values.get("body") or "",
            subject=task.values.get("subject") or False, message_type="comment",
            subtype_xmlid="mail.mt_note", message_id=marker,
        )
        task.odoo_id = _record_id(new_id)
        return task.odoo_id

    def _notify(self, kind: str) -> None:
        if self._after_odoo_call is not None:
            self._after_odoo_call(kind)

    # ------------------------------------------------------------------ settle

    def _settle_done(self, tasks: list[_Task], result: PushResult, *, counter: str) -> None:
        now = self.clock()
        refreshed = self._refresh(tasks) if counter in ("created", "written") else {}
        if counter == "created":
            refreshed.update(self._refresh_chatter(tasks))
        with self.store.transaction(origin="pull") as conn:
            binder = self._binder
            for task in tasks:
                change = task.change
                if task.kind in ("create", "post") and task.odoo_id is not None and change.local_id is not None:
                    extra = dict(refreshed.get(task.odoo_id, {}))
                    if change.local_table == "leads":
                        extra.setdefault("source_email_id", sa.func.coalesce(leads.c.source_email_id, f"odoo_crm_{task.odoo_id}"))
                    binder.bind(conn, change.local_table or "", change.local_id, task.odoo_id, extra)
                elif task.kind == "write" and task.own_write_date and task.odoo_id in refreshed:
                    conn.execute(sa.update(leads).where(leads.c.id == change.local_id)
                                 .values(odoo_write_date=refreshed[task.odoo_id].get("odoo_write_date")))
                elif task.kind == "feedback" and change.local_id is not None:
                    conn.execute(sa.update(scheduled_activities)
                                 .where(scheduled_activities.c.id == change.local_id,
                                        scheduled_activities.c.completed_at.is_(None))
                                 .values(completed_at=now))
                settled = outbox.complete(conn, change.item_ids, worker=self.worker, now=now, odoo_id=task.odoo_id)
                if settled != len(change.item_ids):
                    log.warning("outbox items %s: lease lost before settling", change.item_ids)
                result.done += settled
                setattr(result, counter, getattr(result, counter) + 1)

    def _refresh(self, tasks: list[_Task]) -> dict[int, dict[str, Any]]:
        """Local columns to store after a create/write, read back from Odoo (one read per model)."""
        partner_ids = sorted({t.odoo_id for t in tasks if t.model == "res.partner" and t.kind == "create" and t.odoo_id})
        if partner_ids:
            try:
                return {int(r["id"]): {"write_date": r.get("write_date")}
                        for r in self.client.read("res.partner", partner_ids, ["write_date"], active_test=False)}
            except OdooError:
                return {}
        leads_ids = sorted({t.odoo_id for t in tasks if t.model == "crm.lead" and t.odoo_id is not None
                            and (t.kind == "create" or t.own_write_date)})
        if not leads_ids:
            return {}
        try:
            records = self.client.read("crm.lead", leads_ids, ["write_date", "stage_id", "user_id", "team_id",
                                                               "probability"], active_test=False)
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

    def _refresh_chatter(self, tasks: list[_Task]) -> dict[int, dict[str, Any]]:
        """New notes and activities as the pull maps them (its own mappers), so the next
        pull finds nothing to change. A failed read only leaves that to the next pull."""
        out: dict[int, dict[str, Any]] = {}
        notes = {t.odoo_id: t for t in tasks if t.kind == "post" and t.odoo_id is not None}
        activities = {t.odoo_id: t for t in tasks if t.model == "mail.activity" and t.kind == "create" and t.odoo_id}
        try:
            if notes:
                messages = self.client.read("mail.message", sorted(notes), list(chatter.MESSAGE_FIELDS))
                unknown = sorted({s[0] for m in messages if isinstance(s := m.get("subtype_id"), tuple)} - set(self._subtypes))
                if unknown:
                    self._subtypes.update({int(r["id"]): chatter.Subtype.of(r) for r in self.client.read(
                        "mail.message.subtype", unknown, list(chatter.SUBTYPE_FIELDS))})
                subtypes = self._subtypes
                lead_ids = {int(m["res_id"]): int(notes[m["id"]].change.values["lead_id"]) for m in messages}
                rows = chatter.map_messages(messages, chatter.ChatterLookups(lead_ids, subtypes, {}, {}))
                out.update({row.pop("odoo_message_id"): _without(row, "lead_id") for row in rows})
            if activities:
                records = self.client.read("mail.activity", sorted(activities), list(activity_stream.ACTIVITY_FIELDS))
                lead_ids = {int(r["res_id"]): int(activities[r["id"]].change.values["lead_id"]) for r in records}
                rows = activity_stream.map_activities(records, activity_stream.ActivityLookups(lead_ids, {}))
                out.update({row.pop("odoo_activity_id"): _without(row, "lead_id") for row in rows})
        except OdooError:
            log.info("could not read back new notes/activities; the next pull maps them")
        return out

    def _settle_error(self, changes: Sequence[Change], error: OdooError, result: PushResult) -> None:
        now = self.clock()
        with self.store.transaction() as conn:
            for change in changes:
                decision = self.policy(change.model).decide(error, change.attempts, now)
                if isinstance(decision, GiveUp):
                    outbox.fail(conn, change.item_ids, worker=self.worker, now=now, error=decision.reason)
                    result.failed += len(change.item_ids)
                    result.errors.append(f"{change.model} {change.local_table}:{change.local_id}: {decision.reason}")
                else:
                    outbox.reschedule(conn, change.item_ids, worker=self.worker, now=now, at=decision.at,
                                      error=f"{type(error).__name__}: {error}")
                    result.retried += len(change.item_ids)

    def _settle_wait(self, change: Change, reason: str, result: PushResult) -> None:
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
                outbox.reschedule(conn, change.item_ids, worker=self.worker, now=now,
                                  at=now + max(_DEPENDENCY_WAIT, policy.backoff(change.attempts)), error=reason)
                result.retried += len(change.item_ids)


class _Wait(Exception):
    """A change must wait for a dependency (a parent record not yet in Odoo)."""


_ABSENT = object()


def _wanted_bindings(changes: Iterable[Change]) -> list[tuple[str, int]]:
    wanted: list[tuple[str, int]] = []
    for change in changes:
        if change.local_table and change.local_id is not None:
            wanted.append((change.local_table, change.local_id))
        if change.values.get("lead_id") is not None:
            wanted.append(("leads", int(change.values["lead_id"])))
        if change.values.get("customer_id") is not None:
            wanted.append(("customers", int(change.values["customer_id"])))
    return wanted


def _without(row: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in names}


def _table(name: str) -> sa.Table:
    return BINDING_COLUMNS[name][0]


def _name(value: Any) -> str | None:
    if isinstance(value, (tuple, list)) and len(value) == 2:
        return str(value[1])
    return None


def _load_column(name: str) -> str:
    """``load`` addresses relations by database id: ``stage_id/.id``, ``tag_ids/.id``."""
    if name.endswith("_ids") or (name.endswith("_id") and name != "res_id"):
        return f"{name}/.id"
    return name


def _load_text(value: Any) -> str:
    """A value as ``load`` (an import) expects it: text."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, list):  # [(6, 0, ids)]
        ids = value[0][2] if value and isinstance(value[0], (list, tuple)) else value
        return ",".join(str(i) for i in ids)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "as_tuple"):
        return float(value)
    return value


def demo_edits(store: Store) -> dict[str, int]:
    """The demo's app-side edits, made with plain SQL as an app would: a new lead, a stage
    move and a note on an existing lead. Returns the rows touched."""
    with store.transaction() as conn:
        target = conn.execute(
            sa.text("SELECT id FROM leads WHERE odoo_id IS NOT NULL AND deleted_at IS NULL AND status = 'open' "
                    "ORDER BY id LIMIT 1")
        ).scalar()
        stage = conn.execute(
            sa.text("SELECT name FROM odoo_stages WHERE is_won = false AND deleted_at IS NULL ORDER BY sequence DESC, odoo_id LIMIT 1")
        ).scalar()
        new_lead = conn.execute(
            sa.text("INSERT INTO leads (title, email) VALUES ('Demo lead from the app', 'demo@example.com') RETURNING id")
        ).scalar_one()
        touched = {"new_lead": int(new_lead)}
        if target is not None:
            if stage is not None:
                conn.execute(sa.text("UPDATE leads SET stage = :stage WHERE id = :id"), {"stage": stage, "id": target})
                touched["stage_moved"] = int(target)
            conn.execute(
                sa.text("INSERT INTO lead_activities (lead_id, activity_type, title, description) "
                        "VALUES (:id, 'note', 'Note', 'Called the customer from the app.')"),
                {"id": target},
            )
            touched["noted"] = int(target)
    return touched


def demo_push(store: Store, client: OdooClient) -> PushResult:
    """The demo's push step: :func:`demo_edits`, then push everything queued."""
    demo_edits(store)
    return PushEngine(store, client, backend=client.config.name).push_all()


def _record_id(result: object) -> int:
    """The id a method returned: an int up to Odoo 18, ``[id]`` from Odoo 19 on (its
    ``call_kw`` returns a recordset's ``ids`` once methods lost ``@api.returns``)."""
    if isinstance(result, list | tuple):
        if len(result) != 1:
            raise OdooServerError(f"expected one record id, got {result!r}")
        result = result[0]
    if not isinstance(result, int | str):
        raise OdooServerError(f"expected a record id, got {result!r}")
    return int(result)
