"""What the pull side needs from Odoo: the :class:`OdooReader` port.

The pull engine, its streams' targets and ``verify`` read Odoo only through these
methods, so anything that answers them (the :class:`~odoosync.odoo.client.OdooClient`,
or a run's :class:`CountedReader` view of it) can serve a run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from odoosync.odoo.stats import StatsSnapshot

__all__ = ["OdooReader", "MeteredReader", "CountedReader"]

T = TypeVar("T")
R = TypeVar("R")


class OdooReader(Protocol):
    """Reads (never writes) against one Odoo backend, with its concurrency limit."""

    @property
    def max_concurrency(self) -> int:
        """Requests the backend may have in flight at once."""
        ...

    def search(
        self,
        model: str,
        domain: Sequence[Any] = (),
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> list[int]: ...

    def search_count(
        self,
        model: str,
        domain: Sequence[Any] = (),
        *,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
    ) -> int: ...

    def search_read(
        self,
        model: str,
        domain: Sequence[Any] = (),
        fields: Sequence[str] | None = None,
        *,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]: ...

    def read(
        self,
        model: str,
        ids: Iterable[int],
        fields: Sequence[str] | None = None,
        *,
        active_test: bool = True,
        context: Mapping[str, Any] | None = None,
        normalize: bool = True,
    ) -> list[dict[str, Any]]: ...

    def field_types(self, model: str) -> dict[str, str]: ...

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]: ...

    def odoo_clock_at_last_call(self) -> dt.datetime | None: ...


class _Stats(Protocol):
    def snapshot(self) -> StatsSnapshot: ...


class MeteredReader(OdooReader, Protocol):
    """An :class:`OdooReader` that counts its traffic (the client)."""

    @property
    def stats(self) -> _Stats: ...


class CountedReader:
    """One run's view of a shared client that counts that run's requests and retries.

    Streams run side by side on one client, so the client's counters mix them: each
    call made here is counted from the client's ``stats`` snapshots around it (a call's
    retries are exact unless two runs retry at once). ``field_types`` counts a request
    only the first time (the client caches the answer)."""

    def __init__(self, client: MeteredReader):
        self._client = client
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0

    @property
    def max_concurrency(self) -> int:
        return self._client.max_concurrency

    def search(self, model: str, domain: Sequence[Any] = (), **kwargs: Any) -> list[int]:
        with self._counting():
            return self._client.search(model, domain, **kwargs)

    def search_count(self, model: str, domain: Sequence[Any] = (), **kwargs: Any) -> int:
        with self._counting():
            return self._client.search_count(model, domain, **kwargs)

    def search_read(
        self, model: str, domain: Sequence[Any] = (), fields: Sequence[str] | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        with self._counting():
            return self._client.search_read(model, domain, fields, **kwargs)

    def read(
        self, model: str, ids: Iterable[int], fields: Sequence[str] | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        with self._counting():
            return self._client.read(model, ids, fields, **kwargs)

    def field_types(self, model: str) -> dict[str, str]:
        with self._counting(cached=True):
            return self._client.field_types(model)

    def map_concurrent(self, fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
        return self._client.map_concurrent(fn, items)

    def odoo_clock_at_last_call(self) -> dt.datetime | None:
        return self._client.odoo_clock_at_last_call()

    @contextlib.contextmanager
    def _counting(self, *, cached: bool = False) -> Iterator[None]:
        """Count one call, whether it answers or raises (see the class docstring)."""
        before = self._client.stats.snapshot()
        try:
            yield
        finally:
            spent = self._client.stats.snapshot() - before
            with self._lock:
                self.requests += min(spent.requests, 1) if cached else 1 + spent.retries
                self.retries += spent.retries
