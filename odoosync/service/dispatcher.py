"""The distributed engine's scheduler side: each fire of a job becomes one queued task per backend.

``odoosync serve --engine procrastinate`` keeps its scheduler, API, dashboard, sheets and
SLA check; only the Odoo jobs (``increments``, ``reference``, ``reconcile``, ``verify``,
``outbox``) are deferred instead of run, one task per backend, for ``odoosync worker``
processes to take. Two procrastinate locks give the in-process engine's guarantees:

* ``lock`` ``<backend>:pull`` (``<backend>:outbox`` for the push): a backend's pulls run
  one at a time, in the order they were deferred (the start-up's reference data before
  its first increments); different backends run side by side on different workers;
* ``queueing_lock`` ``<backend>:<job>``: at most one waiting task per backend and job. A
  fire while the previous one still waits is not queued twice: it is recorded as a
  ``skipped`` run of that backend, as the in-process scheduler records a fire that finds
  the job still running.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odoosync.backends import backend_names
from odoosync.models import Trigger
from odoosync.service.jobs import STARTUP_JOBS, record_skipped_fire

if TYPE_CHECKING:
    import procrastinate
    from procrastinate.types import JSONValue

    from odoosync.settings import Settings
    from odoosync.store import Store

__all__ = ["DEFERRED_JOBS", "Dispatcher", "Deferred"]

log = logging.getLogger("odoosync.dispatcher")

DEFERRED_JOBS = ("increments", "reference", "reconcile", "verify", "outbox")
"""The jobs that reach Odoo, and so go to the workers; the SLA check and sheets stay in ``serve``."""

_STARTUP = "startup"


@dataclass(frozen=True)
class Deferred:
    """What one fire queued: the backends given a task, and those whose task still waited."""

    job: str
    queued: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)


class Dispatcher:
    """Defers jobs as procrastinate tasks, one per backend (``default`` and the stored ones)."""

    def __init__(self, queue_app: procrastinate.App, settings: Settings, store: Store) -> None:
        from odoosync.service.task_queue import TASK_NAME

        self.queue_app = queue_app
        self.settings = settings
        self.store = store
        self._task = queue_app.tasks[TASK_NAME]

    def backends(self) -> list[str]:
        """The backends to sync, read at each fire (a backend added meanwhile is included)."""
        return backend_names(self.settings, self.store)

    def defer(
        self,
        job: str,
        trigger: str = Trigger.SCHEDULE,
        *,
        backends: Iterable[str] | None = None,
        jobs: list[str] | None = None,
    ) -> Deferred:
        """Queue ``job`` (or the ordered ``jobs`` under that name) for each backend."""
        from procrastinate.exceptions import AlreadyEnqueued

        deferred = Deferred(job)
        period = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        for backend in self.backends() if backends is None else backends:
            lock = f"{backend}:outbox" if job == "outbox" else f"{backend}:pull"
            try:
                task_jobs: list[JSONValue] = list(jobs or [job])
                self._task.configure(lock=lock, queueing_lock=f"{backend}:{job}").defer(
                    backend=backend, jobs=task_jobs, trigger=str(trigger), period=period
                )
            except AlreadyEnqueued:
                deferred.waiting.append(backend)
                if trigger == Trigger.SCHEDULE and job != "outbox":
                    record_skipped_fire(self.store, job, backend, "skipped: the previous fire still waits for a worker")
                continue
            deferred.queued.append(backend)
        log.debug("%s: queued for %s, still waiting for %s", job, deferred.queued, deferred.waiting)
        return deferred

    def catch_up(self) -> Deferred:
        """Each backend's start-up: reference data, then the increments, as one task."""
        return self.defer(_STARTUP, jobs=list(STARTUP_JOBS))

    def functions(self, names: Iterable[str]) -> dict[str, Callable[[str], Any]]:
        """job name → function(trigger) for the scheduler, deferring instead of running."""

        def deferring(job: str) -> Callable[[str], Any]:
            return lambda trigger: self.defer(job, trigger)

        return {name: deferring(name) for name in names}
