"""``odoosync demo``: the whole loop on one machine, with nothing to configure.

It starts the bundled Odoo simulator on a free loopback port (a thread of this process),
recreates ``./odoosync-demo.db``, migrates it, and runs the demo's steps against them,
each returning rows of the summary table (per stream: fetched, inserted, updated,
deleted, Odoo requests, seconds):

1. :func:`sync_everything`: ``sync all`` (reference data, partners, leads, and whatever
   ``sync all`` covers), then a second, incremental ``sync all`` that should write
   nothing.

Later steps ("push a few app-side edits back", serving the dashboard) are functions of
the same shape, ``(DemoContext) -> list[SummaryRow]``, appended to
:data:`DEFAULT_STEPS`; the context gives them the simulator, the settings and the open
store and client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from odoosync.models import SyncMode
from odoosync.odoo.client import OdooClient
from odoosync.odoo.config import OdooConfig
from odoosync.pull import Progress, StreamResult
from odoosync.service.operations import open_client, open_store, pull_options, run_sync
from odoosync.settings import Settings
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads, scheduled_activities

__all__ = [
    "DEFAULT_DEMO_FILE",
    "DemoContext",
    "SummaryRow",
    "DemoReport",
    "Step",
    "sync_everything",
    "DEFAULT_STEPS",
    "run_demo",
]

DEFAULT_DEMO_FILE = "odoosync-demo.db"


@dataclass(frozen=True)
class SummaryRow:
    """One line of the demo's summary table."""

    step: str
    stream: str
    fetched: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    requests: int = 0
    seconds: float = 0.0
    status: str = "ok"

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def of_run(cls, step: str, result: StreamResult) -> SummaryRow:
        """One stream's result in a sync step."""
        c = result.counters
        return cls(
            step,
            result.stream,
            c.fetched,
            c.inserted,
            c.updated,
            c.deleted,
            c.rpc_calls,
            result.duration_ms / 1000,
            str(result.status),
        )


@dataclass
class DemoContext:
    """What a demo step may use."""

    simulator: Simulator
    settings: Settings
    store: Store
    client: OdooClient
    on_progress: Callable[[Progress], None] | None = None


Step = Callable[[DemoContext], list[SummaryRow]]


@dataclass(frozen=True)
class DemoReport:
    database: str
    odoo_url: str
    leads_in_odoo: int
    leads_in_database: int
    rows: tuple[SummaryRow, ...] = field(default_factory=tuple)
    seconds: float = 0.0
    history: dict[str, int] = field(default_factory=dict)  # lead chatter and activities, Odoo vs database

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "odoo_url": self.odoo_url,
            "leads_in_odoo": self.leads_in_odoo,
            "leads_in_database": self.leads_in_database,
            "history": dict(self.history),
            "seconds": round(self.seconds, 2),
            "summary": [r.as_dict() for r in self.rows],
        }


def sync_everything(ctx: DemoContext) -> list[SummaryRow]:
    """``sync all`` into the fresh database, then once more (nothing should change)."""
    rows = []
    for step, mode in (("first sync", SyncMode.INCREMENTAL), ("second sync", SyncMode.INCREMENTAL)):
        report = run_sync(
            ctx.client, ctx.store, "all", pull_options(ctx.settings, mode=mode), on_progress=ctx.on_progress
        )
        rows += [SummaryRow.of_run(step, r) for r in report.results]
    return rows


def push_app_edits(ctx: DemoContext) -> list[SummaryRow]:
    """A new lead, a stage move and a note made with plain SQL, pushed to Odoo, then one
    more incremental sync (the pushed changes come back as no-ops)."""
    from odoosync.demo.edits import demo_push

    started = time.monotonic()
    result = demo_push(ctx.store, ctx.client)
    rows = [
        SummaryRow(
            "push app edits",
            "outbox",
            result.claimed,
            result.created,
            result.written,
            result.deleted,
            result.rpc_calls,
            time.monotonic() - started,
            "ok" if result.failed == 0 else "partial",
        )
    ]
    report = run_sync(ctx.client, ctx.store, "all", pull_options(ctx.settings), on_progress=ctx.on_progress)
    rows += [SummaryRow.of_run("sync after push", r) for r in report.results]
    return rows


DEFAULT_STEPS: list[Step] = [sync_everything, push_app_edits]


def run_demo(
    path: str | Path = DEFAULT_DEMO_FILE,
    *,
    scale: float = 1.0,
    seed: int = 0,
    latency_ms: float = 0.0,
    steps: Sequence[Step] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
) -> DemoReport:
    """Run the demo (see the module docstring); the database file is recreated."""
    started = time.monotonic()
    path = Path(path).resolve()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    database_url = f"sqlite:///{path}"
    with Simulator(scale, seed, latency_ms=latency_ms) as sim:
        settings = Settings(
            odoo=OdooConfig(url=sim.url, db=sim.db, username=sim.login, password=sim.password, protocol="jsonrpc"),
            database_url=database_url,
        )
        with Store(database_url) as store:
            store.upgrade()
        rows: list[SummaryRow] = []
        with open_store(settings) as store, open_client(settings) as client:
            ctx = DemoContext(sim, settings, store, client, on_progress)
            for step in DEFAULT_STEPS if steps is None else steps:
                rows += step(ctx)
            leads_in_database = _count_leads(store)
            history = _history_in_database(store)
        with sim.as_sync_user() as env:
            leads_in_odoo = env["crm.lead"].search_count([])
            history["messages_in_odoo"] = env["mail.message"].search_count([("model", "=", "crm.lead")])
            history["activities_in_odoo"] = env["mail.activity"].search_count([("res_model", "=", "crm.lead")])
    return DemoReport(
        str(path), sim.url, leads_in_odoo, leads_in_database, tuple(rows), time.monotonic() - started, history
    )


def _history_in_database(store: Store) -> dict[str, int]:
    """Odoo's chatter messages and activities the database holds (the app's own rows aside)."""
    count = sa.func.count()
    with store.connect() as conn:
        messages = conn.execute(sa.select(count).where(lead_activities.c.odoo_message_id.is_not(None))).scalar_one()
        activities = conn.execute(
            sa.select(count).where(
                scheduled_activities.c.odoo_activity_id.is_not(None), scheduled_activities.c.status != "cancelled"
            )
        ).scalar_one()
    return {"messages_in_database": int(messages), "activities_in_database": int(activities)}


def _count_leads(store: Store) -> int:
    with store.connect() as conn:
        return int(
            conn.execute(sa.select(sa.func.count()).select_from(leads).where(leads.c.deleted_at.is_(None))).scalar_one()
        )
