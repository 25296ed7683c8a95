"""The one pooled HTTP connection to an Odoo backend that every protocol shares.

JSON-RPC, XML-RPC and JSON-2 differ only in how they encode a call; the connection pool,
the timeouts, the concurrency limit and the traffic counters are the same, so they live
here once. The concurrency limit is a semaphore held for the duration of each HTTP
request, across all threads using the backend. Network failures are translated into
``OdooTransportError`` here; HTTP statuses are left to the protocol, which knows what
its error bodies mean.

Each thread's last answer is remembered with its ``Date`` header and how long the request
took (:meth:`HttpChannel.last_answer`): that places the call on Odoo's clock, which the
pull engine needs (its cursor is made of Odoo's ``write_date`` stamps, and our clock may
be off).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from odoosync.odoo.config import OdooConfig
from odoosync.odoo.errors import error_from_httpx
from odoosync.odoo.stats import ClientStats

__all__ = ["HttpChannel", "HttpAnswer", "AnswerTime"]

_DATE_PRECISION = dt.timedelta(seconds=1)


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class AnswerTime:
    """When the server answered, by its own clock (the ``Date`` header, whole seconds),
    and how long the request took by ours."""

    date: dt.datetime
    seconds: float

    def request_began_no_later_than(self) -> dt.datetime:
        """A moment on the server's clock no later than when it received the request:
        ``Date`` minus the request's duration, minus a second for the header's precision."""
        return self.date - dt.timedelta(seconds=self.seconds) - _DATE_PRECISION

    @classmethod
    def of(cls, date_header: str | None, seconds: float) -> AnswerTime | None:
        """None when the header is missing or unreadable."""
        if not date_header:
            return None
        try:
            date = email.utils.parsedate_to_datetime(date_header)
        except (TypeError, ValueError, IndexError):
            return None
        if date.tzinfo is None:  # RFC 9110 dates are GMT; "-0000" parses naive
            date = date.replace(tzinfo=dt.UTC)
        return cls(date.astimezone(dt.UTC), seconds)


class HttpChannel:
    """A pooled ``httpx.Client`` for one backend, with its semaphore and counters."""

    def __init__(self, config: OdooConfig, stats: ClientStats | None = None):
        self.base_url = config.url.rstrip("/")
        self.stats = stats if stats is not None else ClientStats()
        self._answers = threading.local()
        self._limit = threading.BoundedSemaphore(config.max_concurrency)
        self._http = httpx.Client(
            timeout=httpx.Timeout(config.timeout, connect=config.connect_timeout),
            limits=httpx.Limits(
                max_connections=config.max_concurrency, max_keepalive_connections=config.max_concurrency
            ),
            follow_redirects=False,
        )

    def request(
        self,
        http_method: str,
        path: str,
        *,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        model: str | None = None,
        method: str | None = None,
    ) -> HttpAnswer:
        """Send one request; count it; network failures become ``OdooTransportError``."""
        url = self.base_url + path
        sent = len(content or b"")
        self._answers.last = None
        with self._limit:
            self.stats.request_started()
            started = time.perf_counter()
            received = 0
            try:
                response = self._http.request(http_method, url, content=content, headers=headers)
                received = len(response.content)
            except httpx.HTTPError as exc:
                raise error_from_httpx(exc, url=url, model=model, method=method) from exc
            finally:
                seconds = time.perf_counter() - started
                self.stats.request_finished(sent=sent, received=received, seconds=seconds)
        self._answers.last = AnswerTime.of(response.headers.get("date"), seconds)
        return HttpAnswer(response.status_code, response.headers, response.content)

    def last_answer(self) -> AnswerTime | None:
        """When the server answered this thread's last request (None: no request yet, it
        failed, or the answer had no readable ``Date`` header)."""
        return getattr(self._answers, "last", None)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"HttpChannel({self.base_url!r})"
