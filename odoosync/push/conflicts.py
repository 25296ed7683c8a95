"""Conflicts: what to do when the app and Odoo both changed the same field.

A pushed write carries, per field, the value the app had before its edit (the *base*:
what both sides last agreed on, captured by the outbox trigger as ``OLD``) and the app's
new value. Before writing, the push engine reads Odoo's current value. Per field:

* Odoo still holds the base value → only the app changed it: push the app's value;
* Odoo already holds the app's value → nothing to push;
* otherwise both changed it since the last sync → a *conflict*, decided by the model's
  policy: ``odoo_wins`` (default: the field is not pushed; the next pull brings Odoo's
  value into the app), ``app_wins`` (the app's value is pushed), or ``newest_wins``
  (the later change wins: the app's change time against Odoo's ``write_date``; a tie
  goes to Odoo).

Every conflict is returned so the caller can record it (``ops.odoo_sync_conflicts``).
Values are compared in Odoo's representation (after mapping), with ``None``/``False``/
``""`` equal, numbers equal within a cent, many2one pairs compared by id and x2many
values as sets. This module is pure.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from odoosync.exceptions import ConfigError

__all__ = ["ConflictPolicy", "FieldConflict", "Resolution", "resolve", "same_value"]


class ConflictPolicy(enum.StrEnum):
    """Who wins a field both sides changed since the last sync."""

    ODOO_WINS = "odoo_wins"
    APP_WINS = "app_wins"
    NEWEST_WINS = "newest_wins"

    @classmethod
    def parse(cls, value: str) -> ConflictPolicy:
        """The policy named ``value``, or a ConfigError listing the valid names."""
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(p.value for p in cls)
            raise ConfigError(f"unknown conflict policy {value!r}: use one of {names}") from None


@dataclass(frozen=True)
class FieldConflict:
    """One field both sides changed; ``winner`` is ``"app"`` or ``"odoo"``."""

    field: str
    base: Any
    app_value: Any
    odoo_value: Any
    winner: str


@dataclass(frozen=True)
class Resolution:
    """What to write to Odoo for one record, and the conflicts met on the way."""

    values: dict[str, Any]
    conflicts: list[FieldConflict] = field(default_factory=list)


_MISSING = object()


def resolve(
    policy: ConflictPolicy,
    app_values: Mapping[str, Any],
    base_values: Mapping[str, Any],
    odoo_values: Mapping[str, Any],
    *,
    app_changed_at: dt.datetime | None,
    odoo_changed_at: dt.datetime | None,
) -> Resolution:
    """Decide, field by field, which of ``app_values`` to write to Odoo.

    A field absent from ``base_values`` has no known base (nothing to compare against):
    the app's value is pushed. A field absent from ``odoo_values`` was not read: the same.
    """
    to_write: dict[str, Any] = {}
    conflicts: list[FieldConflict] = []
    for name, app_value in app_values.items():
        odoo_value = odoo_values.get(name, _MISSING)
        base = base_values.get(name, _MISSING)
        if odoo_value is _MISSING or base is _MISSING:
            to_write[name] = app_value
            continue
        if same_value(odoo_value, app_value):
            continue
        if same_value(odoo_value, base):
            to_write[name] = app_value
            continue
        winner = _winner(policy, app_changed_at, odoo_changed_at)
        conflicts.append(FieldConflict(name, base, app_value, odoo_value, winner))
        if winner == "app":
            to_write[name] = app_value
    return Resolution(to_write, conflicts)


def _winner(policy: ConflictPolicy, app_at: dt.datetime | None, odoo_at: dt.datetime | None) -> str:
    if policy is ConflictPolicy.APP_WINS:
        return "app"
    if policy is ConflictPolicy.NEWEST_WINS and app_at is not None and (odoo_at is None or app_at > odoo_at):
        return "app"
    return "odoo"


def same_value(a: Any, b: Any) -> bool:
    """Equal as Odoo values: empty is empty, money to the cent, m2o by id, x2many as sets."""
    a, b = _comparable(a), _comparable(b)
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) < 0.005
    return a == b


def _comparable(value: Any) -> Any:
    if value is None or value is False or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], int):
        return float(value[0])  # many2one (id, name)
    if isinstance(value, list):
        return _x2many_ids(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if hasattr(value, "as_tuple"):  # Decimal
        return float(value)
    return value


def _x2many_ids(value: list[Any]) -> frozenset[int] | None:
    """Ids of an x2many value: a plain id list or a ``[(6, 0, ids)]`` command."""
    if len(value) == 1 and isinstance(value[0], (list, tuple)) and len(value[0]) == 3 and value[0][0] == 6:
        ids = value[0][2]
    else:
        ids = value
    result = frozenset(int(i) for i in ids)
    return result or None
