"""Client counters: consistent under threads, and snapshots subtract to the work in between."""

from __future__ import annotations

import threading

from odoosync.exceptions import OdooServerError, RateLimited
from odoosync.odoo.stats import ClientStats, StatsSnapshot


def test_snapshots_subtract_to_the_work_in_between():
    stats = ClientStats()
    stats.request_started()
    stats.request_finished(sent=10, received=100, seconds=0.02)
    before = stats.snapshot()
    for _ in range(3):
        stats.request_started()
        stats.request_finished(sent=5, received=50, seconds=0.2)
    stats.error(RateLimited("429"))
    stats.error(RateLimited("429"))
    stats.error(OdooServerError("500"))
    stats.retry()
    stats.reauthentication()
    delta = stats.snapshot() - before
    assert delta.requests == 3
    assert (delta.bytes_sent, delta.bytes_received) == (15, 150)
    assert dict(delta.errors) == {"RateLimited": 2, "OdooServerError": 1}
    assert delta.error_count == 3
    assert (delta.retries, delta.reauthentications) == (1, 1)
    assert abs(delta.latency_sum - 0.6) < 1e-9
    assert dict(delta.latency_histogram) == {0.25: 3}
    assert delta.latency_max == 0.2
    assert delta.as_dict()["errors"] == {"RateLimited": 2, "OdooServerError": 1}


def test_an_empty_difference_is_all_zero():
    stats = ClientStats()
    snap = stats.snapshot()
    assert snap - snap == StatsSnapshot()


def test_counts_are_exact_under_threads_and_the_in_flight_high_water_mark_is_kept():
    stats = ClientStats()
    barrier = threading.Barrier(8)

    def work() -> None:
        stats.request_started()
        barrier.wait()  # all eight in flight at once
        stats.request_finished(sent=1, received=2, seconds=0.001)
        for _ in range(500):
            stats.retry()

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    snap = stats.snapshot()
    assert snap.requests == 8
    assert snap.retries == 4000
    assert snap.in_flight_max == 8
    assert (snap.bytes_sent, snap.bytes_received) == (8, 16)
