"""A full walk reads its rounds ahead of its writes, and never more than
``ROUNDS_HELD`` of them (``pull/rounds.py``): the simulator over HTTP, a real SQLite file
and PostgreSQL, writes slowed down so that the reads could run away if nothing held
them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.pull import PullEngine, PullOptions
from odoosync.pull.rounds import ROUNDS_HELD
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import odoo_partners as partners
from odoosync.streams.mirror import MirrorTarget
from odoosync.streams.registry import stream_catalog

PAGE = 10
PARTNERS = next(s for s in stream_catalog() if s.name == "partners")


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    """Partners enough for many rounds of pages of ``PAGE``."""
    return make_simulator(scale=0.2, seed=2)


@pytest.fixture
def client(sim: Simulator, client_for: Callable[..., OdooClient]) -> OdooClient:
    return client_for(sim)


def test_reads_run_ahead_of_slow_writes_by_at_most_the_rounds_held(
    sim: Simulator, client: OdooClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = PARTNERS
    partitions = client.max_concurrency
    ahead: list[int] = []  # at each write: pages requested beyond those written
    written = {"pages": 0}
    original = MirrorTarget.write_page

    def slow(self: MirrorTarget, ctx: Any, conn: Any, records: Any) -> Any:
        counts = original(self, ctx, conn, records)
        if self.table is partners:
            time.sleep(0.1)  # a slow write: the reads have time to run ahead
            requested = sim.request_log.count("search_read", "res.partner")
            written["pages"] += -(-len(records) // PAGE)  # a round's pages are written together
            ahead.append(requested - written["pages"])
        return counts

    monkeypatch.setattr(MirrorTarget, "write_page", slow)
    [result] = PullEngine(client, store).run_many([stream], PullOptions(mode=SyncMode.FULL, page_size=PAGE))

    assert result.counters.fetched == int(client.search_count("res.partner", list(stream.domain), active_test=False))
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(partners)).scalar_one() == result.counters.fetched
    assert len(ahead) > 2 * ROUNDS_HELD  # a walk of many rounds
    # At the end of a round's write, the pages requested beyond it: the other rounds held,
    # never more; and the reads did run that far ahead (one round ahead is not enough).
    # (The first write is the walk's first page, which holds no round: all of them may be
    # requested by its end.)
    first_page, rounds = ahead[0], ahead[1:]
    assert first_page <= ROUNDS_HELD * partitions, ahead
    assert max(rounds) <= (ROUNDS_HELD - 1) * partitions, ahead
    assert max(rounds) == (ROUNDS_HELD - 1) * partitions, ahead


def test_a_stop_request_ends_the_walk_after_the_round_being_written_and_the_next_run_resumes(
    client: OdooClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = PARTNERS
    engine = PullEngine(client, store)
    writes: list[int] = []
    original = MirrorTarget.write_page

    def stop_after_three(self: MirrorTarget, ctx: Any, conn: Any, records: Any) -> Any:
        counts = original(self, ctx, conn, records)
        if self.table is partners:
            time.sleep(0.05)  # the reads run ahead meanwhile
            writes.append(len(records))
            if len(writes) == 3:
                engine.stopping.set()  # as SIGTERM does
        return counts

    monkeypatch.setattr(MirrorTarget, "write_page", stop_after_three)
    [stopped] = engine.run_many([stream], PullOptions(mode=SyncMode.FULL, page_size=PAGE))
    assert stopped.remaining and len(writes) == 3  # the rounds read ahead were not written
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(partners)).scalar_one() == sum(writes)

    monkeypatch.setattr(MirrorTarget, "write_page", original)
    engine.stopping.clear()
    [resumed] = engine.run_many([stream], PullOptions(mode=SyncMode.FULL, page_size=PAGE))
    total = int(client.search_count("res.partner", list(stream.domain), active_test=False))
    assert not resumed.remaining
    with store.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(partners)).scalar_one() == total
    assert resumed.counters.fetched == total - sum(writes)  # resumed where the stop left it
