"""``OdooClient``: the one way the rest of odoosync talks to an Odoo backend.

The client owns the policy; the transport below it only speaks a wire protocol:

* lifecycle: ``open()``/``close()`` or ``with OdooClient(config) as client:``; using an
  unopened client is a clear error. Nothing touches the network until the first call,
  which picks the protocol (``auto``) and logs in.
* typed methods (``search``, ``search_read``, ``read``, ``search_count``, ``create``,
  ``write``, ``unlink``, ``fields_get``) and ``call`` for any other public method;
* a context on every call: ``lang``, ``tz``, ``allowed_company_ids`` from the config
  (without it Odoo reads only the user's main company) and ``active_test`` when asked;
* retries of transient errors (``odoosync.odoo.retry.decide``), and one
  re-authentication with a freshly read secret after an authentication failure, so a
  rotated API key is picked up without a restart;
* normalised values on reads (``normalize=False`` gives Odoo's raw values), using field
  types fetched once per model;
* ``map_concurrent`` for reads in a bounded thread pool; the HTTP channel below caps the
  requests in flight at ``config.max_concurrency`` whatever the number of threads;
* ``stats``: requests, retries, errors, bytes and latency, with ``snapshot()`` diffs;
* ``odoo_clock_at_last_call()``: where this thread's last call sits on Odoo's clock.

Secrets never appear in messages, logs or ``repr``.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from odoosync.exceptions import AuthenticationError, ConfigError, OdooError
from odoosync.odoo.channel import AnswerTime
from odoosync.odoo.config import OdooConfig
from odoosync.odoo.retry import decide
from odoosync.odoo.stats import ClientStats
from odoosync.odoo.transport import Transport, make_transport
from odoosync.odoo.values import normalize_records, to_odoo, to_wire
from odoosync.redact import mask_secret

__all__ = ["OdooClient", "Domain"]

log = logging.getLogger("odoosync.odoo")

Domain = Sequence[Any]
T = TypeVar("T")
R = TypeVar("R")

# Methods that change nothing, or set the same end state when repeated: safe to retry
# even when a timeout hides whether the first attempt ran.
_IDEMPOTENT = frozenset(
    {"search", "search_read", "search_count", "read", "fields_get", "write", "unlink", "context_get"}
)


@dataclass(frozen=True)
class _Session:
    """Who the calls run as: the transport, the logged-in uid and the secret used."""

    transport: Transport
    uid: int
    secret: str = field(repr=False)


class OdooClient:
    """A connection to one Odoo backend (see the module docstring)."""

    def __init__(self, config: OdooConfig, transport: Transport | None = None):
        self.config = config
        self._transport: Transport | None = transport
        self.stats: ClientStats = transport.stats if transport is not None else ClientStats()
        self._session: _Session | None = None
        self._session_lock = threading.Lock()
        self._field_types: dict[str, dict[str, str]] = {}
        self._field_types_lock = threading.Lock()
        self._answers = threading.local()
        self._open = False

    # -- lifecycle ---------------------------------------------------------------------

    def open(self) -> OdooClient:
        """Make the client usable. Cheap: the first call connects and logs in."""
        self._open = True
        return self

    def close(self) -> None:
        """Close the HTTP connections; the client can be opened again."""
        self._open = False
        with self._session_lock:
            self._session = None
            if self._transport is not None:
                self._transport.close()
                self._transport = None

    def __enter__(self) -> OdooClient:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"OdooClient(name={self.config.name!r}, url={self.config.url!r}, db={self.config.db!r}, protocol={self.protocol!r}, {state})"

    @property
    def protocol(self) -> str:
        """The wire protocol in use (``auto`` until the first call has chosen one)."""
        return self._transport.protocol if self._transport is not None else self.config.protocol

    @property
    def uid(self) -> int:
        """The logged-in user's id (logs in if needed)."""
        return self._run("res.users", "login", lambda session: session.uid, idempotent=True)

    def version(self) -> dict[str, Any]:
        """The server's version as Odoo reports it (``server_version``, ``server_version_info``)."""
        return self._run(None, "version", lambda session: session.transport.version(), idempotent=True, login=False)

    @property
    def max_concurrency(self) -> int:
        """Requests this client lets be in flight at once (``config.max_concurrency``)."""
        return self.config.max_concurrency

    def odoo_clock_at_last_call(self) -> dt.datetime | None:
        """A lower bound of Odoo's clock when the last call made by this thread began (and
        so of when it was answered, and of the database snapshot it read): the answer's
        ``Date`` header minus the request's duration and a second for the header's
        precision. In Odoo's clock, not ours, so it compares with ``write_date`` stamps.
        None when the call failed or the answer carried no ``Date`` header."""
        answer: AnswerTime | None = getattr(self._answers, "last", None)
        return None if answer is None else answer.request_began_no_later_than()

    # -- typed methods -----------------------------------------------------------------

    def search(
        self,
        model: str,
        domain: Domain = (),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]:
        kwargs = _without_none({"offset": offset or None, "limit": limit, "order": order})
        return list(
            self._execute(model, "search", [list(domain)], kwargs, context=_with_active_test(context, active_test))
        )

    def search_read(
        self,
        model: str,
        domain: Domain = (),
        fields: Sequence[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]:
        kwargs = _without_none(
            {
                "fields": list(fields) if fields is not None else None,
                "offset": offset or None,
                "limit": limit,
                "order": order,
            }
        )
        records = self._execute(
            model, "search_read", [list(domain)], kwargs, context=_with_active_test(context, active_test)
        )
        return self._normalized(model, records) if normalize else records

    def read(
        self,
        model: str,
        ids: Iterable[int],
        fields: Sequence[str] | None = None,
        *,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]:
        kwargs = _without_none({"fields": list(fields) if fields is not None else None})
        records = self._execute(model, "read", [list(ids)], kwargs, context=_with_active_test(context, active_test))
        return self._normalized(model, records) if normalize else records

    def search_count(
        self,
        model: str,
        domain: Domain = (),
        *,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> int:
        return int(
            self._execute(model, "search_count", [list(domain)], {}, context=_with_active_test(context, active_test))
        )

    def create(
        self,
        model: str,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        context: Mapping[str, Any] | None = None,
    ) -> int | list[int]:
        """Create one record (a dict → its id) or several (a list of dicts → their ids)."""
        single = isinstance(values, Mapping)
        if isinstance(values, Mapping):
            vals_list = [to_odoo(values)]
        else:
            vals_list = [to_odoo(v) for v in values]
        result = self._execute(model, "create", [vals_list], {}, context=context)
        ids = [result] if isinstance(result, int) else list(result)
        return ids[0] if single else ids

    def write(
        self, model: str, ids: Iterable[int], values: Mapping[str, Any], *, context: Mapping[str, Any] | None = None
    ) -> bool:
        return bool(self._execute(model, "write", [list(ids), to_odoo(values)], {}, context=context))

    def unlink(self, model: str, ids: Iterable[int], *, context: Mapping[str, Any] | None = None) -> bool:
        return bool(self._execute(model, "unlink", [list(ids)], {}, context=context))

    def fields_get(
        self,
        model: str,
        attributes: Sequence[str] | None = None,
        *,
        context: Mapping[str, Any] | None = None,
    ) -> dict[str, dict[str, Any]]:
        kwargs = _without_none({"attributes": list(attributes) if attributes is not None else None})
        return dict(self._execute(model, "fields_get", [], kwargs, context=context))

    def call(
        self,
        model: str,
        method: str,
        *args: Any,
        context: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Any public method, e.g. ``call("crm.lead", "message_post", [7], body="Hi")``.

        Record methods take the ids as the first positional argument (Odoo's RPC
        convention). Not retried after an ambiguous failure unless ``idempotent``.
        """
        return self._execute(model, method, list(args), kwargs, context=context, idempotent=idempotent)

    def field_types(self, model: str) -> dict[str, str]:
        """``{field: type}`` for ``model``, fetched once and cached for the client's life."""
        with self._field_types_lock:
            cached = self._field_types.get(model)
        if cached is not None:
            return cached
        fields = self.fields_get(model, ["type", "relation"])
        types = {name: str(spec.get("type") or "") for name, spec in fields.items()}
        with self._field_types_lock:
            self._field_types[model] = types
        return types

    # -- concurrency -------------------------------------------------------------------

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        """``[fn(item) for item in items]`` on ``config.max_concurrency`` threads, in input order.

        The first exception is raised once the calls already started have finished.
        """
        self._require_open()
        items = list(items)
        if not items:
            return []
        workers = min(self.config.max_concurrency, len(items))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="odoosync-odoo") as pool:
            return list(pool.map(fn, items))

    # -- the one path every call takes -------------------------------------------------

    def _execute(
        self,
        model: str,
        method: str,
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        idempotent: bool | None = None,
    ) -> Any:
        """``model.method(*args, **kwargs)`` with the client's context, retries and re-login."""
        full_kwargs = {**to_wire(dict(kwargs)), "context": self._context(context)}
        wire_args = to_wire(list(args))
        safe = method in _IDEMPOTENT if idempotent is None else idempotent
        return self._run(
            model,
            method,
            lambda session: session.transport.execute_kw(
                self.config.db, session.uid, session.secret, model, method, wire_args, full_kwargs
            ),
            idempotent=safe,
        )

    def _run(
        self,
        model: str | None,
        method: str,
        send: Callable[[_Session], T],
        *,
        idempotent: bool,
        login: bool = True,
    ) -> T:
        self._require_open()
        self._answers.last = None
        attempt = 0
        reauthenticated = False
        while True:
            attempt += 1
            session = None
            started = time.perf_counter()
            try:
                session = self._current_session(login=login)
                result = send(session)
            except AuthenticationError as exc:
                self.stats.error(exc)
                self._log(model, method, started, attempt, type(exc).__name__)
                if reauthenticated:
                    raise self._redacted(exc, session) from exc.__cause__
                # The secret may have been rotated: read it again and log in afresh, once.
                reauthenticated = True
                self.stats.reauthentication()
                self._forget_session(session)
                continue
            except OdooError as exc:
                self.stats.error(exc)
                self._log(model, method, started, attempt, type(exc).__name__)
                # Failing to log in sent nothing of the call itself: always safe to repeat.
                delay = decide(exc, attempt, self.config, idempotent=idempotent or session is None)
                if delay is None:
                    raise self._redacted(exc, session) from exc.__cause__
                self.stats.retry()
                time.sleep(delay)
                continue
            self._log(model, method, started, attempt, "ok")
            channel = getattr(session.transport, "channel", None)
            self._answers.last = channel.last_answer() if channel is not None else None
            return result

    def _current_session(self, *, login: bool) -> _Session:
        with self._session_lock:
            if self._session is not None:
                return self._session
            secret = (self.config.secret or "") if login else ""
            if login and not secret:
                raise ConfigError(f"no Odoo secret for backend {self.config.name!r}: set ODOO_PASSWORD or ODOO_API_KEY")
            if self._transport is None:
                self._transport = make_transport(self.config, stats=self.stats)
            if not login:
                return _Session(self._transport, 0, secret)
            uid = self._transport.login(self.config.db, self.config.username, secret)
            self._session = _Session(self._transport, uid, secret)
            return self._session

    def _forget_session(self, failed: _Session | None) -> None:
        with self._session_lock:
            if failed is None or self._session is failed:
                self._session = None

    def _redacted(self, exc: OdooError, session: _Session | None) -> OdooError:
        """The same error, with any secret in its message blanked (defence in depth)."""
        secrets = {s for s in (session.secret if session else None, self.config.api_key, self.config.password) if s}
        message = str(exc)
        masked = message
        for secret in secrets:
            masked = mask_secret(masked, secret)
        if masked != message:
            exc.args = (masked,)
        return exc

    def _require_open(self) -> None:
        if not self._open:
            raise RuntimeError(
                "OdooClient is not open: use `with OdooClient(config) as client:` or call client.open() first"
            )

    def _context(self, extra: Mapping[str, Any] | None) -> dict[str, Any]:
        context: dict[str, Any] = {}
        if self.config.lang:
            context["lang"] = self.config.lang
        if self.config.tz:
            context["tz"] = self.config.tz
        if self.config.company_ids:
            context["allowed_company_ids"] = list(self.config.company_ids)
        context.update(extra or {})
        return context

    def _normalized(self, model: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not records:
            return records
        answered = getattr(self._answers, "last", None)
        types = self.field_types(model)
        self._answers.last = answered  # the read's answer, not that of a ``fields_get`` it needed
        return normalize_records(records, types)

    def _log(self, model: str | None, method: str, started: float, attempt: int, status: str) -> None:
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "odoo %s %s.%s attempt %d: %s in %.1f ms",
                self.config.name,
                model or "-",
                method,
                attempt,
                status,
                (time.perf_counter() - started) * 1000,
            )


def _without_none(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


def _with_active_test(context: Mapping[str, Any] | None, active_test: bool) -> Mapping[str, Any] | None:
    if active_test:
        return context
    return {**(context or {}), "active_test": False}
