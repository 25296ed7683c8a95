"""Scheduled activities: Odoo's ``mail.activity`` on ``crm.lead`` → ``scheduled_activities``.

One row per activity, keyed by ``odoo_activity_id``:

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

The mapping functions are pure (records in, normalised by the client; rows out);
:class:`ScheduledActivitiesTarget` does the lookups and writes for the pull engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import ConfigError, OdooPermanentError
from odoosync.html_text import html_to_text
from odoosync.store.filters import id_in
from odoosync.store.schema import leads, odoo_activity_types, scheduled_activities
from odoosync.streams.base import PageContext, ResIds, StoredRow, Stream, many2one_id, many2one_name
from odoosync.streams.mirror import MirrorTarget

__all__ = [
    "ACTIVITY_KINDS",
    "ACTIVITY_FIELDS",
    "ACTIVITY_OPTIONAL_FIELDS",
    "DEFAULT_ACTIVITY_TYPE_MAP",
    "ActivityType",
    "ActivityTypeMap",
    "ActivityLookups",
    "map_activities",
    "DoneMessage",
    "VanishedActivity",
    "VanishedOutcome",
    "vanished_outcomes",
    "ScheduledActivitiesTarget",
    "lead_ids_by_odoo_id",
    "DEFAULT_CHUNK",
    "activities_stream",
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
    "create_date",
)
"""``mail.activity`` fields the stream reads (besides ``id`` and ``write_date``)."""

ACTIVITY_OPTIONAL_FIELDS = ("active", "date_done")
"""Read where the server has them: Odoo 17+ archives done activities of ``keep_done`` types
(19: every done activity); Odoo 16 has neither field and deletes every done activity."""

DEFAULT_CHUNK = 50
"""Leads per ``mail.activity`` / ``mail.message`` request (``res_id in [...]``)."""

_IN_CHUNK = 5000  # ids per IN (...) list, well under every driver's parameter limit
_TYPES = "activities.types"  # PageContext.cache key: Odoo type id → ActivityType

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

    def type_for(self, kind: str, types: Iterable[ActivityType]) -> int | None:
        """The Odoo id of the activity type to use for an app ``kind`` (the push's
        direction): one this map gives that kind by XML id, else by name, else by category;
        the lowest id within a rank. None when no known type has that kind."""
        best: tuple[int, int] | None = None
        for activity_type in types:
            odoo_id = activity_type.id
            if self.kind_of(activity_type) != kind:
                continue
            if activity_type.xml_id and activity_type.xml_id in self.by_xml_id:
                rank = 0
            elif activity_type.name.strip().casefold() in self.by_name:
                rank = 1
            else:
                rank = 2
            if best is None or (rank, odoo_id) < best:
                best = (rank, odoo_id)
        return None if best is None else best[1]

    def names_of(self, kind: str) -> list[str]:
        """The type names this map gives ``kind`` (for a search by name when no type is mirrored)."""
        return [name for name, mapped in self.by_name.items() if mapped == kind]

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
    return {
        "lead_id": lead_id,
        "activity_type": lookups.type_map.kind_of(activity_type),
        "summary": (activity.get("summary") or "").strip() or None,
        "note": html_to_text(activity.get("note")) or None,
        "due_date": activity.get("date_deadline"),
        "assigned_name": many2one_name(activity.get("user_id")),
        "status": "done" if done else "planned",
        "odoo_activity_id": int(activity["id"]),
        "completed_at": _completed_at(activity) if done else None,
        "created_at": activity.get("create_date") or activity.get("write_date"),
    }


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
    """An "<Type> done" chatter message: the lead's Odoo id, the activity's kind, when."""

    lead_odoo_id: int
    kind: str
    date: dt.datetime


@dataclass(frozen=True)
class VanishedActivity:
    """An activity the database holds as planned but Odoo no longer has."""

    odoo_activity_id: int
    lead_odoo_id: int
    kind: str
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

    Done, when the lead's chatter has a "done" message for an activity of the same kind
    posted after the activity was created (``completed_at`` = that message's date; each
    message accounts for one activity, oldest activities first); cancelled, when the
    chatter could be read and has no such message (Odoo posts nothing on cancel); done
    at ``now`` when the chatter could not be read (Odoo deletes most done activities)."""
    unused: dict[tuple[int, str], list[dt.datetime]] = {}
    for message in done_messages:
        unused.setdefault((message.lead_odoo_id, message.kind), []).append(message.date)
    for dates in unused.values():
        dates.sort()
    outcomes = {}
    oldest_first = sorted(vanished, key=lambda a: (a.created_at or now, a.odoo_activity_id))
    for activity in oldest_first:
        dates = unused.get((activity.lead_odoo_id, activity.kind), [])
        match = next((d for d in dates if activity.created_at is None or d >= activity.created_at), None)
        if match is not None:
            dates.remove(match)
            outcomes[activity.odoo_activity_id] = VanishedOutcome("done", match)
        elif chatter_known:
            outcomes[activity.odoo_activity_id] = VanishedOutcome("cancelled", now)
        else:
            outcomes[activity.odoo_activity_id] = VanishedOutcome("done", now)
    return outcomes


# --------------------------------------------------------------------------- the stream


class ScheduledActivitiesTarget(MirrorTarget):
    """``scheduled_activities`` keyed by ``odoo_activity_id``.

    Lookups per page: ``leads.id`` for the page's leads (one ``SELECT``) and the activity
    types mirrored in ``odoo_activity_types`` (loaded once per run). A planned
    activity Odoo no longer has is settled by
    :func:`vanished_outcomes`, from the "done" messages of its lead's chatter (one
    ``mail.message`` read per 50 leads), and is never dropped.
    """

    id_column = "odoo_activity_id"

    def __init__(self, type_map: ActivityTypeMap = DEFAULT_ACTIVITY_TYPE_MAP, *, chunk: int = 50) -> None:
        super().__init__(scheduled_activities, map_activities, key=("odoo_activity_id",), insert_only=("created_at",))
        self.type_map = type_map
        self.chunk = chunk

    def begin_run(self, ctx: PageContext) -> None:
        with ctx.store.connect() as conn:
            ctx.cache[_TYPES] = {
                int(r.odoo_id): ActivityType(int(r.odoo_id), r.name or "", r.xml_id, r.category)
                for r in conn.execute(
                    sa.select(
                        odoo_activity_types.c.odoo_id,
                        odoo_activity_types.c.name,
                        odoo_activity_types.c.xml_id,
                        odoo_activity_types.c.category,
                    ).where(odoo_activity_types.c.backend == ctx.backend)
                )
            }

    def select_changed(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        return list(records)  # the upsert itself skips rows whose content is unchanged

    def resolve(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> ActivityLookups:
        return ActivityLookups(
            lead_ids=lead_ids_by_odoo_id(conn, {int(r.get("res_id") or 0) for r in records}, ctx.backend),
            types=ctx.cache.get(_TYPES, {}),
            type_map=self.type_map,
        )

    def present_ids(self, conn: sa.Connection, ctx: PageContext, after: int, upto: int | None) -> set[int]:
        column = scheduled_activities.c.odoo_activity_id
        query = sa.select(column).where(column > after, column.is_not(None), *self._scope_clauses(ctx))
        if upto is not None:
            query = query.where(column <= upto)
        return {int(v) for v in conn.execute(query).scalars()}

    def snapshot(self, conn: sa.Connection, ctx: PageContext) -> dict[int, StoredRow]:
        """Every activity with an Odoo id; live while ``planned`` (a settled one may be gone
        from Odoo: deleted when marked done, or with its lead)."""
        column = scheduled_activities.c.odoo_activity_id
        query = sa.select(column, scheduled_activities.c.status).where(column.is_not(None), *self._scope_clauses(ctx))
        return {int(i): StoredRow(None, status == "planned") for i, status in conn.execute(query)}

    def mark_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Iterable[int]) -> int:
        """Settle planned activities Odoo no longer has: done or cancelled (never dropped)."""
        vanished = self._vanished(conn, ctx.backend, sorted(set(odoo_ids)))
        if not vanished:
            return 0
        leads = sorted({v.lead_odoo_id for v in vanished})
        done_messages, chatter_known = self._done_messages(ctx, leads)
        used = self._settled_dates(conn, ctx.backend, leads)
        fresh = [m for m in done_messages if (m.lead_odoo_id, m.kind, m.date) not in used]
        outcomes = vanished_outcomes(vanished, fresh, chatter_known=chatter_known, now=ctx.now)
        table = scheduled_activities
        for activity_id, outcome in outcomes.items():
            conn.execute(
                sa.update(table)
                .where(table.c.odoo_activity_id == activity_id, table.c.status == "planned", *self._scope_clauses(ctx))
                .values(status=outcome.status, completed_at=outcome.completed_at, updated_at=ctx.now)
            )
        return len(outcomes)

    def _vanished(self, conn: sa.Connection, backend: str, odoo_ids: list[int]) -> list[VanishedActivity]:
        table = scheduled_activities
        found = []
        for start in range(0, len(odoo_ids), _IN_CHUNK):
            query = (
                sa.select(table.c.odoo_activity_id, leads.c.odoo_id, table.c.activity_type, table.c.created_at)
                .join(leads, leads.c.id == table.c.lead_id)
                .where(
                    table.c.odoo_activity_id.in_(odoo_ids[start : start + _IN_CHUNK]),
                    table.c.status == "planned",
                    table.c.odoo_backend == backend,
                )
            )
            found += [
                VanishedActivity(int(a), int(lead or 0), kind, created)
                for a, lead, kind, created in conn.execute(query)
            ]
        return found

    def _done_messages(self, ctx: PageContext, lead_odoo_ids: list[int]) -> tuple[list[DoneMessage], bool]:
        """The "<Type> done" messages of these leads, and whether the chatter was readable."""
        types: Mapping[int, ActivityType] = ctx.cache.get(_TYPES, {})
        chunks = [lead_odoo_ids[i : i + self.chunk] for i in range(0, len(lead_odoo_ids), self.chunk)]

        def read(chunk: list[int]) -> list[dict[str, Any]]:
            return ctx.client.search_read(
                "mail.message",
                [("model", "=", "crm.lead"), ("res_id", "in", chunk), ("mail_activity_type_id", "!=", False)],
                ["res_id", "mail_activity_type_id", "date"],
                order="id",
            )

        try:
            pages = ctx.client.map_concurrent(read, chunks)
        except OdooPermanentError:
            return [], False
        messages = []
        for message in (m for page in pages for m in page):
            type_id = many2one_id(message.get("mail_activity_type_id"))
            known = types.get(type_id) if type_id is not None else None
            if known is None and type_id is not None:
                known = ActivityType(type_id, many2one_name(message.get("mail_activity_type_id")) or "")
            if isinstance(message.get("date"), dt.datetime):
                kind = self.type_map.kind_of(known)
                messages.append(DoneMessage(int(message.get("res_id") or 0), kind, message["date"]))
        return messages, True

    @staticmethod
    def _settled_dates(
        conn: sa.Connection, backend: str, lead_odoo_ids: list[int]
    ) -> set[tuple[int, str, dt.datetime]]:
        """``(lead, kind, completed_at)`` of activities already settled as done: the done
        messages that account for them are not used again."""
        table = scheduled_activities
        used = set()
        for start in range(0, len(lead_odoo_ids), _IN_CHUNK):
            query = (
                sa.select(leads.c.odoo_id, table.c.activity_type, table.c.completed_at)
                .join(leads, leads.c.id == table.c.lead_id)
                .where(
                    leads.c.odoo_id.in_(lead_odoo_ids[start : start + _IN_CHUNK]),
                    leads.c.odoo_backend == backend,
                    table.c.status == "done",
                    table.c.completed_at.is_not(None),
                )
            )
            used |= {(int(lead), kind, when) for lead, kind, when in conn.execute(query)}
        return used


def lead_ids_by_odoo_id(conn: sa.Connection, odoo_ids: Iterable[int], backend: str) -> dict[int, int]:
    """Odoo lead id → ``leads.id`` for the leads of ``backend`` the database holds (one ``SELECT``)."""
    wanted = sorted({i for i in odoo_ids if i})
    found: dict[int, int] = {}
    for start in range(0, len(wanted), _IN_CHUNK):
        query = sa.select(leads.c.odoo_id, leads.c.id).where(
            id_in(conn, leads.c.odoo_id, wanted[start : start + _IN_CHUNK]), leads.c.odoo_backend == backend
        )
        found.update({int(odoo_id): int(lead_id) for odoo_id, lead_id in conn.execute(query)})
    return found


def activities_stream(type_map: ActivityTypeMap = DEFAULT_ACTIVITY_TYPE_MAP, *, chunk: int = DEFAULT_CHUNK) -> Stream:
    """``mail.activity`` of ``crm.lead`` → ``scheduled_activities``, ``chunk`` leads per call."""
    return Stream(
        "activities",
        "mail.activity",
        ACTIVITY_FIELDS,
        ScheduledActivitiesTarget(type_map, chunk=chunk),
        optional_fields=ACTIVITY_OPTIONAL_FIELDS,
        domain=(("res_model", "=", "crm.lead"),),
        batching=ResIds("crm.lead", "leads", model_field="res_model", chunk=chunk),
    )
