"""Planning: one net change → the Odoo call it needs (skip → dependencies → map).

A :class:`Task` is a change on its way: the call kind (``create``, ``write``,
``unlink``, ``archive``, ``feedback``, ``post``, ``call`` or ``noop``), the target id,
the mapped values and, for a write, the base values conflicts are judged against. The
planner reads the app database (the current row of a write whose record never reached
Odoo, the stage a lost lead leaves) and asks the binder for ids; it calls Odoo only
through the binder's name lookups. A change whose parent is not in Odoo yet raises
:class:`Wait`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import OdooError
from odoosync.push.binder import BINDING_COLUMNS, Binder, xid_name
from odoosync.push.coalesce import Change
from odoosync.push.mappers import map_values
from odoosync.push.policy import PushPolicy
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_stages
from odoosync.store.triggers import WATCHED

__all__ = ["Task", "Wait", "Planner", "wanted_bindings"]

_WATCHED = {w.table: w for w in WATCHED}
_ABSENT = object()


@dataclass
class Task:
    """One change on its way: the Odoo call it becomes and how to settle it."""

    change: Change
    kind: str  # create | write | unlink | archive | feedback | post | call | noop
    odoo_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    base: dict[str, Any] = field(default_factory=dict)
    own_write_date: bool = False

    @property
    def model(self) -> str:
        return self.change.model


class Wait(Exception):
    """A change must wait for a dependency (a parent record not yet in Odoo)."""


class Planner:
    """Turns changes into tasks for one backend, with one pass's binder."""

    def __init__(self, store: Store, binder: Binder, *, backend: str):
        self.store = store
        self.binder = binder
        self.backend = backend

    def plan(self, change: Change, policy: PushPolicy) -> Task:
        """Skip → dependencies → map: the Odoo call one change needs."""
        binder = self.binder
        if change.operation == "noop":
            return Task(change, "noop")
        if change.operation == "call":
            return Task(change, "call", odoo_id=change.odoo_id)
        table = change.local_table or ""
        bound = binder.odoo_id(table, change.local_id) if change.local_id is not None else None
        odoo_id = bound or change.odoo_id
        if change.operation == "unlink":
            return self._plan_unlink(change, policy, odoo_id)
        if change.operation == "write" and odoo_id is None:
            current = self._current_row(table, change.local_id)
            if current is None or current.get("deleted_at") is not None:
                return Task(change, "noop")  # gone or deleted in the app: nothing to create
            change = Change(
                change.model,
                "create",
                table,
                change.local_id,
                None,
                current,
                {},
                change.xid or f"w{change.items[0].id}",
                None,
                change.items,
            )
        if change.operation == "create":
            if odoo_id is not None:  # already bound (an earlier attempt's create was settled)
                return Task(change, "noop")
            self._require_parent(change)
            values = map_values(table, change.values, binder, creating=True)
            if table == "lead_activities":
                return Task(change, "post", values=values)
            return Task(change, "create", values=values)
        # write
        values = dict(change.values)
        if table == "scheduled_activities" and "status" in values:
            status = values.pop("status")
            if status == "done":
                return Task(change, "feedback", odoo_id=odoo_id)
            if status == "cancelled":
                return Task(change, "unlink", odoo_id=odoo_id)
        deleted = values.pop("deleted_at", _ABSENT)
        if deleted is not _ABSENT and deleted is not None:
            kind = "archive" if policy.on_delete == "archive" else "unlink"
            return Task(change, kind, odoo_id=odoo_id, values={"active": False} if kind == "archive" else {})
        mapped = map_values(table, values, binder, creating=False)
        if deleted is not _ABSENT:  # restored in the app
            mapped["active"] = True
        if table == "leads" and mapped.get("active") is False and "stage_id" not in mapped:
            mapped.update(self._out_of_won_stage(change.local_id))
        if not mapped:
            return Task(change, "noop")
        try:
            base = map_values(table, {k: v for k, v in change.old.items() if k in values}, binder, creating=False)
        except OdooError:
            base = {}
        return Task(change, "write", odoo_id=odoo_id, values=mapped, base=base)

    def _plan_unlink(self, change: Change, policy: PushPolicy, odoo_id: int | None) -> Task:
        if odoo_id is None and change.xid:
            name = xid_name(self.backend, change.local_table or "", change.xid)
            odoo_id = self.binder.find_xids([name]).get(name)
        if odoo_id is None:
            return Task(change, "noop")
        if change.model in ("crm.lead", "res.partner") and policy.on_delete == "archive":
            return Task(change, "archive", odoo_id=odoo_id, values={"active": False})
        return Task(change, "unlink", odoo_id=odoo_id)

    def _require_parent(self, change: Change) -> None:
        lead_id = change.values.get("lead_id")
        if (
            change.local_table in ("lead_activities", "scheduled_activities")
            and lead_id is not None
            and self.binder.odoo_id("leads", int(lead_id)) is None
        ):
            raise Wait(f"lead {lead_id} is not in Odoo yet")

    def _out_of_won_stage(self, lead_id: int | None) -> dict[str, Any]:
        """A lead lost in the app while in a won stage first leaves it, as Odoo's own UI
        requires (Odoo 19 refuses "A lead in a Won stage cannot be lost"; 17 and 18 would
        keep a lost lead in a won stage): it goes to the last stage that is not won."""
        with self.store.connect() as conn:
            won = conn.execute(
                sa.select(odoo_stages.c.is_won)
                .join(leads, leads.c.stage == odoo_stages.c.name)
                .where(leads.c.id == lead_id, odoo_stages.c.deleted_at.is_(None), odoo_stages.c.backend == self.backend)
                .limit(1)
            ).scalar()
            if not won:
                return {}
            stage = conn.execute(
                sa.select(odoo_stages.c.odoo_id)
                .where(
                    odoo_stages.c.is_won.is_(False),
                    odoo_stages.c.deleted_at.is_(None),
                    odoo_stages.c.backend == self.backend,
                )
                .order_by(odoo_stages.c.sequence.desc(), odoo_stages.c.odoo_id)
                .limit(1)
            ).scalar()
        return {} if stage is None else {"stage_id": int(stage)}

    def _current_row(self, table: str, local_id: int | None) -> dict[str, Any] | None:
        watched = _WATCHED[table]
        sa_table = BINDING_COLUMNS[table][0]
        with self.store.connect() as conn:
            row = conn.execute(
                sa.select(*(sa_table.c[c] for c in watched.columns)).where(sa_table.c[watched.key] == local_id)
            ).first()
        return dict(row._mapping) if row is not None else None


def wanted_bindings(changes: Iterable[Change]) -> list[tuple[str, int]]:
    """The bindings planning these changes will ask for (preloaded in one query per table)."""
    wanted: list[tuple[str, int]] = []
    for change in changes:
        if change.local_table and change.local_id is not None:
            wanted.append((change.local_table, change.local_id))
        if change.values.get("lead_id") is not None:
            wanted.append(("leads", int(change.values["lead_id"])))
        if change.values.get("customer_id") is not None:
            wanted.append(("customers", int(change.values["customer_id"])))
    return wanted
