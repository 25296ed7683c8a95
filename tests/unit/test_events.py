"""The event bus behind ``GET /api/events``: fan-out, bounded queues, closing."""

from __future__ import annotations

import threading

from odoosync.service.events import EventBus


def test_every_subscriber_gets_each_event_and_a_full_queue_drops_the_oldest() -> None:
    bus = EventBus(queue_size=2)
    with bus.subscribe() as first, bus.subscribe() as second:
        for n in range(3):
            bus.publish("run.progress", n=n)
        assert [first.get(0.1).data["n"], first.get(0.1).data["n"]] == [1, 2]
        assert first.dropped == 1 and first.get(0.01) is None
        assert second.get(0.1).data["n"] == 1
    assert bus.subscriber_count == 0


def test_closing_the_bus_ends_waiting_and_later_subscriptions() -> None:
    bus = EventBus()
    waiting = bus.subscribe()
    results: list[object] = []
    reader = threading.Thread(target=lambda: results.append(waiting.get(timeout=60)))
    reader.start()
    bus.close()
    reader.join(30)
    assert not reader.is_alive() and results == [None]  # woken by the close, not by its 60 s timeout
    assert waiting.ended and waiting.get(timeout=60) is None
    late = bus.subscribe()
    assert late.ended and late.get(timeout=60) is None
