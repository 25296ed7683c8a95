"""Coalescing: queued outbox items of one record become as few Odoo calls as possible.

The triggers queue one item per app statement; a record edited five times before the
worker runs has five items. Folding them in queue order, per record:

* ``create`` then ``write``\\ s → one ``create`` with the merged values;
* several ``write``\\ s → one ``write``: the latest value of each field, and as its *base*
  (for conflict detection) the value the field had before the first of them;
  a field edited back to its base value drops out, and a write with nothing left is a
  no-op;
* anything then ``unlink`` → ``unlink``; a ``create`` that never reached Odoo followed by
  an ``unlink`` is a no-op (nothing to delete);
* ``call`` items (methods queued by code, e.g. an SLA escalation) are never merged.

Item payloads, as the triggers write them: create ``{"values": row, "xid": token}``,
write ``{"values": new, "old": old}``, unlink ``{"old": row}``, call ``{"method",
"args", "kwargs"}``. This module is pure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from odoosync.push.conflicts import same_value

__all__ = ["QueuedItem", "Change", "coalesce"]


@dataclass(frozen=True)
class QueuedItem:
    """One ``ops.odoo_outbox`` row as the coalescer needs it."""

    id: int
    model: str
    operation: str
    local_table: str | None
    local_id: int | None
    odoo_id: int | None
    payload: Mapping[str, Any]
    attempts: int = 0
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Change:
    """The net change of one record: what the push engine sends to Odoo.

    ``operation`` is ``create``, ``write``, ``unlink``, ``call`` or ``noop``. ``values``
    are app column values (the whole row for a create), ``old`` the base values of a
    write, ``xid`` the create's idempotency token, ``items`` the outbox rows it settles.
    """

    model: str
    operation: str
    local_table: str | None
    local_id: int | None
    odoo_id: int | None = None
    values: dict[str, Any] = field(default_factory=dict)
    old: dict[str, Any] = field(default_factory=dict)
    xid: str | None = None
    call: Mapping[str, Any] | None = None
    items: tuple[QueuedItem, ...] = ()

    @property
    def item_ids(self) -> list[int]:
        return [item.id for item in self.items]

    @property
    def attempts(self) -> int:
        """Attempts made so far: the most any of its items had."""
        return max((item.attempts for item in self.items), default=0)

    @property
    def changed_at(self) -> dt.datetime | None:
        """When the app made the latest of these changes."""
        stamps = [item.created_at for item in self.items if item.created_at is not None]
        return max(stamps) if stamps else None


def coalesce(items: Iterable[QueuedItem]) -> list[Change]:
    """Fold ``items`` into net changes, in the order each record was first queued."""
    groups: dict[tuple[Any, ...], list[QueuedItem]] = {}
    for item in sorted(items, key=lambda i: i.id):
        if item.operation == "call" or item.local_id is None:
            key: tuple[Any, ...] = ("item", item.id)
        else:
            key = ("record", item.model, item.local_table, item.local_id)
        groups.setdefault(key, []).append(item)
    changes: list[Change] = []
    for group in groups.values():
        changes.extend(_fold(group))
    return changes


def _start(item: QueuedItem) -> Change:
    payload = item.payload
    if item.operation == "call":
        return Change(item.model, "call", item.local_table, item.local_id, item.odoo_id, call=payload, items=(item,))
    values = dict(payload.get("values") or {})
    old = dict(payload.get("old") or {}) if item.operation == "write" else {}
    return Change(
        item.model,
        item.operation,
        item.local_table,
        item.local_id,
        item.odoo_id,
        values=values,
        old=old,
        xid=payload.get("xid"),
        items=(item,),
    )


def _fold(group: list[QueuedItem]) -> list[Change]:
    done: list[Change] = []
    state: Change | None = None
    for item in group:
        if state is None:
            state = _start(item)
            continue
        odoo_id = item.odoo_id if item.odoo_id is not None else state.odoo_id
        items = (*state.items, item)
        if item.operation == "write" and state.operation in ("create", "write"):
            values = {**state.values, **(item.payload.get("values") or {})}
            old = dict(state.old)
            if state.operation == "write":
                for name, value in (item.payload.get("old") or {}).items():
                    old.setdefault(name, value)
            state = Change(
                state.model,
                state.operation,
                state.local_table,
                state.local_id,
                odoo_id,
                values,
                old,
                state.xid,
                None,
                items,
            )
        elif item.operation == "unlink" and state.operation in ("create", "write", "noop"):
            never_sent = state.operation == "create" and state.attempts == 0 and odoo_id is None
            state = Change(
                state.model,
                "noop" if never_sent else "unlink",
                state.local_table,
                state.local_id,
                odoo_id,
                {},
                dict(item.payload.get("old") or {}),
                state.xid,
                None,
                items,
            )
        else:  # an unlink then a new create of the same id, or a stray order: keep both
            done.append(_settle(state))
            state = _start(item)
    if state is not None:
        done.append(_settle(state))
    return done


def _settle(change: Change) -> Change:
    """Drop fields written back to their base value; an empty write is a no-op."""
    if change.operation != "write":
        return change
    values = {k: v for k, v in change.values.items() if k not in change.old or not same_value(v, change.old[k])}
    old = {k: change.old[k] for k in values if k in change.old}
    operation = "write" if values else "noop"
    return Change(
        change.model,
        operation,
        change.local_table,
        change.local_id,
        change.odoo_id,
        values,
        old,
        change.xid,
        None,
        change.items,
    )
