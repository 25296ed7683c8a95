"""``odoosync worker``: a process that runs the queue's jobs, on any machine.

A worker holds one store and, per backend it has run a job for, one :class:`Jobs` with its
own Odoo client (opened at the first job of that backend, so a backend that is down fails
its own jobs only, and is tried again at the next). The task runs the very job functions
the in-process scheduler runs: the runs log, checkpoints, pull locks and outbox claims are
the same, so a job moved from one worker to another resumes where the page it was on
committed.

A worker killed mid-job (``kill -9``, a lost machine) stops sending heartbeats; after
``stalled_seconds`` the periodic sweep on any live worker puts its job back in the queue,
and its pull lock (a PostgreSQL advisory lock) went with its connections. SIGTERM/SIGINT
stop gracefully: the running pulls finish their page and close as ``partial``, the task is
queued again for another worker (:class:`StoppedMidTask`), then the worker leaves.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import socket
import threading
from typing import TYPE_CHECKING, Any

from odoosync.backends import app_company_id, odoo_config
from odoosync.service.jobs import Jobs
from odoosync.service.operations import open_client

if TYPE_CHECKING:
    import procrastinate
    from procrastinate import JobContext

    from odoosync.settings import Settings
    from odoosync.store import Store

__all__ = ["StoppedMidTask", "WorkerRuntime", "run_worker", "run_jobs_task", "retry_stalled_jobs", "worker_name"]

log = logging.getLogger("odoosync.worker")

_RUNTIME = "odoosync"  # the key of the runtime in procrastinate's additional context


class StoppedMidTask(Exception):
    """The worker was asked to stop while this task ran: the task is retried elsewhere."""


class WorkerRuntime:
    """One worker process's store and per-backend jobs (clients opened on first use)."""

    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.stopping = threading.Event()
        self._jobs: dict[str, Jobs] = {}
        self._lock = threading.Lock()
        self._resources = contextlib.ExitStack()

    def jobs_for(self, backend: str) -> Jobs:
        """Backend ``backend``'s jobs; its client is opened (and logged in) the first time."""
        with self._lock:
            jobs = self._jobs.get(backend)
            if jobs is None:
                settings = self.settings
                client = self._resources.enter_context(
                    open_client(settings, odoo_config(settings, self.store, backend))
                )
                jobs = Jobs(
                    self.store,
                    client,
                    backend=backend,
                    overlap=dt.timedelta(seconds=settings.overlap_seconds),
                    page_size=settings.page_size,
                    sla_webhook_url=settings.sla_webhook_url,
                    push_lease=dt.timedelta(seconds=settings.push_lease_seconds),
                    company_id=app_company_id(self.store, backend),
                )
                jobs.stopping = self.stopping  # one stop for every backend's pulls
                self._jobs[backend] = jobs
            return jobs

    def run(self, backend: str, jobs: list[str], trigger: str) -> None:
        """Run ``jobs`` of ``backend`` in order. A failure raises, and procrastinate retries
        the task; so does a stop (SIGTERM) that cut it short: another worker finishes it
        from the checkpoints instead of the queue calling it done."""
        backend_jobs = self.jobs_for(backend)
        functions = backend_jobs.functions()
        unknown = [job for job in jobs if job not in functions]
        if unknown:
            raise ValueError(f"unknown job(s) {', '.join(unknown)} (known: {', '.join(functions)})")
        for job in jobs:
            if self.stopping.is_set():
                break
            functions[job](trigger)
        if self.stopping.is_set():
            raise StoppedMidTask(f"{backend}: {', '.join(jobs)} stopped by this worker's shutdown; queued again")

    def stop(self) -> None:
        """Running pulls stop after their current page."""
        self.stopping.set()

    def close(self) -> None:
        self._resources.close()


def run_jobs_task(context: JobContext, backend: str, jobs: list[str], trigger: str, period: str | None = None) -> None:
    """The queue's one task: ``jobs`` of ``backend``, in order, in this worker's runtime."""
    runtime: WorkerRuntime = context.additional_context[_RUNTIME]
    log.info(
        "worker %s runs %s of backend %s (%s%s)",
        context.worker_name,
        ", ".join(jobs),
        backend,
        trigger,
        f", period {period}" if period else "",
    )
    runtime.run(backend, jobs, trigger)


async def retry_stalled_jobs(app: procrastinate.App, seconds: float) -> None:
    """Put back in the queue the jobs of workers with no heartbeat for ``seconds`` (the
    periodic sweep of ``task_queue.make_queue_app``)."""
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        log.warning("job %s (%s) was on a worker that stopped: queued again", job.id, job.call_string)
        await app.job_manager.retry_job(job)


def worker_name() -> str:
    """``host:pid``: which machine and process ran a job (procrastinate logs it)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    settings: Settings,
    store: Store,
    *,
    concurrency: int = 1,
    heartbeat_seconds: float = 10.0,
    stalled_seconds: float = 60.0,
    name: str | None = None,
    wait: bool = True,
) -> None:
    """Run jobs until SIGTERM/SIGINT (or, with ``wait=False``, until the queue is empty)."""
    from odoosync.service.task_queue import QUEUE, ensure_queue_schema, make_queue_app

    ensure_queue_schema(store)
    app = make_queue_app(settings.database_url, stalled_seconds=stalled_seconds, pool_size=concurrency + 2)
    runtime = WorkerRuntime(settings, store)
    options: dict[str, Any] = {
        "queues": [QUEUE],
        "concurrency": concurrency,
        "name": name or worker_name(),
        "wait": wait,
        "install_signal_handlers": False,
        "additional_context": {_RUNTIME: runtime},
        "update_heartbeat_interval": heartbeat_seconds,
        "stalled_worker_timeout": stalled_seconds,
        "listen_notify": True,
    }

    async def main() -> None:
        async with app.open_async():
            work = asyncio.ensure_future(app.run_worker_async(**options))
            loop = asyncio.get_running_loop()

            def stop() -> None:
                log.info("stopping: current pages finish, runs close as partial")
                runtime.stop()
                work.cancel()  # procrastinate then waits for the running jobs

            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop)
            with contextlib.suppress(asyncio.CancelledError):
                await work

    log.info("worker %s: queue %s, concurrency %d", options["name"], QUEUE, concurrency)
    try:
        asyncio.run(main())
    finally:
        runtime.close()
    log.info("worker stopped")
