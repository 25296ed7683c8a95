"""The scheduler: decides *when* each job runs, nothing else.

Seed 002's root cause was that nothing ran on its own. :class:`Scheduler` wraps an
APScheduler 3 ``BackgroundScheduler`` (a well-kept scheduler rather than a hand-written
loop) with the project's rules:

* every job has a cron expression: the defaults of C6 (:data:`DEFAULT_SCHEDULE`),
  overridden by ``[schedule]`` in ``odoosync.toml`` and then by the ``schedule`` key of
  ``ops.odoo_sync_config`` (``{"leads": "*/2 * * * *"}``). Five fields are standard cron;
  six fields put seconds first (used by tests and for sub-minute polling);
* one instance of a job at a time; a fire that would overlap a run still holding its lock
  is skipped and the skip reported to ``on_skip`` (the service records it as a
  ``skipped`` run);
* a job that raises is logged and reported to ``on_error``; the other jobs, and later
  fires of the same job, go on;
* jobs can be paused, resumed and fired at once (:meth:`Scheduler.run_now`);
* :func:`pg_cron_sql` writes the same schedule as ``pg_cron`` + ``pg_net`` SQL for
  Supabase deployments that prefer the database to call the API;
* :class:`OutboxWaker` fires the ``outbox`` job as soon as a change is queued: on
  PostgreSQL it listens (``LISTEN``) on the channel the outbox triggers ``NOTIFY``; on SQLite
  (no notifications) it polls for a ready item every few seconds.

What a job does lives in :mod:`odoosync.jobs`; this module only receives callables.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from odoosync.exceptions import ConfigError, LockHeld, OdooSyncError
from odoosync.store import Store
from odoosync.store.schema import odoo_outbox
from odoosync.store.triggers import NOTIFY_CHANNEL

__all__ = [
    "DEFAULT_SCHEDULE",
    "SCHEDULE_CONFIG_KEY",
    "JobInfo",
    "Scheduler",
    "OutboxWaker",
    "pg_cron_sql",
    "TokenSource",
    "parse_cron",
    "resolve_schedule",
]

log = logging.getLogger(__name__)

DEFAULT_SCHEDULE: Mapping[str, str] = {
    "increments": "* * * * *",  # partners, leads, chatter, activities
    "reference": "*/15 * * * *",
    "reconcile": "7 * * * *",
    "sla": "*/5 * * * *",
    # A sweep for retries whose backoff expired; new changes wake the push at once.
    "outbox": "* * * * *",
}
"""C6's defaults: lead, partner, chatter and activity increments every minute, reference data every 15 minutes, delete
reconciliation hourly (at minute 7, away from the quarter-hour reference runs), the SLA
check every 5 minutes."""

SCHEDULE_CONFIG_KEY = "schedule"
_UTC = dt.UTC


def parse_cron(expression: str, *, job: str = "?") -> CronTrigger:
    """A cron expression (5 fields, or 6 with seconds first) as an APScheduler trigger."""
    fields = expression.split()
    try:
        if len(fields) == 5:
            return CronTrigger.from_crontab(expression, timezone=_UTC)
        if len(fields) == 6:
            second, minute, hour, day, month, day_of_week = fields
            return CronTrigger(
                second=second, minute=minute, hour=hour, day=day, month=month,
                day_of_week=day_of_week, timezone=_UTC,
            )
    except ValueError as exc:
        raise ConfigError(f"schedule for job {job!r}: {expression!r} is not a valid cron expression ({exc})") from exc
    raise ConfigError(
        f"schedule for job {job!r}: {expression!r} needs 5 fields (minute hour day month weekday) "
        "or 6 (second first)"
    )


def resolve_schedule(
    jobs: list[str] | tuple[str, ...],
    *,
    toml: Mapping[str, str] | None = None,
    database: Mapping[str, Any] | None = None,
    defaults: Mapping[str, str] = DEFAULT_SCHEDULE,
) -> dict[str, str]:
    """job → cron for every job in ``jobs``: database over TOML over defaults.

    Every unknown job name and invalid expression is reported at once.
    """
    merged: dict[str, str] = {}
    problems: list[str] = []
    for source_name, source in (("odoosync.toml [schedule]", toml or {}), ("ops.odoo_sync_config 'schedule'", database or {})):
        for name in source:
            if name not in jobs:
                problems.append(f"{source_name}: unknown job {name!r} (jobs: {', '.join(sorted(jobs))})")
    for name in jobs:
        expression = (database or {}).get(name) or (toml or {}).get(name) or defaults.get(name)
        if not expression:
            problems.append(f"job {name!r} has no schedule")
            continue
        try:
            parse_cron(str(expression), job=name)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        merged[name] = str(expression)
    if problems:
        raise ConfigError("; ".join(problems), problems)
    return merged


@dataclass(frozen=True)
class JobInfo:
    """A scheduled job as ``GET /api/schedule`` shows it."""

    name: str
    cron: str
    paused: bool
    running: bool
    next_run_at: dt.datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "job": self.name,
            "cron": self.cron,
            "paused": self.paused,
            "running": self.running,
            "next_run_at": self.next_run_at.isoformat() if self.next_run_at else None,
        }


JobFunction = Callable[[str], Any]
"""A job: called with the trigger (``"schedule"``), does its work, returns anything."""


class Scheduler:
    """APScheduler 3 with one instance per job, skip-on-lock, and errors contained.

    ``on_skip(job, holder)`` is called when a fire is skipped because the job's lock is
    held (by this process's previous fire or by another process); ``on_error(job, exc)``
    when a job raises anything else.
    """

    def __init__(
        self,
        jobs: Mapping[str, JobFunction],
        schedule: Mapping[str, str],
        *,
        on_skip: Callable[[str, str | None], None] = lambda job, holder: None,
        on_error: Callable[[str, BaseException], None] = lambda job, exc: None,
        max_workers: int | None = None,
    ) -> None:
        missing = sorted(set(jobs) - set(schedule))
        if missing:
            raise ConfigError(f"no schedule for jobs: {', '.join(missing)}")
        self._jobs = dict(jobs)
        self._schedule = {name: schedule[name] for name in jobs}
        self._on_skip = on_skip
        self._on_error = on_error
        self._running: dict[str, int] = dict.fromkeys(jobs, 0)
        self._paused: set[str] = set()
        self._running_lock = threading.Lock()
        self._apscheduler = BackgroundScheduler(
            executors={"default": ThreadPoolExecutor(max_workers or len(jobs) + 2)},
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
            timezone=_UTC,
        )
        self._apscheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        for name, expression in self._schedule.items():
            self._apscheduler.add_job(
                self._run, parse_cron(expression, job=name), args=(name,), id=name, name=name,
            )

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, paused: bool = False) -> None:
        """Start firing jobs (``paused=True``: start with every job's timer stopped)."""
        self._apscheduler.start(paused=paused)

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop firing; with ``wait`` block until running jobs return."""
        if self._apscheduler.running:
            self._apscheduler.shutdown(wait=wait)

    @property
    def running(self) -> bool:
        return bool(self._apscheduler.running)

    # ------------------------------------------------------------------ control
    def job_names(self) -> list[str]:
        return list(self._jobs)

    def pause(self, name: str) -> JobInfo:
        """Stop firing ``name`` (a run in progress finishes) until :meth:`resume`."""
        self._job(name).pause()
        self._paused.add(name)
        return self.info(name)

    def resume(self, name: str) -> JobInfo:
        self._job(name).resume()
        self._paused.discard(name)
        return self.info(name)

    def run_now(self, name: str) -> None:
        """Fire ``name`` as soon as a worker thread is free (the cron timer continues)."""
        job = self._job(name)
        if name in self._paused:
            return
        job.modify(next_run_time=dt.datetime.now(_UTC))
        self._apscheduler.wakeup()

    def info(self, name: str) -> JobInfo:
        if name not in self._jobs:
            raise KeyError(name)
        job = self._apscheduler.get_job(name)  # None once the scheduler has shut down
        next_run = None if name in self._paused or job is None else getattr(job, "next_run_time", None)
        with self._running_lock:
            running = self._running[name] > 0
        return JobInfo(
            name=name,
            cron=self._schedule[name],
            paused=name in self._paused,
            running=running,
            next_run_at=next_run,
        )

    def describe(self) -> list[JobInfo]:
        return [self.info(name) for name in self._jobs]

    def next_run_time(self, name: str) -> dt.datetime | None:
        return self.info(name).next_run_at

    def _job(self, name: str) -> Any:
        job = self._apscheduler.get_job(name) if name in self._jobs else None
        if job is None:
            raise KeyError(name)
        return job

    # ------------------------------------------------------------------ firing
    def _run(self, name: str) -> None:
        with self._running_lock:
            self._running[name] += 1
        try:
            self._jobs[name]("schedule")
        except LockHeld as exc:
            log.info("job %s skipped: lock held by %s", name, exc.holder)
            self._report(self._on_skip, name, exc.holder)
        except Exception as exc:  # noqa: BLE001 - one failing job must not stop the others
            log.error("job %s failed: %s: %s", name, type(exc).__name__, exc)
            self._report(self._on_error, name, exc)
        finally:
            with self._running_lock:
                self._running[name] -= 1

    def _on_max_instances(self, event: JobEvent) -> None:
        log.info("job %s skipped: its previous run is still going", event.job_id)
        self._report(self._on_skip, event.job_id, "a previous run of this job in this process")

    @staticmethod
    def _report(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - reporting must not kill the scheduler thread
            log.error("could not record job outcome for %s: %s: %s", args[0], type(exc).__name__, exc)


class OutboxWaker:
    """Calls ``wake()`` soon after an outbox item becomes ready (a thread; ``start``/``stop``).

    PostgreSQL: ``LISTEN odoosync_outbox`` on a connection of its own; every trigger
    ``NOTIFY`` wakes it at once (reconnecting after a lost connection). SQLite: every
    ``poll_seconds`` one indexed ``SELECT`` asks whether an item is ready. Either way,
    a failure to wake is logged and retried; the minute sweep of the ``outbox`` job
    remains as a safety net.
    """

    def __init__(self, store: Store, wake: Callable[[], None], *, poll_seconds: float = 2.0) -> None:
        self._store = store
        self._wake = wake
        self._poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="outbox-waker", daemon=True)

    def start(self) -> OutboxWaker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                if self._store.dialect == "postgresql":
                    self._listen()
                else:
                    self._poll()
            except (OdooSyncError, OSError, sa.exc.SQLAlchemyError) as exc:
                log.warning("outbox waker: %s: %s; retrying", type(exc).__name__, exc)
                self._stop.wait(self._poll_seconds)

    def _ready(self) -> bool:
        now = dt.datetime.now(dt.UTC)
        query = sa.select(
            sa.exists().where(odoo_outbox.c.status == "queued", odoo_outbox.c.next_run_at <= now)
        )
        with self._store.connect() as conn:
            return bool(conn.execute(query).scalar())

    def _poll(self) -> None:
        while not self._stop.is_set():
            if self._ready():
                self._wake()
            self._stop.wait(self._poll_seconds)

    def _listen(self) -> None:
        raw = self._store.engine.raw_connection()
        try:
            driver = raw.driver_connection
            driver.autocommit = True
            driver.execute(f"LISTEN {NOTIFY_CHANNEL}")
            if self._ready():  # queued while nobody listened
                self._wake()
            while not self._stop.is_set():
                if any(True for _ in driver.notifies(timeout=self._poll_seconds, stop_after=1)):
                    self._wake()
        finally:
            raw.invalidate()  # a LISTENing connection does not go back to the pool


TokenSource = str
"""``vault:<secret name>`` (Supabase Vault) or ``setting:<name>`` (a database setting)."""

_PG_CRON_JOB_PREFIX = "odoosync-"


def pg_cron_sql(base_url: str, schedule: Mapping[str, str], token_source: TokenSource = "vault:odoosync_api_token") -> str:
    """SQL that makes ``pg_cron`` call ``POST <base_url>/api/jobs/<job>`` on ``schedule``.

    The admin token is read at call time from Supabase Vault or a database setting,
    never written into the SQL. Re-running the script replaces the jobs (``cron.schedule``
    with an existing name updates it).
    """
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError(f"the API URL must start with http:// or https:// (got {base_url!r})")
    kind, _, name = token_source.partition(":")
    if kind not in ("vault", "setting") or not name or not all(c.isalnum() or c in "_." for c in name):
        raise ConfigError(
            f"token source {token_source!r}: use vault:<secret name> or setting:<name> (letters, digits, _ and .)"
        )
    problems = []
    for job, expression in schedule.items():
        if len(expression.split()) != 5:
            problems.append(f"job {job!r}: pg_cron needs a 5-field cron expression (got {expression!r})")
    if problems:
        raise ConfigError("; ".join(problems), problems)
    base = base_url.rstrip("/").replace("'", "''")
    if kind == "vault":
        read_token = f"SELECT decrypted_secret INTO token FROM vault.decrypted_secrets WHERE name = '{name}'"
        store_hint = f"--   SELECT vault.create_secret('<ODOOSYNC_API_TOKEN>', '{name}');"
    else:
        read_token = f"token := current_setting('{name}', true)"
        store_hint = f"--   ALTER DATABASE postgres SET {name} = '<ODOOSYNC_API_TOKEN>';  -- then reconnect"
    lines = [
        "-- odoosync: run the service's jobs from pg_cron, calling its HTTP API with pg_net.",
        "-- Generated by `odoosync schema --pg-cron`. The admin token is not in this script:",
        "-- store it once, before the first run, with",
        store_hint,
        "-- Run `odoosync serve --no-schedule` for the API (and the outbox worker) so jobs do not run twice.",
        "CREATE EXTENSION IF NOT EXISTS pg_cron;",
        "DO $ext$ BEGIN  -- pg_net, unless net.http_post is already there (Supabase enables it)",
        "  IF to_regprocedure('net.http_post(text, jsonb, jsonb, jsonb, integer)') IS NULL THEN",
        "    CREATE EXTENSION IF NOT EXISTS pg_net;",
        "  END IF;",
        "END $ext$;",
        "",
        "CREATE OR REPLACE FUNCTION public.odoosync_call(path text) RETURNS bigint",
        "LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $fn$",
        "DECLARE",
        "  token text;",
        "BEGIN",
        f"  {read_token};",
        "  IF token IS NULL OR token = '' THEN",
        f"    RAISE EXCEPTION 'odoosync: no API token in {kind} {name}: store ODOOSYNC_API_TOKEN there first';",
        "  END IF;",
        "  RETURN net.http_post(",
        f"    url := '{base}' || path,",
        "    headers := jsonb_build_object('Content-Type', 'application/json', 'Authorization', 'Bearer ' || token),",
        "    body := '{}'::jsonb",
        "  );",
        "END",
        "$fn$;",
        "REVOKE ALL ON FUNCTION public.odoosync_call(text) FROM PUBLIC;",
        "",
    ]
    for job, expression in schedule.items():
        path = "/api/sla/check" if job == "sla" else f"/api/jobs/{job}"
        lines.append(
            f"SELECT cron.schedule('{_PG_CRON_JOB_PREFIX}{job}', '{expression}', "
            f"$cmd$SELECT public.odoosync_call('{path}')$cmd$);"
        )
    lines += [
        "",
        "-- Rollback: SELECT cron.unschedule(jobname) FROM cron.job WHERE jobname LIKE 'odoosync-%';",
        "",
    ]
    return "\n".join(lines)
