"""The pull engine against what real Odoo 16-19 do and a regular model of Odoo does not
(each seen on real servers; see docs/simulator.md and shared/odoo-recordings/):

* pages and id searches come back short while more follows (``mail.message`` drops what
  the user may not read after SQL's LIMIT): nothing is lost, nothing deleted;
* one transaction stamps hundreds of rows with one ``write_date``, stored with
  microseconds and served in whole seconds, compared differently by version: a bulk
  write arrives whole in one run and the run ends;
* a second write within the same second carries the same served stamp: it arrives;
* a reconcile that would delete a large share of a stream refuses and deletes nothing.

Every test runs on Odoo 17's and Odoo 19's comparison rules, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import dataclasses

import pytest
import sqlalchemy as sa

from odoosync.exceptions import MassDeleteRefused
from odoosync.models import RunStatus, SyncMode
from odoosync.pull import PullEngine, PullOptions
from odoosync.store.schema import lead_activities, leads
from odoosync.streams.chatter import chatter_stream
from tests.fixtures.pull import core_streams, open_client, pull

VERSIONS = ("17.0", "19.0")


def _lead_ids(store, *, deleted: bool = False) -> set[int]:
    with store.connect() as conn:
        clause = leads.c.deleted_at.is_not(None) if deleted else leads.c.deleted_at.is_(None)
        return set(conn.execute(sa.select(leads.c.odoo_id).where(clause, leads.c.odoo_id.is_not(None))).scalars())


def _message_ids(store) -> set[int]:
    with store.connect() as conn:
        return set(
            conn.execute(
                sa.select(lead_activities.c.odoo_message_id).where(lead_activities.c.odoo_message_id.is_not(None))
            ).scalars()
        )


def _visible_messages(sim) -> set[int]:
    with sim.as_sync_user() as env:
        return set(env["mail.message"].search([("model", "=", "crm.lead")]))


@pytest.mark.slow
@pytest.mark.parametrize("version", VERSIONS)
def test_chatter_past_short_pages_and_short_id_chunks_lands_whole_and_deletes_nothing(
    make_simulator, store, version
) -> None:
    """Over 10,000 messages with ~1% hidden: the walk, the increments and the reconcile
    (whose 10,000-id chunks come back short) land exactly what the user may read, and
    no run deletes a message Odoo still has."""
    sim = make_simulator(scale=0.3, seed=4, version=version)
    assert sim.counts.hidden_messages > 50
    with open_client(sim) as client:
        engine = PullEngine(client, store)
        engine.run_many(core_streams(), PullOptions(mode=SyncMode.FULL))
        visible = _visible_messages(sim)
        assert len(visible) > 10_000
        first = engine.run(chatter_stream(), PullOptions(mode=SyncMode.INCREMENTAL))
        assert first.status == RunStatus.OK and _message_ids(store) == visible
        for mode in (SyncMode.INCREMENTAL, SyncMode.FULL, SyncMode.MISSING):
            again = engine.run(chatter_stream(), PullOptions(mode=mode))
            assert again.status == RunStatus.OK and again.counters.deleted == 0, (mode, again)
            assert again.counters.inserted == 0, (mode, again)
            assert _message_ids(store) == visible


@pytest.mark.parametrize("version", VERSIONS)
def test_a_bulk_write_of_600_leads_with_one_stamp_arrives_whole_in_one_run(make_simulator, store, version) -> None:
    sim = make_simulator(scale=0.3, seed=2, version=version)
    with open_client(sim) as client:
        pull(client, store, mode=SyncMode.FULL)
        with sim.env() as env:
            targets = env["crm.lead"].search([("active", "in", [True, False])], limit=600, order="id")
            env["crm.lead"].write(targets, {"priority": "3", "description": "<p>bulk</p>"})
        assert len(targets) == 600
        report = pull(client, store, page_size=200, budget=120)
        result = next(r for r in report.results if r.stream == "leads")
        assert (result.status, result.remaining) == (RunStatus.OK, False)
        assert result.counters.updated >= 600
        # 600 changed rows and an empty page end it, not a loop over one second.
        assert result.counters.fetched < 1500, result
        with store.connect() as conn:
            priorities = dict(
                conn.execute(sa.select(leads.c.odoo_id, leads.c.priority).where(leads.c.odoo_id.in_(targets))).all()
            )
        assert set(priorities) == set(targets) and set(priorities.values()) == {"3"}
        idle = next(r for r in pull(client, store).results if r.stream == "leads")
        assert (idle.counters.updated, idle.counters.inserted) == (0, 0)


@pytest.mark.parametrize("version", VERSIONS)
def test_a_second_write_in_the_same_second_arrives(make_simulator, store, version) -> None:
    sim = make_simulator(scale=0.02, seed=1, version=version)
    with open_client(sim) as client:
        pull(client, store, mode=SyncMode.FULL)
        lead = min(_lead_ids(store))
        sim.clock.freeze()
        try:
            with sim.env() as env:
                env["crm.lead"].write([lead], {"expected_revenue": 1001})
            pull(client, store)
            with sim.env() as env:
                env["crm.lead"].write([lead], {"expected_revenue": 1002})
                (record,) = env["crm.lead"].read([lead], ["write_date"])
            report = pull(client, store)
        finally:
            sim.clock.release()
        with store.connect() as conn:
            value, stamp = conn.execute(
                sa.select(leads.c.value, leads.c.odoo_write_date).where(leads.c.odoo_id == lead)
            ).one()
        assert float(value) == 1002.0
        assert stamp.strftime("%Y-%m-%d %H:%M:%S") == record["write_date"], "the same served second as before"
        assert next(r for r in report.results if r.stream == "leads").counters.updated == 1


@pytest.mark.parametrize("share, allowed", [(0.5, False), (0.5, True), (1.0, False), (0.05, False)])
def test_a_reconcile_deleting_a_large_share_refuses_and_deletes_nothing(make_simulator, store, share, allowed) -> None:
    sim = make_simulator(scale=0.1, seed=5)
    with open_client(sim) as client:
        pull(client, store, mode=SyncMode.FULL)
        before = _lead_ids(store)
        doomed = sorted(before)[: int(len(before) * share)]
        with sim.env() as env:
            env["crm.lead"].unlink(doomed)
        options = {"allow_mass_delete": True} if allowed else {}
        if share > 0.1 and not allowed:
            with pytest.raises(MassDeleteRefused) as refused:
                pull(client, store, **options)
            assert "--allow-mass-delete" in str(refused.value) and refused.value.deleting == len(doomed)
            assert _lead_ids(store) == before and not _lead_ids(store, deleted=True), "nothing deleted"
        else:
            pull(client, store, **options)
            assert _lead_ids(store) == before - set(doomed)
            assert _lead_ids(store, deleted=True) == set(doomed)


def test_an_interrupted_increment_resumes_where_it_stopped(make_simulator, store) -> None:
    """A budget that ends an increment mid-way stores where it was; the next run goes on
    from there with the same start, and the result equals an uninterrupted run."""
    sim = make_simulator(scale=0.3, seed=2)
    with open_client(sim) as client:
        pull(client, store, mode=SyncMode.FULL)
        with sim.env() as env:
            targets = env["crm.lead"].search([], limit=450, order="id")
            env["crm.lead"].write(targets, {"priority": "3"})
        engine = PullEngine(client, store)
        leads_stream = next(s for s in core_streams() if s.name == "leads")
        small = dataclasses.replace(leads_stream, page_size=100)
        engine.stopping.clear()
        pages = 0

        def stop_after_two(progress) -> None:
            nonlocal pages
            if progress.phase == "page":
                pages += 1
                if pages == 2:
                    engine.stopping.set()

        engine.on_progress = stop_after_two
        first = engine.run(small, PullOptions())
        assert first.remaining and first.status == RunStatus.PARTIAL
        engine.stopping.clear()
        engine.on_progress = None
        second = engine.run(small, PullOptions())
        assert second.status == RunStatus.OK and not second.remaining
        with store.connect() as conn:
            values = set(conn.execute(sa.select(leads.c.priority).where(leads.c.odoo_id.in_(targets))).scalars())
        assert values == {"3"}
        assert first.counters.updated + second.counters.updated >= 450
