"""Conflict check before writes: read Odoo's current values, let the policy decide.

One ``read`` per model of the records about to be written or archived, then
:func:`odoosync.push.conflicts.resolve` per record; every conflict becomes a row of
``ops.odoo_sync_conflicts``. A task left with nothing to write becomes a ``noop``.
A lead whose Odoo ``write_date`` still equals the stored one, and that lost no field to
Odoo, is marked ``own_write_date``: after the write Odoo holds only our change, so the
settle step stores its new ``write_date`` and the next pull skips it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.push.conflicts import FieldConflict, resolve
from odoosync.push.plan import Task
from odoosync.push.policy import PushPolicy
from odoosync.store import Store
from odoosync.store.schema import leads, odoo_sync_conflicts
from odoosync.streams.base import json_safe

__all__ = ["ConflictCheck"]


class ConflictCheck:
    """Reads current values and records conflicts for one backend."""

    def __init__(self, store: Store, client: OdooClient, *, backend: str, clock: Callable[[], dt.datetime]):
        self.store = store
        self.client = client
        self.backend = backend
        self.clock = clock

    def apply(self, tasks: list[Task], policy: PushPolicy) -> int:
        """Narrow each task's values to what the policy lets through (a task with nothing
        left becomes ``noop``); the number of conflicts recorded. Odoo errors propagate."""
        targets = [t for t in tasks if t.odoo_id is not None]
        if not targets:
            return 0
        model = targets[0].model
        fields = sorted({f for t in targets for f in t.values} | {"write_date"})
        current = {
            r["id"]: r
            for r in self.client.read(
                model, sorted({t.odoo_id for t in targets if t.odoo_id}), fields, active_test=False
            )
        }
        stamps = self._local_write_dates(targets)
        records: list[tuple[Task, FieldConflict]] = []
        for task in targets:
            odoo = current.get(task.odoo_id)
            if odoo is None:
                continue  # vanished: the call reports MissingRecord
            resolution = resolve(
                policy.conflict_policy,
                task.values,
                task.base,
                odoo,
                app_changed_at=task.change.changed_at,
                odoo_changed_at=odoo.get("write_date"),
            )
            task.values = resolution.values
            records += [(task, c) for c in resolution.conflicts]
            lost = any(c.winner == "odoo" for c in resolution.conflicts)
            task.own_write_date = (
                task.model == "crm.lead"
                and not lost
                and task.change.local_id is not None
                and stamps.get(task.change.local_id) == odoo.get("write_date")
            )
            if not task.values:
                task.kind = "noop"
        if records:
            self._record(records, policy)
        return len(records)

    def _local_write_dates(self, tasks: list[Task]) -> dict[int, Any]:
        ids = [t.change.local_id for t in tasks if t.model == "crm.lead" and t.change.local_id is not None]
        if not ids:
            return {}
        with self.store.connect() as conn:
            rows = conn.execute(sa.select(leads.c.id, leads.c.odoo_write_date).where(leads.c.id.in_(ids))).all()
        return {int(lead_id): stamp for lead_id, stamp in rows}

    def _record(self, records: list[tuple[Task, FieldConflict]], policy: PushPolicy) -> None:
        now = self.clock()
        rows = [
            {
                "backend": self.backend,
                "model": task.model,
                "odoo_id": task.odoo_id,
                "local_table": task.change.local_table,
                "local_id": task.change.local_id,
                "field": c.field,
                "base_value": json_safe(c.base),
                "app_value": json_safe(c.app_value),
                "odoo_value": json_safe(c.odoo_value),
                "policy": policy.conflict_policy.value,
                "winner": c.winner,
                "outbox_ids": task.change.item_ids,
                "created_at": now,
            }
            for task, c in records
        ]
        with self.store.transaction() as conn:
            conn.execute(sa.insert(odoo_sync_conflicts), rows)
