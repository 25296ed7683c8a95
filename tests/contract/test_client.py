"""The Odoo client's contract, the same for every transport, against the simulator over HTTP.

JSON-RPC and XML-RPC talk to an Odoo 17 simulator, JSON-2 to an Odoo 19 one. Every
typed method, every error class, retries under injected faults (seen in the counters
and in the simulator's request log), multi-company context and API key rotation.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest

from odoosync.exceptions import (
    AccessDenied,
    ApiKeyExpired,
    AuthenticationError,
    InvalidRequest,
    MissingRecord,
    OdooTransportError,
    OdooValidationError,
    RateLimited,
)
from odoosync.odoo import OdooClient, OdooConfig
from odoosync.odoo.errors import API_KEY_FIX
from odoosync.simulator import Simulator
from odoosync.simulator.faults import Faults

SERVER_VERSION = {"jsonrpc": "17.0", "xmlrpc": "17.0", "json2": "19.0"}


@pytest.fixture(params=sorted(SERVER_VERSION))
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def start(make_simulator: Callable[..., Simulator], protocol: str) -> Callable[..., Simulator]:
    """A simulator of the Odoo version the transport under test speaks to."""

    def start(**options) -> Simulator:
        return make_simulator(version=SERVER_VERSION[protocol], **options)

    return start


@pytest.fixture
def connect(protocol: str) -> Iterator[Callable[..., OdooClient]]:
    """Open clients on a simulator (the API key as the secret); all closed after the test."""
    clients: list[OdooClient] = []

    def connect(sim: Simulator, **overrides) -> OdooClient:
        settings = {
            "url": sim.url,
            "db": sim.db,
            "username": sim.login,
            "api_key": sim.api_key,
            "protocol": protocol,
            "timeout": 5.0,
            "connect_timeout": 2.0,
            "backoff_base": 0.001,
            "backoff_cap": 0.02,
        }
        settings.update(overrides)
        client = OdooClient(OdooConfig(**settings)).open()
        clients.append(client)
        return client

    yield connect
    for client in clients:
        client.close()


@pytest.fixture
def sim(start: Callable[..., Simulator]) -> Simulator:
    return start()


# -- typed methods -------------------------------------------------------------------------


def test_the_chosen_protocol_is_the_one_used(sim, connect, protocol):
    client = connect(sim)
    assert client.uid == sim.uid
    assert client.search_count("crm.lead", []) > 0
    assert client.protocol == protocol
    assert {r.protocol for r in sim.request_log.records if r.service == "object"} == {protocol}


def test_search_read_and_read_give_normalised_records(sim, connect):
    client = connect(sim)
    ids = client.search("crm.lead", [], order="id", limit=5)
    assert ids == sorted(ids) and len(ids) == 5
    fields = ["name", "partner_id", "stage_id", "write_date", "date_deadline", "email_from", "active"]
    records = client.search_read("crm.lead", [("id", "in", ids)], fields, order="id")
    assert [r["id"] for r in records] == ids
    assert client.read("crm.lead", ids, fields) == records
    for record in records:
        assert isinstance(record["write_date"], datetime) and record["write_date"].tzinfo is UTC
        assert record["partner_id"] is None or (
            isinstance(record["partner_id"], tuple) and len(record["partner_id"]) == 2
        )
        assert isinstance(record["stage_id"], tuple)
        assert record["date_deadline"] is None or isinstance(record["date_deadline"], date)
        assert record["email_from"] is None or isinstance(record["email_from"], str)
        assert record["active"] is True
    raw = client.search_read("crm.lead", [("id", "in", ids)], fields, order="id", normalize=False)
    assert all(isinstance(r["write_date"], str) and isinstance(r["stage_id"], list) for r in raw)


def test_empty_values_become_none_but_booleans_stay_false(sim, connect):
    client = connect(sim)
    lead = client.create("crm.lead", {"name": "No deadline", "date_deadline": None})
    client.write("crm.lead", [lead], {"active": False})
    (record,) = client.read("crm.lead", [lead], ["date_deadline", "active"])
    assert record == {"id": lead, "date_deadline": None, "active": False}


def test_search_count_limit_offset_and_order(sim, connect):
    client = connect(sim)
    everything = client.search("crm.lead", [], order="id")
    assert client.search_count("crm.lead", []) == len(everything)
    assert client.search("crm.lead", [], order="id", offset=2, limit=3) == everything[2:5]
    assert client.search("crm.lead", [], order="id desc", limit=2) == sorted(everything, reverse=True)[:2]
    assert client.search_count("crm.lead", [("id", "in", everything[:4])]) == 4


def test_archived_records_are_seen_only_with_active_test_false(sim, connect):
    client = connect(sim)
    visible = client.search_count("crm.lead", [])
    everything = client.search_count("crm.lead", [], active_test=False)
    assert everything > visible
    archived = client.search("crm.lead", [("active", "=", False)], active_test=False)
    assert archived and not set(archived) & set(client.search("crm.lead", []))
    assert len(client.search_read("crm.lead", [], ["id"], active_test=False)) == everything


def test_create_single_and_many_write_unlink(sim, connect):
    client = connect(sim)
    deadline = date(2031, 5, 17)
    one = client.create("crm.lead", {"name": "Contract lead", "date_deadline": deadline, "expected_revenue": 1200.0})
    assert isinstance(one, int)
    many = client.create("crm.lead", [{"name": "Batch A"}, {"name": "Batch B"}])
    assert isinstance(many, list) and len(many) == 2 and one not in many
    assert client.write("crm.lead", [one, *many], {"description": "<p>edited</p>"}) is True
    rows = client.read("crm.lead", [one, *many], ["name", "date_deadline", "description"])
    assert [r["name"] for r in rows] == ["Contract lead", "Batch A", "Batch B"]
    assert rows[0]["date_deadline"] == deadline
    assert client.unlink("crm.lead", many) is True
    assert client.search("crm.lead", [("id", "in", [one, *many])], active_test=False) == [one]


def test_datetimes_in_domains_and_values_are_sent_as_odoo_utc_strings(sim, connect):
    client = connect(sim)
    (newest,) = client.search_read("crm.lead", [], ["write_date"], order="write_date desc, id desc", limit=1)
    since = newest["write_date"]
    assert newest["id"] in client.search("crm.lead", [("write_date", ">=", since)])
    assert client.search("crm.lead", [("write_date", ">", since)]) == []


def test_fields_get_and_cached_field_types(sim, connect):
    client = connect(sim)
    fields = client.fields_get("crm.lead", ["type", "relation"])
    assert fields["partner_id"] == {"type": "many2one", "relation": "res.partner"}
    assert fields["write_date"]["type"] == "datetime"
    before = sim.request_log.count("fields_get")
    client.search_read("crm.lead", [], ["name"], limit=1)
    client.search_read("crm.lead", [], ["name"], limit=1)
    assert sim.request_log.count("fields_get") == before + 1  # fetched once per model


def test_call_any_public_method(sim, connect):
    client = connect(sim)
    lead = client.search("crm.lead", [], limit=1)[0]
    posted = client.call(
        "crm.lead", "message_post", [lead], body="Called from the contract suite", message_type="comment"
    )
    message_id = posted[0] if isinstance(posted, list) else posted
    (message,) = client.read("mail.message", [message_id], ["model", "res_id", "body"])
    assert (message["model"], message["res_id"]) == ("crm.lead", lead)
    assert "Called from the contract suite" in message["body"]
    activity = client.search("mail.activity", [("res_model", "=", "crm.lead")], limit=1)[0]
    client.call("mail.activity", "action_feedback", [activity], feedback="Done by the suite")
    assert client.search("mail.activity", [("id", "=", activity)], active_test=False) in ([], [activity])
    remaining = client.search_read("mail.activity", [("id", "=", activity)], ["active"], active_test=False)
    assert remaining == [] or remaining[0]["active"] is False
    loaded = client.call("res.partner", "load", ["name"], [["Loaded by the suite"]], idempotent=True)
    assert client.read("res.partner", loaded["ids"], ["name"])[0]["name"] == "Loaded by the suite"


def test_version(sim, connect, protocol):
    info = connect(sim).version()
    assert info["server_version_info"][0] == int(SERVER_VERSION[protocol].split(".")[0])


def test_map_concurrent_reads_match_sequential_reads(sim, connect):
    client = connect(sim, max_concurrency=3)
    ids = client.search("crm.lead", [], order="id", active_test=False)
    chunks = [ids[i : i + 4] for i in range(0, len(ids), 4)]
    fields = ["name", "stage_id", "write_date"]
    concurrent = client.map_concurrent(lambda chunk: client.read("crm.lead", chunk, fields), chunks)
    assert concurrent == [client.read("crm.lead", chunk, fields) for chunk in chunks]
    assert client.stats.snapshot().in_flight_max <= 3
    assert sim.request_log.count("login") + sim.request_log.count("context_get") == 1  # one login for all threads


# -- Odoo's clock --------------------------------------------------------------------------

ODOO_NOW = datetime(2031, 5, 4, 3, 2, 1)  # Odoo's clock, years away from ours


def test_the_last_call_is_placed_on_odoo_s_clock_not_ours(sim, connect):
    client = connect(sim)
    assert client.odoo_clock_at_last_call() is None, "no call yet"
    sim.clock.freeze(ODOO_NOW)
    lead = client.create("crm.lead", {"name": "stamped"})
    began = client.odoo_clock_at_last_call()
    (record,) = client.read("crm.lead", [lead], ["write_date"])
    assert began is not None
    assert record["write_date"] - timedelta(minutes=1) < began <= record["write_date"]
    with ThreadPoolExecutor(1) as other_thread:
        assert other_thread.submit(client.odoo_clock_at_last_call).result() is None, "per thread"


def test_the_bound_is_the_read_s_not_that_of_the_fields_get_it_needed(sim, connect, monkeypatch):
    client = connect(sim)
    sim.clock.freeze(ODOO_NOW)
    fetch_types = client.field_types

    def an_hour_later(model: str) -> dict[str, str]:
        sim.clock.advance(3600)
        return fetch_types(model)

    monkeypatch.setattr(client, "field_types", an_hour_later)
    assert client.search_read("crm.lead", [], ["name"], limit=1)
    assert sim.request_log.count("fields_get") == 1
    began = client.odoo_clock_at_last_call()
    assert began is not None and began <= ODOO_NOW.replace(tzinfo=UTC)


def test_a_failed_call_places_nothing(sim, connect):
    client = connect(sim)
    client.search("crm.lead", [], limit=1)
    assert client.odoo_clock_at_last_call() is not None
    with pytest.raises(MissingRecord):
        client.write("crm.lead", [9_999_999], {"name": "x"})
    assert client.odoo_clock_at_last_call() is None


# -- context -------------------------------------------------------------------------------


def test_allowed_company_ids_opens_the_other_companies(sim, connect):
    main_only = connect(sim)
    both = connect(sim, company_ids=(1, 2))
    assert both.search_count("crm.lead", [], active_test=False) > main_only.search_count(
        "crm.lead", [], active_test=False
    )
    other = both.search("crm.lead", [("company_id", "=", 2)], limit=1, active_test=False)
    assert other
    assert both.read("crm.lead", other, ["company_id"])[0]["company_id"][0] == 2
    with pytest.raises(AccessDenied):
        main_only.read("crm.lead", other, ["name"])


# -- errors --------------------------------------------------------------------------------

ERROR_CASES = [
    ("unknown model", lambda c: c.search("crm.leed", []), InvalidRequest, "search"),
    ("unknown field", lambda c: c.search_read("crm.lead", [], ["no_such_field"]), InvalidRequest, "search_read"),
    ("malformed domain", lambda c: c.search("crm.lead", [("id", "=~", 1)]), InvalidRequest, "search"),
    ("unknown method", lambda c: c.call("crm.lead", "no_such_method", [1]), InvalidRequest, "no_such_method"),
    ("private method", lambda c: c.call("crm.lead", "_private_thing", [1]), AccessDenied, "_private_thing"),
    ("missing record", lambda c: c.write("crm.lead", [9_999_999], {"name": "x"}), MissingRecord, "write"),
    ("validation", lambda c: c.create("crm.lead", {"name": None}), OdooValidationError, "create"),
    # A many2one set to a record that does not exist: MissingError on real 16.0-19.0.
    (
        "missing many2one",
        lambda c: c.write("crm.lead", c.search("crm.lead", [], limit=1), {"stage_id": 9_999_999}),
        MissingRecord,
        "write",
    ),
    ("unlink of a deleted id", lambda c: c.unlink("crm.lead", [9_999_999]), MissingRecord, "unlink"),
    (
        "unknown search_read argument",
        lambda c: c.call("crm.lead", "search_read", [], bogus=1),
        InvalidRequest,
        "search_read",
    ),
]


@pytest.mark.parametrize(("case", "call", "expected", "method"), ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_permanent_errors_are_typed_and_not_retried(sim, connect, case, call, expected, method):
    client = connect(sim)
    client.search_count("crm.lead", [])  # logged in
    before = client.stats.snapshot()
    requests_before = sim.request_log.count(method)
    with pytest.raises(expected):
        call(client)
    delta = client.stats.snapshot() - before
    assert delta.retries == 0
    assert sim.request_log.count(method) == requests_before + 1


def test_wrong_password_is_an_authentication_error_naming_the_fix(sim, connect, protocol):
    if protocol == "json2":
        client = connect(sim, api_key="0" * 40)
        with pytest.raises(ApiKeyExpired, match="New API Key"):
            client.search_count("crm.lead", [])
    else:
        client = connect(sim, api_key=None, password="not-the-password")
        with pytest.raises(AuthenticationError, match="ODOO_PASSWORD") as caught:
            client.search_count("crm.lead", [])
        assert "not-the-password" not in str(caught.value)


def test_password_login_works_on_rpc(sim, connect, protocol):
    if protocol == "json2":
        pytest.skip("JSON-2 authenticates with an API key only (Odoo 19 bearer auth)")
    client = connect(sim, api_key=None, password=sim.password)
    assert client.search_count("crm.lead", []) > 0


def test_unknown_database_is_a_clear_error(sim, connect):
    client = connect(sim, db="no_such_db")
    with pytest.raises(InvalidRequest):
        client.search_count("crm.lead", [])


def test_using_an_unopened_client_is_a_clear_error(sim, protocol):
    client = OdooClient(OdooConfig(url=sim.url, db=sim.db, username=sim.login, api_key=sim.api_key, protocol=protocol))
    with pytest.raises(RuntimeError, match="not open"):
        client.search("crm.lead", [])
    with client:
        assert client.search_count("crm.lead", []) > 0
    with pytest.raises(RuntimeError, match="not open"):
        client.search_count("crm.lead", [])


# -- retries -------------------------------------------------------------------------------


def test_each_transient_fault_is_retried_and_counted(start, connect):
    sim = start(faults="search_read#1:429,search_read#2:500,search_read#3:reset,search_read#4:503")
    sim.faults.retry_after = 0.01
    client = connect(sim, max_attempts=6)
    before = client.stats.snapshot()
    rows = client.search_read("crm.lead", [], ["name"], limit=2, normalize=False)
    assert len(rows) == 2
    delta = client.stats.snapshot() - before
    assert delta.retries == 4
    assert dict(delta.errors) == {"RateLimited": 1, "OdooServerError": 2, "OdooTransportError": 1}
    statuses = [(r.status, r.fault) for r in sim.request_log.records if r.method == "search_read"]
    assert statuses == [(429, "429"), (500, "500"), (None, "reset"), (503, "503"), (200, None)]


def test_a_timeout_is_retried(start, connect):
    sim = start(faults=Faults.parse("search_count#1:timeout", timeout_s=2.0))
    client = connect(sim, timeout=0.3)
    assert client.search_count("crm.lead", []) > 0
    assert dict((client.stats.snapshot()).errors) == {"OdooTransportError": 1}


def test_retries_stop_after_max_attempts(start, connect):
    sim = start(faults="search#1:500,search#2:500,search#3:500")
    client = connect(sim, max_attempts=3)
    with pytest.raises(Exception) as caught:
        client.search("crm.lead", [])
    assert type(caught.value).__name__ == "OdooServerError"
    assert sim.request_log.count("search") == 3
    assert client.stats.snapshot().retries == 2


def test_retry_after_longer_than_the_cap_is_left_to_the_caller(start, connect):
    sim = start(faults="search#1:429")
    sim.faults.retry_after = 120
    client = connect(sim, backoff_cap=1.0)
    with pytest.raises(RateLimited) as caught:
        client.search("crm.lead", [])
    assert caught.value.retry_after == 120
    assert sim.request_log.count("search") == 1


def test_a_create_is_retried_only_when_odoo_surely_did_not_run_it(start, connect):
    sim = start(faults="create#1:429,create#3:reset")
    sim.faults.retry_after = 0.01
    client = connect(sim)
    first = client.create("crm.lead", {"name": "Retried after 429"})
    assert client.search("crm.lead", [("name", "=", "Retried after 429")]) == [first]
    with pytest.raises(OdooTransportError):
        client.create("crm.lead", {"name": "Not retried after a reset"})
    assert sim.request_log.count("create") == 3  # the reset create was not sent again


def test_under_twenty_percent_faults_two_hundred_calls_all_succeed(start, connect):
    sim = start(faults=Faults.parse("429:0.07,500:0.07,reset:0.06", seed=7, retry_after=0.001))
    client = connect(sim, max_attempts=12)
    lead_ids = client.search("crm.lead", [], order="id", limit=20)
    client.field_types("crm.lead")
    faults_before = sum(1 for r in sim.request_log.records if r.fault)
    before = client.stats.snapshot()
    for i in range(200):
        lead = lead_ids[i % len(lead_ids)]
        match i % 4:
            case 0:
                assert client.search_read("crm.lead", [("id", "=", lead)], ["name"])[0]["id"] == lead
            case 1:
                assert client.read("crm.lead", [lead], ["name"])[0]["id"] == lead
            case 2:
                assert client.write("crm.lead", [lead], {"description": f"loop {i}"}) is True
            case 3:
                assert client.search_count("crm.lead", [("id", "=", lead)]) == 1
    delta = client.stats.snapshot() - before
    faults = sum(1 for r in sim.request_log.records if r.fault) - faults_before
    assert faults >= 20  # the faults really happened
    assert delta.retries == faults
    assert delta.error_count == faults
    assert set(delta.errors) <= {"RateLimited", "OdooServerError", "OdooTransportError"}
    assert client.read("crm.lead", [lead_ids[198 % 20]], ["description"])[0]["description"] == "loop 198"


# -- API keys ------------------------------------------------------------------------------


def test_an_expired_key_fails_clearly_and_a_rotated_key_is_picked_up_without_restart(sim, connect, protocol):
    current = {"key": sim.api_key}
    client = connect(sim, api_key=None, secret_source=lambda: current["key"])
    assert client.search_count("crm.lead", []) > 0
    sim.expire_api_key()
    with pytest.raises(AuthenticationError) as caught:
        client.search_count("crm.lead", [])
    if protocol == "json2":
        assert isinstance(caught.value, ApiKeyExpired)
        assert API_KEY_FIX in str(caught.value)
    assert current["key"] not in str(caught.value)
    current["key"] = sim.rotate_api_key()
    assert client.search_count("crm.lead", []) > 0
    # A rotation while the client holds the old key: one failed attempt, then the new key.
    current["key"] = sim.rotate_api_key()
    before = client.stats.snapshot()
    assert client.search_count("crm.lead", []) > 0
    assert (client.stats.snapshot() - before).reauthentications == 1


def test_secrets_never_reach_logs_errors_or_repr(sim, connect, caplog):
    caplog.set_level(logging.DEBUG, logger="odoosync")
    client = connect(sim)
    client.search_read("crm.lead", [], ["name"], limit=1)
    with pytest.raises(InvalidRequest) as caught:
        client.search("crm.leed", [])
    sim.expire_api_key()
    with pytest.raises(AuthenticationError) as denied:
        client.search("crm.lead", [])
    assert "crm.lead" in caplog.text  # the calls were logged
    for text in (caplog.text, repr(client), repr(client.config), str(caught.value), str(denied.value)):
        assert sim.api_key not in text


# -- protocol choice -----------------------------------------------------------------------


def _auto_client(sim: Simulator, **overrides) -> OdooClient:
    settings = {"url": sim.url, "db": sim.db, "username": sim.login, "password": sim.password, "protocol": "auto"}
    settings.update(overrides)
    return OdooClient(OdooConfig(**settings))


def test_auto_uses_jsonrpc_before_odoo_19(make_simulator):
    sim = make_simulator(version="17.0")
    with _auto_client(sim, api_key=sim.api_key) as client:
        assert client.search_count("crm.lead", []) > 0
        assert client.protocol == "jsonrpc"


def test_auto_uses_jsonrpc_on_odoo_19_without_an_api_key(make_simulator):
    sim = make_simulator(version="19.0")
    with _auto_client(sim) as client:
        assert client.search_count("crm.lead", []) > 0
        assert client.protocol == "jsonrpc"


def test_auto_uses_json2_on_odoo_19_with_an_api_key(make_simulator):
    sim = make_simulator(version="19.0")
    with _auto_client(sim, api_key=sim.api_key) as client:
        assert client.search_count("crm.lead", []) > 0
        assert client.protocol == "json2"


def test_a_refused_connection_is_a_transport_error_after_the_retries(protocol):
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = OdooConfig(
        url=f"http://127.0.0.1:{port}",
        db="db",
        username="admin",
        api_key="k" * 40,
        protocol=protocol,
        max_attempts=3,
        backoff_base=0.001,
        backoff_cap=0.01,
    )
    with OdooClient(config) as client:
        with pytest.raises(OdooTransportError, match="could not connect") as caught:
            client.search_count("crm.lead", [])
        assert "k" * 40 not in str(caught.value)
        snap = client.stats.snapshot()
    assert snap.retries == 2
    assert dict(snap.errors) == {"OdooTransportError": 3}
