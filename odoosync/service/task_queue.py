"""The distributed engine's task queue: procrastinate on the app's own PostgreSQL.

``odoosync serve --engine procrastinate`` defers the scheduled jobs as procrastinate tasks
(:mod:`odoosync.service.dispatcher`) and ``odoosync worker`` processes, on any number of
machines, run them (:mod:`odoosync.service.worker`). This module is what both sides share:
the procrastinate app and its one task, the schema it needs, and what the API shows of
the queue. procrastinate brings the hard parts: ``FOR UPDATE SKIP LOCKED`` so each job
runs on exactly one worker, ``LISTEN/NOTIFY`` so an idle worker starts at once, locks
(one job of a backend's pulls at a time, in the order deferred), queueing locks (at most
one waiting job per backend and job), retries, and worker heartbeats.

procrastinate's tables live in their own schema, ``ops_queue`` (every connection of the
queue sets its ``search_path``): not in ``public``, which Supabase serves over its REST
API, and not beside the tables Alembic owns in ``ops``; row-level security is on for them,
as for every table odoosync creates. The schema is created from the
pinned procrastinate's own SQL the first time a worker or the dispatcher starts, under
an advisory lock, so two machines starting together create it once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from odoosync.exceptions import ConfigError

if TYPE_CHECKING:
    import procrastinate
    from procrastinate import JobContext

    from odoosync.store import Store

__all__ = [
    "QUEUE",
    "QUEUE_SCHEMA",
    "TASK_NAME",
    "QueueStatus",
    "make_queue_app",
    "ensure_queue_schema",
    "queue_status",
    "require_postgres",
]

log = logging.getLogger(__name__)

QUEUE_SCHEMA = "ops_queue"
QUEUE = "odoosync"
TASK_NAME = "odoosync.run_jobs"
STALLED_TASK_NAME = "odoosync.retry_stalled_jobs"
_SCHEMA_LOCK = 0x6F64_6F6F_7175_6575 & 0x7FFF_FFFF_FFFF_FFFF  # "odooqueue", any fixed 63-bit number


def require_postgres(database_url: str) -> None:
    """The distributed engine needs PostgreSQL: say so before anything starts."""
    if sa.engine.make_url(database_url).get_backend_name() != "postgresql":
        raise ConfigError(
            "the procrastinate engine needs PostgreSQL (DATABASE_URL=postgresql+psycopg://...); "
            "with SQLite, `odoosync serve` runs every job in its own process"
        )


def conninfo(database_url: str) -> str:
    """libpq's form of the store's SQLAlchemy URL (procrastinate talks to psycopg directly)."""
    url = sa.engine.make_url(database_url).set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def make_queue_app(database_url: str, *, stalled_seconds: float = 60.0, pool_size: int = 4) -> procrastinate.App:
    """The procrastinate app with odoosync's tasks: ``run_jobs`` (a backend's jobs, in
    order) and the periodic sweep that puts back the jobs of workers that died
    (no heartbeat for ``stalled_seconds``)."""
    import procrastinate

    from odoosync.service import worker

    require_postgres(database_url)
    connector = procrastinate.PsycopgConnector(
        conninfo=conninfo(database_url),
        kwargs={"options": f"-c search_path={QUEUE_SCHEMA}"},
        min_size=1,
        max_size=pool_size,
    )
    app = procrastinate.App(connector=connector)
    app.task(
        name=TASK_NAME,
        queue=QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=3, exponential_wait=5),
    )(worker.run_jobs_task)
    sweep_every = max(1, min(30, round(stalled_seconds / 3)))

    async def retry_stalled_jobs(context: JobContext, timestamp: int) -> None:
        await worker.retry_stalled_jobs(context.app, stalled_seconds)

    stalled = app.task(name=STALLED_TASK_NAME, queue=QUEUE, queueing_lock=STALLED_TASK_NAME, pass_context=True)(
        retry_stalled_jobs
    )
    app.periodic(cron=f"* * * * * */{sweep_every}", periodic_id="stalled")(stalled)
    return app


def ensure_queue_schema(store: Store) -> bool:
    """Create procrastinate's schema in ``ops_queue`` unless it is there (True if created)."""
    from procrastinate.schema import SchemaManager

    with store.transaction() as conn:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
        if conn.execute(sa.text(f"SELECT to_regclass('{QUEUE_SCHEMA}.procrastinate_jobs')")).scalar() is not None:
            return False
        conn.execute(sa.text(f"CREATE SCHEMA IF NOT EXISTS {QUEUE_SCHEMA}"))
        conn.execute(sa.text(f"SET LOCAL search_path = {QUEUE_SCHEMA}"))
        # procrastinate's script as it ships: many statements, '%' in its functions' text, no parameters
        conn.connection.dbapi_connection.cursor().execute(SchemaManager.get_schema())  # type: ignore[union-attr]
        # like every table odoosync creates (store/schema.py): no rows for other roles, the owner unaffected
        tables = conn.execute(sa.text("SELECT tablename FROM pg_tables WHERE schemaname = :s"), {"s": QUEUE_SCHEMA})
        for table in tables.scalars().all():
            conn.execute(sa.text(f'ALTER TABLE {QUEUE_SCHEMA}."{table}" ENABLE ROW LEVEL SECURITY'))
    log.info("created the task queue's tables in schema %s", QUEUE_SCHEMA)
    return True


@dataclass(frozen=True)
class QueueStatus:
    """What the API and dashboard show of the distributed engine."""

    engine: str
    workers: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"engine": self.engine, "workers": self.workers, "jobs": self.jobs}


def queue_status(store: Store) -> QueueStatus:
    """Live workers (last heartbeat) and the queue's jobs by backend, job and status.
    ``in-process`` where the queue's tables do not exist (SQLite, or never used)."""
    if store.dialect != "postgresql":
        return QueueStatus("in-process")
    with store.connect() as conn:
        if conn.execute(sa.text(f"SELECT to_regclass('{QUEUE_SCHEMA}.procrastinate_jobs')")).scalar() is None:
            return QueueStatus("in-process")
        workers = conn.execute(
            sa.text(
                f"SELECT w.id, w.last_heartbeat, count(j.id) AS running"
                f" FROM {QUEUE_SCHEMA}.procrastinate_workers w"
                f" LEFT JOIN {QUEUE_SCHEMA}.procrastinate_jobs j ON j.worker_id = w.id AND j.status = 'doing'"
                f" GROUP BY w.id, w.last_heartbeat ORDER BY w.id"
            )
        ).mappings()
        jobs = conn.execute(
            sa.text(
                f"SELECT coalesce(args->>'backend', '') AS backend, task_name, status::text AS status, count(*) AS count"
                f" FROM {QUEUE_SCHEMA}.procrastinate_jobs WHERE queue_name = :queue"
                f" GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
            ),
            {"queue": QUEUE},
        ).mappings()
        return QueueStatus(
            "procrastinate",
            workers=[
                {"id": row["id"], "last_heartbeat": row["last_heartbeat"].isoformat(), "running": row["running"]}
                for row in workers
            ],
            jobs=[dict(row) for row in jobs],
        )
