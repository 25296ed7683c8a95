"""The chatter mapping of DESIGN C3: message types, subtypes, authors, titles, tracking."""

from __future__ import annotations

import datetime as dt

import pytest

from odoosync.streams.chatter import (
    ChatterLookups,
    Subtype,
    TrackedField,
    map_messages,
    message_kind,
    tracking_line,
)

WHEN = dt.datetime(2025, 3, 4, 10, 30, tzinfo=dt.UTC)
DISCUSSIONS = Subtype(1, "Discussions", internal=False)
NOTE = Subtype(2, "Note", internal=True)
STAGE_CHANGED = Subtype(3, "Stage Changed", internal=False)
ACTIVITIES = Subtype(4, "Activities", internal=True)
SUBTYPES = {s.id: s for s in (DISCUSSIONS, NOTE, STAGE_CHANGED, ACTIVITIES)}
FIELDS = {
    10: TrackedField(10, "Stage", "many2one"),
    11: TrackedField(11, "Expected Revenue", "monetary"),
    12: TrackedField(12, "Active", "boolean"),
    13: TrackedField(13, "Expected Closing", "date"),
    14: TrackedField(14, "Probability", "float"),
    15: TrackedField(15, "Color Index", "integer"),
    16: TrackedField(16, "Priority", "selection"),
}


def message(**values):
    base = {
        "id": 501,
        "res_id": 4842,
        "model": "crm.lead",
        "message_type": "comment",
        "subtype_id": (1, "Discussions"),
        "author_id": (7, "Mitchell Admin"),
        "email_from": '"Mitchell Admin" <admin@example.com>',
        "date": WHEN,
        "body": "<p>Hello</p>",
        "subject": None,
        "tracking_value_ids": [],
        "mail_activity_type_id": None,
    }
    return {**base, **values}


def lookups(tracking=None, fields=FIELDS):
    return ChatterLookups(lead_ids={4842: 1}, subtypes=SUBTYPES, tracking=tracking or {}, fields=fields)


def one(msg, **kw):
    rows = map_messages([msg], lookups(**kw))
    assert len(rows) == 1
    return rows[0]


@pytest.mark.parametrize(
    ("message_type", "subtype", "kind"),
    [
        ("comment", NOTE, "note"),
        ("comment", ACTIVITIES, "note"),
        ("comment", DISCUSSIONS, "comment"),
        ("comment", STAGE_CHANGED, "comment"),
        ("comment", None, "comment"),
        ("email", DISCUSSIONS, "email"),
        ("email", None, "email"),
        ("email_outgoing", None, "email"),
        ("notification", STAGE_CHANGED, "system"),
        ("notification", NOTE, "system"),
        ("auto_comment", DISCUSSIONS, "system"),
        ("user_notification", None, "system"),
    ],
)
def test_each_message_type_and_subtype_maps_as_the_table_says(message_type, subtype, kind):
    assert message_kind(message_type, subtype) == kind
    subtype_value = (subtype.id, subtype.name) if subtype else None
    assert one(message(message_type=message_type, subtype_id=subtype_value))["activity_type"] == kind


def test_a_row_carries_every_column_of_the_table():
    row = one(message(subject="Re: your quote", body="<p>Thanks &amp; regards</p>"))
    assert row == {
        "lead_id": 1,
        "activity_type": "comment",
        "title": "Re: your quote",
        "description": "Thanks & regards",
        "created_by": "Mitchell Admin",
        "created_at": WHEN,
        "odoo_message_id": 501,
    }


def test_author_falls_back_to_email_from_then_none():
    assert one(message(author_id=None))["created_by"] == '"Mitchell Admin" <admin@example.com>'
    assert one(message(author_id=None, email_from=None))["created_by"] is None


@pytest.mark.parametrize(
    ("values", "title"),
    [
        ({"subject": "  Quote sent  "}, "Quote sent"),
        ({"subtype_id": (2, "Note")}, "Internal note"),
        ({}, "Comment"),
        ({"message_type": "email"}, "Email"),
        ({"message_type": "email_outgoing"}, "Outgoing email"),
        ({"message_type": "notification", "subtype_id": (3, "Stage Changed")}, "Stage Changed"),
        ({"message_type": "notification", "subtype_id": None}, "System notification"),
        ({"message_type": "auto_comment", "subtype_id": None}, "Automated notification"),
        ({"message_type": "user_notification", "subtype_id": None}, "User notification"),
        (
            {"message_type": "notification", "subtype_id": (4, "Activities"), "mail_activity_type_id": (2, "Call")},
            "Call done",
        ),
    ],
)
def test_title_is_the_subject_else_derived_from_type_and_subtype(values, title):
    assert one(message(**values))["title"] == title


def test_unknown_subtype_uses_the_name_odoo_sent():
    row = one(message(message_type="notification", subtype_id=(99, "Opportunity Won")))
    assert (row["activity_type"], row["title"]) == ("system", "Opportunity Won")


def test_messages_of_leads_not_in_the_database_are_skipped():
    assert map_messages([message(res_id=999)], lookups()) == []


def test_empty_body_without_tracking_has_no_description():
    assert one(message(body="<p><br></p>"))["description"] is None


def tracking(value_id, field_id, **values):
    return {"id": value_id, "mail_message_id": (501, "x"), "field_id": (field_id, "label (Lead/Opportunity)"), **values}


def test_tracking_values_are_rendered_after_the_body_in_creation_order():
    values = [
        tracking(71, 11, old_value_float=1000.0, new_value_float=2500.0, currency_id=(1, "USD")),
        tracking(70, 10, old_value_integer=1, new_value_integer=4, old_value_char="New", new_value_char="Won"),
    ]
    row = one(message(message_type="notification", subtype_id=(3, "Stage Changed"), body=""), tracking={501: values})
    assert row["description"] == "Stage: New → Won\nExpected Revenue: 1,000 → 2,500"
    with_body = one(message(message_type="notification", body="<p>Deal closed</p>"), tracking={501: values[:1]})
    assert with_body["description"] == "Deal closed\nExpected Revenue: 1,000 → 2,500"


@pytest.mark.parametrize(
    ("field_id", "values", "line"),
    [
        (10, {"old_value_char": "", "new_value_char": "Qualified"}, "Stage: None → Qualified"),
        (11, {"old_value_float": 0.0, "new_value_float": 1234.5}, "Expected Revenue: 0 → 1,234.50"),
        (12, {"old_value_integer": 1, "new_value_integer": 0}, "Active: Yes → No"),
        (
            13,
            {"old_value_datetime": None, "new_value_datetime": dt.datetime(2025, 6, 1, tzinfo=dt.UTC)},
            "Expected Closing: None → 2025-06-01",
        ),
        (14, {"old_value_float": 10.0, "new_value_float": 33.33}, "Probability: 10 → 33.33"),
        (15, {"old_value_integer": 0, "new_value_integer": 3}, "Color Index: 0 → 3"),
        (16, {"old_value_char": "Low", "new_value_char": "High"}, "Priority: Low → High"),
    ],
)
def test_tracking_value_types_use_odoos_columns(field_id, values, line):
    assert tracking_line(tracking(1, field_id, **values), FIELDS) == line


def test_tracking_without_readable_fields_uses_the_display_name_and_guesses_the_type():
    stage = tracking(1, 10, old_value_char="New", new_value_char="Won", old_value_integer=1, new_value_integer=4)
    stage["field_id"] = (10, "Stage (Lead/Opportunity)")
    revenue = tracking(2, 11, old_value_float=1000.0, new_value_float=2500.0, currency_id=(1, "USD"))
    revenue["field_id"] = (11, "Expected Revenue (Lead/Opportunity)")
    assert tracking_line(stage, {}) == "Stage: New → Won"
    assert tracking_line(revenue, {}) == "Expected Revenue: 1,000 → 2,500"


def test_tracking_of_a_removed_field_uses_field_info():
    removed = tracking(1, 0, old_value_char="a", new_value_char="b", field_info={"desc": "Old Field", "type": "char"})
    removed["field_id"] = None
    assert tracking_line(removed, FIELDS) == "Old Field: a → b"


def test_odoo_16_tracking_values_carry_their_own_label_and_type():
    value = {
        "id": 1,
        "field": (10, "Stage"),
        "field_desc": "Stage",
        "field_type": "many2one",
        "old_value_char": "New",
        "new_value_char": "Won",
    }
    assert tracking_line(value, {}) == "Stage: New → Won"


def test_odoo_16_money_tracking_reads_the_monetary_columns():
    """Seen on a real Odoo 16: money changes are stored in ``*_value_monetary`` and the
    float columns hold 0, which read "Expected Revenue: 0 → 0"."""
    value = {
        "id": 1,
        "field": (12, "Expected Revenue"),
        "field_desc": "Expected Revenue",
        "field_type": "monetary",
        "old_value_float": 0.0,
        "new_value_float": 0.0,
        "old_value_monetary": 1000.0,
        "new_value_monetary": 2500.5,
    }
    assert tracking_line(value, {}) == "Expected Revenue: 1,000 → 2,500.50"
    value.pop("field_type")
    assert tracking_line(value, {}) == "Expected Revenue: 1,000 → 2,500.50", "type inferred from the columns"


def test_an_empty_page_prefetches_nothing_from_odoo() -> None:
    """A no-change increment reads one empty page: its prefetch must not read the
    subtypes (or anything) from Odoo, so the increment stays one request."""
    from odoosync.streams.base import PageContext
    from odoosync.streams.chatter import LeadMessagesTarget

    class NoOdoo:
        def __getattr__(self, name: str) -> object:
            raise AssertionError(f"Odoo asked: {name}")

    ctx = PageContext(client=NoOdoo(), store=NoOdoo())  # type: ignore[arg-type]
    LeadMessagesTarget().prefetch(ctx, [])
    assert ctx.cache == {}
