"""The Odoo calls of a push: tasks grouped into as few calls as Odoo allows, and sent.

* ``create``: one ``load`` per model and field set, each row under its external id
  ``odoosync.<backend>_<table>_<token>``, so a retried create whose answer was lost
  updates the record it made instead of making a second one;
* ``write`` / ``archive``: one ``write`` for all ids sharing the same values; writes of
  one field set with different values (a phone per lead) as one ``load`` whose ``.id``
  column names each record (Odoo 16-19 update by database id; a row naming no record
  fails the whole call, which the batch then splits into single writes);
* ``unlink``: one per model (records already gone are skipped);
* ``feedback``: one ``action_feedback`` for all activities marked done;
* ``post``: one ``message_post`` per note (Odoo posts on one record at a time), under a
  Message-Id marker; the markers of a batch's notes are looked up first, in one call
  (another worker may have posted one under a lease it then lost);
* ``call``: a method queued by code, as queued.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from odoosync.exceptions import OdooServerError, OdooValidationError
from odoosync.odoo.client import OdooClient
from odoosync.push.binder import XID_MODULE, Binder, xid_name
from odoosync.push.plan import Task

__all__ = ["OdooCalls", "record_id"]


class OdooCalls:
    """Groups tasks into calls and sends them, for one backend."""

    def __init__(self, client: OdooClient, binder: Binder, *, backend: str):
        self.client = client
        self.binder = binder
        self.backend = backend

    @staticmethod
    def groups(kind: str, tasks: list[Task]) -> list[list[Task]]:
        """The tasks of one kind, grouped into the calls they become."""
        if kind in ("post", "call"):
            return [[t] for t in tasks]
        if kind == "create":
            by_fields: dict[tuple[str, ...], list[Task]] = {}
            for task in tasks:
                by_fields.setdefault(tuple(sorted(task.values)), []).append(task)
            return list(by_fields.values())
        if kind in ("write", "archive"):
            by_values: dict[str, list[Task]] = {}
            for task in tasks:
                loadable = kind == "write" and task.odoo_id is not None and _loadable(task.values)
                key = f"fields {sorted(task.values)!r}" if loadable else repr(sorted(task.values.items()))
                by_values.setdefault(key, []).append(task)
            return list(by_values.values())
        return [tasks]

    def send(self, kind: str, group: list[Task]) -> Any:
        """One call for ``group``; new ids are set on its tasks."""
        model = group[0].model
        ids = sorted({t.odoo_id for t in group if t.odoo_id is not None})
        if kind == "create":
            return self._load(model, group)
        if kind in ("write", "archive"):
            if any(t.values != group[0].values for t in group):
                return self._load_updates(model, group)
            return self.client.write(model, ids, group[0].values)
        if kind == "unlink":
            existing = self.client.search(model, [("id", "in", ids)], active_test=False)
            return self.client.unlink(model, existing) if existing else True
        if kind == "feedback":
            return self.client.call(model, "action_feedback", ids, idempotent=False)
        if kind == "post":
            return group[0].odoo_id if group[0].odoo_id is not None else self._post(group[0])
        task = group[0]
        call = task.change.call or {}
        args = list(call.get("args") or [])
        return self.client.call(model, str(call["method"]), *args, **dict(call.get("kwargs") or {}))

    def _load(self, model: str, group: list[Task]) -> list[int]:
        """``load`` with an external id per row: creates, or finds what a lost answer made."""
        ids = self._send_load(model, group, "id", lambda t: f"{XID_MODULE}.{self._xid(t)}", "created")
        for task, new_id in zip(group, ids, strict=True):
            task.odoo_id = int(new_id)
        return ids

    def _load_updates(self, model: str, group: list[Task]) -> list[int]:
        """One ``load`` writing each task's own values to its record (``.id`` column)."""
        ids = self._send_load(model, group, ".id", lambda t: str(t.odoo_id), "updated")
        if [int(i) for i in ids] != [t.odoo_id for t in group]:
            raise _load_refused(model, None, "updated")
        return ids

    def _send_load(
        self, model: str, group: list[Task], key_column: str, key: Callable[[Task], str], what: str
    ) -> list[int]:
        """One ``load`` of the group's values, a row per task under its ``key``; the ids
        Odoo answered, one per row (``OdooValidationError`` with Odoo's messages if not)."""
        names = sorted(group[0].values)
        columns = [key_column, *(_load_column(n) for n in names)]
        rows = [[key(t), *(_load_text(t.values[n]) for n in names)] for t in group]
        answer = self.client.call(model, "load", columns, rows, idempotent=True)
        ids = answer.get("ids") if isinstance(answer, Mapping) else None
        if not ids or len(ids) != len(group):
            raise _load_refused(model, answer, what)
        return list(ids)

    def _xid(self, task: Task) -> str:
        return xid_name(self.backend, task.change.local_table or "", task.change.xid or f"i{task.change.items[0].id}")

    def find_posted(self, tasks: list[Task]) -> None:
        """Set the id of every note an earlier attempt already posted (one search of their
        markers); ``send`` then posts only the others."""
        markers = {self._marker(t): t for t in tasks}
        found = self.client.search_read("mail.message", [("message_id", "in", sorted(markers))], ["message_id"])
        for record in sorted(found, key=lambda r: r["id"]):
            task = markers.get(str(record.get("message_id")))
            if task is not None and task.odoo_id is None:
                task.odoo_id = int(record["id"])

    def _marker(self, task: Task) -> str:
        return f"<{self._xid(task)}@odoosync>"

    def _post(self, task: Task) -> int:
        """``message_post`` as an internal note under the task's marker."""
        marker = self._marker(task)
        lead = self.binder.odoo_id("leads", int(task.change.values["lead_id"]))
        new_id = self.client.call(
            "crm.lead",
            "message_post",
            [lead],
            body=task.values.get("body") or "",
            subject=task.values.get("subject") or False,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            message_id=marker,
        )
        task.odoo_id = record_id(new_id)
        return task.odoo_id


def record_id(result: object) -> int:
    """The id a method returned: an int up to Odoo 18, ``[id]`` from Odoo 19 on (its
    ``call_kw`` returns a recordset's ``ids`` once methods lost ``@api.returns``)."""
    if isinstance(result, list | tuple):
        if len(result) != 1:
            raise OdooServerError(f"expected one record id, got {result!r}")
        result = result[0]
    return int(result)  # type: ignore[call-overload]


def _load_refused(model: str, answer: object, what: str) -> OdooValidationError:
    """A ``load`` that answered ``ids: False`` (or not one id per row): Odoo's messages."""
    messages = [m.get("message", "") for m in (answer.get("messages") or [])] if isinstance(answer, Mapping) else []
    return OdooValidationError(
        "; ".join(m for m in messages if m) or f"{model}.load {what} nothing", model=model, method="load"
    )


def _loadable(values: Mapping[str, Any]) -> bool:
    """Values an import writes as ``write`` would: scalars, many2one ids and dates (not
    x2many commands, whose text form is a replacement, nor datetimes, whose import form
    differs from ISO 8601)."""
    return bool(values) and all(
        not isinstance(v, list | tuple | dict) and (not isinstance(v, dt.datetime)) for v in values.values()
    )


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
