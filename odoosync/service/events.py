"""In-process publish/subscribe of run events, for ``GET /api/events`` (Server-Sent Events).

A run publishes ``run.started``, ``run.progress`` and ``run.finished`` events; each SSE
client holds a :class:`Subscription`, a bounded queue. A slow client loses its oldest
events rather than slowing the sync (publishing never blocks), and a client that goes
away simply stops reading. Only this process's runs are seen; other processes' runs are
in the runs log. Closing the bus (the service shutting down) ends every subscription, so
open event streams finish on their own instead of being cancelled by the web server.
"""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Event", "EventBus", "Subscription"]


@dataclass(frozen=True)
class Event:
    """One event: ``kind`` (``run.started`` / ``run.progress`` / ``run.finished`` / ...) and JSON data."""

    kind: str
    data: dict[str, Any]
    id: int = 0
    at: float = field(default_factory=time.time)

    def as_sse(self) -> str:
        """The event as one Server-Sent Events message."""
        payload = json.dumps({**self.data, "at": self.at}, default=str, sort_keys=True)
        return f"id: {self.id}\nevent: {self.kind}\ndata: {payload}\n\n"


class Subscription:
    """A bounded queue of events for one listener; close it when done."""

    def __init__(self, bus: EventBus, maxsize: int) -> None:
        self._bus = bus
        self._queue: queue.Queue[Event] = queue.Queue(maxsize=maxsize)
        self._ended = threading.Event()
        self.dropped = 0

    @property
    def ended(self) -> bool:
        """True once the bus closed: no more events will come."""
        return self._ended.is_set()

    def end(self) -> None:
        """No more events: a waiting :meth:`get` returns None at once."""
        self._ended.set()
        self.offer(_END)

    def offer(self, event: Event) -> None:
        """Enqueue without blocking; when full, drop the oldest event."""
        while True:
            try:
                self._queue.put_nowait(event)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()
                    self.dropped += 1
                except queue.Empty:
                    pass

    def get(self, timeout: float) -> Event | None:
        """The next event, or None after ``timeout`` seconds without one or once ended."""
        if self.ended:
            return None
        try:
            event = self._queue.get(timeout=timeout)
        except queue.Empty:
            return None
        return None if event is _END else event

    def close(self) -> None:
        self._bus.unsubscribe(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_END = Event(kind="end", data={})  # wakes a waiting get() when the bus closes


class EventBus:
    """Fan-out of events to every current subscription. Thread-safe."""

    def __init__(self, queue_size: int = 1000) -> None:
        self._lock = threading.Lock()
        self._subscriptions: set[Subscription] = set()
        self._ids = itertools.count(1)
        self._queue_size = queue_size
        self._closed = False

    def subscribe(self) -> Subscription:
        subscription = Subscription(self, self._queue_size)
        with self._lock:
            self._subscriptions.add(subscription)
            closed = self._closed
        if closed:
            subscription.end()
        return subscription

    def close(self) -> None:
        """End every subscription, now and to come (the service is stopping)."""
        with self._lock:
            self._closed = True
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.end()

    def unsubscribe(self, subscription: Subscription) -> None:
        with self._lock:
            self._subscriptions.discard(subscription)

    def publish(self, kind: str, **data: Any) -> Event:
        """Send an event to every subscriber; never blocks."""
        with self._lock:
            event = Event(kind=kind, data=data, id=next(self._ids))
            targets = list(self._subscriptions)
        for subscription in targets:
            subscription.offer(event)
        return event

    @property
    def subscriber_count(self) -> int:
        with self._lock:
            return len(self._subscriptions)
