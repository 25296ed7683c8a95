"""The scheduled-activity mapping of DESIGN C3: kinds, status, vanished activities."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from odoosync.exceptions import ConfigError
from odoosync.streams.activities import (
    DEFAULT_ACTIVITY_TYPE_MAP,
    ActivityLookups,
    ActivityType,
    DoneMessage,
    VanishedActivity,
    map_activities,
    vanished_outcomes,
)
from odoosync.streams.registry import parse_pull_config, select_streams, stream_catalog

NOW = dt.datetime(2025, 5, 1, 12, 0, tzinfo=dt.UTC)
TYPES = {
    1: ActivityType(1, "Email", "mail.mail_activity_data_email", "default"),
    2: ActivityType(2, "Appel", "mail.mail_activity_data_call", "phonecall"),  # translated name
    3: ActivityType(3, "Meeting", "mail.mail_activity_data_meeting", "meeting"),
    4: ActivityType(4, "To-Do", "mail.mail_activity_data_todo", "default"),
    5: ActivityType(5, "Follow-up Quote", "crm.mail_activity_demo_followup_quote", "default"),
    6: ActivityType(6, "Follow-Up", None, "default"),
    7: ActivityType(7, "Customer visit", None, "meeting"),
    8: ActivityType(8, "Strange", None, "default"),
}


def activity(**values):
    base = {
        "id": 900,
        "res_id": 4842,
        "res_model": "crm.lead",
        "activity_type_id": (2, "Appel"),
        "summary": " Call back ",
        "note": "<p>Ask about <b>budget</b></p><ul><li>Q3</li></ul>",
        "date_deadline": dt.date(2025, 5, 10),
        "user_id": (2, "Marc Demo"),
        "state": "planned",
        "active": True,
        "create_date": dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC),
        "write_date": dt.datetime(2025, 4, 2, 9, 0, tzinfo=dt.UTC),
    }
    return {**base, **values}


def one(act, type_map=DEFAULT_ACTIVITY_TYPE_MAP):
    rows = map_activities([act], ActivityLookups({4842: 1}, TYPES, type_map))
    assert len(rows) == 1
    return rows[0]


def test_a_row_carries_every_column():
    assert one(activity()) == {
        "lead_id": 1,
        "activity_type": "call",
        "summary": "Call back",
        "note": "Ask about budget\n- Q3",
        "due_date": dt.date(2025, 5, 10),
        "assigned_name": "Marc Demo",
        "status": "planned",
        "odoo_activity_id": 900,
        "completed_at": None,
        "created_at": dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC),
    }


@pytest.mark.parametrize(
    ("type_id", "kind"),
    [
        (1, "email"),
        (2, "call"),
        (3, "meeting"),
        (4, "todo"),
        (5, "follow_up"),
        (6, "follow_up"),
        (7, "meeting"),
        (8, "todo"),
        (99, "todo"),
    ],
)
def test_activity_types_map_by_xml_id_name_and_category_unknown_is_todo(type_id, kind):
    assert one(activity(activity_type_id=(type_id, "whatever")))["activity_type"] == kind


def test_no_activity_type_is_todo():
    assert one(activity(activity_type_id=None))["activity_type"] == "todo"


def test_the_map_is_configurable_by_name_and_xml_id():
    custom = DEFAULT_ACTIVITY_TYPE_MAP.extended({"Strange": "follow_up", "mail.mail_activity_data_todo": "follow_up"})
    assert one(activity(activity_type_id=(8, "Strange")), custom)["activity_type"] == "follow_up"
    assert one(activity(activity_type_id=(4, "To-Do")), custom)["activity_type"] == "follow_up"
    assert one(activity(activity_type_id=(4, "To-Do")))["activity_type"] == "todo"


def test_a_bad_map_names_every_problem_and_changes_nothing():
    with pytest.raises(ConfigError) as caught:
        DEFAULT_ACTIVITY_TYPE_MAP.extended({"Visit": "visit", "x.y": "phone", "Call": "call"})
    assert len(caught.value.problems) == 2
    assert "'visit'" in caught.value.problems[0]
    assert DEFAULT_ACTIVITY_TYPE_MAP.by_name["call"] == "call"


@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"state": "done"}, "done"),
        ({"active": False, "state": "done"}, "done"),
        ({"active": False, "state": None}, "done"),
        ({"state": "overdue"}, "planned"),
        ({"state": "today"}, "planned"),
    ],
)
def test_done_or_archived_is_done_else_planned(values, status):
    row = one(activity(**values))
    assert row["status"] == status
    assert (row["completed_at"] is not None) == (status == "done")


def test_empty_note_and_summary_are_none():
    row = one(activity(note="<p><br></p>", summary=None))
    assert (row["note"], row["summary"]) == (None, None)


def test_activities_of_leads_not_in_the_database_are_skipped():
    assert map_activities([activity(res_id=1)], ActivityLookups({4842: 1}, TYPES)) == []


CREATED = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def vanished(activity_id, kind="call", created=CREATED, lead=4842):
    return VanishedActivity(activity_id, lead, kind, created)


def test_a_vanished_activity_with_a_done_message_is_done_when_the_message_was_posted():
    done_at = dt.datetime(2025, 4, 3, 8, 0, tzinfo=dt.UTC)
    outcomes = vanished_outcomes([vanished(1)], [DoneMessage(4842, "call", done_at)], chatter_known=True, now=NOW)
    assert outcomes[1].status == "done"
    assert outcomes[1].completed_at == done_at


def test_a_vanished_activity_without_a_done_message_was_cancelled():
    before = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    messages = [DoneMessage(4842, "call", before), DoneMessage(4842, "meeting", NOW), DoneMessage(1, "call", NOW)]
    outcomes = vanished_outcomes([vanished(1)], messages, chatter_known=True, now=NOW)
    assert (outcomes[1].status, outcomes[1].completed_at) == ("cancelled", NOW)


def test_each_done_message_accounts_for_one_activity():
    first = dt.datetime(2025, 4, 2, tzinfo=dt.UTC)
    outcomes = vanished_outcomes(
        [vanished(2, created=CREATED + dt.timedelta(hours=1)), vanished(1)],
        [DoneMessage(4842, "call", first)],
        chatter_known=True,
        now=NOW,
    )
    assert (outcomes[1].status, outcomes[1].completed_at) == ("done", first)
    assert outcomes[2].status == "cancelled"


def test_without_chatter_a_vanished_activity_is_done_now():
    outcomes = vanished_outcomes([vanished(1)], [], chatter_known=False, now=NOW)
    assert (outcomes[1].status, outcomes[1].completed_at) == ("done", NOW)


def test_the_map_is_configured_in_ops_sync_config():
    configs = parse_pull_config({"odoo_to_sb:mail.activity": {"activity_types": {"Site visit": "meeting"}}})
    stream = select_streams("activities", stream_catalog(configs))[0]
    assert stream.target.type_map.kind_of(ActivityType(9, "Site Visit")) == "meeting"
    assert stream.target.type_map.kind_of(TYPES[2]) == "call"
    assert "leads" in stream.after


def test_a_bad_configured_map_is_reported_with_its_key():
    with pytest.raises(ConfigError, match=r"odoo_to_sb:mail.activity.*'visit' is not one of"):
        parse_pull_config({"odoo_to_sb:mail.activity": {"activity_types": {"Site visit": "visit"}}})


_MOMENTS = st.integers(min_value=0, max_value=50).map(lambda h: CREATED + dt.timedelta(hours=h))


@settings(max_examples=150, deadline=None)
@given(
    activities=st.lists(st.tuples(st.sampled_from([1, 2]), st.sampled_from(["call", "email"]), _MOMENTS), max_size=8),
    messages=st.lists(st.tuples(st.sampled_from([1, 2]), st.sampled_from(["call", "email"]), _MOMENTS), max_size=8),
)
def test_each_vanished_activity_gets_one_outcome_and_each_done_message_serves_once(activities, messages):
    vanished = [VanishedActivity(i, lead, kind, created) for i, (lead, kind, created) in enumerate(activities)]
    done = [DoneMessage(lead, kind, when) for lead, kind, when in messages]
    outcomes = vanished_outcomes(vanished, done, chatter_known=True, now=NOW)
    assert set(outcomes) == {a.odoo_activity_id for a in vanished}
    used: dict[tuple, int] = {}
    for activity in vanished:
        outcome = outcomes[activity.odoo_activity_id]
        if outcome.status == "done":
            assert outcome.completed_at >= activity.created_at
            slot = (activity.lead_odoo_id, activity.kind, outcome.completed_at)
            used[slot] = used.get(slot, 0) + 1
        else:
            assert (outcome.status, outcome.completed_at) == ("cancelled", NOW)
    available = {(m.lead_odoo_id, m.kind, m.date): 0 for m in done}
    for m in done:
        available[(m.lead_odoo_id, m.kind, m.date)] += 1
    assert all(count <= available.get(slot, 0) for slot, count in used.items())


KINDS = ("call", "email", "meeting", "todo", "follow_up")
_TYPE = st.builds(
    ActivityType,
    st.integers(1, 50),
    st.sampled_from(["Call", "Appel", "Email", "Meeting", "To-Do", "Follow-Up", "Visit", "Strange", ""]),
    st.sampled_from(
        [None, "mail.mail_activity_data_call", "mail.mail_activity_data_email", "crm.mail_activity_demo_followup_quote"]
    ),
    st.sampled_from([None, "default", "phonecall", "meeting"]),
)


@settings(max_examples=200, deadline=None)
@given(types=st.lists(_TYPE, max_size=8, unique_by=lambda t: t.id), kind=st.sampled_from(KINDS))
def test_the_push_direction_inverts_the_pull_map(types, kind):
    """A kind is pushed as a type the pull maps back to that kind; None only when no type has it."""
    chosen = DEFAULT_ACTIVITY_TYPE_MAP.type_for(kind, types)
    by_id = {t.id: t for t in types}
    if chosen is None:
        assert all(DEFAULT_ACTIVITY_TYPE_MAP.kind_of(t) != kind for t in types)
    else:
        assert DEFAULT_ACTIVITY_TYPE_MAP.kind_of(by_id[chosen]) == kind


def test_the_push_prefers_a_type_matched_by_xml_id_then_by_name_then_by_category():
    types = list(TYPES.values())
    assert DEFAULT_ACTIVITY_TYPE_MAP.type_for("call", types) == 2  # by XML id, whatever its translated name
    assert DEFAULT_ACTIVITY_TYPE_MAP.type_for("meeting", types) == 3  # XML id beats "Customer visit"'s category
    assert DEFAULT_ACTIVITY_TYPE_MAP.type_for("follow_up", types) == 5
    configured = DEFAULT_ACTIVITY_TYPE_MAP.extended({"Strange": "call"})
    without_call = [t for t in types if t.id != 2]
    assert DEFAULT_ACTIVITY_TYPE_MAP.type_for("call", without_call) is None
    assert configured.type_for("call", without_call) == 8  # the configured map serves the push too
