"""Push mappers: app column values → Odoo field values, one pure function per table.

The reverse of the pull's stream mappers, declared the OCA way: direct pairs plus small
functions for what needs a lookup (stage, owner, team, tags, lost reason and activity
type by name; lead and customer by their binding). Lookups go through one
:class:`Lookups` (the binder); a mapper does no I/O and never reads the clock.

Only the given columns are mapped (a write carries only the changed ones). On a create
an empty value is left out so Odoo's defaults apply; on a write it clears the field.
A name with no match in Odoo is a permanent error naming it (retrying cannot help).

=====================  ====================================================
``leads``              ``crm.lead``
=====================  ====================================================
``title``              ``name``
``contact_name``       ``contact_name``
``email``, ``phone``   ``email_from``, ``phone``
``value``              ``expected_revenue``
``probability``        ``probability``
``priority``           ``priority`` (``0``..``3`` or Low/Medium/High/Very High)
``deadline``           ``date_deadline``
``stage``              ``stage_id`` (by stage name)
``owner_name``         ``user_id`` (by user name)
``team_name``          ``team_id`` (by team name)
``tags``               ``tag_ids`` (by tag names)
``lost_reason``        ``lost_reason_id`` (by name)
``customer_id``        ``partner_id`` (the customer's ``odoo_partner_id``)
``status``             ``won`` → the first won stage, probability 100, active;
                       ``lost`` → archived, probability 0; ``open`` → active
=====================  ====================================================

``scheduled_activities`` → ``mail.activity``: ``summary``, ``note``, ``due_date`` →
``date_deadline``, ``assigned_name`` → ``user_id``, ``activity_type`` (``call``,
``email``, ``meeting``, ``todo``, ``follow_up``) → ``activity_type_id``, ``lead_id`` →
``res_model_id``/``res_id``. ``lead_activities`` → ``mail.message``: ``title`` →
``subject``, ``description`` → ``body`` (plain text: Odoo escapes it).
``odoo_partners`` → ``res.partner``: ``name``, ``email``, ``phone``, ``is_company``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Protocol

from odoosync.exceptions import OdooValidationError
from odoosync.streams.activities import ACTIVITY_KINDS, FALLBACK_KIND

__all__ = ["Lookups", "map_values", "PRIORITY_LABELS"]

PRIORITY_LABELS = {"low": "0", "medium": "1", "high": "2", "very high": "3"}


class Lookups(Protocol):
    """Ids the mappers need, resolved by the binder."""

    def reference_id(self, model: str, name: str) -> int | None:
        """The Odoo id of the ``model`` record named ``name`` (None: no such record)."""

    def won_stage_id(self) -> int | None:
        """The first won ``crm.stage``."""

    def activity_type_id(self, kind: str) -> int | None:
        """The ``mail.activity.type`` for an app kind (the pull's map, inverted)."""

    def odoo_id(self, local_table: str, local_id: int) -> int | None:
        """The Odoo id bound to a local row (``leads``, ``customers``)."""

    def model_id(self, model: str) -> int | None:
        """The ``ir.model`` id of ``model``."""


def map_values(local_table: str, values: Mapping[str, Any], lookups: Lookups, *, creating: bool) -> dict[str, Any]:
    """Odoo values for the given app columns of one ``local_table`` row."""
    mapper = _MAPPERS.get(local_table)
    if mapper is None:
        raise ValueError(f"no push mapper for table {local_table!r}")
    mapped = mapper(values, lookups)
    if creating:
        mapped = {k: v for k, v in mapped.items() if v not in (None, [], [(6, 0, [])])}
    return mapped


def _reference(lookups: Lookups, model: str, column: str, name: Any) -> int | None:
    if name is None or str(name).strip() == "":
        return None
    found = lookups.reference_id(model, str(name).strip())
    if found is None:
        raise OdooValidationError(f"{column} {name!r} matches no {model} in Odoo", model=model)
    return found


def _date(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)[:10]


def _number(value: Any) -> float | None:
    return None if value is None or value == "" else float(value)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _priority(value: Any) -> str | None:
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    if text in ("0", "1", "2", "3"):
        return text
    if text.lower() in PRIORITY_LABELS:
        return PRIORITY_LABELS[text.lower()]
    raise OdooValidationError(f"priority {value!r} is not 0-3 or Low/Medium/High/Very High", model="crm.lead")


_LEAD_DIRECT = {"title": "name", "contact_name": "contact_name", "email": "email_from", "phone": "phone"}
_LEAD_REFERENCES = {
    "stage": ("stage_id", "crm.stage"),
    "owner_name": ("user_id", "res.users"),
    "team_name": ("team_id", "crm.team"),
    "lost_reason": ("lost_reason_id", "crm.lost.reason"),
}


def _lead(values: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column, field in _LEAD_DIRECT.items():
        if column in values:
            out[field] = _text(values[column])
    for column, (field, model) in _LEAD_REFERENCES.items():
        if column in values:
            out[field] = _reference(lookups, model, column, values[column])
    if "value" in values:
        out["expected_revenue"] = _number(values["value"])
    if "probability" in values:
        out["probability"] = _number(values["probability"])
    if "priority" in values:
        out["priority"] = _priority(values["priority"])
    if "deadline" in values:
        out["date_deadline"] = _date(values["deadline"])
    if "tags" in values:
        names = values["tags"] or []
        tag_ids = (_reference(lookups, "crm.tag", "tags", n) for n in names)
        out["tag_ids"] = [(6, 0, sorted(i for i in tag_ids if i is not None))]
    if "customer_id" in values:
        customer = values["customer_id"]
        partner = lookups.odoo_id("customers", int(customer)) if customer is not None else None
        if partner is not None or customer is None:
            out["partner_id"] = partner
    if "status" in values:
        status = values["status"]
        if status == "won":
            won = lookups.won_stage_id()
            if won is None:
                raise OdooValidationError("status 'won' but Odoo has no won stage", model="crm.stage")
            if out.get("stage_id") is None:
                out["stage_id"] = won
            out.update(probability=100.0, active=True)
        elif status == "lost":
            out.update(active=False, probability=0.0)
        else:
            out["active"] = True
    return out


def _message(values: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in values:
        out["subject"] = _text(values["title"])
    if "description" in values:
        out["body"] = _text(values["description"]) or ""
    return out


def _activity(values: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "lead_id" in values:
        lead = lookups.odoo_id("leads", int(values["lead_id"]))
        out["res_model_id"] = lookups.model_id("crm.lead")
        out["res_id"] = lead
    if "activity_type" in values:
        kind = values["activity_type"] or FALLBACK_KIND
        if kind not in ACTIVITY_KINDS:
            raise OdooValidationError(
                f"activity_type {kind!r} is not one of {', '.join(ACTIVITY_KINDS)}", model="mail.activity"
            )
        type_id = lookups.activity_type_id(kind)
        if type_id is None:
            raise OdooValidationError(
                f"activity_type {kind!r}: Odoo has no activity type of that kind (configure one in "
                "odoo_to_sb:mail.activity's activity_types)",
                model="mail.activity",
            )
        out["activity_type_id"] = type_id
    if "summary" in values:
        out["summary"] = _text(values["summary"])
    if "note" in values:
        out["note"] = _text(values["note"])
    if "due_date" in values:
        out["date_deadline"] = _date(values["due_date"])
    if "assigned_name" in values:
        out["user_id"] = _reference(lookups, "res.users", "assigned_name", values["assigned_name"])
    return out


def _partner(values: Mapping[str, Any], lookups: Lookups) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for column in ("name", "email", "phone"):
        if column in values:
            out[column] = _text(values[column])
    if "is_company" in values:
        out["is_company"] = bool(values["is_company"])
    return out


_MAPPERS = {
    "leads": _lead,
    "lead_activities": _message,
    "scheduled_activities": _activity,
    "odoo_partners": _partner,
}
