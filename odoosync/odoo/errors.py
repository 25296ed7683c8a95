"""Odoo's error shapes, translated once into ``odoosync.exceptions``.

Odoo reports failures in four shapes, and each protocol module hands its own shape here:

* JSON-RPC (``/jsonrpc``): HTTP 200 with ``{"error": {"code": 200, "message": ...,
  "data": {"name": "odoo.exceptions.AccessError", "message": ..., ...}}}``
  (``odoo/http.py`` ``serialize_exception``).
* XML-RPC (``/xmlrpc/2/*``): a fault with an integer code (``base/controllers/rpc.py``
  ``xmlrpc_handle_exception_int``): 1 application error (the faultString is the
  traceback), 2 warning (``UserError`` and its subclasses ``ValidationError``,
  ``MissingError``), 3 ``AccessDenied``, 4 ``AccessError``.
* JSON-2 (``/json/2/...``, Odoo 19): an HTTP error status whose body is the same
  ``serialize_exception`` dict (``Json2Dispatcher.handle_error``): 401 for a bad, expired
  or revoked API key, 403 ``AccessError``, 404 unknown model/method or ``MissingError``,
  422 ``UserError``/bad arguments, 500 anything else.
* Anything in front of Odoo (proxies, Odoo.sh): 429 with ``Retry-After``, 502/503/504;
  and the network itself (timeouts, resets, refused connections) as httpx exceptions.

Odoo's exception class name is the most specific signal, so it wins over the HTTP status;
a few messages are refined by their text because Odoo raises ``UserError`` for what is
really a bad request (``Object crm.leed doesn't exist``), XML-RPC folds ``MissingError``
into the generic warning code, and a missing database surfaces as the driver's
``OperationalError``.
"""

from __future__ import annotations

import json
import re
import xmlrpc.client
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

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

__all__ = [
    "API_KEY_FIX",
    "error_from_odoo_name",
    "error_from_jsonrpc",
    "error_from_xmlrpc_fault",
    "error_from_http_response",
    "error_from_httpx",
    "login_rejected",
    "api_key_rejected",
    "surely_not_executed",
    "parse_retry_after",
]

API_KEY_FIX = (
    "Create a new API key in Odoo (Preferences → Account Security → New API Key) and set "
    "ODOO_API_KEY; the new key is read again on the next call, no restart needed."
)

_MAX_MESSAGE = 1000

# Odoo exception class (as ``serialize_exception`` names it) → our class.
_BY_NAME: dict[str, type[OdooError]] = {
    "odoo.exceptions.AccessDenied": AuthenticationError,
    "odoo.exceptions.AccessError": AccessDenied,
    "odoo.exceptions.MissingError": MissingRecord,
    "odoo.exceptions.UserError": OdooValidationError,
    "odoo.exceptions.ValidationError": OdooValidationError,
    "odoo.exceptions.RedirectWarning": OdooValidationError,
    # A row lock held by another transaction (Odoo 18+): contention, worth a retry.
    "odoo.exceptions.LockError": OdooServerError,
    "odoo.exceptions.ConcurrencyError": OdooServerError,
    "odoo.http.SessionExpiredException": AuthenticationError,
    "werkzeug.exceptions.Unauthorized": ApiKeyExpired,
    "werkzeug.exceptions.Forbidden": AuthenticationError,
    "werkzeug.exceptions.NotFound": InvalidRequest,
    "werkzeug.exceptions.BadRequest": InvalidRequest,
    "werkzeug.exceptions.UnprocessableEntity": InvalidRequest,
    # Unknown fields, malformed domains, wrong arguments, unknown methods.
    "builtins.ValueError": InvalidRequest,
    "builtins.KeyError": InvalidRequest,
    "builtins.TypeError": InvalidRequest,
    "builtins.AttributeError": InvalidRequest,
    "builtins.NameError": InvalidRequest,
}

# XML-RPC /xmlrpc/2 integer fault codes (base/controllers/rpc.py).
_FAULT_APPLICATION_ERROR = 1
_FAULT_WARNING = 2
_FAULT_ACCESS_DENIED = 3
_FAULT_ACCESS_ERROR = 4

_UNKNOWN_MODEL = re.compile(r"^Object \S+ doesn't exist")
# "Record does not exist or has been deleted." (fields.py) and "One of the documents you
# are trying to access has been deleted, ..." (models.py, write/unlink on a gone id).
_MISSING_RECORD = re.compile(r"has been deleted")
_MISSING_DATABASE = re.compile(r'database "[^"]*" does not exist')
_TRACEBACK_LAST_LINE = re.compile(r"^(?P<name>[A-Za-z_][\w.]*): ?(?P<message>.*)$", re.DOTALL)


def _short(message: object) -> str:
    text = str(message or "").strip()
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _qualified(name: str) -> str:
    """``ValueError`` → ``builtins.ValueError``: Odoo names builtins with their module."""
    return name if "." in name else f"builtins.{name}"


def _where(model: str | None, method: str | None) -> str:
    return f"{model}.{method}: " if model and method else ""


def error_from_odoo_name(
    name: str | None, message: str, *, model: str | None = None, method: str | None = None
) -> OdooError:
    """The error for one of Odoo's exception class names (unknown names: server error)."""
    qualified = _qualified(name) if name else ""
    cls = _BY_NAME.get(qualified, OdooServerError)
    if cls is OdooValidationError and _UNKNOWN_MODEL.search(message):
        cls = InvalidRequest
    if cls is OdooServerError and _MISSING_DATABASE.search(message):
        # Login on a database that does not exist: psycopg2.OperationalError. Not transient.
        cls, message = InvalidRequest, f"{message.strip()} (check ODOO_DB)"
    text = _short(message) or qualified or "Odoo Server Error"
    if cls is ApiKeyExpired:
        text = f"{text}. {API_KEY_FIX}"
    return cls(f"{_where(model, method)}{text}", odoo_name=qualified or None, model=model, method=method)


def error_from_jsonrpc(error: Mapping[str, Any], *, model: str | None = None, method: str | None = None) -> OdooError:
    """The ``error`` member of a JSON-RPC response."""
    data = error.get("data")
    if not isinstance(data, Mapping):
        data = {}
    name = data.get("name")
    message = data.get("message") or error.get("message") or ""
    if not name and error.get("code") == 404:
        name = "werkzeug.exceptions.NotFound"
    return error_from_odoo_name(name, message, model=model, method=method)


def error_from_xmlrpc_fault(
    fault: xmlrpc.client.Fault, *, model: str | None = None, method: str | None = None
) -> OdooError:
    """An XML-RPC fault, with Odoo's integer codes (or the legacy string codes)."""
    # typeshed says int; Odoo before 13 sent string codes ("AccessDenied")
    code: object = fault.faultCode
    text = str(fault.faultString or "")
    if code == _FAULT_ACCESS_DENIED or code == "AccessDenied":
        return error_from_odoo_name("odoo.exceptions.AccessDenied", text or "Access Denied", model=model, method=method)
    if code == _FAULT_ACCESS_ERROR:
        return error_from_odoo_name("odoo.exceptions.AccessError", text, model=model, method=method)
    if code == _FAULT_WARNING:
        name = "odoo.exceptions.MissingError" if _MISSING_RECORD.search(text) else "odoo.exceptions.UserError"
        return error_from_odoo_name(name, text, model=model, method=method)
    if isinstance(code, str) and code.startswith("warning -- "):
        # Legacy /xmlrpc/ endpoint: "warning -- MissingError\n\n<message>".
        kind, _, message = code[len("warning -- ") :].partition("\n\n")
        return error_from_odoo_name(f"odoo.exceptions.{kind.strip()}", message, model=model, method=method)
    # Application error: the fault string is a traceback whose last line names the class.
    lines = [line for line in text.strip().splitlines() if line.strip()]
    match = _TRACEBACK_LAST_LINE.match(lines[-1]) if lines else None
    if match:
        return error_from_odoo_name(match["name"], match["message"], model=model, method=method)
    return error_from_odoo_name(None, text or str(code), model=model, method=method)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` in seconds: delta-seconds or an HTTP date; None when absent/unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def api_key_rejected(db: str, *, model: str | None = None, method: str | None = None) -> ApiKeyExpired:
    return ApiKeyExpired(
        f"{_where(model, method)}Odoo rejected the API key for database {db!r} "
        f"(expired, revoked or wrong). {API_KEY_FIX}",
        odoo_name="werkzeug.exceptions.Unauthorized",
        model=model,
        method=method,
    )


def login_rejected(db: str, login: str) -> AuthenticationError:
    return AuthenticationError(
        f"Odoo rejected login {login!r} on database {db!r}: check ODOO_USERNAME and "
        "ODOO_PASSWORD or ODOO_API_KEY (an API key works as the password)."
    )


def error_from_http_response(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    *,
    db: str,
    json2: bool = False,
    model: str | None = None,
    method: str | None = None,
) -> OdooError:
    """A non-2xx HTTP answer, from Odoo (JSON-2 error bodies) or from a proxy in front."""
    if status == 429:
        retry_after = parse_retry_after(headers.get("retry-after"))
        hint = f" (retry after {retry_after:g} s)" if retry_after is not None else ""
        return RateLimited(
            f"{_where(model, method)}Odoo is rate limiting (HTTP 429){hint}",
            retry_after=retry_after,
            model=model,
            method=method,
        )
    if status == 401 and json2:
        return api_key_rejected(db, model=model, method=method)
    payload = _json_or_none(body)
    if isinstance(payload, Mapping) and isinstance(payload.get("name"), str):
        return error_from_odoo_name(payload["name"], str(payload.get("message") or ""), model=model, method=method)
    if status in (401, 403):
        fix = API_KEY_FIX if json2 else "check ODOO_USERNAME and ODOO_PASSWORD or ODOO_API_KEY."
        return AuthenticationError(
            f"{_where(model, method)}Odoo refused the credentials (HTTP {status}). {fix}", model=model, method=method
        )
    if status == 404 and json2 and b"No database is selected" in body:
        return InvalidRequest(
            f'{_where(model, method)}Odoo has no database {db!r} (HTTP 404 "No database is selected"): '
            "check ODOO_DB, the database's name (on Odoo Online, the subdomain)",
            model=model,
            method=method,
        )
    if status == 404:
        return InvalidRequest(
            f"{_where(model, method)}HTTP 404: the endpoint does not exist (is ODOO_URL an Odoo server, "
            "and does its version speak this protocol? JSON-2 needs Odoo 19+)",
            model=model,
            method=method,
        )
    if status >= 500 or status == 408:
        return OdooServerError(f"{_where(model, method)}Odoo answered HTTP {status}", model=model, method=method)
    return InvalidRequest(
        f"{_where(model, method)}Odoo refused the request (HTTP {status})", model=model, method=method
    )


def _json_or_none(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


# httpx exceptions raised before any byte of the request left: the call surely did not run.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def error_from_httpx(
    exc: httpx.HTTPError, *, url: str, model: str | None = None, method: str | None = None
) -> OdooTransportError:
    """A network failure; the httpx exception is kept as ``__cause__``."""
    if isinstance(exc, httpx.TimeoutException):
        what = f"timed out ({type(exc).__name__})"
    elif isinstance(exc, httpx.ConnectError):
        what = "could not connect (refused or unreachable)"
    elif isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        what = "the connection was dropped"
    else:
        what = f"failed ({type(exc).__name__})"
    error = OdooTransportError(f"{_where(model, method)}request to {url} {what}", model=model, method=method)
    error.__cause__ = exc
    return error


def surely_not_executed(error: BaseException) -> bool:
    """True when Odoo certainly did not apply the call, so even a create may be retried.

    A 429 is refused before Odoo runs anything; an error Odoo itself classified means its
    transaction rolled back; a connection that never opened carried nothing. A timeout,
    a dropped connection or a proxy's 5xx may hide a committed call.
    """
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, OdooTransportError):
        return isinstance(error.__cause__, _NOT_SENT)
    return isinstance(error, OdooError) and error.odoo_name is not None
