"""Simulator behaviour odoosync relies on: stamps, companies, chatter, activities, faults."""

from __future__ import annotations

import http.client
import json
import socket
from datetime import datetime, timedelta
from typing import Any

import pytest

from odoosync.simulator import Simulator
from odoosync.simulator.clock import format_datetime


def _call(
    sim: Simulator,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    timeout: float = 10,
) -> tuple[int, dict[str, Any] | None]:
    """One JSON-RPC execute_kw over a fresh connection: (HTTP status, JSON body or None)."""
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 1,
        "params": {
            "service": "object",
            "method": "execute_kw",
            "args": [sim.db, sim.uid, sim.password, model, method, args, kwargs or {}],
        },
    }
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=timeout)
    try:
        connection.request("POST", "/jsonrpc", json.dumps(payload), {"Content-Type": "application/json"})
        response = connection.getresponse()
        body = response.read()
        content = json.loads(body) if response.getheader("Content-Type", "").startswith("application/json") else None
        return response.status, {**(content or {}), "_retry_after": response.getheader("Retry-After")}
    finally:
        connection.close()


def _result(sim: Simulator, model: str, method: str, args: list[Any], kwargs: dict[str, Any] | None = None) -> Any:
    status, body = _call(sim, model, method, args, kwargs)
    assert status == 200 and body is not None and "error" not in body, body
    return body["result"]


def test_one_call_stamps_every_record_with_the_same_write_date(simulator: Simulator) -> None:
    simulator.clock.freeze(datetime(2026, 3, 1, 9, 30, 15, 700000))
    ids = _result(simulator, "crm.lead", "search", [[]], {"limit": 20, "order": "id"})
    assert _result(simulator, "crm.lead", "write", [ids, {"priority": "2"}]) is True
    stamps = {r["write_date"] for r in _result(simulator, "crm.lead", "read", [ids, ["write_date"]])}
    assert stamps == {"2026-03-01 09:30:15"}
    # many edits inside one second share the stamp; the next second moves it
    _result(simulator, "crm.lead", "write", [ids[:1], {"priority": "3"}])
    simulator.clock.advance(1)
    _result(simulator, "crm.lead", "write", [ids[1:2], {"priority": "3"}])
    rows = _result(simulator, "crm.lead", "read", [ids[:2], ["write_date"]])
    assert [r["write_date"] for r in rows] == ["2026-03-01 09:30:15", "2026-03-01 09:30:16"]


def test_a_late_committing_transaction_carries_an_older_stamp(simulator: Simulator) -> None:
    now = simulator.clock.freeze(datetime(2026, 3, 1, 12, 0, 0))
    with simulator.env(stamp=now - timedelta(minutes=3)) as env:
        lead = env["crm.lead"].create({"name": "Slow import"})
    [row] = _result(simulator, "crm.lead", "read", [[lead], ["write_date", "create_date"]])
    assert row["write_date"] == row["create_date"] == format_datetime(now - timedelta(minutes=3))
    recent = _result(
        simulator, "crm.lead", "search", [[("write_date", ">=", format_datetime(now - timedelta(minutes=1)))]]
    )
    assert lead not in recent


def test_failed_call_changes_nothing(simulator: Simulator) -> None:
    before = _result(simulator, "crm.lead", "search_count", [[]])
    status, body = _call(simulator, "crm.lead", "create", [[{"name": "ok"}, {"type": "lead"}]])
    assert status == 200 and body is not None and body["error"]["data"]["name"] == "odoo.exceptions.ValidationError"
    assert _result(simulator, "crm.lead", "search_count", [[]]) == before


def test_companies_restrict_what_is_visible(simulator: Simulator) -> None:
    everything = {"active_test": False, "allowed_company_ids": [1, 2]}
    all_leads = _result(simulator, "crm.lead", "search_read", [[]], {"fields": ["company_id"], "context": everything})
    by_company = {company: {r["id"] for r in all_leads if r["company_id"][0] == company} for company in (1, 2)}
    assert by_company[1] and by_company[2]
    default = set(_result(simulator, "crm.lead", "search", [[]], {"context": {"active_test": False}}))
    second = set(
        _result(simulator, "crm.lead", "search", [[]], {"context": {"active_test": False, "allowed_company_ids": [2]}})
    )
    assert default == by_company[1] and second == by_company[2]
    _status, body = _call(simulator, "crm.lead", "read", [[min(by_company[2])], ["name"]])
    assert body is not None and body["error"]["data"]["name"] == "odoo.exceptions.AccessError"


def test_archived_leads_are_hidden_unless_active_test_is_false(simulator: Simulator) -> None:
    lost = _result(
        simulator, "crm.lead", "search_read", [[("active", "=", False)]], {"fields": ["lost_reason_id", "probability"]}
    )
    assert lost and all(r["lost_reason_id"] and r["probability"] == 0 for r in lost)
    visible = set(_result(simulator, "crm.lead", "search", [[]]))
    assert not visible & {r["id"] for r in lost}
    # read by id does not filter archived records
    assert len(_result(simulator, "crm.lead", "read", [[lost[0]["id"]], ["active"]])) == 1


def test_message_post_and_stage_tracking(simulator: Simulator) -> None:
    lead = _result(simulator, "crm.lead", "search", [[("stage_id", "=", 1)]], {"limit": 1})[0]
    message_id = _result(
        simulator,
        "crm.lead",
        "message_post",
        [[lead]],
        {"body": "Called <them> & left a message", "message_type": "comment", "subtype_xmlid": "mail.mt_note"},
    )
    [message] = _result(
        simulator,
        "mail.message",
        "read",
        [[message_id], ["body", "message_type", "subtype_id", "model", "res_id", "author_id"]],
    )
    assert message["body"] == "Called &lt;them&gt; &amp; left a message"
    assert message["message_type"] == "comment" and message["subtype_id"][1] == "Note"
    assert (message["model"], message["res_id"]) == ("crm.lead", lead)
    assert message["author_id"][1] == "Mitchell Admin"

    _result(simulator, "crm.lead", "write", [[lead], {"stage_id": 2}])
    [tracking_message] = _result(
        simulator,
        "mail.message",
        "search_read",
        [[("model", "=", "crm.lead"), ("res_id", "=", lead)]],
        {"fields": ["message_type", "subtype_id", "tracking_value_ids"], "limit": 1},
    )
    assert tracking_message["message_type"] == "notification"
    assert tracking_message["subtype_id"][1] == "Stage Changed"
    [value] = _result(simulator, "mail.tracking.value", "read", [tracking_message["tracking_value_ids"]])
    assert value["field_id"][1] == "Stage"
    assert (value["old_value_char"], value["new_value_char"]) == ("New", "Qualified")
    assert (value["old_value_integer"], value["new_value_integer"]) == (1, 2)


def test_action_feedback_deletes_or_archives_and_posts(simulator: Simulator) -> None:
    types = {
        t["name"]: t
        for t in _result(simulator, "mail.activity.type", "search_read", [[]], {"fields": ["name", "keep_done"]})
    }
    lead = _result(simulator, "crm.lead", "search", [[]], {"limit": 1})[0]
    call = _result(
        simulator,
        "mail.activity",
        "create",
        [{"res_model": "crm.lead", "res_id": lead, "activity_type_id": types["Call"]["id"], "summary": "Call back"}],
    )
    follow = _result(
        simulator,
        "mail.activity",
        "create",
        [{"res_model": "crm.lead", "res_id": lead, "activity_type_id": types["Follow-up"]["id"]}],
    )
    assert types["Follow-up"]["keep_done"] and not types["Call"]["keep_done"]

    message_id = _result(simulator, "mail.activity", "action_feedback", [[call]], {"feedback": "Reached them"})
    [message] = _result(simulator, "mail.message", "read", [[message_id], ["body", "subtype_id", "res_id"]])
    assert "Call" in message["body"] and "Reached them" in message["body"] and message["subtype_id"][1] == "Activities"
    assert (
        _result(simulator, "mail.activity", "search", [[("id", "=", call)]], {"context": {"active_test": False}}) == []
    )

    _result(simulator, "mail.activity", "action_feedback", [[follow]])
    [kept] = _result(
        simulator,
        "mail.activity",
        "search_read",
        [[("id", "=", follow)]],
        {"fields": ["active", "state", "date_done"], "context": {"active_test": False}},
    )
    assert kept["active"] is False and kept["state"] == "done" and kept["date_done"]
    assert _result(simulator, "mail.activity", "search", [[("id", "=", follow)]]) == []


def test_rate_faults_are_seeded_and_logged(make_simulator: Any) -> None:
    sim = make_simulator(scale=None, faults="429:0.3,500:0.2", seed=5)
    statuses = [_call(sim, "crm.stage", "search", [[]])[0] for _ in range(40)]
    assert {429, 500, 200} <= set(statuses)
    log = sim.request_log.records
    assert [r.status for r in log] == statuses
    assert sim.request_log.counters()["fault:429"] == statuses.count(429)
    again = make_simulator(scale=None, faults="429:0.3,500:0.2", seed=5)
    assert [_call(again, "crm.stage", "search", [[]])[0] for _ in range(40)] == statuses


def test_429_carries_retry_after(make_simulator: Any) -> None:
    sim = make_simulator(scale=None, faults="search#1:429")
    status, body = _call(sim, "crm.stage", "search", [[]])
    assert status == 429 and body is not None and body["_retry_after"] == "1"
    assert _call(sim, "crm.stage", "search", [[]])[0] == 200


def test_scripted_faults_hit_the_nth_call(make_simulator: Any) -> None:
    sim = make_simulator(scale=None, faults="search_read#3:500,crm.stage.search#2:reset")
    assert [_call(sim, "crm.tag", "search_read", [[]])[0] for _ in range(4)] == [200, 200, 500, 200]
    assert _call(sim, "crm.stage", "search", [[]])[0] == 200
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected, socket.error)):
        _call(sim, "crm.stage", "search", [[]])
    assert _call(sim, "crm.stage", "search", [[]])[0] == 200
    assert [r.fault for r in sim.request_log.records if r.fault] == ["500", "reset"]


def test_timeout_fault_outlasts_the_client(make_simulator: Any) -> None:
    from odoosync.simulator import Faults

    sim = make_simulator(scale=None, faults=Faults.parse("search#1:timeout", timeout_s=5))
    with pytest.raises((TimeoutError, socket.timeout)):
        _call(sim, "crm.stage", "search", [[]], timeout=0.3)


def test_bad_fault_specs_are_refused() -> None:
    from odoosync.simulator import Faults

    for spec, fragment in [
        ("418:0.1", "unknown kind"),
        ("429:2", "between 0 and 1"),
        ("search#x:500", "call number"),
        ("429", "KIND:RATE"),
    ]:
        with pytest.raises(ValueError, match=fragment):
            Faults.parse(spec)


def test_chatter_and_activities_follow_their_lead_company(simulator: Simulator) -> None:
    everything = {"active_test": False, "allowed_company_ids": [1, 2]}
    second = _result(simulator, "crm.lead", "search", [[("company_id", "=", 2)]], {"context": everything})
    messages = _result(
        simulator,
        "mail.message",
        "search",
        [[("model", "=", "crm.lead"), ("res_id", "in", second)]],
        {"context": everything},
    )
    assert messages
    hidden = _result(simulator, "mail.message", "search", [[("model", "=", "crm.lead"), ("res_id", "in", second)]])
    assert hidden == []
    _status, body = _call(simulator, "mail.message", "read", [[messages[0]], ["body"]])
    assert body is not None and body["error"]["data"]["name"] == "odoo.exceptions.AccessError"


def test_order_by_many2one_follows_the_comodel_order(simulator: Simulator) -> None:
    stages = _result(simulator, "crm.stage", "search_read", [[]], {"fields": ["sequence"]})
    rank = {s["id"]: i for i, s in enumerate(stages)}
    rows = _result(
        simulator, "crm.lead", "search_read", [[]], {"fields": ["stage_id"], "order": "stage_id desc, id asc"}
    )
    keys = [(-rank[r["stage_id"][0]], r["id"]) for r in rows]
    assert keys == sorted(keys)


def test_keyset_paging_with_order_and_limit(simulator: Simulator) -> None:
    seen: list[int] = []
    last = 0
    while True:
        page = _result(
            simulator,
            "mail.message",
            "search_read",
            [[("id", ">", last)]],
            {"fields": ["id"], "order": "id asc", "limit": 100, "context": {"allowed_company_ids": [1, 2]}},
        )
        if not page:
            break
        seen.extend(r["id"] for r in page)
        last = page[-1]["id"]
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert len(seen) == _result(
        simulator, "mail.message", "search_count", [[]], {"context": {"allowed_company_ids": [1, 2]}}
    )
    assert (
        _result(simulator, "crm.lead", "search", [[]], {"order": "id desc", "limit": 3, "offset": 2})
        == sorted(_result(simulator, "crm.lead", "search", [[]]), reverse=True)[2:5]
    )


def test_name_get_exists_in_17_but_not_in_19(make_simulator: Any) -> None:
    old = make_simulator(scale=None)
    assert _result(old, "crm.stage", "name_get", [[1]]) == [[1, "New"]]
    new = make_simulator(scale=None, version="19.0")
    _status, body = _call(new, "crm.stage", "name_get", [[1]])
    assert body is not None and body["error"]["data"]["name"] == "builtins.AttributeError"
    assert body["error"]["code"] == 0  # Odoo 19's JSON-RPC error code
    assert _result(new, "crm.stage", "read", [[1], ["display_name"]]) == [{"id": 1, "display_name": "New"}]


def test_external_ids_allow_create_if_absent(simulator: Simulator) -> None:
    def ensure(name: str) -> int:
        found = _result(
            simulator,
            "ir.model.data",
            "search_read",
            [[("module", "=", "odoosync"), ("name", "=", name)]],
            {"fields": ["res_id"]},
        )
        if found:
            return found[0]["res_id"]
        lead = _result(simulator, "crm.lead", "create", [{"name": f"App lead {name}"}])
        _result(
            simulator,
            "ir.model.data",
            "create",
            [{"module": "odoosync", "name": name, "model": "crm.lead", "res_id": lead}],
        )
        return lead

    first = ensure("lead_42")
    assert ensure("lead_42") == first
    assert _result(simulator, "crm.lead", "search_count", [[("name", "=", "App lead lead_42")]]) == 1
    [xmlid] = _result(
        simulator,
        "ir.model.data",
        "search_read",
        [[("res_id", "=", first), ("model", "=", "crm.lead")]],
        {"fields": ["complete_name"]},
    )
    assert xmlid["complete_name"] == "odoosync.lead_42"


def test_fields_get_reports_types_and_relations(simulator: Simulator) -> None:
    fields = _result(
        simulator, "crm.lead", "fields_get", [], {"attributes": ["type", "relation", "string", "required", "selection"]}
    )
    assert fields["stage_id"] == {"type": "many2one", "relation": "crm.stage", "string": "Stage", "required": False}
    assert fields["name"]["required"] is True
    assert ["3", "Very High"] in fields["priority"]["selection"]
    assert fields["tag_ids"]["type"] == "many2many" and fields["write_date"]["type"] == "datetime"


def test_set_lost_and_won(simulator: Simulator) -> None:
    leads = _result(simulator, "crm.lead", "search", [[("probability", "<", 100)]], {"limit": 2})
    reason = _result(simulator, "crm.lost.reason", "search", [[]], {"limit": 1})[0]
    status, body = _call(simulator, "crm.lead", "action_set_lost", [[leads[0]]], {"lost_reason_id": reason})
    assert status == 200 and "error" not in body and "result" not in body  # returns nothing (seen on 16.0-19.0)
    [lost] = _result(simulator, "crm.lead", "read", [[leads[0]], ["active", "probability", "lost_reason_id"]])
    assert lost["active"] is False and lost["probability"] == 0 and lost["lost_reason_id"][0] == reason
    _result(simulator, "crm.lead", "action_set_won", [[leads[1]]])
    [won] = _result(simulator, "crm.lead", "read", [[leads[1]], ["stage_id", "probability", "date_closed"]])
    assert won["stage_id"][1] == "Won" and won["probability"] == 100 and won["date_closed"]


def test_nulls_sort_like_postgresql_and_bad_orders_are_refused(simulator: Simulator) -> None:
    def deadlines(order: str) -> list[Any]:
        return [
            r["date_deadline"]
            for r in _result(simulator, "crm.lead", "search_read", [[]], {"fields": ["date_deadline"], "order": order})
        ]

    ascending = deadlines("date_deadline asc, id")
    assert False in ascending and ascending[-1] is False and ascending[0] is not False
    assert deadlines("date_deadline desc, id")[0] is False
    assert deadlines("date_deadline asc nulls first, id")[0] is False
    error = _call(simulator, "crm.lead", "search", [[]], {"order": "name; drop table crm_lead"})[1]
    assert error is not None and 'Invalid "order"' in error["error"]["data"]["message"]


def test_execute_without_kwargs(simulator: Simulator) -> None:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 2,
        "params": {
            "service": "object",
            "method": "execute",
            "args": [simulator.db, simulator.uid, simulator.password, "crm.stage", "search_read", [], ["name"]],
        },
    }
    connection = http.client.HTTPConnection(simulator.host, simulator.port, timeout=10)
    try:
        connection.request("POST", "/jsonrpc", json.dumps(payload), {"Content-Type": "application/json"})
        result = json.loads(connection.getresponse().read())["result"]
    finally:
        connection.close()
    assert [r["name"] for r in result] == ["New", "Qualified", "Proposition", "Won"]


def test_load_with_external_ids_is_idempotent(simulator: Simulator) -> None:
    columns = ["id", "name", "stage_id/.id", "tag_ids/.id", "expected_revenue"]
    rows = [["odoosync.app_lead_1", "From the app", "2", "1,2", "1500"], ["odoosync.app_lead_2", "Second", "", "", ""]]
    first = _result(simulator, "crm.lead", "load", [columns, rows])
    assert first["messages"] == [] and len(first["ids"]) == 2 and first["nextrow"] == 0  # as Odoo 16-19 answer
    rows[0][1] = "Renamed in the app"
    again = _result(simulator, "crm.lead", "load", [columns, rows])
    assert again["ids"] == first["ids"]
    [lead] = _result(
        simulator, "crm.lead", "read", [first["ids"][:1], ["name", "stage_id", "tag_ids", "expected_revenue"]]
    )
    assert lead["name"] == "Renamed in the app" and lead["stage_id"][0] == 2 and lead["tag_ids"] == [1, 2]
    assert lead["expected_revenue"] == 1500.0
    xmlids = _result(
        simulator, "ir.model.data", "search_read", [[("module", "=", "odoosync")]], {"fields": ["name", "res_id"]}
    )
    assert sorted((x["name"], x["res_id"]) for x in xmlids) == [
        ("app_lead_1", first["ids"][0]),
        ("app_lead_2", first["ids"][1]),
    ]
    error = _call(simulator, "crm.lead", "load", [["name", "nope"], [["x", "y"]]])[1]
    assert error is not None and "unknown field 'nope'" in error["error"]["data"]["message"]


def test_load_updates_by_database_id_and_an_unknown_id_writes_nothing(simulator: Simulator) -> None:
    """Odoo 16-19: a ``.id`` column updates the record of that database id, each row its own
    values; a row naming no record answers ``ids: False`` with "Unknown database identifier"
    and no row is written (measured on 16.0, 17.0, 18.0 and 19.0)."""
    ids = _result(simulator, "crm.lead", "search", [[]], {"limit": 3, "order": "id"})
    rows = [[str(i), f"+1 555 {i:04d}", "2" if k % 2 else "1"] for k, i in enumerate(ids)]
    answer = _result(simulator, "crm.lead", "load", [[".id", "phone", "stage_id/.id"], rows])
    assert answer == {"ids": ids, "messages": [], "nextrow": 0}
    read = _result(simulator, "crm.lead", "read", [ids, ["phone", "stage_id"]])
    assert [(r["phone"], r["stage_id"][0]) for r in read] == [(row[1], int(row[2])) for row in rows]
    refused = _result(simulator, "crm.lead", "load", [[".id", "phone"], [[str(ids[0]), "+1 000"], ["999999", "+1 9"]]])
    assert refused["ids"] is False
    assert [(m["record"], m["field"], m["message"]) for m in refused["messages"]] == [
        (1, ".id", "Unknown database identifier '999999'")
    ]
    assert _result(simulator, "crm.lead", "read", [ids[:1], ["phone"]])[0]["phone"] == rows[0][1]  # nothing written


def test_a_stopped_simulator_answers_nothing_even_on_kept_alive_connections(make_simulator: Any) -> None:
    sim = make_simulator(scale=None)
    connection = http.client.HTTPConnection(sim.host, sim.port, timeout=5)
    try:
        connection.request("GET", "/web/version")
        connection.getresponse().read()  # the connection stays open (HTTP/1.1)
        sim.stop()
        with pytest.raises((ConnectionError, http.client.HTTPException, OSError)):
            connection.request("POST", "/jsonrpc", "{}", {"Content-Type": "application/json"})
            connection.getresponse().read()
    finally:
        connection.close()


def test_creating_a_lead_posts_the_creation_message_unless_nolog(simulator: Simulator) -> None:
    lead = _result(simulator, "crm.lead", "create", [{"name": "Chatty"}])
    quiet = _result(simulator, "crm.lead", "create", [{"name": "Quiet"}], {"context": {"mail_create_nolog": True}})
    [message] = _result(
        simulator,
        "mail.message",
        "search_read",
        [[("model", "=", "crm.lead"), ("res_id", "=", lead)]],
        {"fields": ["subtype_id", "message_type", "body", "date", "author_id"]},
    )
    assert message["subtype_id"][1] == "Opportunity Created" and message["message_type"] == "notification"
    assert message["body"] == "" and message["author_id"][1] == "Mitchell Admin"
    assert (
        _result(simulator, "mail.message", "search_count", [[("model", "=", "crm.lead"), ("res_id", "=", quiet)]]) == 0
    )


def test_creating_in_a_company_not_allowed_is_refused_and_leaves_nothing(simulator: Simulator) -> None:
    before = _result(
        simulator, "crm.lead", "search_count", [[]], {"context": {"active_test": False, "allowed_company_ids": [1, 2]}}
    )
    error = _call(simulator, "crm.lead", "create", [{"name": "Elsewhere", "company_id": 2}])[1]
    assert error is not None and error["error"]["data"]["name"] == "odoo.exceptions.AccessError"
    allowed = _result(
        simulator,
        "crm.lead",
        "create",
        [{"name": "Elsewhere", "company_id": 2}],
        {"context": {"allowed_company_ids": [1, 2]}},
    )
    after = _result(
        simulator, "crm.lead", "search_count", [[]], {"context": {"active_test": False, "allowed_company_ids": [1, 2]}}
    )
    assert after == before + 1 and isinstance(allowed, int)


def test_tracking_can_be_turned_off_by_context(simulator: Simulator) -> None:
    lead = _result(simulator, "crm.lead", "create", [{"name": "Untracked"}], {"context": {"tracking_disable": True}})
    _result(simulator, "crm.lead", "write", [[lead], {"stage_id": 3}], {"context": {"mail_notrack": True}})
    assert (
        _result(simulator, "mail.message", "search_count", [[("model", "=", "crm.lead"), ("res_id", "=", lead)]]) == 0
    )
    _result(simulator, "crm.lead", "write", [[lead], {"stage_id": 2}])
    assert (
        _result(simulator, "mail.message", "search_count", [[("model", "=", "crm.lead"), ("res_id", "=", lead)]]) == 1
    )


def test_request_log_keeps_the_latest_records_and_counts_all() -> None:
    from odoosync.simulator.faults import RequestInfo, RequestLog

    log = RequestLog(keep=3)
    for status in (200, 429, 200, 500, 200):
        log.add(
            RequestInfo("jsonrpc", "object", "search_read", "crm.lead"),
            status,
            fault=None if status == 200 else str(status),
        )
    assert [r.status for r in log.records] == [200, 500, 200]
    assert log.counters()["requests"] == 5 and log.counters()["status:200"] == 3
    assert log.count("search_read", "crm.lead") == 3
    log.clear()
    assert log.records == () and log.counters() == {}


@pytest.mark.parametrize("options", [{"scale": 0}, {"scale": -1.0}, {"scale": None, "version": "seventeen"}])
def test_bad_simulator_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        Simulator(**options)
