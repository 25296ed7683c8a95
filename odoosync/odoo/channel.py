"""The one pooled HTTP connection to an Odoo backend that every protocol shares.

JSON-RPC, XML-RPC and JSON-2 differ only in how they encode a call; the connection pool,
the timeouts, the concurrency limit and the traffic counters are the same, so they live
here once. The concurrency limit is a semaphore held for the duration of each HTTP
request, across all threads using the backend. Network failures are translated into
``OdooTransportError`` here; HTTP statuses are left to the protocol, which knows what
its error bodies mean.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from odoosync.odoo.config import OdooConfig
from odoosync.odoo.errors import error_from_httpx
from odoosync.odoo.stats import ClientStats

__all__ = ["HttpChannel", "HttpAnswer"]


@dataclass(frozen=True)
class HttpAnswer:
    status: int
    headers: Mapping[str, str]
    body: bytes


class HttpChannel:
    """A pooled ``httpx.Client`` for one backend, with its semaphore and counters."""

    def __init__(self, config: OdooConfig, stats: ClientStats | None = None):
        self.base_url = config.url.rstrip("/")
        self.stats = stats if stats is not None else ClientStats()
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
                self.stats.request_finished(sent=sent, received=received, seconds=time.perf_counter() - started)
        return HttpAnswer(response.status_code, response.headers, response.content)

    def close(self) -> None:
        self._http.close()

    def __repr__(self) -> str:
        return f"HttpChannel({self.base_url!r})"
