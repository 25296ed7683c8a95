"""The scheduler: decides *when* each job runs, nothing else.

:class:`Scheduler` wraps an
APScheduler 3 ``BackgroundScheduler`` (a well-kept scheduler rather than a hand-written
loop) with the project's rules:

* every job has a cron expression: the defaults (:data:`DEFAULT_SCHEDULE`),
  overridden by ``[schedule]`` in ``odoosync.toml`` and then by the ``schedule`` key of
  ``ops.odoo_sync_config`` (``{"leads": "*/2 * * * *"}``). Five fields are standard cron;
  six fields put seconds first (used by tests and for sub-minute polling);
* one instance of a job at a time; a fire that would overlap a run still holding its lock
  is skipped and the skip reported to ``on_skip`` (the service records it as a
  ``skipped`` run);
* a job that raises is logged and reported to ``on_error``; the other jobs, and later
  fires of the same job, go on;
* jobs can be paused, resumed and fired at once (:meth:`Scheduler.run_now`);
* the schedule can change while it runs: given a *source* (a callable returning a
  :class:`DesiredSchedule`: the jobs that come and go, such as one per sheet, and the jobs
  that must not fire), :meth:`Scheduler.refresh` adds, removes, re-schedules, pauses and
  resumes jobs to match it, every ``refresh_seconds`` and whenever the caller asks. The
  source reads the database (``odoosync.service.schedule_state``), the Scheduler does not;
* the ``outbox`` job is also fired as soon as a change is queued, by the outbox's one
  listener (:class:`odoosync.push.outbox.OutboxWaker`).

What a job does lives in :mod:`odoosync.service.jobs`; this module only receives callables.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from odoosync.cron import parse_cron
from odoosync.exceptions import ConfigError, LockHeld

__all__ = [
    "DEFAULT_SCHEDULE",
    "SCHEDULE_CONFIG_KEY",
    "JobInfo",
    "DynamicJob",
    "DesiredSchedule",
    "ScheduleChanges",
    "Scheduler",
    "resolve_schedule",
]

log = logging.getLogger(__name__)


DEFAULT_SCHEDULE: Mapping[str, str] = {
    "increments": "* * * * *",  # partners, leads, chatter, activities
    "reference": "*/15 * * * *",
    "reconcile": "7 * * * *",
    "sla": "*/5 * * * *",
    "verify": "37 * * * *",  # ids and stamps of every stream against Odoo: drift, no writes
    # A sweep for retries whose backoff expired; new changes wake the push at once.
    "outbox": "* * * * *",
}
"""The defaults: lead, partner, chatter and activity increments every minute, reference data every 15 minutes, delete
reconciliation hourly (at minute 7, away from the quarter-hour reference runs), the SLA
check every 5 minutes, ``verify`` hourly (at minute 37)."""

SCHEDULE_CONFIG_KEY = "schedule"
_UTC = dt.UTC


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
    for source_name, source in (
        ("odoosync.toml [schedule]", toml or {}),
        ("ops.odoo_sync_config 'schedule'", database or {}),
    ):
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


@dataclass(frozen=True)
class DynamicJob:
    """A job that comes and goes while the scheduler runs (one per configured sheet)."""

    function: JobFunction
    cron: str


@dataclass(frozen=True)
class DesiredSchedule:
    """What the schedule should be now: the dynamic jobs by name, and every job (static or
    dynamic) that must not fire."""

    jobs: Mapping[str, DynamicJob] = field(default_factory=dict)
    paused: frozenset[str] = frozenset()


ScheduleSource = Callable[[], DesiredSchedule]


@dataclass(frozen=True)
class ScheduleChanges:
    """What one :meth:`Scheduler.refresh` changed, by job name."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    rescheduled: tuple[str, ...] = ()
    paused: tuple[str, ...] = ()
    resumed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any((self.added, self.removed, self.rescheduled, self.paused, self.resumed))


_REFRESH_JOB = "_refresh"  # internal: not listed, not pausable
_DYNAMIC_EXECUTOR = "dynamic"
_DYNAMIC_WORKERS = 4  # sheet syncs at once; the static jobs keep their own threads


class Scheduler:
    """APScheduler 3 with one instance per job, skip-on-lock, and errors contained.

    ``on_skip(job, holder)`` is called when a fire is skipped because the job's lock is
    held (by this process's previous fire or by another process); ``on_error(job, exc)``
    when a job raises anything else. ``jobs`` are static (they live as long as the
    scheduler); with a ``source``, dynamic jobs and pauses follow it (:meth:`refresh`),
    and dynamic jobs run on a pool of their own so that many sheets never delay the
    increments.
    """

    def __init__(
        self,
        jobs: Mapping[str, JobFunction],
        schedule: Mapping[str, str],
        *,
        on_skip: Callable[[str, str | None], None] = lambda job, holder: None,
        on_error: Callable[[str, BaseException], None] = lambda job, exc: None,
        max_workers: int | None = None,
        source: ScheduleSource | None = None,
        refresh_seconds: float = 60.0,
    ) -> None:
        missing = sorted(set(jobs) - set(schedule))
        if missing:
            raise ConfigError(f"no schedule for jobs: {', '.join(missing)}")
        self._jobs = dict(jobs)
        self._static = frozenset(jobs)
        self._schedule = {name: schedule[name] for name in jobs}
        self._on_skip = on_skip
        self._on_error = on_error
        self._source = source
        self._running: dict[str, int] = {}
        self._paused: set[str] = set()
        self._running_lock = threading.Lock()
        # pause/resume (API threads) and refresh (the scheduler's thread) change jobs
        self._control = threading.RLock()
        self._reported_crons: set[tuple[str, str]] = set()
        self._apscheduler = BackgroundScheduler(
            executors={
                "default": ThreadPoolExecutor(max_workers or len(jobs) + 2),
                _DYNAMIC_EXECUTOR: ThreadPoolExecutor(_DYNAMIC_WORKERS),
            },
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": 30},
            timezone=_UTC,
        )
        self._apscheduler.add_listener(self._on_max_instances, EVENT_JOB_MAX_INSTANCES)
        for name, expression in self._schedule.items():
            self._apscheduler.add_job(
                self._run,
                parse_cron(expression, job=name),
                args=(name,),
                id=name,
                name=name,
            )
        if source is not None:
            self._apscheduler.add_job(
                self._refresh_quietly,
                IntervalTrigger(seconds=refresh_seconds, timezone=_UTC),
                id=_REFRESH_JOB,
                name=_REFRESH_JOB,
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
        with self._control:
            return list(self._jobs)

    def pause(self, name: str) -> JobInfo:
        """Stop firing ``name`` (a run in progress finishes) until :meth:`resume`.

        In memory only: the caller persists the pause (with a source, the next
        :meth:`refresh` applies whatever the source says)."""
        with self._control:
            self._job(name).pause()
            self._paused.add(name)
        return self.info(name)

    def resume(self, name: str) -> JobInfo:
        with self._control:
            self._job(name).resume()
            self._paused.discard(name)
        return self.info(name)

    def refresh(self) -> ScheduleChanges:
        """Make the jobs and pauses match the source (nothing without one).

        Serialised: a refresh that read the source before a change and one that read it
        after are applied in that order, so a caller that persists a change and then
        refreshes always ends with its change applied."""
        if self._source is None:
            return ScheduleChanges()
        with self._control:
            return self._apply(self._source())

    def _refresh_quietly(self) -> None:
        try:
            changes = self.refresh()
        except Exception as exc:  # noqa: BLE001 - the next refresh tries again
            log.warning("schedule refresh failed: %s: %s", type(exc).__name__, exc)
            return
        if changes:
            log.info("schedule refreshed: %s", changes)

    def _apply(self, desired: DesiredSchedule) -> ScheduleChanges:
        """Remove dynamic jobs the source no longer has, add new ones (paused if wanted so),
        re-schedule changed crons, then pause and resume every job as the source says."""
        triggers = {
            name: trigger
            for name, job in desired.jobs.items()
            if (trigger := self._dynamic_trigger(name, job)) is not None
        }
        wanted = {name: job for name, job in desired.jobs.items() if name in triggers}
        removed = [name for name in self._jobs if name not in self._static and name not in wanted]
        for name in removed:
            self._apscheduler.remove_job(name)
            del self._jobs[name], self._schedule[name]
            self._paused.discard(name)
        added, rescheduled = [], []
        for name, job in wanted.items():
            trigger = triggers[name]
            if name not in self._jobs:
                start_paused = name in desired.paused
                self._apscheduler.add_job(
                    self._run,
                    trigger,
                    args=(name,),
                    id=name,
                    name=name,
                    executor=_DYNAMIC_EXECUTOR,
                    **({"next_run_time": None} if start_paused else {}),
                )
                if start_paused:
                    self._paused.add(name)
                added.append(name)
            elif self._schedule[name] != job.cron:
                # modify_job keeps the pause: reschedule_job would resume a paused job
                next_run = None if name in self._paused else trigger.get_next_fire_time(None, dt.datetime.now(_UTC))
                self._apscheduler.modify_job(name, trigger=trigger, next_run_time=next_run)
                rescheduled.append(name)
            self._jobs[name] = job.function
            self._schedule[name] = job.cron
        paused = [name for name in self._jobs if name in desired.paused and name not in self._paused]
        resumed = [name for name in self._jobs if name not in desired.paused and name in self._paused]
        for name in paused:
            self.pause(name)
        for name in resumed:
            self.resume(name)
        return ScheduleChanges(tuple(added), tuple(removed), tuple(rescheduled), tuple(paused), tuple(resumed))

    def _dynamic_trigger(self, name: str, job: DynamicJob) -> CronTrigger | None:
        """The job's trigger; None (logged once per cron) for a bad cron or a built-in job's name."""
        try:
            if name in self._static:
                raise ConfigError(f"{name!r} is the name of a built-in job")
            return parse_cron(job.cron, job=name)
        except ConfigError as exc:
            if (name, job.cron) not in self._reported_crons:
                self._reported_crons.add((name, job.cron))
                log.error("%s not scheduled: %s", name, exc)
            return None

    def run_now(self, name: str) -> None:
        """Fire ``name`` as soon as a worker thread is free (the cron timer continues)."""
        with self._control:
            job = self._job(name)
            if name in self._paused:
                return
            job.modify(next_run_time=dt.datetime.now(_UTC))
        self._apscheduler.wakeup()

    def info(self, name: str) -> JobInfo:
        with self._control:
            if name not in self._jobs:
                raise KeyError(name)
            job = self._apscheduler.get_job(name)  # None once the scheduler has shut down
            next_run = None if name in self._paused or job is None else getattr(job, "next_run_time", None)
            cron, paused = self._schedule[name], name in self._paused
        with self._running_lock:
            running = self._running.get(name, 0) > 0
        return JobInfo(name=name, cron=cron, paused=paused, running=running, next_run_at=next_run)

    def describe(self) -> list[JobInfo]:
        with self._control:
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
        function = self._jobs.get(name)
        if function is None:  # removed by a refresh after this fire was submitted
            return
        with self._running_lock:
            self._running[name] = self._running.get(name, 0) + 1
        try:
            function("schedule")
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
        if event.job_id == _REFRESH_JOB:
            return
        log.info("job %s skipped: its previous run is still going", event.job_id)
        self._report(self._on_skip, event.job_id, "a previous run of this job in this process")

    @staticmethod
    def _report(callback: Callable[..., None], *args: Any) -> None:
        try:
            callback(*args)
        except Exception as exc:  # noqa: BLE001 - reporting must not kill the scheduler thread
            log.error("could not record job outcome for %s: %s: %s", args[0], type(exc).__name__, exc)
