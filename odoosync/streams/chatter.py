"""Chatter: Odoo's ``mail.message`` on ``crm.lead`` → ``lead_activities``.

Every message a lead's chatter shows becomes one row, keyed by ``odoo_message_id``:

=================================================  =====================================
Odoo                                               ``lead_activities``
=================================================  =====================================
``comment`` with an internal subtype (log note)    ``activity_type = 'note'``
``comment`` with any other subtype                 ``'comment'``
``email``, ``email_outgoing``                      ``'email'``
``notification``, ``auto_comment``,                ``'system'``
``user_notification``
``author_id`` name, else ``email_from``            ``created_by``
``date``                                           ``created_at``
``body`` (HTML → text) + tracking values           ``description``
``subject``, else a title from type/subtype        ``title``
``id``                                             ``odoo_message_id``
=================================================  =====================================

Tracking values (``mail.tracking.value``, one per changed field) are rendered the way
Odoo's chatter shows them, one line each after the body: ``Stage: New → Won``,
``Expected Revenue: 1,000 → 2,500``, ``None`` for an empty side. Since Odoo 17 a
tracking value names its field only through ``field_id`` (``ir.model.fields``; its
display name is ``"Stage (Lead/Opportunity)"``) or, for a field since removed,
``field_info``; the field's type decides which ``old_value_*``/``new_value_*`` column
holds the value (Odoo's ``_format_display_value``). Both models are readable by
administrators only (``base.group_system``), so when they cannot be read the message is
still imported, with its body alone.

The mapping functions are pure (records in, normalised by the client; rows out);
:class:`LeadMessagesTarget` does the lookups and writes for the pull engine.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from odoosync.exceptions import AccessDenied, InvalidRequest, OdooPermanentError
from odoosync.html_text import html_to_text
from odoosync.odoo.values import odoo_datetime
from odoosync.store.filters import id_in
from odoosync.store.schema import lead_activities
from odoosync.streams.activities import DEFAULT_CHUNK, lead_ids_by_odoo_id
from odoosync.streams.base import PageContext, ResIds, Stream, many2one_id, many2one_name
from odoosync.streams.mirror import MirrorTarget

__all__ = [
    "MESSAGE_FIELDS",
    "TRACKING_FIELDS",
    "TRACKING_OPTIONAL_FIELDS",
    "TRACKED_FIELD_FIELDS",
    "SUBTYPE_FIELDS",
    "Subtype",
    "TrackedField",
    "ChatterLookups",
    "message_kind",
    "message_title",
    "tracking_line",
    "map_messages",
    "message_row",
    "LeadMessagesTarget",
    "chatter_stream",
]

MESSAGE_FIELDS = (
    "res_id",
    "model",
    "message_type",
    "subtype_id",
    "author_id",
    "email_from",
    "date",
    "body",
    "subject",
    "tracking_value_ids",
    "mail_activity_type_id",
)
"""``mail.message`` fields the chatter stream reads (besides ``id`` and ``write_date``)."""

TRACKING_FIELDS = (
    "mail_message_id",
    "field_id",
    "old_value_integer",
    "old_value_float",
    "old_value_char",
    "old_value_text",
    "old_value_datetime",
    "new_value_integer",
    "new_value_float",
    "new_value_char",
    "new_value_text",
    "new_value_datetime",
    "currency_id",
)
"""``mail.tracking.value`` fields read for rendering (those the server has)."""

TRACKING_OPTIONAL_FIELDS = (
    "field_info",
    "field",
    "field_desc",
    "field_type",
    "old_value_monetary",
    "new_value_monetary",
)
"""Odoo 17+: ``field_info`` (a removed field's label and type); Odoo 16 names the field
``field``, stores its label and type on the value (``field_desc``, ``field_type``) and
keeps money in ``*_value_monetary`` (17 moved it to ``*_value_float``)."""

TRACKED_FIELD_FIELDS = ("name", "field_description", "ttype")
"""``ir.model.fields`` fields that give a tracking value its label and type."""

SUBTYPE_FIELDS = ("name", "internal")
"""``mail.message.subtype`` fields that tell a log note from a comment."""

PAGE_SIZE = 1000
"""Messages per page, the stream's own (it wins over ``[sync] page_size``, as any
stream's does): small records (~450 bytes of JSON each), so pages twice the default
halve the requests (and their server time) for a few MiB more (memory: two rounds of
partitions × 1,000 messages). Measured against 500 and 2,000 in docs/performance.md."""

_IN_CHUNK = 5000  # ids per IN (...) list, well under every driver's parameter limit
_SUBTYPES = "chatter.subtypes"  # PageContext.cache keys
_FIELDS = "chatter.tracked_fields"
_TRACKING_DENIED = "chatter.tracking_denied"
_FIELDS_DENIED = "chatter.fields_denied"
_TRACKING = "_odoosync_tracking"  # a message's tracking values, read with its page (prefetch)
_ROW = "_odoosync_row"  # its row but the lead id, mapped with its page (prefetch)

NONE_TEXT = "None"  # what Odoo's chatter shows for an empty side (formatTrackingOrNone)
ARROW = " → "

_KIND_BY_TYPE = {
    "email": "email",
    "email_outgoing": "email",
    "notification": "system",
    "auto_comment": "system",
    "user_notification": "system",
}
_TITLE_BY_TYPE = {
    "comment": "Comment",
    "email": "Email",
    "email_outgoing": "Outgoing email",
    "notification": "System notification",
    "auto_comment": "Automated notification",
    "user_notification": "User notification",
}
_NOTE_TITLE = "Internal note"
# Odoo 17+ ir.model.fields display name: "<label> (<model description>)".
_MODEL_SUFFIX = re.compile(r"\s+\([^()]*\)$")
# Which stored column holds a value of each field type (Odoo's _format_display_value).
_COLUMN_BY_TYPE = {
    "boolean": "integer",
    "integer": "integer",
    "float": "float",
    "monetary": "float",
    "date": "datetime",
    "datetime": "datetime",
    "text": "text",
}


@dataclass(frozen=True)
class Subtype:
    """A ``mail.message.subtype``: its name and whether it is internal (log notes)."""

    id: int
    name: str
    internal: bool = False

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> Subtype:
        return cls(int(record["id"]), str(record.get("name") or ""), bool(record.get("internal")))


@dataclass(frozen=True)
class TrackedField:
    """An ``ir.model.fields`` record: the label the chatter shows and the field's type."""

    id: int
    label: str
    type: str

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> TrackedField:
        return cls(
            int(record["id"]),
            str(record.get("field_description") or record.get("name") or ""),
            str(record.get("ttype") or "char"),
        )


@dataclass(frozen=True)
class ChatterLookups:
    """What mapping a page of messages needs besides the messages themselves.

    ``lead_ids``: Odoo lead id → ``leads.id`` (messages of leads not in the database are
    skipped); ``subtypes`` by id; ``tracking``: message id → its tracking value records;
    ``fields``: ``ir.model.fields`` id → :class:`TrackedField` (empty when unreadable).
    """

    lead_ids: Mapping[int, int]
    subtypes: Mapping[int, Subtype]
    tracking: Mapping[int, Sequence[Mapping[str, Any]]]
    fields: Mapping[int, TrackedField]


def message_kind(message_type: str | None, subtype: Subtype | None) -> str:
    """``note | comment | email | system`` for a message type and its subtype."""
    if message_type in (None, "comment"):
        return "note" if subtype is not None and subtype.internal else "comment"
    return _KIND_BY_TYPE.get(message_type, "system")


def message_title(message: Mapping[str, Any], kind: str, subtype: Subtype | None) -> str:
    """The subject, else what the message is: ``Call done`` for a finished activity,
    the subtype's name (``Stage Changed``) for other system messages, else the type."""
    subject = (message.get("subject") or "").strip()
    if subject:
        return subject
    activity_type = many2one_name(message.get("mail_activity_type_id"))
    if activity_type:
        return f"{activity_type} done"
    if kind == "note":
        return _NOTE_TITLE
    if kind == "system" and subtype is not None and subtype.name:
        return subtype.name
    return _TITLE_BY_TYPE.get(str(message.get("message_type")), "Message")


def tracking_line(value: Mapping[str, Any], fields: Mapping[int, TrackedField]) -> str:
    """One tracking value as the chatter shows it: ``Label: old → new``."""
    label, field_type = _tracked_label_and_type(value, fields)
    old = _display(value, "old", field_type)
    new = _display(value, "new", field_type)
    return f"{label}: {old}{ARROW}{new}"


def map_messages(messages: Iterable[Mapping[str, Any]], lookups: ChatterLookups) -> list[dict[str, Any]]:
    """``lead_activities`` rows for the messages whose lead is in the database."""
    rows = []
    for message in messages:
        lead_id = lookups.lead_ids.get(int(message.get("res_id") or 0))
        if lead_id is None:
            continue
        rows.append(_map_message(message, lead_id, lookups))
    return rows


def _map_message(message: Mapping[str, Any], lead_id: int, lookups: ChatterLookups) -> dict[str, Any]:
    row = message.get(_ROW)  # mapped with its page on the read-ahead (LeadMessagesTarget.prefetch)
    if row is None:
        row = message_row(message, lookups.subtypes, lookups.tracking.get(int(message["id"]), ()), lookups.fields)
    return {"lead_id": lead_id, **row}


def message_row(
    message: Mapping[str, Any],
    subtypes: Mapping[int, Subtype],
    tracking: Sequence[Mapping[str, Any]],
    fields: Mapping[int, TrackedField],
) -> dict[str, Any]:
    """A message's ``lead_activities`` row but its ``lead_id`` (which needs the database):
    ``tracking`` is the message's tracking value records, ``subtypes`` and ``fields`` as
    in :class:`ChatterLookups`."""
    subtype_id = many2one_id(message.get("subtype_id"))
    subtype = subtypes.get(subtype_id) if subtype_id is not None else None
    if subtype is None and subtype_id is not None:
        subtype = Subtype(subtype_id, many2one_name(message.get("subtype_id")) or "")
    kind = message_kind(message.get("message_type"), subtype)
    description = html_to_text(message.get("body"))
    if tracking:
        lines = [tracking_line(value, fields) for value in sorted(tracking, key=lambda v: int(v["id"]))]
        description = "\n".join(part for part in (description, *lines) if part)
    return {
        "activity_type": kind,
        "title": message_title(message, kind, subtype),
        "description": description or None,
        "created_by": _author(message),
        "created_at": _when(message),
        "odoo_message_id": int(message["id"]),
    }


def _author(message: Mapping[str, Any]) -> str | None:
    name = many2one_name(message.get("author_id"))
    if name and name.strip():
        return name.strip()
    email = (message.get("email_from") or "").strip()
    return email or None


def _when(message: Mapping[str, Any]) -> dt.datetime | None:
    for name in ("date", "create_date", "write_date"):
        value = message.get(name)
        if isinstance(value, dt.datetime):
            return value
    return None


def _tracked_label_and_type(value: Mapping[str, Any], fields: Mapping[int, TrackedField]) -> tuple[str, str]:
    if value.get("field_desc"):  # Odoo 16
        return str(value["field_desc"]), str(value.get("field_type") or _inferred_type(value))
    field_id = many2one_id(value.get("field_id"))
    known = fields.get(field_id) if field_id is not None else None
    if known is not None:
        return known.label, known.type
    info = value.get("field_info")
    if isinstance(info, Mapping) and info.get("desc"):
        return str(info["desc"]), str(info.get("type") or _inferred_type(value))
    display = many2one_name(value.get("field_id"))
    label = _MODEL_SUFFIX.sub("", display) if display else "Unknown"
    return label, _inferred_type(value)


def _inferred_type(value: Mapping[str, Any]) -> str:
    """The field type, guessed from which columns hold something (field unreadable)."""

    def held(column: str) -> bool:
        return any(value.get(f"{side}_value_{column}") not in (None, "", 0, 0.0) for side in ("old", "new"))

    if held("char"):
        return "char"
    if held("text"):
        return "text"
    if held("datetime"):
        return "datetime"
    if held("float") or held("monetary") or many2one_id(value.get("currency_id")) is not None:
        return "monetary"
    if held("integer"):
        return "integer"
    return "char"


def _display(value: Mapping[str, Any], side: str, field_type: str) -> str:
    column = _COLUMN_BY_TYPE.get(field_type, "char")
    if field_type == "monetary" and f"{side}_value_monetary" in value:
        column = "monetary"  # Odoo 16's own money columns
    raw = value.get(f"{side}_value_{column}")
    if field_type == "boolean":
        return "Yes" if raw else "No"
    if raw is None or raw == "" or raw is False:
        return NONE_TEXT
    if column in ("float", "monetary"):
        return _number(float(raw))
    if column == "integer":
        return f"{int(raw):,}"
    if column == "datetime":
        return _moment(raw, date_only=field_type == "date")
    return str(raw)


def _number(value: float) -> str:
    """``1,000`` for whole amounts, ``1,000.50`` otherwise."""
    if value == int(value):
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _moment(value: Any, *, date_only: bool) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime):
        return odoo_datetime(value)[:10] if date_only else odoo_datetime(value)
    return str(value)


# --------------------------------------------------------------------------- the stream


class LeadMessagesTarget(MirrorTarget):
    """``lead_activities`` keyed by ``odoo_message_id``.

    Lookups: subtypes once per run (lazily); per page, ``leads.id`` for the page's leads (one
    ``SELECT``), the tracking values of the messages that have some (one
    ``mail.tracking.value`` read, made with the page by :meth:`prefetch`) and the labels/types of fields not seen yet in this
    run (one ``ir.model.fields`` read). When the user may not read tracking values
    (they are admin-only), messages are imported with their bodies alone.

    A message Odoo no longer has (deleted, or its lead deleted) is deleted here too:
    these rows are Odoo's chatter mirrored, the table has no ``deleted_at``, and the
    app's own rows (``odoo_message_id`` NULL) are never touched.
    """

    id_column = "odoo_message_id"

    def __init__(self) -> None:
        super().__init__(lead_activities, map_messages, key=("odoo_message_id",))

    def select_changed(
        self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]
    ) -> list[Mapping[str, Any]]:
        """Everything but the tracking messages already stored: those cannot change in
        Odoo, and re-rendering them would cost a tracking read. Other known messages
        are re-mapped (no Odoo request) and the upsert writes only real changes, so an
        edited note arrives and an unchanged page writes nothing."""
        tracked = [int(r["id"]) for r in records if r.get("tracking_value_ids")]
        if not tracked:
            return list(records)
        column = lead_activities.c.odoo_message_id
        known = set(
            conn.execute(sa.select(column).where(id_in(conn, column, tracked), *self._scope_clauses(ctx))).scalars()
        )
        return [r for r in records if int(r["id"]) not in known]

    def prefetch(self, ctx: PageContext, records: list[dict[str, Any]]) -> None:
        """The tracking values of a page (or of a round of pages: one read for all of
        them), read as soon as the pages arrive, and the messages mapped but for their
        lead ids, all on the read-ahead's thread: the writer never waits for Odoo, and
        maps nothing while Odoo answers the next round. An empty page asks Odoo for nothing
        (a no-change increment stays one request)."""
        if not records:
            return
        wanted = [r for r in records if r.get("tracking_value_ids")]
        tracking = self._tracking(ctx, wanted) if wanted else {}
        for record in wanted:
            record[_TRACKING] = tracking.get(int(record["id"]), [])
        subtypes, fields = self._subtypes(ctx), self._tracked_fields(ctx, tracking)
        for record in records:
            record[_ROW] = message_row(record, subtypes, record.get(_TRACKING, ()), fields)

    def resolve(self, ctx: PageContext, conn: sa.Connection, records: Sequence[Mapping[str, Any]]) -> ChatterLookups:
        lead_ids = lead_ids_by_odoo_id(conn, {int(r.get("res_id") or 0) for r in records}, ctx.backend)
        wanted = [
            r
            for r in records
            if _ROW not in r and r.get("tracking_value_ids") and int(r.get("res_id") or 0) in lead_ids
        ]
        tracking = self._tracking(ctx, [r for r in wanted if _TRACKING not in r])
        tracking.update((int(r["id"]), r[_TRACKING]) for r in wanted if _TRACKING in r)
        return ChatterLookups(
            lead_ids=lead_ids,
            subtypes=self._subtypes(ctx),
            tracking=tracking,
            fields=self._tracked_fields(ctx, tracking),
        )

    @staticmethod
    def _subtypes(ctx: PageContext) -> Mapping[int, Subtype]:
        """Every subtype, read once per run, when the first page needs them."""
        if _SUBTYPES not in ctx.cache:
            try:
                subtypes = ctx.client.search_read(  # char and boolean: nothing to normalise
                    "mail.message.subtype", [], list(SUBTYPE_FIELDS), active_test=False, normalize=False
                )
            except OdooPermanentError:
                subtypes = []
            ctx.cache[_SUBTYPES] = {int(s["id"]): Subtype.of(s) for s in subtypes}
        return ctx.cache[_SUBTYPES]

    @staticmethod
    def _tracking(ctx: PageContext, messages: Sequence[Mapping[str, Any]]) -> dict[int, list[dict[str, Any]]]:
        ids = sorted({int(i) for m in messages for i in m.get("tracking_value_ids") or ()})
        if not ids or ctx.cache.get(_TRACKING_DENIED):
            return {}
        try:
            available = ctx.client.field_types("mail.tracking.value")
            fields = [f for f in (*TRACKING_FIELDS, *TRACKING_OPTIONAL_FIELDS) if f in available]
            values = ctx.client.read("mail.tracking.value", ids, fields)
        except (AccessDenied, InvalidRequest):
            ctx.cache[_TRACKING_DENIED] = True
            return {}
        by_message: dict[int, list[dict[str, Any]]] = {}
        for value in values:
            message_id = many2one_id(value.get("mail_message_id"))
            if message_id is not None:
                by_message.setdefault(message_id, []).append(value)
        return by_message

    @staticmethod
    def _tracked_fields(
        ctx: PageContext, tracking: Mapping[int, Sequence[Mapping[str, Any]]]
    ) -> Mapping[int, TrackedField]:
        known: dict[int, TrackedField] = ctx.cache.setdefault(_FIELDS, {})
        wanted = {many2one_id(v.get("field_id")) for values in tracking.values() for v in values}
        unknown = sorted(i for i in wanted if i is not None and i not in known)
        if unknown and not ctx.cache.get(_FIELDS_DENIED):
            try:
                records = ctx.client.read("ir.model.fields", unknown, list(TRACKED_FIELD_FIELDS))
            except (AccessDenied, InvalidRequest):
                ctx.cache[_FIELDS_DENIED] = True
                records = []
            known.update({int(r["id"]): TrackedField.of(r) for r in records})
        return known

    def present_ids(self, conn: sa.Connection, ctx: PageContext, after: int, upto: int | None) -> set[int]:
        column = lead_activities.c.odoo_message_id
        query = sa.select(column).where(column > after, column.is_not(None), *self._scope_clauses(ctx))
        if upto is not None:
            query = query.where(column <= upto)
        return {int(v) for v in conn.execute(query).scalars()}

    def mark_deleted(self, conn: sa.Connection, ctx: PageContext, odoo_ids: Iterable[int]) -> int:
        ids = sorted(set(odoo_ids))
        deleted = 0
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            result = conn.execute(
                sa.delete(lead_activities).where(
                    lead_activities.c.odoo_message_id.in_(chunk), *self._scope_clauses(ctx)
                )
            )
            deleted += result.rowcount or 0
        return deleted


def chatter_stream(*, chunk: int = DEFAULT_CHUNK) -> Stream:
    """``mail.message`` of ``crm.lead`` → ``lead_activities``, ``chunk`` leads per call."""
    return Stream(
        "chatter",
        "mail.message",
        MESSAGE_FIELDS,
        LeadMessagesTarget(),
        domain=(("model", "=", "crm.lead"),),
        page_size=PAGE_SIZE,
        batching=ResIds("crm.lead", "leads", model_field="model", chunk=chunk),
    )
