"""One call, one transaction: whatever a failing call did is undone, exactly (property)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.simulator.errors import OdooException
from odoosync.simulator.generator import generate
from odoosync.simulator.records import Database

DATABASE = Database()
generate(DATABASE, 0.01, seed=4)


def _snapshot(database: Database) -> dict[str, Any]:
    return {
        name: (table.next_id, list(table.ids), {i: dict(row) for i, row in table.rows.items()})
        for name, table in database.tables.items()
    }


def _indexes_agree_with_rows(database: Database) -> bool:
    """Every index built so far says what a fresh scan of the rows says."""
    for table in database.tables.values():
        for field, index in table._indexes.items():
            fresh: dict[Any, set[int]] = {}
            for record_id, row in table.rows.items():
                fresh.setdefault(row.get(field), set()).add(record_id)
            if {k: v for k, v in index.items() if v} != fresh:
                return False
    return True


operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), st.text(min_size=1, max_size=5)),
        st.tuples(st.just("stage"), st.integers(0, 30), st.integers(1, 4)),
        st.tuples(st.just("post"), st.integers(0, 30)),
        st.tuples(st.just("unlink"), st.integers(0, 30)),
        st.tuples(st.just("done"), st.integers(0, 30)),
        st.tuples(st.just("archive"), st.integers(0, 30)),
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
def test_a_failing_call_leaves_no_trace(ops: list[tuple[Any, ...]]) -> None:
    before = _snapshot(DATABASE)
    with pytest.raises(OdooException):
        with DATABASE.transaction(context={"active_test": False, "allowed_company_ids": [1, 2]}) as env:
            leads = env["crm.lead"].search([], order="id")
            activities = env["mail.activity"].search([], order="id")
            for op in ops:
                if op[0] == "create":
                    env["crm.lead"].create({"name": op[1]})
                elif op[0] == "stage" and op[1] < len(leads) and env["crm.lead"].exists([leads[op[1]]]):
                    env["crm.lead"].write([leads[op[1]]], {"stage_id": op[2]})
                elif op[0] == "post" and op[1] < len(leads) and env["crm.lead"].exists([leads[op[1]]]):
                    env["crm.lead"].message_post([leads[op[1]]], body="note")
                elif op[0] == "unlink" and op[1] < len(leads):
                    env["crm.lead"].unlink([leads[op[1]]])
                elif op[0] == "done" and op[1] < len(activities) and env["mail.activity"].exists([activities[op[1]]]):
                    res_id = env["mail.activity"].read([activities[op[1]]], ["res_id"])[0]["res_id"]
                    if env["crm.lead"].exists([res_id]):
                        env["mail.activity"].action_feedback([activities[op[1]]], feedback="ok")
                elif op[0] == "archive" and op[1] < len(leads):
                    env["crm.lead"].action_archive([leads[op[1]]])
            env["crm.lead"].create({"type": "lead"})  # no name: ValidationError, the call fails
    assert _snapshot(DATABASE) == before
    assert _indexes_agree_with_rows(DATABASE)
