"""The simulator's HTTP face: Odoo's RPC endpoints on a threaded loopback server.

Endpoints (shapes checked against Odoo 17 ``odoo/http.py``,
``odoo/addons/base/controllers/rpc.py``, ``odoo/service/*`` and Odoo 19
``addons/rpc/controllers/json2.py``):

* ``POST /jsonrpc`` — ``{"params": {"service", "method", "args"}}``; services ``common``
  (``version``, ``login``, ``authenticate``) and ``object`` (``execute_kw``, ``execute``).
  Errors: ``{"error": {"code": 200, "message": "Odoo Server Error", "data": {"name",
  "message", "arguments", "context", "debug"}}}`` (``code`` is 0 from Odoo 19 on).
* ``POST /xmlrpc/2/common``, ``POST /xmlrpc/2/object`` — the same services over
  XML-RPC; errors are faults with Odoo's integer codes (1 application error,
  2 user error/warning, 3 access denied, 4 access error).
* ``POST /json/2/<model>/<method>`` (Odoo 19+) — ``Authorization: bearer <api key>``,
  ``X-Odoo-Database``, JSON body with ``ids``, ``context`` and named arguments; the
  answer is the bare JSON result; errors are an HTTP status (401 bad key, 403, 404
  unknown model/method/record, 422 user error or bad arguments, 500) with the
  serialized exception as JSON body.
* Every answer's ``Date`` header comes from the simulator's clock, the one that stamps
  ``write_date``.
* ``POST /web/webclient/version_info`` — the version as a JSON-RPC answer (every
  version); ``/web/version`` and ``/json/version`` — plain JSON ``{"version_info",
  "version"}`` from Odoo 19 on (404 before, as Odoo 17 has no such route).

Each call runs under the database lock (one transaction); latency and faults are
applied before it, outside the lock, so concurrent requests overlap like on a real server.
"""

from __future__ import annotations

import contextlib
import email.utils
import inspect
import json
import socket
import struct
import sys
import threading
import traceback
import xmlrpc.client
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from odoosync.simulator.errors import (
    AccessDenied,
    AccessError,
    InvalidValue,
    NotFound,
    OdooException,
    PythonError,
    Unauthorized,
    UnprocessableEntity,
    UserError,
)
from odoosync.simulator.faults import Fault, Faults, RequestInfo, RequestLog
from odoosync.simulator.records import ADMIN_UID, Database, Model

__all__ = ["OdooServer", "Credentials", "version_info"]


def version_info(version: str) -> dict[str, Any]:
    """What ``common.version`` answers for ``version`` (e.g. ``"17.0"``)."""
    try:
        major, minor = (int(part) for part in version.split(".")[:2])
    except ValueError:
        raise ValueError(f"version must look like '17.0', got {version!r}") from None
    return {
        "server_version": f"{major}.{minor}",
        "server_version_info": [major, minor, 0, "final", 0, ""],
        "server_serie": f"{major}.{minor}",
        "protocol_version": 1,
    }


class Credentials:
    """The one database and user, their password and the current API key."""

    def __init__(self, db: str, login: str, password: str, api_key: str):
        self.db = db
        self.login = login
        self.password = password
        self._lock = threading.Lock()
        self._api_key: str | None = api_key

    @property
    def api_key(self) -> str | None:
        with self._lock:
            return self._api_key

    def set_api_key(self, key: str | None) -> None:
        with self._lock:
            self._api_key = key

    def check_password(self, login: str | None, secret: Any) -> bool:
        """Password or API key (API keys work as passwords on RPC)."""
        return login == self.login and self._secret_ok(secret)

    def check_uid(self, uid: Any, secret: Any) -> bool:
        return uid == ADMIN_UID and self._secret_ok(secret)

    def check_api_key(self, key: str | None) -> bool:
        current = self.api_key
        return bool(key) and current is not None and key == current

    def _secret_ok(self, secret: Any) -> bool:
        if not isinstance(secret, str) or not secret:
            return False
        return secret == self.password or self.check_api_key(secret)


@dataclass
class _Reply:
    status: int
    body: bytes
    content_type: str
    headers: tuple[tuple[str, str], ...] = ()
    error: str | None = None


# What Odoo 19 answers a JSON-2 call naming a database it does not have (seen on 19.0).
_NO_DATABASE = _Reply(
    404,
    (
        b"<!DOCTYPE html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>No database is selected and the "
        b"requested URL was not found in the server-wide controllers.</p>\n<p>Please verify the hostname, "
        b"<a href=/web/login>login</a> and try again.</p>\n\n<!-- Alternatively, use the X-Odoo-Database header. -->\n"
    ),
    "text/html; charset=utf-8",
    error="no database",
)


_INSTALLED_LANGS = ("en_US",)  # the simulator's database has English only
_REMOVED_IN = {"name_get": 18}  # public methods later Odoo versions no longer have
# Methods that return a record: up to Odoo 18 ``@api.returns`` made that an id over RPC;
# Odoo 19 dropped the decorator and its ``call_kw`` answers a recordset's ``ids``.
_RECORD_AS_IDS_FROM = {"message_post": 19}


class _RemoteCall:
    """Runs one ORM call: ``model.method(*args, **kwargs)`` with Odoo's RPC rules."""

    def __init__(self, database: Database, major: int):
        self.database = database
        self.major = major

    def run(
        self, model: str, method: str, args: list[Any], kwargs: Mapping[str, Any], *, ids: list[int] | None = None
    ) -> Any:
        if not isinstance(method, str) or method.startswith("_"):
            raise AccessError(f"Private methods (such as {method}) cannot be called remotely.")
        kwargs = dict(kwargs or {})
        context = kwargs.pop("context", None) or {}
        if not isinstance(context, Mapping):
            raise InvalidValue(f"context must be a dict, got {context!r}")
        if self.major >= 19 and context.get("lang") not in (None, False, *_INSTALLED_LANGS):
            raise UserError(f"Invalid language code: {context['lang']}")  # 17 ignores it; seen on 19.0
        with self.database.transaction(context=context) as env:
            records = env[model]
            function = self._public_method(records, method)
            if ids is not None:  # JSON-2: ids are given apart, everything else is named
                if method in records.MODEL_METHODS:
                    if ids:
                        raise UnprocessableEntity(f"cannot call {model}.{method} with ids")
                    call_args: list[Any] = []
                else:
                    call_args = [list(ids)]
            else:
                call_args = list(args)
            try:
                inspect.signature(function).bind(*call_args, **kwargs)
            except TypeError as exc:
                if ids is not None:
                    raise UnprocessableEntity(str(exc)) from None
                raise PythonError(f"{method}() {exc}", "builtins.TypeError") from None
            result = function(*call_args, **kwargs)
            if self.major >= _RECORD_AS_IDS_FROM.get(method, 10**6) and isinstance(result, int):
                return [result]
            return result

    def _public_method(self, records: Model, method: str) -> Callable[..., Any]:
        if not self.exists(records, method):
            raise PythonError(f"type object '{records.name}' has no attribute '{method}'", "builtins.AttributeError")
        return getattr(records, method)

    def exists(self, records: Model | type[Model], method: str) -> bool:
        """Whether this Odoo version has the public ``method`` on the model."""
        if self.major >= _REMOVED_IN.get(method, 10**6):
            return False
        return method in records.RECORD_METHODS or method in records.MODEL_METHODS


class OdooServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` that answers like Odoo; see the module docstring."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        database: Database,
        credentials: Credentials,
        *,
        version: str = "17.0",
        latency_ms: float = 0,
        faults: Faults | None = None,
        request_log: RequestLog | None = None,
    ):
        self.database = database
        self.credentials = credentials
        self.version = version_info(version)
        self.major = self.version["server_version_info"][0]
        self.latency_ms = latency_ms
        self.faults = faults or Faults()
        self.request_log = request_log or RequestLog()
        self.stopping = threading.Event()
        self.calls = _RemoteCall(database, self.major)
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (reset, broken pipe, timeout) is routine, not worth a traceback."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)

    def track(self, connection: socket.socket, open_: bool) -> None:
        """Remember open client connections so ``close_connections`` can cut them."""
        with self._connections_lock:
            (self._connections.add if open_ else self._connections.discard)(connection)

    def close_connections(self) -> None:
        """Cut every open (keep-alive) connection: a stopped Odoo answers nothing more."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    # -- protocol bodies ---------------------------------------------------------------------

    def jsonrpc_error_code(self) -> int:
        return 0 if self.major >= 19 else 200

    def dispatch_service(self, service: str | None, method: str | None, args: list[Any]) -> Any:
        """``dispatch_rpc``: the ``common`` and ``object`` services."""
        if not isinstance(args, (list, tuple)):
            raise InvalidValue(f"args must be a list, got {args!r}")
        if service == "common":
            if method == "version":
                return self.version
            if method in ("login", "authenticate"):
                db, login, password = ([*list(args), None, None, None])[:3]
                if db != self.credentials.db:
                    raise PythonError(f'database "{db}" does not exist', "psycopg2.OperationalError")
                return ADMIN_UID if self.credentials.check_password(login, password) else False
            if method == "about":
                return "See http://openerp.com"
            raise PythonError(
                f"module 'odoo.service.common' has no attribute 'exp_{method}'", "builtins.AttributeError"
            )
        if service == "object":
            if method not in ("execute", "execute_kw"):
                raise PythonError(f"Method not available {method}", "builtins.NameError")
            if len(args) < 5:
                raise PythonError(f"{method}() missing required positional arguments", "builtins.TypeError")
            db, uid, password, model, orm_method = args[:5]
            if db != self.credentials.db:
                raise PythonError(f'database "{db}" does not exist', "psycopg2.OperationalError")
            if not self.credentials.check_uid(uid, password):
                raise AccessDenied()
            if method == "execute_kw":
                call_args = args[5] if len(args) > 5 else []
                call_kwargs = (args[6] if len(args) > 6 else None) or {}  # Odoo: ``kw or {}``
                if not isinstance(call_args, (list, tuple)) or not isinstance(call_kwargs, Mapping):
                    raise PythonError("execute_kw() expects a list of args and a dict of kwargs", "builtins.TypeError")
                return self.calls.run(model, orm_method, list(call_args), call_kwargs)
            return self.calls.run(model, orm_method, list(args[5:]), {})
        if service == "db" and method == "list":
            return [self.credentials.db]
        raise PythonError(f"No service named {service!r}", "builtins.KeyError")


def _serialize(exc: OdooException, *, message: str | None = None, arguments: list[Any] | None = None) -> dict[str, Any]:
    name = exc.odoo_name
    text = exc.message if message is None else message
    debug = "" if isinstance(exc, AccessDenied) else "Traceback (most recent call last):\n  (simulated Odoo)\n"
    return {
        "name": name,
        "message": text,
        "arguments": list(exc.args) if arguments is None else arguments,
        "context": {},
        "debug": f"{debug}{name}: {text}\n",
    }


def _internal(exc: BaseException) -> OdooException:
    """An unexpected simulator failure, reported as Odoo reports an unclassified error."""
    return PythonError(
        f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=3)}", f"builtins.{type(exc).__name__}"
    )


class _Handler(BaseHTTPRequestHandler):
    server: OdooServer
    protocol_version = "HTTP/1.1"
    server_version = "Werkzeug/3.0.1"
    sys_version = "Python/3"
    # Headers and body go out in two writes; without TCP_NODELAY every answer waits
    # ~40 ms for the client's delayed ACK, which would distort latency and benchmarks.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return None  # the request log replaces stderr noise

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the clock that stamps ``write_date`` (frozen or moved
        by tests), as on a real Odoo whose answers and stamps share the server's clock."""
        if timestamp is not None:
            return super().date_time_string(timestamp)
        now = self.server.database.clock.now().replace(tzinfo=UTC)
        return email.utils.format_datetime(now, usegmt=True)

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    # -- entry points ------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._read_body()
        path = self.path.split("?")[0]
        if path in ("/web/version", "/json/version") and self.server.major >= 19:
            self._respond(RequestInfo("http", "common", "version", path=path), self._plain_version)
        else:
            self._respond(RequestInfo("http", None, None, path=path), self._not_found)

    def do_POST(self) -> None:
        body = self._read_body()
        path = self.path.split("?")[0]
        if path == "/web/webclient/version_info":
            request_id = self._json_id(body)
            info = RequestInfo("http", "common", "version", path=path)
            self._respond(info, lambda: self._jsonrpc_reply(request_id, result=self.server.version))
        elif path in ("/web/version", "/json/version") and self.server.major >= 19:
            self._respond(RequestInfo("http", "common", "version", path=path), self._plain_version)
        elif path == "/jsonrpc":
            self._jsonrpc(body)
        elif path.startswith("/xmlrpc/2/"):
            self._xmlrpc(path.removeprefix("/xmlrpc/2/"), body)
        elif path.startswith("/json/2/") and self.server.major >= 19:
            self._json2(path, body)
        else:
            self._respond(RequestInfo("http", None, None, path=path), self._not_found)

    # -- protocols ---------------------------------------------------------------------------

    def _jsonrpc(self, body: bytes) -> None:
        try:
            payload = json.loads(body or b"null")
            if not isinstance(payload, dict):
                raise ValueError("not an object")
        except ValueError:
            reply = _Reply(400, b"Invalid JSON data", "text/html; charset=utf-8")
            self._respond(RequestInfo("jsonrpc", None, None, path=self.path), lambda: reply)
            return
        request_id = payload.get("id")
        params = payload.get("params") or {}
        service = params.get("service") if isinstance(params, dict) else None
        method = params.get("method") if isinstance(params, dict) else None
        args = params.get("args", []) if isinstance(params, dict) else []
        info = _describe_call("jsonrpc", service, method, args, self.path)

        def answer() -> _Reply:
            try:
                result = self.server.dispatch_service(service, method, args)
            except OdooException as exc:
                return self._jsonrpc_reply(request_id, error=exc)
            except Exception as exc:  # noqa: BLE001 - Odoo reports every failure the same way
                return self._jsonrpc_reply(request_id, error=_internal(exc))
            return self._jsonrpc_reply(request_id, result=result)

        self._respond(info, answer)

    def _jsonrpc_reply(self, request_id: Any, *, result: Any = None, error: OdooException | None = None) -> _Reply:
        response: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id}
        if error is not None:
            response["error"] = {
                "code": self.server.jsonrpc_error_code(),
                "message": "Odoo Server Error",
                "data": _serialize(error),
            }
        elif result is not None:  # Odoo leaves "result" out for a method that returns nothing
            response["result"] = result
        return _Reply(
            200, json.dumps(response).encode(), "application/json", error=error.odoo_name if error is not None else None
        )

    def _xmlrpc(self, service: str, body: bytes) -> None:
        try:
            args, method = xmlrpc.client.loads(body.decode("utf-8"))
        except Exception:  # noqa: BLE001 - any unreadable body
            args, method = (), None
        info = _describe_call("xmlrpc", service, method, list(args), self.path)

        def answer() -> _Reply:
            if method is None:
                return self._fault(_internal(ValueError("could not parse the XML-RPC request")))
            try:
                result = self.server.dispatch_service(service, method, list(args))
                data = xmlrpc.client.dumps((result,), methodresponse=True, allow_none=False)
            except OdooException as exc:
                return self._fault(exc)
            except Exception as exc:  # noqa: BLE001
                return self._fault(_internal(exc))
            return _Reply(200, data.encode("utf-8"), "text/xml; charset=utf-8")

        self._respond(info, answer)

    @staticmethod
    def _fault(exc: OdooException) -> _Reply:
        if exc.fault_code == 1:  # Odoo sends the formatted traceback as the fault string
            text = f"Traceback (most recent call last):\n  (simulated Odoo)\n{exc.odoo_name}: {exc.message}\n"
        else:
            text = exc.message
        data = xmlrpc.client.dumps(xmlrpc.client.Fault(exc.fault_code, text), allow_none=False)
        return _Reply(200, data.encode("utf-8"), "text/xml; charset=utf-8", error=exc.odoo_name)

    def _json2(self, path: str, body: bytes) -> None:
        parts = path.removeprefix("/json/2/").split("/")
        model, method = ([*parts, None, None])[:2] if len(parts) == 2 else (None, None)
        info = RequestInfo("json2", "object", method, model, path)

        def answer() -> _Reply:
            try:
                return self._json2_call(model, method, body)
            except OdooException as exc:
                return self._json2_error(exc)
            except Exception as exc:  # noqa: BLE001
                return self._json2_error(_internal(exc))

        self._respond(info, answer)

    def _json2_call(self, model: str | None, method: str | None, body: bytes) -> _Reply:
        database = self.headers.get("X-Odoo-Database")
        if database is not None and database != self.server.credentials.db:
            return _NO_DATABASE  # Odoo 19 picks the database before any route or key check
        if not model or not method:
            raise NotFound("Did you mean POST /json/2/<model>/<method>?")
        header = self.headers.get("Authorization") or ""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("User not authenticated, use an API Key with a Bearer Authorization header.")
        if not self.server.credentials.check_api_key(token.strip()):
            raise Unauthorized("Invalid apikey")
        try:
            payload = json.loads(body) if body else {}
        except ValueError as exc:
            raise _BadRequest(f"could not parse the body as json: {exc.args[0]}") from None
        if not isinstance(payload, dict):
            raise UnprocessableEntity("the body must be a JSON object of named arguments")
        ids = payload.pop("ids", [])
        if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
            raise UnprocessableEntity(f"ids must be a list of integers, got {ids!r}")
        if model not in self.server.database.tables:
            raise NotFound(f"the model {model!r} does not exist")
        if method.startswith("_"):
            raise AccessError(f"Private methods (such as '{model}.{method}') cannot be called remotely.")
        from odoosync.simulator.business import model_class

        if not self.server.calls.exists(model_class(model), method):
            raise NotFound(f"The method '{model}.{method}' does not exist")
        result = self.server.calls.run(model, method, [], payload, ids=ids)
        if method == "create" and isinstance(result, int) and not isinstance(result, bool):
            result = [result]  # JSON-2 returns recordsets as id lists
        return _Reply(200, json.dumps(result).encode(), "application/json; charset=utf-8")

    def _json2_error(self, exc: OdooException) -> _Reply:
        headers: tuple[tuple[str, str], ...] = ()
        if isinstance(exc, (NotFound, UnprocessableEntity, Unauthorized, _BadRequest)):
            body = _serialize(exc, message=exc.message, arguments=[exc.message, exc.http_status])
            if isinstance(exc, Unauthorized):
                headers = (("WWW-Authenticate", "Bearer"),)
        else:
            body = _serialize(exc)
        status = exc.http_status
        return _Reply(
            status, json.dumps(body).encode(), "application/json; charset=utf-8", headers, error=exc.odoo_name
        )

    # -- plumbing ----------------------------------------------------------------------------

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    @staticmethod
    def _json_id(body: bytes) -> Any:
        try:
            payload = json.loads(body) if body else {}
        except ValueError:
            return None
        return payload.get("id") if isinstance(payload, dict) else None

    def _plain_version(self) -> _Reply:
        """Odoo 19's ``/web/version``: plain JSON ``{"version_info", "version"}``."""
        version = self.server.version
        body = {"version_info": version["server_version_info"], "version": version["server_version"]}
        return _Reply(200, json.dumps(body).encode(), "application/json; charset=utf-8")

    @staticmethod
    def _not_found() -> _Reply:
        return _Reply(404, b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>", "text/html; charset=utf-8")

    def _respond(self, info: RequestInfo, answer: Callable[[], _Reply]) -> None:
        server = self.server
        if server.latency_ms:
            server.stopping.wait(server.latency_ms / 1000)
        fault = server.faults.decide(info)
        if fault is not None and self._inject(info, fault):
            return
        reply = answer()
        server.request_log.add(info, reply.status, error=reply.error)  # before the client can see it
        self._send(reply)

    def _inject(self, info: RequestInfo, fault: Fault) -> bool:
        """Misbehave as ``fault`` says; True when the request is fully handled."""
        server = self.server
        if fault.kind == "timeout":
            server.stopping.wait(server.faults.timeout_s)
            server.request_log.add(info, None, fault="timeout")
            self._drop()
            return True
        if fault.kind == "reset":
            server.request_log.add(info, None, fault="reset")
            self._drop()
            return True
        status = fault.status or 500
        headers: tuple[tuple[str, str], ...] = ()
        if fault.retry_after is not None:
            headers = (("Retry-After", f"{fault.retry_after:g}"),)
        text = {429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}
        body = f"<html><head><title>{status} {text.get(status, 'Error')}</title></head><body><h1>{text.get(status, 'Error')}</h1></body></html>"
        server.request_log.add(info, status, fault=fault.kind)
        self._send(_Reply(status, body.encode(), "text/html; charset=utf-8", headers))
        return True

    def _drop(self) -> None:
        """Close the socket without an answer (RST), as a crashed worker or proxy does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    def _send(self, reply: _Reply) -> None:
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(reply.body)


class _BadRequest(OdooException):
    odoo_name = "werkzeug.exceptions.BadRequest"
    http_status = 400


def _describe_call(protocol: str, service: Any, method: Any, args: Any, path: str) -> RequestInfo:
    """Name the ORM call inside an RPC envelope (for faults and the log)."""
    service = service if isinstance(service, str) else None
    method = method if isinstance(method, str) else None
    if (
        service == "object"
        and method in ("execute_kw", "execute")
        and isinstance(args, (list, tuple))
        and len(args) >= 5
    ):
        model, orm_method = args[3], args[4]
        if isinstance(model, str) and isinstance(orm_method, str):
            return RequestInfo(protocol, service, orm_method, model, path)
    return RequestInfo(protocol, service, method, None, path)
