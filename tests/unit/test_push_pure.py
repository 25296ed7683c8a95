"""Pure parts of the push engine: coalescing, retry decisions, conflict decisions, mappers."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from odoosync.exceptions import ConfigError, OdooServerError, OdooValidationError, RateLimited
from odoosync.push.coalesce import QueuedItem, coalesce
from odoosync.push.conflicts import ConflictPolicy, resolve, same_value
from odoosync.push.mappers import map_values
from odoosync.push.policy import GiveUp, PushPolicy, Retry, parse_policy

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def item(i: int, op: str, values=None, old=None, *, local_id=1, attempts=0, odoo_id=None) -> QueuedItem:
    payload = {"values": values or {}, "xid": f"x{i}"} if op == "create" else {"values": values or {}, "old": old or {}}
    return QueuedItem(i, "crm.lead", op, "leads", local_id, odoo_id, payload, attempts, T0 + dt.timedelta(seconds=i))


def test_create_then_writes_is_one_create() -> None:
    [change] = coalesce(
        [
            item(1, "create", {"title": "A", "stage": None}),
            item(2, "write", {"stage": "New"}, {"stage": None}),
            item(3, "write", {"title": "B"}, {"title": "A"}),
        ]
    )
    assert (change.operation, change.values, change.xid, change.item_ids) == (
        "create",
        {"title": "B", "stage": "New"},
        "x1",
        [1, 2, 3],
    )


def test_writes_merge_with_the_first_base() -> None:
    [change] = coalesce(
        [
            item(1, "write", {"stage": "B"}, {"stage": "A"}),
            item(2, "write", {"stage": "C", "phone": "1"}, {"stage": "B", "phone": None}),
        ]
    )
    assert change.operation == "write"
    assert change.values == {"stage": "C", "phone": "1"} and change.old == {"stage": "A", "phone": None}


def test_edit_undone_is_a_noop() -> None:
    [change] = coalesce(
        [item(1, "write", {"stage": "B"}, {"stage": "A"}), item(2, "write", {"stage": "A"}, {"stage": "B"})]
    )
    assert change.operation == "noop" and change.item_ids == [1, 2]


def test_anything_then_unlink_is_unlink_and_unsent_create_then_unlink_is_noop() -> None:
    [gone] = coalesce(
        [
            item(1, "write", {"stage": "B"}, {"stage": "A"}, odoo_id=5),
            QueuedItem(2, "crm.lead", "unlink", "leads", 1, 5, {"old": {}}),
        ]
    )
    assert (gone.operation, gone.odoo_id) == ("unlink", 5)
    [never] = coalesce(
        [item(1, "create", {"title": "A"}), QueuedItem(2, "crm.lead", "unlink", "leads", 1, None, {"old": {}})]
    )
    assert never.operation == "noop"
    [maybe] = coalesce(
        [
            item(1, "create", {"title": "A"}, attempts=1),
            QueuedItem(2, "crm.lead", "unlink", "leads", 1, None, {"old": {}}),
        ]
    )
    assert (maybe.operation, maybe.xid) == ("unlink", "x1")  # the lost create may exist: look it up


def test_records_stay_apart_and_keep_their_order() -> None:
    changes = coalesce(
        [
            item(1, "create", {"title": "A"}, local_id=1),
            item(2, "create", {"title": "B"}, local_id=2),
            item(3, "write", {"title": "A2"}, {"title": "A"}, local_id=1),
        ]
    )
    assert [(c.local_id, c.operation, c.values["title"]) for c in changes] == [(1, "create", "A2"), (2, "create", "B")]


@given(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=1, max_size=8))
def test_coalesced_writes_end_at_the_last_value(values: list) -> None:
    items, previous = [], "start"
    for i, value in enumerate(values, 1):
        items.append(item(i, "write", {"stage": value}, {"stage": previous}))
        previous = value
    [change] = coalesce(items)
    if same_value(values[-1], "start"):
        assert change.operation == "noop"
    else:
        assert change.values == {"stage": values[-1]} and change.old == {"stage": "start"}
    assert change.item_ids == list(range(1, len(values) + 1))


def test_backoff_doubles_from_the_base_and_gives_up_at_max_attempts() -> None:
    policy = PushPolicy()
    delays = []
    for attempts in range(1, 5):
        decision = policy.decide(OdooServerError("boom"), attempts, T0)
        assert isinstance(decision, Retry)
        delays.append((decision.at - T0).total_seconds())
    assert delays == [10, 20, 40, 80]
    final = policy.decide(OdooServerError("boom"), 5, T0)
    assert isinstance(final, GiveUp) and "5 attempts" in final.reason and "boom" in final.reason


def test_permanent_errors_fail_at_once_with_odoos_message_and_retry_after_is_honoured() -> None:
    decision = PushPolicy().decide(
        OdooValidationError("Stage is required", odoo_name="odoo.exceptions.ValidationError"), 1, T0
    )
    assert isinstance(decision, GiveUp) and "Stage is required" in decision.reason
    slow = PushPolicy().decide(RateLimited("429", retry_after=120), 1, T0)
    assert isinstance(slow, Retry) and slow.at == T0 + dt.timedelta(seconds=120)


def test_policy_config_is_validated_all_at_once() -> None:
    assert parse_policy("crm.lead", {"max_batch": 10, "conflict_policy": "app_wins"}) == PushPolicy(
        max_batch=10, conflict_policy=ConflictPolicy.APP_WINS
    )
    with pytest.raises(ConfigError) as info:
        parse_policy("crm.lead", {"max_batch": 0, "conflict_policy": "loud", "on_delete": "burn", "colour": 1})
    assert len(info.value.problems) == 4


@pytest.mark.parametrize(
    "policy, app_newer, pushed, winner",
    [
        (ConflictPolicy.ODOO_WINS, True, {}, "odoo"),
        (ConflictPolicy.APP_WINS, False, {"stage_id": 3}, "app"),
        (ConflictPolicy.NEWEST_WINS, True, {"stage_id": 3}, "app"),
        (ConflictPolicy.NEWEST_WINS, False, {}, "odoo"),
    ],
)
def test_conflict_decision_per_field(policy, app_newer, pushed, winner) -> None:
    app_at, odoo_at = (T0 + dt.timedelta(seconds=5), T0) if app_newer else (T0, T0 + dt.timedelta(seconds=5))
    result = resolve(
        policy,
        {"stage_id": 3, "phone": "app"},
        {"stage_id": 1, "phone": "old"},
        {"stage_id": (2, "Odoo's"), "phone": "old"},
        app_changed_at=app_at,
        odoo_changed_at=odoo_at,
    )
    assert result.values == {**pushed, "phone": "app"}  # phone: only the app changed it
    [conflict] = result.conflicts
    assert (conflict.field, conflict.base, conflict.winner) == ("stage_id", 1, winner)


def test_no_conflict_when_odoo_already_has_the_apps_value() -> None:
    result = resolve(
        ConflictPolicy.ODOO_WINS,
        {"expected_revenue": 10.0, "tag_ids": [(6, 0, [2, 1])]},
        {"expected_revenue": 5.0, "tag_ids": [(6, 0, [])]},
        {"expected_revenue": 10.001, "tag_ids": [1, 2]},
        app_changed_at=T0,
        odoo_changed_at=T0,
    )
    assert result.values == {} and result.conflicts == []


class Names:
    """The mapper's lookups, as a table of known names (the binder's answers)."""

    def reference_id(self, model: str, name: str) -> int | None:
        return {("crm.stage", "Won"): 4, ("crm.stage", "New"): 1, ("crm.tag", "vip"): 7, ("res.users", "Ann"): 2}.get(
            (model, name)
        )

    def won_stage_id(self) -> int | None:
        return 4

    def activity_type_id(self, kind: str) -> int | None:
        return {"call": 9}.get(kind)

    def odoo_id(self, local_table: str, local_id: int) -> int | None:
        return {("leads", 1): 50, ("customers", 3): 80}.get((local_table, local_id))

    def model_id(self, model: str) -> int | None:
        return 100


def test_lead_mapper_create_leaves_empty_values_to_odoo() -> None:
    values = {
        "title": "T",
        "stage": None,
        "tags": ["vip"],
        "value": "12.50",
        "priority": "High",
        "status": "open",
        "customer_id": 3,
        "deadline": dt.date(2030, 1, 2),
        "owner_name": "Ann",
        "email": None,
    }
    assert map_values("leads", values, Names(), creating=True) == {
        "name": "T",
        "tag_ids": [(6, 0, [7])],
        "expected_revenue": 12.5,
        "priority": "2",
        "active": True,
        "partner_id": 80,
        "date_deadline": "2030-01-02",
        "user_id": 2,
    }


def test_lead_mapper_status_and_unknown_names() -> None:
    assert map_values("leads", {"status": "won"}, Names(), creating=False) == {
        "stage_id": 4,
        "probability": 100.0,
        "active": True,
    }
    assert map_values("leads", {"status": "lost", "email": None}, Names(), creating=False) == {
        "active": False,
        "probability": 0.0,
        "email_from": None,
    }
    with pytest.raises(OdooValidationError, match=r"stage 'Nope' matches no crm.stage"):
        map_values("leads", {"stage": "Nope"}, Names(), creating=False)


def test_activity_and_note_mappers() -> None:
    assert map_values(
        "scheduled_activities",
        {"lead_id": 1, "activity_type": "call", "summary": "S", "due_date": "2030-01-02"},
        Names(),
        creating=True,
    ) == {"res_model_id": 100, "res_id": 50, "activity_type_id": 9, "summary": "S", "date_deadline": "2030-01-02"}
    assert map_values("lead_activities", {"title": "Note", "description": "<b>hi</b>"}, Names(), creating=True) == {
        "subject": "Note",
        "body": "<b>hi</b>",
    }


def test_message_post_result_is_an_id_on_every_odoo_version():
    """Odoo ≤ 18 returns the new message's id, Odoo 19 ``[id]``; anything else is an error."""
    from odoosync.exceptions import OdooServerError
    from odoosync.push.calls import record_id as _record_id

    assert _record_id(42) == 42
    assert _record_id([42]) == 42
    with pytest.raises(OdooServerError, match="expected one record id"):
        _record_id([1, 2])
