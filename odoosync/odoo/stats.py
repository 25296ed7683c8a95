"""Counters of one Odoo backend's traffic, readable by the runs log and the metrics.

Every HTTP request (whatever the protocol) and every retry, error and re-authentication
is counted here, under a lock, so readers on other threads see consistent numbers.
Callers take a ``snapshot()`` before and after a piece of work and subtract the two
(``after - before``) to get what that piece of work cost.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

__all__ = ["ClientStats", "StatsSnapshot", "LATENCY_BUCKETS"]

# Upper bounds (seconds) of the latency histogram; the last bucket is everything slower.
LATENCY_BUCKETS: tuple[float, ...] = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, float("inf"))

K = TypeVar("K")


def _frozen(mapping: Mapping[K, int]) -> Mapping[K, int]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class StatsSnapshot:
    """The counters at one moment. ``later - earlier`` gives the work in between.

    ``latency_max`` and ``in_flight_max`` are high-water marks: a difference keeps the
    later snapshot's value, since a maximum cannot be subtracted.
    """

    requests: int = 0
    retries: int = 0
    reauthentications: int = 0
    errors: Mapping[str, int] = field(default_factory=lambda: _frozen({}))
    bytes_sent: int = 0
    bytes_received: int = 0
    latency_sum: float = 0.0
    latency_max: float = 0.0
    latency_histogram: Mapping[float, int] = field(default_factory=lambda: _frozen({}))
    in_flight_max: int = 0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def __sub__(self, earlier: StatsSnapshot) -> StatsSnapshot:
        if not isinstance(earlier, StatsSnapshot):
            return NotImplemented
        return StatsSnapshot(
            requests=self.requests - earlier.requests,
            retries=self.retries - earlier.retries,
            reauthentications=self.reauthentications - earlier.reauthentications,
            errors=_frozen(_diff(self.errors, earlier.errors)),
            bytes_sent=self.bytes_sent - earlier.bytes_sent,
            bytes_received=self.bytes_received - earlier.bytes_received,
            latency_sum=self.latency_sum - earlier.latency_sum,
            latency_max=self.latency_max,
            latency_histogram=_frozen(_diff(self.latency_histogram, earlier.latency_histogram)),
            in_flight_max=self.in_flight_max,
        )

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values (for run rows, logs and the API)."""
        return {
            "requests": self.requests,
            "retries": self.retries,
            "reauthentications": self.reauthentications,
            "errors": dict(self.errors),
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "latency_sum": self.latency_sum,
            "latency_max": self.latency_max,
            "latency_histogram": {str(k): v for k, v in self.latency_histogram.items()},
            "in_flight_max": self.in_flight_max,
        }


def _diff(later: Mapping[K, int], earlier: Mapping[K, int]) -> dict[K, int]:
    keys = set(later) | set(earlier)
    return {k: later.get(k, 0) - earlier.get(k, 0) for k in keys if later.get(k, 0) != earlier.get(k, 0)}


class ClientStats:
    """Thread-safe counters; written by the HTTP channel and the client, read by anyone."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._retries = 0
        self._reauthentications = 0
        self._errors: dict[str, int] = {}
        self._bytes_sent = 0
        self._bytes_received = 0
        self._latency_sum = 0.0
        self._latency_max = 0.0
        self._histogram = dict.fromkeys(LATENCY_BUCKETS, 0)
        self._in_flight = 0
        self._in_flight_max = 0

    def request_started(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._in_flight_max = max(self._in_flight_max, self._in_flight)

    def request_finished(self, *, sent: int, received: int, seconds: float) -> None:
        with self._lock:
            self._in_flight -= 1
            self._requests += 1
            self._bytes_sent += sent
            self._bytes_received += received
            self._latency_sum += seconds
            self._latency_max = max(self._latency_max, seconds)
            bucket = next(b for b in LATENCY_BUCKETS if seconds <= b)
            self._histogram[bucket] += 1

    def error(self, exc: BaseException) -> None:
        with self._lock:
            name = type(exc).__name__
            self._errors[name] = self._errors.get(name, 0) + 1

    def retry(self) -> None:
        with self._lock:
            self._retries += 1

    def reauthentication(self) -> None:
        with self._lock:
            self._reauthentications += 1

    def snapshot(self) -> StatsSnapshot:
        with self._lock:
            return StatsSnapshot(
                requests=self._requests,
                retries=self._retries,
                reauthentications=self._reauthentications,
                errors=_frozen(self._errors),
                bytes_sent=self._bytes_sent,
                bytes_received=self._bytes_received,
                latency_sum=self._latency_sum,
                latency_max=self._latency_max,
                latency_histogram=_frozen(self._histogram),
                in_flight_max=self._in_flight_max,
            )

    def __repr__(self) -> str:
        snap = self.snapshot()
        return f"ClientStats(requests={snap.requests}, retries={snap.retries}, errors={snap.error_count})"
