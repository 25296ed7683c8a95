"""Scheduled activities: Odoo's ``mail.activity`` on ``crm.lead`` → ``scheduled_activities``.

One row per activity, keyed by ``odoo_activity_id`` (DESIGN C3):

* ``activity_type_id`` → ``call | email | meeting | todo | follow_up`` through an
  :class:`ActivityTypeMap`: by XML id first (``mail.mail_activity_data_call``; stable
  whatever the user's language), then by name (case-insensitive), then by the type's
  ``category`` (``phonecall`` → call, ``meeting`` → meeting); anything else is ``todo``.
  The defaults below cover Odoo's own types and CRM's; a configuration adds to them.
* ``summary``; ``note`` (HTML → text); ``date_deadline`` → ``due_date``; ``user_id``
  name → ``assigned_name``; ``create_date`` → ``created_at``.
* ``status``: ``done`` when Odoo says so (``state = 'done'``) or the activity is archived
  (types with *Keep Done* archive finished activities since Odoo 17), else ``planned``;
  a done activity's ``completed_at`` is when it was archived (its ``write_date``).

Odoo *deletes* most activities when they are marked done (``_action_done`` posts an
"<Type> done" message with ``mail_activity_type_id`` and subtype *Activities*, then
unlinks the activity) and also when they are cancelled (``action_cancel`` unlinks with no
message). :func:`vanished_outcomes` tells the two apart from the chatter.

This module is pure: records in (normalised by the client), rows out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from odoosync.exceptions import ConfigError
from odoosync.html_text import html_to_text
from odoosync.streams.base import many2one_id, many2one_name

__all__ = [
    "ACTIVITY_KINDS",
    "ACTIVITY_FIELDS",
    "DEFAULT_ACTIVITY_TYPE_MAP",
    "ActivityType",
    "ActivityTypeMap",
    "ActivityLookups",
    "map_activities",
    "DoneMessage",
    "VanishedActivity",
    "VanishedOutcome",
    "vanished_outcomes",
]

ACTIVITY_KINDS = ("call", "email", "meeting", "todo", "follow_up")
FALLBACK_KIND = "todo"

ACTIVITY_FIELDS = (
    "res_id",
    "res_model",
    "activity_type_id",
    "summary",
    "note",
    "date_deadline",
    "user_id",
    "state",
    "active",
    "create_date",
)
"""``mail.activity`` fields the stream reads (besides ``id`` and ``write_date``)."""

_CATEGORY_KINDS = {"phonecall": "call", "meeting": "meeting"}


@dataclass(frozen=True)
class ActivityType:
    """What is known of a ``mail.activity.type``: name, XML id and category."""

    id: int
    name: str = ""
    xml_id: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class ActivityTypeMap:
    """Odoo activity type → app kind, by XML id and by (case-insensitive) name."""

    by_xml_id: Mapping[str, str] = field(default_factory=dict)
    by_name: Mapping[str, str] = field(default_factory=dict)

    def kind_of(self, activity_type: ActivityType | None) -> str:
        """The app kind of an activity type; ``todo`` when nothing matches."""
        if activity_type is None:
            return FALLBACK_KIND
        if activity_type.xml_id and activity_type.xml_id in self.by_xml_id:
            return self.by_xml_id[activity_type.xml_id]
        name = activity_type.name.strip().casefold()
        if name in self.by_name:
            return self.by_name[name]
        return _CATEGORY_KINDS.get(activity_type.category or "", FALLBACK_KIND)

    def extended(self, overrides: Mapping[str, str]) -> ActivityTypeMap:
        """This map with ``overrides`` on top: keys with a dot (``module.name``) are XML
        ids, others type names. Every bad entry is reported at once; nothing changes."""
        problems = [
            f"activity type {key!r}: {kind!r} is not one of {', '.join(ACTIVITY_KINDS)}"
            for key, kind in overrides.items()
            if kind not in ACTIVITY_KINDS
        ]
        problems += [f"activity type map: empty key for {kind!r}" for key, kind in overrides.items() if not key.strip()]
        if problems:
            raise ConfigError(problems[0], problems)
        by_xml_id = dict(self.by_xml_id)
        by_name = dict(self.by_name)
        for key, kind in overrides.items():
            key = key.strip()
            if "." in key:
                by_xml_id[key] = kind
            else:
                by_name[key.casefold()] = kind
        return ActivityTypeMap(by_xml_id, by_name)


DEFAULT_ACTIVITY_TYPE_MAP = ActivityTypeMap(
    by_xml_id={
        "mail.mail_activity_data_call": "call",
        "mail.mail_activity_data_email": "email",
        "mail.mail_activity_data_meeting": "meeting",
        "mail.mail_activity_data_todo": "todo",
        "mail.mail_activity_data_upload_document": "todo",
        "mail.mail_activity_data_warning": "todo",
        "crm.mail_activity_demo_call_demo": "call",
        "crm.mail_activity_demo_followup_quote": "follow_up",
        "crm.mail_activity_demo_make_quote": "todo",
        "crm.mail_activity_type_demo_email_with_template": "email",
    },
    by_name={
        "call": "call",
        "phone call": "call",
        "email": "email",
        "e-mail": "email",
        "meeting": "meeting",
        "to-do": "todo",
        "to do": "todo",
        "todo": "todo",
        "follow-up": "follow_up",
        "follow up": "follow_up",
        "followup": "follow_up",
        "follow-up quote": "follow_up",
    },
)


@dataclass(frozen=True)
class ActivityLookups:
    """``lead_ids``: Odoo lead id → ``leads.id``; ``types`` by Odoo id; the kind map."""

    lead_ids: Mapping[int, int]
    types: Mapping[int, ActivityType]
    type_map: ActivityTypeMap = DEFAULT_ACTIVITY_TYPE_MAP


def map_activities(activities: Iterable[Mapping[str, Any]], lookups: ActivityLookups) -> list[dict[str, Any]]:
    """``scheduled_activities`` rows for the activities whose lead is in the database."""
    rows = []
    for activity in activities:
        lead_id = lookups.lead_ids.get(int(activity.get("res_id") or 0))
        if lead_id is None:
            continue
        rows.append(_map_activity(activity, lead_id, lookups))
    return rows


def _map_activity(activity: Mapping[str, Any], lead_id: int, lookups: ActivityLookups) -> dict[str, Any]:
    type_id = many2one_id(activity.get("activity_type_id"))
    activity_type = lookups.types.get(type_id) if type_id is not None else None
    if activity_type is None and type_id is not None:
        activity_type = ActivityType(type_id, many2one_name(activity.get("activity_type_id")) or "")
    done = activity.get("state") == "done" or activity.get("active") is False
    row = {
        "lead_id": lead_id,
        "activity_type": lookups.type_map.kind_of(activity_type),
        "summary": (activity.get("summary") or "").strip() or None,
        "note": html_to_text(activity.get("note")) or None,
        "due_date": activity.get("date_deadline"),
        "assigned_name": many2one_name(activity.get("user_id")),
        "status": "done" if done else "planned",
        "odoo_activity_id": int(activity["id"]),
        "completed_at": _completed_at(activity) if done else None,
    }
    created = activity.get("create_date")
    if isinstance(created, dt.datetime):
        row["created_at"] = created
    return row


def _completed_at(activity: Mapping[str, Any]) -> dt.datetime | None:
    stamp = activity.get("write_date")
    if isinstance(stamp, dt.datetime):
        return stamp
    done_on = activity.get("date_done")
    if isinstance(done_on, dt.date):
        return dt.datetime.combine(done_on, dt.time(), dt.UTC)
    return None


@dataclass(frozen=True)
class DoneMessage:
    """An "<Type> done" chatter message: the lead, the activity type, and when."""

    lead_odoo_id: int
    activity_type_id: int | None
    date: dt.datetime

    @classmethod
    def of(cls, message: Mapping[str, Any]) -> DoneMessage | None:
        when = message.get("date")
        if not isinstance(when, dt.datetime):
            return None
        return cls(int(message.get("res_id") or 0), many2one_id(message.get("mail_activity_type_id")), when)


@dataclass(frozen=True)
class VanishedActivity:
    """An activity the database holds as planned but Odoo no longer has."""

    odoo_activity_id: int
    lead_odoo_id: int
    activity_type_id: int | None
    created_at: dt.datetime | None


@dataclass(frozen=True)
class VanishedOutcome:
    """What became of a vanished activity: ``done`` or ``cancelled``, and when."""

    status: str
    completed_at: dt.datetime


def vanished_outcomes(
    vanished: Iterable[VanishedActivity],
    done_messages: Iterable[DoneMessage],
    *,
    chatter_known: bool,
    now: dt.datetime,
) -> dict[int, VanishedOutcome]:
    """Odoo activity id → outcome for activities that vanished from Odoo.

    Done, when the lead's chatter has a "done" message for an activity of the same type
    posted after the activity was created (``completed_at`` = that message's date; each
    message accounts for one activity, oldest activities first); cancelled, when the
    chatter could be read and has no such message (Odoo posts nothing on cancel); done
    at ``now`` when the chatter could not be read (Odoo deletes most done activities)."""
    unused: dict[tuple[int, int | None], list[dt.datetime]] = {}
    for message in done_messages:
        unused.setdefault((message.lead_odoo_id, message.activity_type_id), []).append(message.date)
    for dates in unused.values():
        dates.sort()
    outcomes = {}
    oldest_first = sorted(vanished, key=lambda a: (a.created_at or now, a.odoo_activity_id))
    for activity in oldest_first:
        dates = unused.get((activity.lead_odoo_id, activity.activity_type_id), [])
        match = next((d for d in dates if activity.created_at is None or d >= activity.created_at), None)
        if match is not None:
            dates.remove(match)
            outcomes[activity.odoo_activity_id] = VanishedOutcome("done", match)
        elif chatter_known:
            outcomes[activity.odoo_activity_id] = VanishedOutcome("cancelled", now)
        else:
            outcomes[activity.odoo_activity_id] = VanishedOutcome("done", now)
    return outcomes
