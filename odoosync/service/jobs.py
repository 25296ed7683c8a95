"""Jobs: what each scheduled (or API-triggered) piece of work does.

A job is a function of the trigger (``schedule``, ``api``, ``manual``) that calls the
engines: the pull engine for stream increments and delete reconciliation, the SLA
checker, the outbox push. Jobs know nothing of schedules; :mod:`odoosync.service.scheduler`
decides when they run, and the same functions serve ``POST /api/sync/{stream}``,
``POST /api/sla/check`` and the older edge function's ``/api/odoo-sync``.

Jobs (defaults in ``scheduler.DEFAULT_SCHEDULE``):

========== ============================================================ ==============
job        work                                                         default
========== ============================================================ ==============
increments partners, leads, chatter, activities: incremental, in that   every minute
           order (a lead is in the database before its messages and
           activities are mapped onto it), no reconcile
reference  stages, users, teams, tags, lost reasons, activity types,    every 15 min
           and models added by configuration: incremental + reconcile
reconcile  delete reconciliation of the increment streams (``missing``) hourly
verify     every stream's ids and stamps against Odoo (drift, no repair)  hourly
sla        the SLA breach check                                         every 5 min
outbox     push queued changes (also woken at once by new items)       every minute
========== ============================================================ ==============

:data:`STARTUP_JOBS` run once, in order, when the service starts (reference data
first: the lead mapping resolves stage, owner and team names from it).

Stopping (SIGTERM): :meth:`Jobs.stop` makes every running pull's budget refuse the next
page, so the page in flight commits, the run closes as ``partial`` with ``remaining``,
its lock is released, and the next run resumes from the checkpoint.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from odoosync.exceptions import ConfigError, LockHeld
from odoosync.models import RunCounters, RunStatus, SyncMode, Trigger
from odoosync.pull import Progress, PullEngine, PullOptions, StreamResult
from odoosync.pull.budget import Budget
from odoosync.push.engine import DEFAULT_LEASE, PushEngine, PushResult
from odoosync.push.worker import run_once
from odoosync.service.events import EventBus
from odoosync.service.operations import VerifyReport, pull_catalog, pull_streams, run_verify
from odoosync.service.sla import SLA_CONFIG_KEY, SlaPolicy, SlaResult, check_sla
from odoosync.store import Store
from odoosync.store import runs as run_store
from odoosync.store.sync_config import config_get
from odoosync.streams.base import Stream
from odoosync.streams.registry import ALL, select_streams

__all__ = ["Jobs", "JOB_MODELS", "STARTUP_JOBS", "StoppableBudget", "record_skipped_fire", "run_sla_check"]

log = logging.getLogger(__name__)

JOB_MODELS: Mapping[str, tuple[str, ...]] = {
    "increments": ("res.partner", "crm.lead", "mail.message", "mail.activity"),
    "reference": ("crm.stage", "res.users", "crm.team", "crm.tag", "crm.lost.reason", "mail.activity.type"),
}
"""Pull jobs → the models they run (in catalogue order). Models added by configuration
join ``reference``."""

STARTUP_JOBS = ("reference", "increments")
_MINUTE_JOBS = ("increments",)
_START_TIMEOUT_SECONDS = 60.0


class StoppableBudget(Budget):
    """A budget that also refuses the next page once the service is stopping."""

    def __init__(self, seconds: float | None, stopping: threading.Event) -> None:
        super().__init__(seconds)
        self._stopping = stopping

    def allows_another_step(self) -> bool:
        return not self._stopping.is_set() and super().allows_another_step()


class Jobs:
    """The service's job functions over one Odoo client and one store.

    ``client`` is an opened :class:`~odoosync.odoo.client.OdooClient`.
    """

    def __init__(
        self,
        store: Store,
        client: Any,
        *,
        events: EventBus | None = None,
        backend: str = "default",
        overlap: dt.timedelta | None = None,
        page_size: int | None = None,
        sla_webhook_url: str | None = None,
        push_lease: dt.timedelta | None = None,
        company_id: int | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.events = events or EventBus()
        self.backend = backend
        self._overlap = overlap
        self._page_size = page_size
        self._sla_webhook_url = sla_webhook_url
        self._push_lease = push_lease or DEFAULT_LEASE
        self._company_id = company_id
        self.stopping = threading.Event()
        self._threads: set[threading.Thread] = set()
        self._threads_lock = threading.Lock()

    # ------------------------------------------------------------------ catalogue

    def catalog(self) -> list[Stream]:
        """Every stream, with the pull configuration of ``ops.odoo_sync_config`` applied
        (a bad row disables its own stream only, checked against Odoo too)."""
        return pull_streams(self.store, self.client)

    def stream_names(self) -> list[str]:
        return [stream.name for stream in self.catalog()]

    def job_streams(self) -> dict[str, list[Stream]]:
        """Pull job → its streams (configured generic models go with ``reference``)."""
        by_job: dict[str, list[Stream]] = {job: [] for job in JOB_MODELS}
        by_job["reconcile"] = []
        for stream in self.catalog():
            job = next((j for j, models in JOB_MODELS.items() if stream.model in models), "reference")
            by_job[job].append(stream)
            if job in _MINUTE_JOBS:
                by_job["reconcile"].append(stream)
        return by_job

    def functions(self) -> dict[str, Callable[[str], Any]]:
        """job name → function(trigger), for the scheduler."""
        functions: dict[str, Callable[[str], Any]] = {
            "increments": lambda trigger: self.run_job("increments", trigger),
            "reference": lambda trigger: self.run_job("reference", trigger),
            "reconcile": lambda trigger: self.run_job("reconcile", trigger),
            "sla": lambda trigger: self.check_sla(trigger=trigger),
            "outbox": self.push_outbox,
            "verify": lambda trigger: self.verify(trigger=trigger),
        }
        return functions

    def next_runs_by_stream(self, scheduler: Any) -> dict[str, dt.datetime | None]:
        """Each stream's next scheduled increment (``GET /api/status``)."""
        next_runs: dict[str, dt.datetime | None] = {}
        names = set(scheduler.job_names())
        for job, streams in self.job_streams().items():
            if job == "reconcile" or job not in names:
                continue
            when = scheduler.next_run_time(job)
            for stream in streams:
                next_runs[stream.name] = when
        return next_runs

    # ------------------------------------------------------------------ pull jobs

    def run_job(self, job: str, trigger: str) -> list[StreamResult]:
        """Run every stream of a pull job; a stream whose lock is held is skipped (the
        engine records the skip) and the others still run."""
        streams = self.job_streams()[job]
        if job == "reconcile":
            options = self._options(SyncMode.MISSING, trigger=trigger, reconcile=True)
        else:
            options = self._options(SyncMode.INCREMENTAL, trigger=trigger, reconcile=job not in _MINUTE_JOBS)
        results = []
        for stream in streams:
            if self.stopping.is_set():
                break
            try:
                results.append(self._run_stream(stream, options))
            except LockHeld as exc:
                log.info("%s: %s skipped, %s", job, stream.name, exc)
        return results

    def start_sync(
        self,
        stream: str,
        *,
        mode: SyncMode,
        odoo_id: int | None = None,
        budget: float | None = None,
        trigger: str = Trigger.API,
    ) -> int | None:
        """Start ``stream`` (or ``all``) in a background thread; return the (first) run's id
        once it holds its lock, or raise ``LockHeld`` naming the holder (nothing started)."""
        catalog = pull_catalog(self.store, self.client)
        streams = select_streams(stream, catalog.streams, catalog.disabled)
        if odoo_id is not None and stream == ALL:
            raise ConfigError("a single record (odoo_id) needs one stream, not 'all'")
        options = self._options(mode, trigger=trigger, odoo_id=odoo_id, budget=budget)
        started = threading.Event()
        outcome: dict[str, BaseException] = {}
        before = _newest_run_id(self.store)

        def work() -> None:
            for index, one in enumerate(streams):
                try:
                    self._run_stream(one, options, on_start=started.set)
                except LockHeld as exc:
                    if index == 0:
                        outcome["lock"] = exc
                        break
                except Exception as exc:  # noqa: BLE001 - recorded in the run's row
                    log.error("%s run failed: %s: %s", one.name, type(exc).__name__, exc)
                    if index == 0:
                        outcome["error"] = exc
                finally:
                    started.set()

        self._start_thread(work, name=f"sync-{stream}")
        started.wait(_START_TIMEOUT_SECONDS)
        if "lock" in outcome:
            raise outcome["lock"]
        # the oldest run of the first stream since the call: the one this call started
        mine = [run.id for run in run_store.list_runs(self.store, 10, stream=streams[0].name) if run.id > before]
        return mine[-1] if mine else None

    def start_job(self, job: str, *, trigger: str = Trigger.API) -> None:
        """Run job ``job`` once in the background (``POST /api/jobs/{job}``, pg_cron)."""
        functions = self.functions()
        if job not in functions:
            raise KeyError(job)

        def work() -> None:
            try:
                functions[job](trigger)
            except Exception as exc:  # noqa: BLE001 - recorded in the runs log by the job
                log.error("job %s failed: %s: %s", job, type(exc).__name__, exc)

        self._start_thread(work, name=f"job-{job}")

    def _options(self, mode: SyncMode, *, trigger: str, **extra: Any) -> PullOptions:
        values: dict[str, Any] = {"mode": mode, "trigger": Trigger(trigger), **extra}
        if self._overlap is not None:
            values["overlap"] = self._overlap
        if self._page_size is not None:
            values["page_size"] = self._page_size
        if self._company_id is not None:
            values["company_id"] = self._company_id
        return PullOptions(**values)

    def _run_stream(
        self, stream: Stream, options: PullOptions, *, on_start: Callable[[], None] | None = None
    ) -> StreamResult:
        """One pull run, its progress published on the event bus."""
        run: dict[str, Any] = {"stream": stream.name, "mode": str(options.mode), "trigger": str(options.trigger)}

        def on_progress(progress: Progress) -> None:
            if progress.phase == "start":
                newest = run_store.list_runs(
                    self.store, 1, stream=stream.name, status=RunStatus.RUNNING, backend=self.backend
                )
                run["run_id"] = newest[0].id if newest else None
                self.events.publish("run.started", **run)
                if on_start is not None:
                    on_start()
            elif progress.phase != "done":
                self.events.publish(
                    "run.progress",
                    **run,
                    phase=progress.phase,
                    done=progress.done,
                    total=progress.total,
                    **progress.counters.as_dict(),
                )

        engine = PullEngine(self.client, self.store, backend=self.backend, on_progress=on_progress)
        budget = StoppableBudget(options.budget, self.stopping)
        try:
            result = engine.run(stream, options, budget=budget)
        except LockHeld:
            raise
        except Exception as exc:
            self.events.publish("run.finished", **run, status="failed", error=f"{type(exc).__name__}: {exc}")
            raise
        self.events.publish("run.finished", **{**run, "run_id": result.run_id}, **_finished(result))
        return result

    # ------------------------------------------------------------------ verify

    def verify(self, *, trigger: str, repair: bool = False) -> VerifyReport:
        """``odoosync verify all`` (ids and stamps only), each stream logged as a verify
        run; with ``repair``, the drifting records are synced and checked again."""
        report = run_verify(
            self.client,
            self.store,
            ALL,
            repair=repair,
            options=self._options(SyncMode.FULL, trigger=trigger),
            backend=self.backend,
            trigger=trigger,
            streams=self.catalog(),
        )
        self.events.publish("verify.finished", trigger=trigger, drift=report.drift)
        return report

    def start_verify(self, *, trigger: str, repair: bool = False) -> None:
        """:meth:`verify` in the background (``POST /api/verify``); failures are logged
        and recorded in the verify runs."""

        def work() -> None:
            try:
                self.verify(trigger=trigger, repair=repair)
            except Exception as exc:  # noqa: BLE001 - recorded in the runs log
                log.error("verify failed: %s: %s", type(exc).__name__, exc)

        self._start_thread(work, name="verify")

    # ------------------------------------------------------------------ SLA and outbox

    def check_sla(self, *, trigger: str) -> SlaResult:
        """The SLA check, logged as a run of job/stream ``sla``."""
        return run_sla_check(self.store, trigger=trigger, webhook_url=self._sla_webhook_url, backend=self.backend)

    def push_outbox(self, trigger: str) -> PushResult:
        """Push every ready outbox item. An idle pass (nothing ready) is not logged as a
        run, so the frequent outbox wake-ups do not flood the runs log."""
        engine = PushEngine(self.store, self.client, backend=self.backend, lease=self._push_lease)
        first = engine.push_batch()
        if not first.claimed:
            return first
        result = run_once(engine, trigger=trigger, already=first)
        self.events.publish("outbox.pushed", trigger=trigger, **result.as_dict())
        return result

    def wake_outbox(self, scheduler: Any) -> None:
        """Push now rather than at the next sweep (after a retry or a NOTIFY)."""
        if "outbox" in scheduler.job_names():
            scheduler.run_now("outbox")

    def record_skip(self, job: str, holder: str | None) -> None:
        """A scheduled fire that did not start because a run still holds the job."""
        record_skipped_fire(self.store, job, self.backend, f"skipped: still running ({holder or 'unknown holder'})")

    def stop(self) -> None:
        """Ask running pulls to stop after their current page (SIGTERM)."""
        self.stopping.set()

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for runs started in the background (API) to end."""
        with self._threads_lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    def _start_thread(self, target: Callable[[], None], *, name: str) -> None:
        def tracked() -> None:
            try:
                target()
            finally:
                with self._threads_lock:
                    self._threads.discard(threading.current_thread())

        thread = threading.Thread(target=tracked, name=name, daemon=True)
        with self._threads_lock:
            self._threads.add(thread)
        thread.start()

    # ------------------------------------------------------------------ the older edge function

    def compat_sync(self, mode: str, model: str, *, trigger: str) -> dict[str, Any]:
        """The older edge function's endpoint: one pull of ``model`` and/or one outbox push, its shape."""
        result: dict[str, Any] = {"mode": mode, "model": model}
        try:
            if mode in ("odoo_to_sb", "both"):
                stream = select_streams(model, self.catalog())[0]
                pulled = self._run_stream(stream, self._options(SyncMode.INCREMENTAL, trigger=trigger, reconcile=False))
                result["odoo_to_sb"] = {
                    "fetched": pulled.counters.fetched,
                    "upserted": pulled.counters.inserted + pulled.counters.updated,
                    "run_id": pulled.run_id,
                    "status": str(pulled.status),
                    "remaining": pulled.remaining,
                    "page_size": self._page_size or stream.page_size,
                }
            if mode in ("sb_to_odoo", "both"):
                pushed = self.push_outbox(trigger)
                result["sb_to_odoo"] = {
                    "scanned": pushed.claimed,
                    "processed": pushed.done,
                    "failed": pushed.failed,
                    "skipped": pushed.skipped,
                    "retried": pushed.retried,
                }
        except LockHeld as exc:
            return {"ok": False, "error": str(exc), "holder": exc.holder, "result": result}
        return {"ok": True, "result": result}


def record_skipped_fire(store: Store, job: str, backend: str, reason: str) -> None:
    """A scheduled fire of ``job`` that did not run, in the runs log as a ``skipped`` run."""
    run_store.record_skipped(
        store, job=job, stream=job, mode="schedule", trigger=Trigger.SCHEDULE, backend=backend, reason=reason
    )


def run_sla_check(store: Store, *, trigger: str, webhook_url: str | None = None, backend: str = "default") -> SlaResult:
    """The SLA check with the policy of ``ops.odoo_sync_config`` (``sla``), logged as a
    run of job/stream ``sla`` (``updated`` = leads escalated or resolved). Needs no Odoo."""
    policy = SlaPolicy.from_config(config_get(store, SLA_CONFIG_KEY), webhook_url=webhook_url)
    run_id = run_store.start_run(store, job="sla", stream="sla", mode="check", trigger=trigger, backend=backend)
    try:
        result = check_sla(store, policy)
    except Exception as exc:
        run_store.finish_run(store, run_id, RunStatus.FAILED, RunCounters(), error=f"{type(exc).__name__}: {exc}")
        raise
    counters = RunCounters(updated=len(result.breached) + len(result.resolved), inserted=result.activities_queued)
    run_store.finish_run(
        store,
        run_id,
        RunStatus.OK,
        counters,
        error=result.webhook_error,
        details={"breached": len(result.breached), "resolved": len(result.resolved)},
    )
    return result


def _finished(result: StreamResult) -> dict[str, Any]:
    data = result.as_dict()
    data.pop("stream", None)
    data.pop("mode", None)
    data.pop("run_id", None)
    return data


def _newest_run_id(store: Store) -> int:
    newest = run_store.list_runs(store, 1)
    return newest[0].id if newest else 0
