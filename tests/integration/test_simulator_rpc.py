"""The simulator over real HTTP, driven with nothing but the standard library.

The XML-RPC test is what an old integration script does with ``xmlrpc.client``; the
JSON-RPC tests check Odoo's JSON error shape; the JSON-2 tests use Odoo 19's endpoint
with the API key as bearer.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import xmlrpc.client
from typing import Any

import pytest

from odoosync.simulator import Simulator


def _jsonrpc(sim: Simulator, service: str, method: str, *args: Any) -> dict[str, Any]:
    payload = {
        "jsonrpc": "2.0",
        "method": "call",
        "id": 7,
        "params": {"service": service, "method": method, "args": list(args)},
    }
    request = urllib.request.Request(
        f"{sim.url}/jsonrpc", data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def _execute(
    sim: Simulator,
    model: str,
    method: str,
    args: list[Any],
    kwargs: dict[str, Any] | None = None,
    *,
    secret: str | None = None,
) -> dict[str, Any]:
    return _jsonrpc(
        sim, "object", "execute_kw", sim.db, sim.uid, secret or sim.password, model, method, args, kwargs or {}
    )


def _json2(sim: Simulator, model: str, method: str, body: dict[str, Any], *, key: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"{sim.url}/json/2/{model}/{method}",
        data=json.dumps(body).encode(),
        headers={
            "Content-Type": "application/json",
            "Authorization": f"bearer {key if key is not None else sim.api_key}",
            "X-Odoo-Database": sim.db,
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read())


def test_old_xmlrpc_script_works_unchanged(simulator: Simulator) -> None:
    with _proxy(simulator, "common") as common, _proxy(simulator, "object") as models:
        _old_script(simulator, common, models)


def _proxy(sim: Simulator, service: str) -> xmlrpc.client.ServerProxy:
    return xmlrpc.client.ServerProxy(f"{sim.url}/xmlrpc/2/{service}")


def _old_script(simulator: Simulator, common: Any, models: Any) -> None:
    assert common.version()["server_version_info"][0] == 17
    uid = common.authenticate(simulator.db, "admin", "admin", {})
    assert uid == 2
    assert common.login(simulator.db, "admin", "wrong") is False

    active = models.execute_kw(simulator.db, uid, "admin", "crm.lead", "search_count", [[]])
    everything = models.execute_kw(
        simulator.db,
        uid,
        "admin",
        "crm.lead",
        "search_count",
        [[]],
        {"context": {"active_test": False, "allowed_company_ids": [1, 2]}},
    )
    main_company_all = models.execute_kw(
        simulator.db, uid, "admin", "crm.lead", "search_count", [[]], {"context": {"active_test": False}}
    )
    assert simulator.counts is not None
    assert everything == simulator.counts.leads
    assert active < main_company_all < everything  # archived lost leads, other company

    [lead] = models.execute_kw(
        simulator.db,
        uid,
        "admin",
        "crm.lead",
        "search_read",
        [[("stage_id", "!=", False)]],
        {"fields": ["name", "stage_id", "partner_id", "date_deadline", "write_date"], "limit": 1, "order": "id"},
    )
    stage_id, stage_name = lead["stage_id"]
    assert isinstance(stage_id, int) and stage_name in ("New", "Qualified", "Proposition", "Won")
    assert lead["partner_id"] is False or isinstance(lead["partner_id"][1], str)
    assert len(lead["write_date"]) == 19

    with pytest.raises(xmlrpc.client.Fault) as denied:
        models.execute_kw(simulator.db, uid, "wrong", "crm.lead", "search_count", [[]])
    assert denied.value.faultCode == 3
    assert denied.value.faultString == "Access Denied"

    # the API key works as a password
    assert models.execute_kw(simulator.db, uid, simulator.api_key, "crm.lead", "search_count", [[]]) == active


def test_xmlrpc_faults_use_odoo_codes(simulator: Simulator) -> None:
    with _proxy(simulator, "object") as models:
        _check_faults(simulator, models)


def _check_faults(simulator: Simulator, models: Any) -> None:
    with pytest.raises(xmlrpc.client.Fault) as invalid:
        models.execute_kw(simulator.db, 2, "admin", "crm.lead", "search", [[("nope", "=", 1)]])
    assert invalid.value.faultCode == 1 and "Invalid field crm.lead.nope" in invalid.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as required:
        models.execute_kw(simulator.db, 2, "admin", "crm.lead", "create", [{"type": "lead"}])
    assert required.value.faultCode == 2 and "Field: Opportunity (name)" in required.value.faultString
    with pytest.raises(xmlrpc.client.Fault) as unknown:
        models.execute_kw(simulator.db, 2, "admin", "no.such.model", "search", [[]])
    assert unknown.value.faultCode == 2 and "Object no.such.model doesn't exist" in unknown.value.faultString


def test_jsonrpc_access_denied_has_odoo_error_shape(simulator: Simulator) -> None:
    answer = _execute(simulator, "crm.lead", "search", [[]], secret="wrong")
    assert answer["id"] == 7 and "result" not in answer
    error = answer["error"]
    assert error["code"] == 200 and error["message"] == "Odoo Server Error"
    assert error["data"]["name"] == "odoo.exceptions.AccessDenied"
    assert error["data"]["message"] == "Access Denied"
    assert error["data"]["arguments"] == ["Access Denied"]
    assert "admin" not in json.dumps(error)  # the secret never comes back


@pytest.mark.parametrize(
    ("model", "method", "args", "kwargs", "name", "fragment"),
    [
        ("crm.lead", "search_read", [[("nope", "=", 1)]], {}, "builtins.ValueError", "Invalid field crm.lead.nope"),
        (
            "crm.lead",
            "search_read",
            [[]],
            {"fields": ["nope"]},
            "builtins.ValueError",
            "Invalid field 'nope' on model 'crm.lead'",
        ),
        ("crm.lead", "search", [["&", ("id", "=", 1)]], {}, "builtins.ValueError", "syntactically not correct"),
        (
            "crm.lead",
            "create",
            [{"type": "lead"}],
            {},
            "odoo.exceptions.ValidationError",
            "a mandatory field is not set",
        ),
        ("crm.lead", "write", [[999999], {"name": "x"}], {}, "odoo.exceptions.MissingError", "has been deleted"),
        ("crm.lead", "_private", [[]], {}, "odoo.exceptions.AccessError", "Private methods"),
        ("crm.lead", "no_such_method", [[]], {}, "builtins.AttributeError", "no_such_method"),
        ("x.unknown", "search", [[]], {}, "odoo.exceptions.UserError", "Object x.unknown doesn't exist"),
        (
            "crm.lead",
            "search",
            [[]],
            {"context": {"allowed_company_ids": [99]}},
            "odoo.exceptions.AccessError",
            "unauthorized or invalid companies",
        ),
    ],
)
def test_jsonrpc_errors_name_odoo_exceptions(
    simulator: Simulator, model: str, method: str, args: list[Any], kwargs: dict[str, Any], name: str, fragment: str
) -> None:
    error = _execute(simulator, model, method, args, kwargs)["error"]
    assert error["data"]["name"] == name
    assert fragment in error["data"]["message"]


def test_create_returns_id_for_dict_and_ids_for_list_and_read_skips_deleted(simulator: Simulator) -> None:
    one = _execute(simulator, "crm.lead", "create", [{"name": "Single"}])["result"]
    many = _execute(simulator, "crm.lead", "create", [[{"name": "A"}, {"name": "B"}]])["result"]
    assert isinstance(one, int) and len(many) == 2 and all(isinstance(i, int) for i in many)
    assert _execute(simulator, "crm.lead", "unlink", [[many[0]]])["result"] is True
    read = _execute(
        simulator, "crm.lead", "read", [[one, many[0], many[1]]], {"fields": ["name", "email_from", "tag_ids"]}
    )["result"]
    assert [r["id"] for r in read] == [one, many[1]]  # Odoo 17 silently skips deleted ids
    assert read[0] == {"id": one, "name": "Single", "email_from": False, "tag_ids": []}
    gone = _execute(simulator, "crm.lead", "unlink", [[many[0]]])  # already gone: MissingError (16.0-19.0)
    assert gone["error"]["data"]["name"] == "odoo.exceptions.MissingError"


def test_json2_with_api_key(make_simulator: Any) -> None:
    sim = make_simulator(version="19.0")
    status, version = 200, _jsonrpc(sim, "common", "version")["result"]
    assert version["server_version_info"][0] == 19
    status, ids = _json2(
        sim, "crm.lead", "search", {"domain": [["active", "in", [True, False]]], "limit": 3, "order": "id"}
    )
    assert status == 200 and ids == sorted(ids) and len(ids) == 3
    status, rows = _json2(sim, "crm.lead", "read", {"ids": ids[:2], "fields": ["name", "stage_id"]})
    assert status == 200 and [r["id"] for r in rows] == ids[:2] and isinstance(rows[0]["stage_id"], list)
    status, created = _json2(sim, "crm.lead", "create", {"vals_list": [{"name": "From JSON-2"}]})
    assert status == 200 and isinstance(created, list) and len(created) == 1

    status, body = _json2(sim, "crm.lead", "search", {"domain": []}, key="wrong")
    assert status == 401 and body["name"] == "werkzeug.exceptions.Unauthorized" and body["message"] == "Invalid apikey"
    status, body = _json2(sim, "no.model", "search", {})
    assert status == 404 and "does not exist" in body["message"]
    status, body = _json2(sim, "crm.lead", "search", {"ids": [1], "domain": []})
    assert status == 422 and body["name"] == "werkzeug.exceptions.UnprocessableEntity"
    status, body = _json2(sim, "crm.lead", "write", {"ids": [999999], "vals": {"name": "x"}})
    assert status == 404 and body["name"] == "odoo.exceptions.MissingError"
    status, body = _json2(sim, "crm.lead", "create", {"vals_list": [{"type": "lead"}]})
    assert status == 422 and body["name"] == "odoo.exceptions.ValidationError"
    status, body = _json2(sim, "crm.lead", "search", {"domain": [["nope", "=", 1]]})
    assert status == 500 and body["name"] == "builtins.ValueError"


def test_expired_and_rotated_api_keys(make_simulator: Any) -> None:
    sim = make_simulator(version="19.0")
    old = sim.api_key
    assert _json2(sim, "crm.lead", "search_count", {"domain": []})[0] == 200
    sim.expire_api_key()
    assert _json2(sim, "crm.lead", "search_count", {"domain": []}, key=old)[0] == 401
    assert (
        _execute(sim, "crm.lead", "search_count", [[]], secret=old)["error"]["data"]["name"]
        == "odoo.exceptions.AccessDenied"
    )
    new = sim.rotate_api_key()
    assert new != old
    assert _json2(sim, "crm.lead", "search_count", {"domain": []}, key=new)[0] == 200
    assert _json2(sim, "crm.lead", "search_count", {"domain": []}, key=old)[0] == 401


def test_json2_is_absent_before_odoo_19(simulator: Simulator) -> None:
    request = urllib.request.Request(f"{simulator.url}/json/2/crm.lead/search", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(request, timeout=10)
    with missing.value:
        assert missing.value.code == 404


def test_version_routes_follow_the_odoo_version(make_simulator: Any) -> None:
    new = make_simulator(scale=None, version="19.0")
    for path in ("/web/version", "/json/version"):
        with urllib.request.urlopen(f"{new.url}{path}", timeout=10) as response:
            assert response.headers["Content-Type"] == "application/json; charset=utf-8"
            assert json.loads(response.read()) == {"version_info": [19, 0, 0, "final", 0, ""], "version": "19.0"}
    old = make_simulator(scale=None, version="17.0")
    with pytest.raises(urllib.error.HTTPError) as missing:
        urllib.request.urlopen(f"{old.url}/web/version", timeout=10)
    with missing.value:
        assert missing.value.code == 404  # Odoo 17 has no /web/version route
    for sim, major in ((old, 17), (new, 19)):
        request = urllib.request.Request(
            f"{sim.url}/web/webclient/version_info",
            data=b'{"jsonrpc": "2.0", "id": 3, "params": {}}',
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            body = json.loads(response.read())
        assert body["id"] == 3 and body["result"]["server_version_info"][:2] == [major, 0]


def test_context_get_gives_the_uid_over_json2(make_simulator: Any) -> None:
    sim = make_simulator(scale=None, version="19.0")
    assert _json2(sim, "res.users", "context_get", {}) == (200, {"lang": "en_US", "tz": "Europe/Brussels", "uid": 2})


def test_odoo_18_speaks_like_17_without_name_get(make_simulator: Any) -> None:
    """Odoo 18.0's ``odoo/http.py``, ``base/controllers/rpc.py`` and ``web`` controllers:
    the same routes and error shapes as 17 (no ``/web/version``, no JSON-2, JSON-RPC error
    code 200); ``name_get`` is gone from ``models.py``; ``message_post`` still answers an id."""
    sim = make_simulator(version="18.0")
    assert _jsonrpc(sim, "common", "version")["result"]["server_version_info"] == [18, 0, 0, "final", 0, ""]
    for path, body in (("/web/version", None), ("/json/2/crm.lead/search", b"{}")):
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(urllib.request.Request(f"{sim.url}{path}", data=body), timeout=10)
        with missing.value:
            assert missing.value.code == 404
    error = _execute(sim, "crm.stage", "name_get", [[1]])["error"]
    assert (error["code"], error["data"]["name"]) == (200, "builtins.AttributeError")
    lead = _execute(sim, "crm.lead", "search", [[]], {"limit": 1})["result"][0]
    posted = _execute(sim, "crm.lead", "message_post", [[lead]], {"body": "Hi"})["result"]
    assert isinstance(posted, int)
    with _proxy(sim, "object") as models:
        assert (
            models.execute_kw(
                sim.db, sim.uid, sim.password, "crm.lead", "search_count", [[("partner_id.is_company", "=", True)]]
            )
            > 0
        )


def test_json2_with_an_unknown_database_is_odoos_404_page_and_the_client_names_odoo_db(make_simulator) -> None:
    """Seen on Odoo 19.0: a JSON-2 call naming a database the server does not have gets
    the HTML "No database is selected" 404 (before the key is even checked)."""
    import httpx

    from odoosync.exceptions import InvalidRequest
    from odoosync.odoo.client import OdooClient
    from odoosync.odoo.config import OdooConfig

    sim = make_simulator(scale=None, version="19.0")
    answer = httpx.post(
        f"{sim.url}/json/2/crm.lead/search_count",
        json={"domain": []},
        headers={"Authorization": "bearer not-even-a-key", "X-Odoo-Database": "nosuchdb"},
    )
    assert answer.status_code == 404 and "No database is selected" in answer.text
    assert answer.headers["content-type"].startswith("text/html")
    config = OdooConfig(
        url=sim.url, db="nosuchdb", username=sim.login, api_key=sim.api_key, protocol="json2", max_attempts=1
    )
    with OdooClient(config) as client, pytest.raises(InvalidRequest) as raised:
        client.search_count("crm.lead")
    assert "ODOO_DB" in str(raised.value) and "nosuchdb" in str(raised.value)


@pytest.mark.parametrize("version, refused", [("17.0", False), ("19.0", True)])
def test_a_language_not_installed_is_refused_from_19_and_action_done_answers_the_message(
    make_simulator, version, refused
) -> None:
    """Seen on real servers: a context ``lang`` the database has not installed is a
    ``UserError`` "Invalid language code" on 19.0 (ignored on 17.0); ``action_done``
    answers the done message's id (17.0, 19.0)."""
    sim = make_simulator(scale=0.02, version=version)
    answer = _execute(sim, "crm.lead", "search_count", [[]], {"context": {"lang": "fr_FR"}})
    if refused:
        assert answer["error"]["data"]["name"] == "odoo.exceptions.UserError"
        assert "Invalid language code: fr_FR" in answer["error"]["data"]["message"]
    else:
        assert answer["result"] > 0
    activity = _execute(sim, "mail.activity", "search", [[]], {"limit": 1})["result"]
    done = _execute(sim, "mail.activity", "action_done", [activity])["result"]
    with sim.env() as env:
        assert env["mail.message"].read([done], ["subtype_id"])[0]["subtype_id"][1] == "Activities"


@pytest.mark.parametrize("version", ["16.0", "17.0", "19.0"])
def test_each_version_serves_its_own_fields(make_simulator, version) -> None:
    """Seen on real servers: 16 has no activity active/date_done/keep_done; 19 has no
    mobile on leads and partners, no keep_done, and stages belong to teams (team_ids)."""
    sim = make_simulator(scale=None, version=version)

    def fields(model: str) -> set[str]:
        return set(_execute(sim, model, "fields_get", [], {"attributes": ["type"]})["result"])

    assert ("active" in fields("mail.activity")) == (version != "16.0")
    assert ("keep_done" in fields("mail.activity.type")) == (version == "17.0")
    assert ("mobile" in fields("crm.lead")) == ("mobile" in fields("res.partner")) == (version != "19.0")
    assert ("team_id" in fields("crm.stage"), "team_ids" in fields("crm.stage")) == (
        (False, True) if version == "19.0" else (True, False)
    )
