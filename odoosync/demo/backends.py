"""``odoosync demo --backends N``: N Odoo databases landing in one app database.

Each backend is its own simulated Odoo (its own server, database name and data, made
from its own seed): their record ids overlap, as those of real customers' databases do,
which is exactly what must never mix. Each is registered in ``ops.odoo_backends`` with
its secret by reference (an environment variable name; the demo hands the values to
:func:`odoosync.backends.odoo_config` itself instead of exporting them), mapped to its
own app ``company_id``, and synced with ``sync all``. The summary has one row per
backend: leads and history in its Odoo against the rows the database holds for it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from odoosync import backends
from odoosync.pull import Progress
from odoosync.service.operations import open_client, open_store, pull_options, run_sync
from odoosync.settings import Settings
from odoosync.simulator import Simulator
from odoosync.store import Store
from odoosync.store.schema import lead_activities, leads, scheduled_activities

__all__ = ["BackendSummary", "BackendsDemoReport", "DEMO_BACKEND_NAMES", "run_backends_demo"]

DEMO_BACKEND_NAMES = ("acme", "globex", "initech", "umbrella", "hooli", "stark", "wayne", "wonka")


@dataclass(frozen=True)
class BackendSummary:
    """One backend's line: what its Odoo holds and what the database holds for it."""

    backend: str
    odoo_url: str
    odoo_db: str
    app_company_id: int
    leads_in_odoo: int
    leads_in_database: int
    messages_in_odoo: int
    messages_in_database: int
    activities_in_odoo: int
    activities_in_database: int
    requests: int
    seconds: float
    status: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class BackendsDemoReport:
    database: str
    backends: tuple[BackendSummary, ...] = field(default_factory=tuple)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "seconds": round(self.seconds, 2),
            "backends": [b.as_dict() for b in self.backends],
        }


def run_backends_demo(
    path: str | Path,
    count: int,
    *,
    scale: float = 1.0,
    seed: int = 0,
    latency_ms: float = 0.0,
    on_progress: Callable[[Progress], None] | None = None,
) -> BackendsDemoReport:
    """Start ``count`` simulated Odoo databases, sync each into the recreated SQLite file."""
    if not 1 <= count <= len(DEMO_BACKEND_NAMES):
        raise ValueError(f"--backends must be between 1 and {len(DEMO_BACKEND_NAMES)} (got {count})")
    started = time.monotonic()
    path = Path(path).resolve()
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    settings = Settings(odoo=None, database_url=f"sqlite:///{path}")
    with Store(settings.database_url) as store:
        store.upgrade()
    names = DEMO_BACKEND_NAMES[:count]
    summaries = []
    with ExitStack() as stack, open_store(settings) as store:
        secrets: dict[str, str] = {}
        sims = {}
        for index, name in enumerate(names):
            sim = stack.enter_context(Simulator(scale, seed + index, latency_ms=latency_ms, db=f"{name}_crm"))
            sims[name] = sim
            secret_env = f"ODOOSYNC_DEMO_{name.upper()}_KEY"
            secrets[secret_env] = sim.password
            backends.add_backend(
                store,
                backends.Backend(
                    name=name,
                    url=sim.url,
                    db=sim.db,
                    login=sim.login,
                    protocol="jsonrpc",
                    app_company_id=index + 1,
                    secret_env=secret_env,
                ),
            )
        for index, name in enumerate(names):
            summaries.append(_sync_one(settings, store, name, sims[name], index + 1, secrets, on_progress))
    return BackendsDemoReport(str(path), tuple(summaries), time.monotonic() - started)


def _sync_one(
    settings: Settings,
    store: Store,
    name: str,
    sim: Simulator,
    company_id: int,
    secrets: dict[str, str],
    on_progress: Callable[[Progress], None] | None,
) -> BackendSummary:
    began = time.monotonic()
    config = backends.odoo_config(settings, store, name, env=secrets)
    options = dataclasses.replace(pull_options(settings), company_id=company_id)
    with open_client(settings, config) as client:
        report = run_sync(client, store, "all", options, backend=name, on_progress=on_progress)
    held = _held(store, name)
    with sim.as_sync_user() as env:
        in_odoo = (
            env["crm.lead"].search_count([]),
            env["mail.message"].search_count([("model", "=", "crm.lead")]),
            env["mail.activity"].search_count([("res_model", "=", "crm.lead")]),
        )
    return BackendSummary(
        backend=name,
        odoo_url=sim.url,
        odoo_db=sim.db,
        app_company_id=company_id,
        leads_in_odoo=in_odoo[0],
        leads_in_database=held[0],
        messages_in_odoo=in_odoo[1],
        messages_in_database=held[1],
        activities_in_odoo=in_odoo[2],
        activities_in_database=held[2],
        requests=sum(r.counters.rpc_calls for r in report.results),
        seconds=time.monotonic() - began,
        status="ok" if report.as_dict()["ok"] else "partial",
    )


def _held(store: Store, backend: str) -> tuple[int, int, int]:
    """Leads, chatter messages and open-or-done activities the database holds for ``backend``."""
    count = sa.func.count()
    with store.connect() as conn:
        lead_rows = conn.execute(
            sa.select(count).where(
                leads.c.odoo_backend == backend, leads.c.odoo_id.is_not(None), leads.c.deleted_at.is_(None)
            )
        ).scalar_one()
        messages = conn.execute(
            sa.select(count).where(
                lead_activities.c.odoo_backend == backend, lead_activities.c.odoo_message_id.is_not(None)
            )
        ).scalar_one()
        activities = conn.execute(
            sa.select(count).where(
                scheduled_activities.c.odoo_backend == backend,
                scheduled_activities.c.odoo_activity_id.is_not(None),
                scheduled_activities.c.status != "cancelled",
            )
        ).scalar_one()
    return int(lead_rows), int(messages), int(activities)
