"""The binder: ``Odoo id ↔ local row`` in both directions, and names → Odoo ids.

The one place the push engine asks "which Odoo record is this?":

* **bindings** of app rows: ``leads.odoo_id``, ``customers.odoo_partner_id``,
  ``lead_activities.odoo_message_id``, ``scheduled_activities.odoo_activity_id``,
  ``odoo_partners.odoo_id``; :meth:`Binder.bind` writes a new binding back (in the
  caller's echo-guarded transaction, so it queues nothing);
* **references by name** (stage, user, team, tag, lost reason, activity type) from the
  pull's mirror tables, asking Odoo only for names the mirror does not know (once per
  name and run), searching with ``active_test=False`` like OCA's binder;
* **external ids**: the ``ir.model.data`` records the push's idempotent creates are
  made under (module :data:`XID_MODULE`), so a retried create finds its record.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from odoosync.odoo.client import OdooClient
from odoosync.store import Store
from odoosync.store.schema import (
    REFERENCE_TABLES,
    backend_column,
    customers,
    lead_activities,
    leads,
    odoo_activity_types,
    odoo_partners,
    odoo_stages,
    scheduled_activities,
)
from odoosync.store.sync_config import config_list
from odoosync.streams.activities import ActivityType
from odoosync.streams.registry import CONFIG_PREFIX, activity_type_map, parse_pull_config_rows

__all__ = ["Binder", "XID_MODULE", "BINDING_COLUMNS", "xid_name"]

XID_MODULE = "odoosync"

BINDING_COLUMNS: dict[str, tuple[sa.Table, str, str]] = {
    # local table → (table, key column, Odoo id column)
    "leads": (leads, "id", "odoo_id"),
    "customers": (customers, "id", "odoo_partner_id"),
    "lead_activities": (lead_activities, "id", "odoo_message_id"),
    "scheduled_activities": (scheduled_activities, "id", "odoo_activity_id"),
    "odoo_partners": (odoo_partners, "odoo_id", "odoo_id"),
}


def xid_name(backend: str, local_table: str, token: str) -> str:
    """The ``ir.model.data`` name of a pushed create (``module`` is :data:`XID_MODULE`)."""
    safe_backend = "".join(c if c.isalnum() else "_" for c in backend)
    return f"{safe_backend}_{local_table}_{token}"


class Binder:
    """Bindings and name lookups for one push run (caches live as long as the binder)."""

    def __init__(self, store: Store, client: OdooClient, *, backend: str = "default"):
        self.store = store
        self.client = client
        self.backend = backend
        self._bindings: dict[tuple[str, int], int | None] = {}
        self._references: dict[str, dict[str, int]] = {}
        self._asked: set[tuple[str, str]] = set()
        self._won_stage: dict[str, int | None] = {}
        self._model_ids: dict[str, int | None] = {}
        self._activity_types: dict[str, int | None] = {}
        self._names_lock = threading.Lock()

    def for_batch(self) -> Binder:
        """A binder for one more batch running beside this one: bindings of its own (read
        afresh), the caches of names → ids shared (each name is asked of Odoo once)."""
        other = Binder(self.store, self.client, backend=self.backend)
        other._references, other._asked = self._references, self._asked
        other._won_stage, other._model_ids, other._names_lock = self._won_stage, self._model_ids, self._names_lock
        other._activity_types = self._activity_types
        return other

    # ------------------------------------------------------------ local bindings

    def preload(self, wanted: Iterable[tuple[str, int]]) -> None:
        """Load the bindings of many rows in one query per table."""
        by_table: dict[str, set[int]] = {}
        for local_table, local_id in wanted:
            if (local_table, local_id) not in self._bindings:
                by_table.setdefault(local_table, set()).add(local_id)
        if not by_table:
            return
        with self.store.connect() as conn:
            for local_table, ids in by_table.items():
                table, key, column = BINDING_COLUMNS[local_table]
                rows = conn.execute(sa.select(table.c[key], table.c[column]).where(table.c[key].in_(sorted(ids))))
                found = {local_id: odoo_id for local_id, odoo_id in rows}
                for local_id in ids:
                    value = found.get(local_id)
                    self._bindings[(local_table, local_id)] = int(value) if value is not None and value > 0 else None

    def odoo_id(self, local_table: str, local_id: int) -> int | None:
        if (local_table, local_id) not in self._bindings:
            self.preload([(local_table, local_id)])
        return self._bindings.get((local_table, local_id))

    def forget(self, local_table: str, local_id: int) -> None:
        """Drop a cached binding (it is about to change)."""
        self._bindings.pop((local_table, local_id), None)

    def bind(
        self, conn: sa.Connection, local_table: str, local_id: int, odoo_id: int, extra: Mapping[str, Any] | None = None
    ) -> None:
        """Write ``odoo_id`` (and ``extra`` columns) onto the local row, under this backend
        (Odoo ids are unique per backend)."""
        table, key, column = BINDING_COLUMNS[local_table]
        values = {column: odoo_id, backend_column(table).name: self.backend, **(extra or {})}
        where = [table.c[key] == local_id]
        if key == column:  # a mirror keyed by Odoo id: unique per backend only
            where.append(backend_column(table) == self.backend)
        conn.execute(sa.update(table).where(*where).values(**values))
        if key == column:  # the key is the Odoo id itself (odoo_partners): re-key the binding
            self.forget(local_table, local_id)
            local_id = odoo_id
        self._bindings[(local_table, local_id)] = odoo_id

    # ------------------------------------------------------------ names → ids

    def reference_id(self, model: str, name: str) -> int | None:
        with self._names_lock:
            return self._reference_id(model, name)

    def _reference_id(self, model: str, name: str) -> int | None:
        names = self._references.get(model)
        if names is None:
            names = self._references[model] = self._mirror_names(model)
        key = name.casefold()
        if key not in names and (model, key) not in self._asked:
            found = self.client.search(model, [("name", "=ilike", name)], limit=1, active_test=False)
            self._asked.add((model, key))  # only once answered: a failed search is asked again
            if found:
                names[key] = int(found[0])
        return names.get(key)

    def _mirror_names(self, model: str) -> dict[str, int]:
        table = REFERENCE_TABLES.get(model)
        if table is None:
            return {}
        with self.store.connect() as conn:
            rows = conn.execute(
                sa.select(table.c.name, table.c.odoo_id)
                .where(table.c.deleted_at.is_(None), table.c.backend == self.backend)
                .order_by(table.c.odoo_id)
            ).all()
        names: dict[str, int] = {}
        for name, odoo_id in rows:
            if name:
                names.setdefault(str(name).casefold(), int(odoo_id))
        return names

    def won_stage_id(self) -> int | None:
        with self._names_lock:
            if "won" not in self._won_stage:
                self._won_stage["won"] = self._find_won_stage()
            return self._won_stage["won"]

    def _find_won_stage(self) -> int | None:
        with self.store.connect() as conn:
            found = conn.execute(
                sa.select(odoo_stages.c.odoo_id)
                .where(odoo_stages.c.is_won, odoo_stages.c.deleted_at.is_(None), odoo_stages.c.backend == self.backend)
                .order_by(odoo_stages.c.sequence, odoo_stages.c.odoo_id)
                .limit(1)
            ).scalar()
        if found is None:
            ids = self.client.search("crm.stage", [("is_won", "=", True)], limit=1, order="sequence, id")
            found = ids[0] if ids else None
        return int(found) if found is not None else None

    def activity_type_id(self, kind: str) -> int | None:
        """The Odoo activity type for an app kind, by the same map the pull uses (defaults +
        the configured ``activity_types``), among the mirrored active types; without a mirrored
        one, a type named as the map names that kind, asked of Odoo."""
        if kind not in self._activity_types:
            type_map = activity_type_map(parse_pull_config_rows(config_list(self.store, CONFIG_PREFIX))[0])
            table = odoo_activity_types
            with self.store.connect() as conn:
                rows = conn.execute(
                    sa.select(table.c.odoo_id, table.c.name, table.c.xml_id, table.c.category, table.c.raw).where(
                        table.c.deleted_at.is_(None), table.c.backend == self.backend
                    )
                ).all()
            known = [
                ActivityType(int(r.odoo_id), r.name or "", r.xml_id, r.category)
                for r in rows
                if (r.raw or {}).get("active", True) is not False
            ]
            found = type_map.type_for(kind, known)
            for name in type_map.names_of(kind) if found is None else ():
                found = self.reference_id("mail.activity.type", name)
                if found is not None:
                    break
            self._activity_types[kind] = found
        return self._activity_types[kind]

    def model_id(self, model: str) -> int | None:
        with self._names_lock:
            if model not in self._model_ids:
                ids = self.client.search("ir.model", [("model", "=", model)], limit=1)
                self._model_ids[model] = int(ids[0]) if ids else None
            return self._model_ids[model]

    # ------------------------------------------------------------ external ids

    def find_xids(self, names: Iterable[str]) -> dict[str, int]:
        """``{name: res_id}`` of the external ids that exist in Odoo (one call)."""
        names = sorted(set(names))
        if not names:
            return {}
        records = self.client.search_read(
            "ir.model.data", [("module", "=", XID_MODULE), ("name", "in", names)], ["name", "res_id"]
        )
        return {r["name"]: int(r["res_id"]) for r in records if r.get("res_id")}
