"""Every error shape Odoo (or the way to it) produces maps to the right exception class.

The shapes are Odoo's own (``odoo/http.py`` ``serialize_exception``, ``base/controllers/
rpc.py`` fault codes, ``addons/rpc/controllers/json2.py`` statuses). Two guards make a
forgotten mapping fail: every Odoo exception name the module knows is exercised here, and
every concrete ``OdooError`` class is produced by at least one case.
"""

from __future__ import annotations

import json
import xmlrpc.client
from datetime import UTC

import httpx
import pytest

import odoosync.exceptions as exceptions
from odoosync.exceptions import (
    AccessDenied,
    ApiKeyExpired,
    AuthenticationError,
    InvalidRequest,
    MissingRecord,
    OdooError,
    OdooServerError,
    OdooTransportError,
    OdooValidationError,
    RateLimited,
)
from odoosync.odoo import errors
from odoosync.odoo.errors import (
    API_KEY_FIX,
    error_from_http_response,
    error_from_httpx,
    error_from_jsonrpc,
    error_from_xmlrpc_fault,
    parse_retry_after,
    surely_not_executed,
)

TRACEBACK = 'Traceback (most recent call last):\n  File "/odoo/odoo/models.py", line 1, in read\n'


def jsonrpc(name: str, message: str) -> dict:
    return {
        "code": 200,
        "message": "Odoo Server Error",
        "data": {"name": name, "debug": "Traceback ...", "message": message, "arguments": [message], "context": {}},
    }


def json2_body(name: str, message: str) -> bytes:
    return json.dumps(
        {"name": name, "message": message, "arguments": [message], "context": {}, "debug": "..."}
    ).encode()


# (case id, a function producing the error, the expected class)
JSONRPC_CASES = [
    ("jsonrpc AccessDenied", jsonrpc("odoo.exceptions.AccessDenied", "Access Denied"), AuthenticationError),
    (
        "jsonrpc AccessError",
        jsonrpc("odoo.exceptions.AccessError", "You are not allowed to modify 'Lead'"),
        AccessDenied,
    ),
    (
        "jsonrpc MissingError",
        jsonrpc("odoo.exceptions.MissingError", "Record does not exist or has been deleted."),
        MissingRecord,
    ),
    ("jsonrpc UserError", jsonrpc("odoo.exceptions.UserError", "You cannot do that"), OdooValidationError),
    ("jsonrpc ValidationError", jsonrpc("odoo.exceptions.ValidationError", "Email is invalid"), OdooValidationError),
    ("jsonrpc RedirectWarning", jsonrpc("odoo.exceptions.RedirectWarning", "Configure it first"), OdooValidationError),
    (
        "jsonrpc unknown model (UserError)",
        jsonrpc("odoo.exceptions.UserError", "Object crm.leed doesn't exist"),
        InvalidRequest,
    ),
    ("jsonrpc LockError", jsonrpc("odoo.exceptions.LockError", "record locked"), OdooServerError),
    ("jsonrpc ConcurrencyError", jsonrpc("odoo.exceptions.ConcurrencyError", "concurrent update"), OdooServerError),
    (
        "jsonrpc session expired",
        {
            "code": 100,
            "message": "Odoo Session Expired",
            "data": {"name": "odoo.http.SessionExpiredException", "message": "Session expired"},
        },
        AuthenticationError,
    ),
    (
        "jsonrpc ValueError field",
        jsonrpc("builtins.ValueError", "Invalid field 'foo' on model 'crm.lead'"),
        InvalidRequest,
    ),
    ("jsonrpc ValueError domain", jsonrpc("builtins.ValueError", "Invalid leaf ('a', '=~', 1)"), InvalidRequest),
    ("jsonrpc KeyError", jsonrpc("builtins.KeyError", "'crm.leed'"), InvalidRequest),
    (
        "jsonrpc TypeError",
        jsonrpc("builtins.TypeError", "search() got an unexpected keyword argument 'x'"),
        InvalidRequest,
    ),
    (
        "jsonrpc AttributeError",
        jsonrpc("builtins.AttributeError", "The method 'crm.lead.nope' does not exist"),
        InvalidRequest,
    ),
    ("jsonrpc NameError", jsonrpc("builtins.NameError", "Method not available foo"), InvalidRequest),
    ("jsonrpc short builtin name", jsonrpc("ValueError", "Invalid field"), InvalidRequest),
    ("jsonrpc 404", {"code": 404, "message": "404: Not Found", "data": {"message": "Not Found"}}, InvalidRequest),
    ("jsonrpc werkzeug NotFound", jsonrpc("werkzeug.exceptions.NotFound", "Not Found"), InvalidRequest),
    (
        "jsonrpc psycopg2",
        jsonrpc("psycopg2.errors.SerializationFailure", "could not serialize access"),
        OdooServerError,
    ),
    (
        "jsonrpc missing database",
        jsonrpc("psycopg2.OperationalError", 'connection failed: FATAL:  database "nope" does not exist'),
        InvalidRequest,
    ),
    ("jsonrpc unclassified", jsonrpc("builtins.RuntimeError", "boom"), OdooServerError),
    ("jsonrpc no data", {"code": 200, "message": "Odoo Server Error"}, OdooServerError),
]

XMLRPC_CASES = [
    ("xmlrpc 3 AccessDenied", xmlrpc.client.Fault(3, "Access Denied"), AuthenticationError),
    ("xmlrpc 4 AccessError", xmlrpc.client.Fault(4, "You are not allowed to access 'Lead'"), AccessDenied),
    ("xmlrpc 2 UserError", xmlrpc.client.Fault(2, "The email is invalid"), OdooValidationError),
    (
        "xmlrpc 2 MissingError",
        xmlrpc.client.Fault(2, "Record does not exist or has been deleted.\n(Record: crm.lead(99,), User: 2)"),
        MissingRecord,
    ),
    (
        "xmlrpc 2 MissingError on write",
        xmlrpc.client.Fault(
            2,
            "One of the documents you are trying to access has been deleted, please try again after refreshing.\n\n(Document type: crm.lead, Operation: write, Records: [99], User: 2)",
        ),
        MissingRecord,
    ),
    ("xmlrpc 2 unknown model", xmlrpc.client.Fault(2, "Object crm.leed doesn't exist"), InvalidRequest),
    (
        "xmlrpc 1 ValueError",
        xmlrpc.client.Fault(1, TRACEBACK + "ValueError: Invalid field 'foo' on model 'crm.lead'\n"),
        InvalidRequest,
    ),
    (
        "xmlrpc 1 AttributeError",
        xmlrpc.client.Fault(1, TRACEBACK + "AttributeError: The method 'crm.lead.nope' does not exist\n"),
        InvalidRequest,
    ),
    (
        "xmlrpc 1 psycopg2",
        xmlrpc.client.Fault(1, TRACEBACK + "psycopg2.errors.SerializationFailure: could not serialize\n"),
        OdooServerError,
    ),
    (
        "xmlrpc 1 missing database",
        xmlrpc.client.Fault(1, TRACEBACK + 'psycopg2.OperationalError: FATAL:  database "nope" does not exist\n'),
        InvalidRequest,
    ),
    ("xmlrpc 1 no traceback", xmlrpc.client.Fault(1, ""), OdooServerError),
    ("xmlrpc legacy AccessDenied", xmlrpc.client.Fault("AccessDenied", "Access Denied"), AuthenticationError),
    (
        "xmlrpc legacy MissingError",
        xmlrpc.client.Fault("warning -- MissingError\n\nRecord does not exist", ""),
        MissingRecord,
    ),
]

HTTP_CASES = [
    ("http 429", 429, {"retry-after": "2"}, b"Too Many Requests", False, RateLimited),
    ("http 500 html", 500, {}, b"<html>Internal Server Error</html>", False, OdooServerError),
    ("http 502", 502, {}, b"Bad Gateway", False, OdooServerError),
    ("http 503", 503, {}, b"", False, OdooServerError),
    ("http 504", 504, {}, b"", False, OdooServerError),
    ("http 408", 408, {}, b"", False, OdooServerError),
    ("http 404 endpoint", 404, {}, b"<html>Not Found</html>", False, InvalidRequest),
    ("http 400", 400, {}, b"Invalid JSON data", False, InvalidRequest),
    ("http 401 rpc", 401, {}, b"", False, AuthenticationError),
    ("http 403 rpc", 403, {}, b"", False, AuthenticationError),
    (
        "json2 401 invalid key",
        401,
        {},
        json2_body("werkzeug.exceptions.Unauthorized", "Invalid apikey"),
        True,
        ApiKeyExpired,
    ),
    ("json2 401 no body", 401, {}, b"", True, ApiKeyExpired),
    ("json2 403 no body", 403, {}, b"", True, AuthenticationError),
    ("json2 403 AccessError", 403, {}, json2_body("odoo.exceptions.AccessError", "not allowed"), True, AccessDenied),
    (
        "json2 403 AccessDenied",
        403,
        {},
        json2_body("odoo.exceptions.AccessDenied", "Access Denied"),
        True,
        AuthenticationError,
    ),
    (
        "json2 403 Forbidden",
        403,
        {},
        json2_body("werkzeug.exceptions.Forbidden", "Cannot use both"),
        True,
        AuthenticationError,
    ),
    (
        "json2 404 model",
        404,
        {},
        json2_body("werkzeug.exceptions.NotFound", "the model 'crm.leed' does not exist"),
        True,
        InvalidRequest,
    ),
    (
        "json2 404 MissingError",
        404,
        {},
        json2_body("odoo.exceptions.MissingError", "Record does not exist"),
        True,
        MissingRecord,
    ),
    ("json2 422 UserError", 422, {}, json2_body("odoo.exceptions.UserError", "cannot"), True, OdooValidationError),
    (
        "json2 422 ValidationError",
        422,
        {},
        json2_body("odoo.exceptions.ValidationError", "invalid"),
        True,
        OdooValidationError,
    ),
    (
        "json2 422 bad arguments",
        422,
        {},
        json2_body("werkzeug.exceptions.UnprocessableEntity", "missing a required argument"),
        True,
        InvalidRequest,
    ),
    (
        "json2 400 bad json",
        400,
        {},
        json2_body("werkzeug.exceptions.BadRequest", "could not parse the body as json"),
        True,
        InvalidRequest,
    ),
    ("json2 500 ValueError", 500, {}, json2_body("builtins.ValueError", "Invalid field"), True, InvalidRequest),
    ("json2 500 other", 500, {}, json2_body("builtins.ZeroDivisionError", "division by zero"), True, OdooServerError),
    ("json2 409 LockError", 409, {}, json2_body("odoo.exceptions.LockError", "locked"), True, OdooServerError),
    ("json2 429", 429, {"retry-after": "1"}, b"", True, RateLimited),
]

HTTPX_CASES = [
    ("connect refused", httpx.ConnectError("Connection refused"), True),
    ("connect timeout", httpx.ConnectTimeout("timed out"), True),
    ("pool timeout", httpx.PoolTimeout("timed out"), True),
    ("read timeout", httpx.ReadTimeout("timed out"), False),
    ("write timeout", httpx.WriteTimeout("timed out"), False),
    ("reset", httpx.ReadError("Connection reset by peer"), False),
    ("dropped", httpx.RemoteProtocolError("Server disconnected without sending a response."), False),
    ("write error", httpx.WriteError("Broken pipe"), False),
]


def _all_produced() -> list[OdooError]:
    produced = [error_from_jsonrpc(e) for _, e, _ in JSONRPC_CASES]
    produced += [error_from_xmlrpc_fault(f) for _, f, _ in XMLRPC_CASES]
    produced += [error_from_http_response(s, h, b, db="db", json2=j) for _, s, h, b, j, _ in HTTP_CASES]
    produced += [error_from_httpx(e, url="http://odoo/jsonrpc") for _, e, _ in HTTPX_CASES]
    return produced


@pytest.mark.parametrize(("case", "error", "expected"), JSONRPC_CASES, ids=[c[0] for c in JSONRPC_CASES])
def test_jsonrpc_errors(case, error, expected):
    mapped = error_from_jsonrpc(error, model="crm.lead", method="read")
    assert type(mapped) is expected
    assert (mapped.model, mapped.method) == ("crm.lead", "read")
    assert str(mapped).startswith("crm.lead.read: ")


@pytest.mark.parametrize(("case", "fault", "expected"), XMLRPC_CASES, ids=[c[0] for c in XMLRPC_CASES])
def test_xmlrpc_faults(case, fault, expected):
    mapped = error_from_xmlrpc_fault(fault, model="crm.lead", method="read")
    assert type(mapped) is expected
    assert "Traceback" not in str(mapped)


@pytest.mark.parametrize(
    ("case", "status", "headers", "body", "json2", "expected"), HTTP_CASES, ids=[c[0] for c in HTTP_CASES]
)
def test_http_statuses(case, status, headers, body, json2, expected):
    mapped = error_from_http_response(status, httpx.Headers(headers), body, db="prod", json2=json2)
    assert type(mapped) is expected


@pytest.mark.parametrize(("case", "exc", "not_sent"), HTTPX_CASES, ids=[c[0] for c in HTTPX_CASES])
def test_network_failures_are_transport_errors(case, exc, not_sent):
    mapped = error_from_httpx(exc, url="http://odoo/jsonrpc", model="crm.lead", method="write")
    assert type(mapped) is OdooTransportError
    assert mapped.__cause__ is exc
    assert surely_not_executed(mapped) is not_sent


def test_every_known_odoo_exception_name_is_exercised():
    names = {e["data"]["name"] for _, e, _ in JSONRPC_CASES if isinstance(e.get("data"), dict) and "name" in e["data"]}
    names |= {json.loads(b)["name"] for *_, b, _, _ in HTTP_CASES if b.startswith(b"{")}
    assert set(errors._BY_NAME) <= names, set(errors._BY_NAME) - names


def test_every_concrete_odoo_error_class_is_produced_by_some_case():
    branches = {OdooError, exceptions.OdooTransientError, exceptions.OdooPermanentError}
    concrete = {
        cls
        for name in exceptions.__all__
        if isinstance(cls := getattr(exceptions, name), type) and issubclass(cls, OdooError) and cls not in branches
    }
    produced = {type(e) for e in _all_produced()}
    assert concrete <= produced, concrete - produced


def test_expired_key_names_the_fix():
    error = error_from_http_response(401, httpx.Headers(), b"", db="prod", json2=True, model="crm.lead", method="read")
    assert API_KEY_FIX in str(error)
    assert "ODOO_API_KEY" in str(error)


def test_retry_after_is_kept_on_rate_limited():
    error = error_from_http_response(429, httpx.Headers({"Retry-After": "7"}), b"", db="prod")
    assert error.retry_after == 7.0
    assert error_from_http_response(429, httpx.Headers(), b"", db="prod").retry_after is None


def test_retry_after_as_http_date():
    from datetime import datetime

    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_odoo_errors_answer_from_odoo_mean_the_call_was_rolled_back():
    assert surely_not_executed(error_from_jsonrpc(jsonrpc("psycopg2.errors.SerializationFailure", "x")))
    assert not surely_not_executed(error_from_http_response(502, httpx.Headers(), b"", db="db"))
