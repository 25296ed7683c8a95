"""Concurrent pushes end where serial pushes end, and push nothing twice.

For random mixes of app changes (new leads, stage moves, phone edits, notes and
activities on existing or new leads), the same changes are pushed twice into two
simulators made from the same seed: once one call at a time without faults, once with
batches and calls in flight together while the simulator answers some requests with 429,
500, a timeout or a dropped connection. Afterwards Odoo holds the same records in both,
each pushed exactly once, and every outbox item is done. Real SQLite files, the
simulator over HTTP.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.push import outbox
from odoosync.push.engine import PushEngine
from odoosync.push.policy import PushPolicy
from odoosync.simulator import Simulator
from odoosync.simulator.faults import Faults
from odoosync.store import Store
from odoosync.store.schema import leads

BOUND = 8  # leads of the simulator bound in the app before the changes
MODELS = ("crm.lead", "mail.message", "mail.activity")

_target = st.one_of(
    st.tuples(st.just("bound"), st.integers(0, BOUND - 1)), st.tuples(st.just("new"), st.integers(0, 5))
)
_change = st.one_of(
    st.tuples(st.just("create")),
    st.tuples(st.just("stage"), st.integers(0, BOUND - 1), st.integers(0, 3)),
    st.tuples(st.just("phone"), st.integers(0, BOUND - 1), st.integers(0, 99)),
    st.tuples(st.just("note"), _target),
    st.tuples(st.just("activity"), _target),
)


class _Clock:
    def __init__(self) -> None:
        self.offset = dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def _apply(store: Store, sim: Simulator, changes: list[tuple[Any, ...]]) -> None:
    """Bind the first leads as the pull would, then make ``changes`` in plain SQL."""
    with sim.env({"active_test": False}) as env:
        records = env["crm.lead"].search_read(
            [("active", "=", True)], ["name", "phone", "stage_id"], limit=BOUND, order="id"
        )
        stages = [s["name"] for s in env["crm.stage"].search_read([], ["name"], order="sequence, id")]
    with store.transaction(origin="pull") as conn:
        bound = [
            conn.execute(
                sa.insert(leads)
                .values(
                    title=r["name"],
                    odoo_id=r["id"],
                    phone=r["phone"] or None,
                    source="odoo",
                    stage=r["stage_id"][1] if r["stage_id"] else None,
                )
                .returning(leads.c.id)
            ).scalar_one()
            for r in records
        ]
    new: list[int] = []
    with store.transaction() as conn:
        for n, change in enumerate(changes):
            kind = change[0]
            if kind == "create":
                new.append(
                    conn.execute(
                        sa.text("INSERT INTO leads (title) VALUES (:t) RETURNING id"), {"t": f"New {len(new)}"}
                    ).scalar_one()
                )
            elif kind == "stage":
                conn.execute(
                    sa.text("UPDATE leads SET stage = :s WHERE id = :id"),
                    {"s": stages[change[2] % len(stages)], "id": bound[change[1]]},
                )
            elif kind == "phone":
                conn.execute(
                    sa.text("UPDATE leads SET phone = :p WHERE id = :id"),
                    {"p": f"+1 555 {change[2]:04d}", "id": bound[change[1]]},
                )
            else:
                side, index = change[1]
                if side == "new" and not new:
                    continue
                lead = bound[index] if side == "bound" else new[index % len(new)]
                if kind == "note":
                    conn.execute(
                        sa.text(
                            "INSERT INTO lead_activities (lead_id, activity_type, title, description) "
                            "VALUES (:id, 'note', 'Note', :d)"
                        ),
                        {"id": lead, "d": f"pushed note {n}"},
                    )
                else:
                    conn.execute(
                        sa.text(
                            "INSERT INTO scheduled_activities (lead_id, activity_type, summary, due_date) "
                            "VALUES (:id, 'call', :s, '2030-01-01')"
                        ),
                        {"id": lead, "s": f"pushed call {n}"},
                    )


def _push(store: Store, sim: Simulator, *, concurrency: int) -> None:
    """Push until every item is done, moving the clock past each backoff."""
    config = OdooConfig(
        url=sim.url,
        db=sim.db,
        username=sim.login,
        password=sim.password,
        protocol="jsonrpc",
        max_attempts=2,
        backoff_base=0.01,
        timeout=5,
        max_concurrency=concurrency,
    )
    clock = _Clock()
    policies = {m: PushPolicy(max_batch=3, max_attempts=100) for m in MODELS}
    with OdooClient(config) as client:
        with sim.env({}) as env:  # every company, as `odoosync push` allows (asked here, past the faults)
            client.config = dataclasses.replace(config, company_ids=tuple(env["res.company"].search([])))
        engine = PushEngine(store, client, clock=clock, policies=policies)
        for _ in range(60):
            engine.push_all()
            counts = outbox.status_counts(store)
            if counts["queued"] == counts["processing"] == counts["failed"] == 0:
                return
            clock.offset += dt.timedelta(hours=1)
    failed = [(i.model, i.operation, i.last_error) for i in outbox.list_items(store, status="failed")]
    raise AssertionError(f"items left: {outbox.status_counts(store)}; failed: {failed}")


def _odoo_state(sim: Simulator) -> dict[str, Any]:
    """What the push left in Odoo, by names and texts (new records' ids differ by order)."""
    with sim.env({"active_test": False}) as env:
        lead_rows = env["crm.lead"].search_read([], ["name", "stage_id", "phone"], order="id")
        names = {r["id"]: r["name"] for r in lead_rows}
        notes = env["mail.message"].search_read([("message_id", "=like", "%@odoosync>")], ["res_id", "body"])
        activities = env["mail.activity"].search_read([("summary", "=like", "pushed call %")], ["res_id", "summary"])
    return {
        "leads": sorted(
            (r["name"], r["stage_id"][1] if r["stage_id"] else None, r["phone"] or None) for r in lead_rows
        ),
        "notes": Counter((names[m["res_id"]], m["body"]) for m in notes),
        "activities": Counter((names[a["res_id"]], a["summary"]) for a in activities),
    }


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.lists(_change, min_size=1, max_size=20), seed=st.integers(0, 10_000))
def test_concurrent_pushes_under_faults_end_as_serial_pushes(
    tmp_path: Path, _sqlite_template: Path, changes: list[tuple[Any, ...]], seed: int
) -> None:
    states = []
    for concurrency, faults in ((1, None), (4, "429:0.06,500:0.06,reset:0.06,timeout:0.04")):
        parsed = Faults.parse(faults, seed=seed, timeout_s=0.2, retry_after=0.01) if faults else None
        path = tmp_path / f"{uuid.uuid4().hex}.db"
        shutil.copyfile(_sqlite_template, path)  # a migrated database, without migrating each time
        with Simulator(0.02, 0, faults=parsed) as sim, Store(f"sqlite:///{path}") as store:
            store.check_migrated()
            _apply(store, sim, changes)
            queued = outbox.status_counts(store)["queued"]
            _push(store, sim, concurrency=concurrency)
            assert outbox.status_counts(store)["done"] == queued
            with store.connect() as conn:
                assert conn.execute(sa.text("SELECT count(*) FROM leads WHERE odoo_id IS NULL")).scalar() == 0
            states.append(_odoo_state(sim))
    serial, concurrent = states
    assert concurrent == serial
    creates = sum(1 for c in changes if c[0] == "create")
    assert sum(1 for name, _, _ in concurrent["leads"] if name.startswith("New ")) == creates  # none twice
    assert all(n == 1 for n in (*concurrent["notes"].values(), *concurrent["activities"].values()))
